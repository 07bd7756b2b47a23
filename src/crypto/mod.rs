//! Secrets at rest and in memory.
//!
//! Every private key and AccessKeySecret is stored sealed (envelope encryption, see
//! [`envelope`]) by the [`Vault`]; the master key wraps the keyring. Secrets in memory live in
//! zeroizing buffers and types that redact themselves.

pub mod envelope;
pub mod master_key;
mod secret;
mod vault;

pub use master_key::{MasterKey, MasterKeyError};
pub use secret::Secret;
pub use vault::{Binding, NEWEST_KEK_FOR, Sealed, Vault, VaultError};
