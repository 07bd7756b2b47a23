//! TLS of HTTPS listeners: the certificate for a ClientHello by SNI (domain extensions, exact
//! before wildcard, else the listener's own), `TLSCipherPolicy` as protocol versions and
//! suites, HTTP/2 by ALPN, and two-way authentication against the listener's CA.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    #[error("certificate {0} has no usable PEM")]
    Certificate(String),
    #[error("the private key of certificate {0} cannot be used")]
    Key(String),
    #[error("CA certificate {0} cannot verify clients: {1}")]
    ClientCa(String, String),
    #[error("TLS cipher policy {0} is not there")]
    Policy(String),
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
}

/// aws-lc-rs for listeners' handshakes: its RSA and ECDSA signing is several times faster
/// than ring's (BENCHMARKS.md). Certificates are still checked with ring at upload.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Sessions a listener remembers for resumption by session ID (TLS 1.2) or stateful ticket.
const RESUMABLE_SESSIONS: usize = 4096;

/// A server certificate's chain as uploaded and its key, ready to sign handshakes. The key's PEM
/// is dropped (and wiped) once parsed.
pub fn certified_key(
    id: &str,
    chain_pem: &str,
    key_pem: &zeroize::Zeroizing<String>,
) -> Result<Arc<CertifiedKey>, TlsSetupError> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|_| TlsSetupError::Certificate(id.to_owned()))?;
    if chain.is_empty() {
        return Err(TlsSetupError::Certificate(id.to_owned()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| TlsSetupError::Key(id.to_owned()))?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|_| TlsSetupError::Key(id.to_owned()))?;
    Ok(Arc::new(CertifiedKey::new(chain, signing_key)))
}

/// Picks the certificate for a ClientHello: a domain extension whose domain is the SNI name,
/// else the narrowest wildcard extension that covers it, else the listener's certificate.
#[derive(Debug)]
pub struct SniResolver {
    pub default: Arc<CertifiedKey>,
    /// (domain as configured, lower case; its certificate).
    pub extensions: Vec<(String, Arc<CertifiedKey>)>,
}

impl SniResolver {
    pub fn pick(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = server_name.map(str::to_ascii_lowercase) else {
            return self.default.clone();
        };
        if let Some((_, key)) = self.extensions.iter().find(|(domain, _)| *domain == name) {
            return key.clone();
        }
        // `*.a.com` covers `x.a.com` (one label), as wildcard certificates do.
        self.extensions
            .iter()
            .filter_map(|(domain, key)| {
                let suffix = domain.strip_prefix("*.")?;
                let (label, rest) = name.split_once('.')?;
                (!label.is_empty() && rest == suffix).then_some((suffix.len(), key))
            })
            .max_by_key(|(length, _)| *length)
            .map_or_else(|| self.default.clone(), |(_, key)| key.clone())
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.pick(client_hello.server_name()))
    }
}

/// What a listener's handshakes offer: a built-in `TLSCipherPolicy` (rustls speaks TLS 1.2
/// and 1.3 only, so the built-ins differ in whether 1.3 is offered; every TLS 1.2 suite rustls
/// has is an ECDHE one, so `_strict` changes nothing more), or a custom policy's exact versions
/// and suites.
pub enum Offer {
    Builtin(String),
    Custom {
        versions: Vec<rustls::ProtocolVersion>,
        suites: Vec<rustls::CipherSuite>,
    },
}

impl Offer {
    fn versions(&self) -> Vec<&'static SupportedProtocolVersion> {
        match self {
            Offer::Builtin(policy) if policy == "tls_cipher_policy_1_2_strict_with_1_3" => {
                vec![&rustls::version::TLS12, &rustls::version::TLS13]
            }
            Offer::Builtin(_) => vec![&rustls::version::TLS12],
            Offer::Custom { versions, .. } => rustls::ALL_VERSIONS
                .iter()
                .copied()
                .filter(|v| versions.contains(&v.version))
                .collect(),
        }
    }

    fn provider(&self) -> Arc<CryptoProvider> {
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        if let Offer::Custom { suites, .. } = self {
            provider
                .cipher_suites
                .retain(|suite| suites.contains(&suite.suite()));
        }
        Arc::new(provider)
    }
}

pub fn server_config(
    resolver: SniResolver,
    offer: &Offer,
    http2: bool,
    client_ca: Option<(&str, &str)>,
) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let provider = offer.provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&offer.versions())?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some((id, pem)) => {
            let mut roots = RootCertStore::empty();
            for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                let certificate = certificate
                    .map_err(|error| TlsSetupError::ClientCa(id.to_owned(), error.to_string()))?;
                roots
                    .add(certificate)
                    .map_err(|error| TlsSetupError::ClientCa(id.to_owned(), error.to_string()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|error| TlsSetupError::ClientCa(id.to_owned(), error.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    // Resumption, per listener: each listener's configuration has its own cache and ticket
    // keys (rotated by rustls every 6 hours), so a session of one listener never resumes on
    // another, whose client CA may differ.
    config.session_storage = rustls::server::ServerSessionMemoryCache::new(RESUMABLE_SESSIONS);
    config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new()?;
    config.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    Ok(Arc::new(config))
}
