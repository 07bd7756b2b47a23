//! What a sealed value is and which record it belongs to; the [`crate::vault::Vault`] seals
//! and opens them.

use super::envelope;

/// The record a sealed value belongs to; authenticated with it, so that a value copied onto
/// another record does not open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    CertificateKey {
        account_id: String,
        region_id: String,
        certificate_id: String,
    },
    UserCertificateKey {
        account_id: String,
        cert_id: i64,
    },
    AccessKeySecret {
        access_key_id: String,
    },
    /// The key made for a certificate order, until the certificate it gets takes it over.
    CertificateOrderKey {
        account_id: String,
        order_id: i64,
    },
    /// An account's ACME account (its key) at one CA directory.
    AcmeAccount {
        account_id: String,
        directory_url: String,
    },
}

impl Binding {
    pub(crate) fn associated_data(&self) -> Vec<u8> {
        match self {
            Binding::CertificateKey {
                account_id,
                region_id,
                certificate_id,
            } => format!("certificate-key\0{account_id}\0{region_id}\0{certificate_id}"),
            Binding::UserCertificateKey {
                account_id,
                cert_id,
            } => format!("user-certificate-key\0{account_id}\0{cert_id}"),
            Binding::AccessKeySecret { access_key_id } => {
                format!("access-key-secret\0{access_key_id}")
            }
            Binding::CertificateOrderKey {
                account_id,
                order_id,
            } => format!("certificate-order-key\0{account_id}\0{order_id}"),
            Binding::AcmeAccount {
                account_id,
                directory_url,
            } => format!("acme-account\0{account_id}\0{directory_url}"),
        }
        .into_bytes()
    }
}

/// A sealed value as stored: self-describing bytes (see `envelope`).
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(pub(crate) Vec<u8>);

impl Sealed {
    pub fn from_stored(bytes: Vec<u8>) -> Sealed {
        Sealed(bytes)
    }

    pub fn as_stored(&self) -> &[u8] {
        &self.0
    }

    /// The KEK version it is wrapped under, 0 if unreadable.
    pub fn kek_version(&self) -> u32 {
        envelope::kek_version(&self.0).unwrap_or(0)
    }
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sealed(kek v{}, {} bytes)",
            self.kek_version(),
            self.0.len()
        )
    }
}
