//! Certificate and key validation: PEM, X.509, chains, private keys and their pairing.

pub mod certificate;
mod oids;
pub mod pem;
pub mod private_key;
pub mod public_key;
pub mod request;
mod signature;

use time::OffsetDateTime;

pub use certificate::{CertificateChain, CertificateError, CertificateInfo};
pub use private_key::{KeyError, PrivateKey};

/// A server certificate and its private key that passed every check.
#[derive(Debug)]
pub struct ServerCertificateMaterial {
    pub chain: CertificateChain,
    pub private_key: PrivateKey,
}

/// Which half of an upload a refusal concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Certificate,
    PrivateKey,
}

/// Why an upload's certificate or key is refused, in the order the checks run.
#[derive(Debug, thiserror::Error)]
pub enum ValidationError {
    #[error(transparent)]
    Certificate(#[from] CertificateError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("the {part:?}'s algorithm {name} is not supported")]
    UnsupportedAlgorithm { part: Part, name: String },
    #[error("the certificate's key is {certificate} but the private key is {key}")]
    KeyMismatch { certificate: String, key: String },
    #[error("the certificate expired")]
    Expired { not_after: OffsetDateTime },
}

/// The algorithm and size of the key of the first certificate in a stored PEM.
pub fn leaf_encryption(pem: &str) -> Option<(&'static str, u32)> {
    let chain = certificate::parse_ca_bundle(pem)
        .or_else(|_| certificate::parse_chain(pem))
        .ok()?;
    Some(chain.leaf.public_key.encryption())
}

/// Validates an upload, in the documented order: the certificate chain, the private key, the
/// algorithms of both, their pairing, then the leaf's expiry. A leaf not yet valid is accepted.
pub fn validate_server_certificate(
    certificate_pem: &str,
    private_key_pem: &str,
    now: OffsetDateTime,
) -> Result<ServerCertificateMaterial, ValidationError> {
    let chain = certificate::parse_chain(certificate_pem)?;
    let private_key = private_key::parse(private_key_pem)?;
    if let Some(name) = chain.leaf.public_key.refusal() {
        return Err(ValidationError::UnsupportedAlgorithm {
            part: Part::Certificate,
            name,
        });
    }
    if let Some(name) = private_key.public_key().refusal() {
        return Err(ValidationError::UnsupportedAlgorithm {
            part: Part::PrivateKey,
            name,
        });
    }
    if &chain.leaf.public_key != private_key.public_key() {
        let certificate = chain.leaf.public_key.to_string();
        let key = private_key.public_key().to_string();
        return Err(ValidationError::KeyMismatch { certificate, key });
    }
    if chain.leaf.not_after < now {
        return Err(ValidationError::Expired {
            not_after: chain.leaf.not_after,
        });
    }
    Ok(ServerCertificateMaterial { chain, private_key })
}

/// Validates a CA upload (for mutual TLS): one or more PEM CA certificates, each a CA with a
/// supported key; the first one is described and must not have expired.
pub fn validate_ca_certificate(
    certificate_pem: &str,
    now: OffsetDateTime,
) -> Result<CertificateChain, ValidationError> {
    let bundle = certificate::parse_ca_bundle(certificate_pem)?;
    if let Some(name) = bundle.leaf.public_key.refusal() {
        return Err(ValidationError::UnsupportedAlgorithm {
            part: Part::Certificate,
            name,
        });
    }
    if bundle.leaf.not_after < now {
        return Err(ValidationError::Expired {
            not_after: bundle.leaf.not_after,
        });
    }
    Ok(bundle)
}

#[cfg(test)]
mod tests;
