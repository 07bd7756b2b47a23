//! Certificates applied for through the SSL Certificates Service and issued by an ACME CA
//! (RFC 8555): the CA's side ([`ca`]), the check that a proof is in place before the CA is told
//! to look ([`proof`]), and the loop that works orders from the store ([`worker`]).
//!
//! An order is placed with the CA when it is created, so that `DescribeCertificateState` can
//! say at once what proves the domain; everything after runs in the loop, on whichever node
//! holds the order's lease, from what the store says: a restart resumes where it stopped.

pub mod ca;
pub mod orders;
pub mod proof;
mod renewal;
pub mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::store::StoreError;
use crate::vault::VaultError;

/// `serve --acme-*`: which CA, how to reach it, and how proofs are checked.
#[derive(Clone)]
pub struct Options {
    /// The CA's ACME directory URL.
    pub directory: String,
    /// Trust this PEM root (a private CA's, pebble's) for the directory's HTTPS.
    pub ca_file: Option<PathBuf>,
    /// The ACME accounts' contact.
    pub email: Option<String>,
    /// External account binding, for CAs that ask for it: the key ID and the HMAC key.
    pub external_account: Option<ExternalAccount>,
    /// The DNS server proofs are looked up on (the system's when `None`).
    pub resolver: Option<SocketAddr>,
    /// The port the CA fetches `FILE` proofs from (80 on the Internet).
    pub http_port: u16,
    /// How long a proof may take to be put in place before the order fails.
    pub proof_deadline: Duration,
    /// How long before its end an issued certificate is renewed.
    pub renew_before: Duration,
    /// Orders per account that are not issued (under validation, failed, cancelled) at most;
    /// `None`: unlimited.
    pub max_open_orders: Option<u64>,
}

#[derive(Clone)]
pub struct ExternalAccount {
    pub key_id: String,
    pub hmac_key: crate::crypto::Secret,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("directory", &self.directory)
            .field("ca_file", &self.ca_file)
            .field("email", &self.email)
            .field(
                "external_account",
                &self.external_account.as_ref().map(|eab| &eab.key_id),
            )
            .field("resolver", &self.resolver)
            .field("http_port", &self.http_port)
            .field("proof_deadline", &self.proof_deadline)
            .field("renew_before", &self.renew_before)
            .field("max_open_orders", &self.max_open_orders)
            .finish()
    }
}

/// What placing or working an order can meet.
#[derive(Debug, thiserror::Error)]
pub enum IssuanceError {
    /// The CA said no, for a reason of the order's (its problem document, in its words).
    #[error("the certificate authority refused: {0}")]
    Refused(String),
    /// The CA could not be reached, or failed on its side; trying later may work.
    #[error("the certificate authority is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Puts a renewed certificate where the one it renews serves: each SLB server certificate made
/// from `old` (by `AliCloudCertificateId`) gets a twin made from `new`, and every listener and
/// domain extension bound to it is moved to the twin. Implemented above the API (through the
/// actions' own handlers), so this layer only calls it.
#[async_trait::async_trait]
pub trait Rotation: Send + Sync {
    async fn rotate(&self, account_id: &str, old: i64, new: i64) -> Result<usize, String>;
}

/// The CA client and the proof checker one serving process shares.
pub struct Issuer {
    pub options: Options,
    pub ca: ca::Client,
    pub proofs: proof::Checker,
    /// Told when an order is created, so that the loop looks at once.
    pub wake: tokio::sync::Notify,
}

impl Issuer {
    pub fn new(options: Options) -> Result<Issuer, String> {
        // instant-acme's HTTPS client takes the process's rustls provider, which is ambiguous
        // here (both ring and aws-lc-rs are built in); everything else names its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Issuer {
            ca: ca::Client::new(&options)?,
            proofs: proof::Checker::new(options.resolver, options.http_port)?,
            options,
            wake: tokio::sync::Notify::new(),
        })
    }
}
