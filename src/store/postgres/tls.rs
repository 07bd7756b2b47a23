//! TLS to PostgreSQL with rustls, from the libpq parameters people already write: `sslmode`,
//! `sslrootcert`, `sslcert` and `sslkey` in the URL, else `PGSSLMODE`, `PGSSLROOTCERT`,
//! `PGSSLCERT` and `PGSSLKEY`. tokio-postgres knows only three modes and none of the files, so
//! they are taken out of the URL here and become a rustls configuration, as libpq reads them:
//! - `disable`: plain TCP.
//! - `allow`, `prefer` (libpq's default): TLS when the server offers it, else plain.
//! - `require`: TLS or nothing.
//! - `verify-ca`: TLS, the server's chain checked against `sslrootcert`.
//! - `verify-full`: that, and the certificate names the host (or IP address) connected to.
//!
//! Under `allow`, `prefer` and `require` the certificate is checked against `sslrootcert` when
//! one is given (libpq does so too), and not at all otherwise.

use std::str::FromStr;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::StoreError;

/// libpq's `sslmode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(text: &str) -> Result<Mode, StoreError> {
        Ok(match text {
            "disable" => Mode::Disable,
            "allow" => Mode::Allow,
            "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => {
                return Err(invalid(format!(
                    "sslmode {other:?} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }
}

/// What to connect to, and how.
#[derive(Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    pub tls: MakeRustlsConnect,
    pub mode: Mode,
}

/// The TLS parameters of a URL (or key=value string), and the URL without them.
#[derive(Default, Debug, PartialEq, Eq)]
struct Split {
    rest: String,
    mode: Option<String>,
    root: Option<String>,
    cert: Option<String>,
    key: Option<String>,
}

const OURS: [&str; 4] = ["sslmode", "sslrootcert", "sslcert", "sslkey"];

fn split(url: &str) -> Split {
    let mut split = Split::default();
    let keep = |name: &str, value: String, split: &mut Split| match name {
        "sslmode" => split.mode = Some(value),
        "sslrootcert" => split.root = Some(value),
        "sslcert" => split.cert = Some(value),
        _ => split.key = Some(value),
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut others = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if OURS.contains(&name) {
                let value = percent_decode_str(value).decode_utf8_lossy().into_owned();
                keep(name, value, &mut split);
            } else {
                others.push(pair);
            }
        }
        split.rest = match others.is_empty() {
            true => base.to_owned(),
            false => format!("{base}?{}", others.join("&")),
        };
    } else {
        // key=value words; values with spaces in them are not ours to take apart.
        let mut others = Vec::new();
        for word in url.split_whitespace() {
            match word.split_once('=') {
                Some((name, value)) if OURS.contains(&name) => {
                    keep(name, value.trim_matches('\'').to_owned(), &mut split)
                }
                _ => others.push(word),
            }
        }
        split.rest = others.join(" ");
    }
    split
}

fn invalid(detail: String) -> StoreError {
    StoreError::Database(format!("the database URL does not parse: {detail}"))
}

/// The connection `url` asks for; `env` reads the `PGSSL*` variables.
pub fn target(url: &str, env: impl Fn(&str) -> Option<String>) -> Result<Target, StoreError> {
    let split = split(url);
    let config =
        tokio_postgres::Config::from_str(&split.rest).map_err(|e| invalid(e.to_string()))?;
    let pick = |given: Option<String>, variable: &str| given.or_else(|| env(variable));
    let mode = match pick(split.mode, "PGSSLMODE") {
        Some(text) => Mode::parse(&text)?,
        None => Mode::Prefer,
    };
    let root = pick(split.root, "PGSSLROOTCERT");
    let cert = pick(split.cert, "PGSSLCERT");
    let key = pick(split.key, "PGSSLKEY");
    let mut config = config;
    config.ssl_mode(match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Allow | Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    });
    let tls = MakeRustlsConnect::new(client_config(mode, root, cert, key)?);
    Ok(Target { config, tls, mode })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(
    mode: Mode,
    root: Option<String>,
    cert: Option<String>,
    key: Option<String>,
) -> Result<ClientConfig, StoreError> {
    let provider = provider();
    let roots = match (mode, root) {
        (Mode::VerifyCa | Mode::VerifyFull, None) => {
            return Err(invalid(
                "sslmode verify-ca and verify-full need sslrootcert (or PGSSLROOTCERT): the CA certificates to trust".into(),
            ));
        }
        (_, Some(path)) => {
            let mut roots = RootCertStore::empty();
            for certificate in read_certificates(&path, "sslrootcert")? {
                roots
                    .add(certificate)
                    .map_err(|error| invalid(format!("sslrootcert {path}: {error}")))?;
            }
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|error| invalid(format!("sslrootcert {path}: {error}")))?;
            Some(webpki)
        }
        (_, None) => None,
    };
    let verifier = Arc::new(Verifier {
        roots,
        check_name: mode == Mode::VerifyFull,
        provider: provider.clone(),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| invalid(error.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match (cert, key) {
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(cert), Some(key)) => {
            let chain = read_certificates(&cert, "sslcert")?;
            let key = PrivateKeyDer::from_pem_file(&key)
                .map_err(|error| invalid(format!("sslkey {key}: {error}")))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|error| invalid(format!("sslcert and sslkey: {error}")))
        }
        _ => Err(invalid("sslcert and sslkey go together".into())),
    }
}

fn read_certificates(
    path: &str,
    parameter: &str,
) -> Result<Vec<CertificateDer<'static>>, StoreError> {
    let certificates = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|error| invalid(format!("{parameter} {path}: {error}")))?;
    if certificates.is_empty() {
        return Err(invalid(format!("{parameter} {path} holds no certificate")));
    }
    Ok(certificates)
}

/// How the server's certificate is judged: against the roots of `sslrootcert` when given (its
/// name too under `verify-full`), else not at all (`prefer` and `require`, as libpq; the
/// handshake's signatures are still checked).
#[derive(Debug)]
struct Verifier {
    roots: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(roots) = &self.roots else {
            return Ok(ServerCertVerified::assertion());
        };
        match roots.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_parameters_leave_the_url_and_the_rest_stays() {
        let split = split(
            "postgres://u:p@db.example:5432/slb?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem",
        );
        assert_eq!(
            split.rest,
            "postgres://u:p@db.example:5432/slb?application_name=x"
        );
        assert_eq!(split.mode.as_deref(), Some("verify-full"));
        assert_eq!(split.root.as_deref(), Some("/etc/ca.pem"));
        let words = super::split("host=db user=u sslmode=require sslcert=/c.pem sslkey=/k.pem");
        assert_eq!(words.rest, "host=db user=u");
        assert_eq!(
            (
                words.mode.as_deref(),
                words.cert.as_deref(),
                words.key.as_deref()
            ),
            (Some("require"), Some("/c.pem"), Some("/k.pem"))
        );
    }

    #[test]
    fn modes_follow_libpq_and_the_url_wins_over_the_environment() {
        let none = |_: &str| None;
        let prefer = target("postgres://u@h/d", none).unwrap();
        assert_eq!(prefer.mode, Mode::Prefer);
        assert_eq!(prefer.config.get_ssl_mode(), SslMode::Prefer);
        let env = |name: &str| (name == "PGSSLMODE").then(|| "disable".to_owned());
        assert_eq!(target("postgres://u@h/d", env).unwrap().mode, Mode::Disable);
        let given = target("postgres://u@h/d?sslmode=require", env).unwrap();
        assert_eq!(
            (given.mode, given.config.get_ssl_mode()),
            (Mode::Require, SslMode::Require)
        );
        for refused in [
            "postgres://u@h/d?sslmode=verify-full",
            "postgres://u@h/d?sslmode=sometimes",
            "postgres://u@h/d?sslmode=require&sslcert=/nonexistent.pem",
            "postgres://u@h/d?sslrootcert=/nonexistent.pem",
        ] {
            let Err(error) = target(refused, none) else {
                panic!("{refused} was taken");
            };
            assert!(error.to_string().contains("does not parse"), "{error}");
        }
    }
}
