//! RAM state of each account (users, groups, custom policies, roles and who has which) as one
//! JSON document per account, replaced whole under a generation check. A user's AccessKeys are
//! rows of `access_keys` (with the user's ID), written in the same transaction, so that
//! signature verification finds them as it finds an account's own keys.

use async_trait::async_trait;

use super::{AccessKey, StoreError};
use crate::audit::AuditLine;

/// An account's RAM document as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RamDocument {
    /// 0 before the account's first change.
    pub generation: i64,
    /// `None` before the account's first change.
    pub text: Option<String>,
}

/// A new RAM document for an account, replacing the one read at `generation`, with the
/// AccessKeys it adds and removes.
#[derive(Debug)]
pub struct RamChange {
    pub account_id: String,
    pub generation: i64,
    pub text: String,
    /// Keys of users, and of the account itself (`user_id` unset) once it manages its own:
    /// the document lists each, which the handler checked.
    pub added_keys: Vec<AccessKey>,
    pub removed_keys: Vec<String>,
}

#[async_trait]
pub trait RamStore: Send + Sync {
    async fn ram_document(&self, account_id: &str) -> Result<RamDocument, StoreError>;
    /// Stores `change` if the document is still at its generation, else `Stale`.
    async fn replace_ram_document(
        &self,
        change: RamChange,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
    /// A number that moves whenever any account's RAM state changes, in this process or, as
    /// far as the store hears of it, in another.
    fn ram_epoch(&self) -> u64;
}
