//! Secrets at rest and in memory.
//!
//! Every private key and AccessKeySecret is stored sealed (envelope encryption, see
//! [`envelope`]) by the [`crate::vault::Vault`]; the master key wraps the keyring. Secrets in memory live in
//! zeroizing buffers and types that redact themselves.

pub mod envelope;
pub mod master_key;
mod sealed;
mod secret;

pub use master_key::{MasterKey, MasterKeyError};
pub use sealed::{Binding, Sealed};
pub use secret::Secret;
