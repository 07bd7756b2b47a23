//! Certificates and keys refused by validation, as API errors named by the parameter they
//! arrived in.

use super::ApiError;
use crate::clock;
use crate::pki::{CertificateError, KeyError, Part, ValidationError};

/// The parameters an upload's certificate and key arrive in, for naming them in refusals.
#[derive(Clone, Copy, Debug)]
pub struct UploadParameters {
    pub certificate: &'static str,
    pub private_key: &'static str,
}

pub const SERVER_CERTIFICATE_UPLOAD: UploadParameters = UploadParameters {
    certificate: "ServerCertificate",
    private_key: "PrivateKey",
};
pub const CA_CERTIFICATE_UPLOAD: UploadParameters = UploadParameters {
    certificate: "CACertificate",
    private_key: "",
};
pub const USER_CERTIFICATE_UPLOAD: UploadParameters = UploadParameters {
    certificate: "Cert",
    private_key: "Key",
};

impl ApiError {
    /// A certificate or key refused by validation, named by the parameter it arrived in.
    pub fn refused(error: ValidationError, names: UploadParameters) -> ApiError {
        let UploadParameters {
            certificate: cert,
            private_key: key,
        } = names;
        match error {
            ValidationError::Certificate(CertificateError::Empty) => {
                ApiError::InvalidParameter(format!("The specified parameter {cert} is empty."))
            }
            ValidationError::Certificate(CertificateError::Format(detail)) => {
                ApiError::KeyFormatError {
                    parameter: cert,
                    detail,
                }
            }
            ValidationError::Certificate(chain @ CertificateError::Chain { .. }) => {
                ApiError::InvalidParameter(format!(
                    "The specified {cert} chain is invalid: {chain}. \
                     Put the server certificate first, then each issuer in order."
                ))
            }
            ValidationError::Certificate(not_ca @ CertificateError::NotCa { .. }) => {
                ApiError::InvalidParameter(format!(
                    "The specified {cert} is not a CA certificate: {not_ca}."
                ))
            }
            ValidationError::Key(KeyError::Empty) => {
                ApiError::InvalidParameter(format!("The specified parameter {key} is empty."))
            }
            ValidationError::Key(KeyError::Format(detail)) => ApiError::InvalidParameter(format!(
                "The specified parameter key format is error: {detail}."
            )),
            ValidationError::Key(KeyError::Encrypted(detail)) => {
                ApiError::PrivateKeyEncryption(detail)
            }
            ValidationError::UnsupportedAlgorithm { part, name } => {
                let parameter = match part {
                    Part::Certificate => cert,
                    Part::PrivateKey => key,
                };
                ApiError::InvalidParameter(format!(
                    "The {parameter}'s key algorithm {name} is not supported: use RSA (1024 to \
                     4096 bits) or ECDSA (P-256, P-384 or P-521)."
                ))
            }
            ValidationError::KeyMismatch {
                certificate,
                key: algorithm,
            } if certificate == algorithm => ApiError::CertificateNotMatchPrivateKey(format!(
                "the {key} is a different {algorithm} key than the {cert}'s"
            )),
            ValidationError::KeyMismatch {
                certificate,
                key: algorithm,
            } => ApiError::CertificateNotMatchPrivateKey(format!(
                "the {cert}'s key is {certificate} but the {key} is {algorithm}"
            )),
            ValidationError::Expired { not_after } => ApiError::InvalidParameter(format!(
                "The specified {cert} has expired: its notAfter is {}.",
                clock::iso8601(not_after)
            )),
        }
    }
}
