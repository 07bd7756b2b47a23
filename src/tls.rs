//! The API over HTTPS (`serve --tls`): a certificate from a local CA that slbcert makes once in
//! the data directory (`ca.pem`, which clients are told to trust, and `ca.key`, owner-only),
//! or the operator's own (`--tls-cert`, `--tls-key`).
//!
//! The server certificate is made afresh at every start, for the names clients send: loopback,
//! `localhost`, the address listened on, and the SLB endpoints (`slb.aliyuncs.com`,
//! `slb.<region>.aliyuncs.com`), so that a client pointed at the real host names through
//! /etc/hosts or a proxy is served too.

use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime};

use crate::regions::REGIONS;

pub const CA_CERTIFICATE_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca.key";

/// Where the API's certificate comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// The local CA in the data directory (made on first use).
    LocalCa { data_dir: PathBuf, listen: IpAddr },
    /// The operator's certificate chain and key, PEM files.
    Files { certificate: PathBuf, key: PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} holds no usable {what}")]
    Pem { path: PathBuf, what: &'static str },
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("the certificate and key are refused: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The rustls configuration the API port answers TLS with.
pub fn server_config(source: &Source) -> Result<Arc<ServerConfig>, TlsError> {
    let (chain, key) = match source {
        Source::LocalCa { data_dir, listen } => local_ca_chain(data_dir, *listen)?,
        Source::Files { certificate, key } => (read_chain(certificate)?, read_key(key)?),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|_| TlsError::Pem {
            path: path.to_owned(),
            what: "certificate",
        })?
        .filter_map(Result::ok)
        .collect();
    if chain.is_empty() {
        return Err(TlsError::Pem {
            path: path.to_owned(),
            what: "certificate",
        });
    }
    Ok(chain)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|_| TlsError::Pem {
        path: path.to_owned(),
        what: "private key",
    })
}

/// The local CA (made if missing) and a fresh server certificate it signed.
fn local_ca_chain(
    data_dir: &Path,
    listen: IpAddr,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let (ca_pem, ca_key) = load_or_make_ca(data_dir)?;
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, &ca_key)?;
    let mut names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
        listen.to_string(),
        "slb.aliyuncs.com".to_owned(),
        "cas.aliyuncs.com".to_owned(),
    ];
    names.extend(REGIONS.iter().map(|region| region.endpoint()));
    names.sort();
    names.dedup();
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name = name("slbcert API");
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(397);
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate()?;
    let certificate = params.signed_by(&key, &issuer)?;
    let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes()).map_err(|_| TlsError::Pem {
        path: data_dir.join(CA_CERTIFICATE_FILE),
        what: "certificate",
    })?;
    let key_der = PrivateKeyDer::try_from(key.serialize_der()).map_err(|_| TlsError::Pem {
        path: data_dir.join(CA_KEY_FILE),
        what: "private key",
    })?;
    Ok((vec![certificate.der().clone(), ca_der], key_der))
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "slbcert");
    name.push(DnType::CommonName, common_name);
    name
}

/// `DATA_DIR/ca.pem` and its key; made (key owner-only) on first use.
fn load_or_make_ca(data_dir: &Path) -> Result<(String, KeyPair), TlsError> {
    let certificate_path = data_dir.join(CA_CERTIFICATE_FILE);
    let key_path = data_dir.join(CA_KEY_FILE);
    if key_path.exists() && certificate_path.exists() {
        let pem =
            std::fs::read_to_string(&certificate_path).map_err(io_error(&certificate_path))?;
        let key_pem = std::fs::read_to_string(&key_path).map_err(io_error(&key_path))?;
        let key = KeyPair::from_pem(&key_pem).map_err(|_| TlsError::Pem {
            path: key_path.clone(),
            what: "private key",
        })?;
        return Ok((pem, key));
    }
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let suffix = &crate::ids::request_id()[..8];
    params.distinguished_name = name(&format!("slbcert local CA {suffix}"));
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(3650);
    let certificate = params.self_signed(&key)?;
    // The key first, so that a crash in between leaves no CA certificate without its key.
    write_file(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
    write_file(&certificate_path, certificate.pem().as_bytes(), 0o644)?;
    tracing::info!(path = %certificate_path.display(), "made a local CA for the API's TLS; point SSL_CERT_FILE or REQUESTS_CA_BUNDLE at it");
    Ok((certificate.pem(), key))
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), TlsError> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .and_then(|mut file| {
            file.write_all(contents)?;
            file.sync_all()
        })
        .map_err(io_error(path))
}
