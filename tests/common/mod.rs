//! Helpers shared by the Rust integration tests.

use std::path::Path;
use std::sync::Arc;

use slbcert::audit::RefusalQueue;
use slbcert::store::sqlite::SqliteStore;

/// The store of data directory `dir`, with a refusal queue of its own.
pub fn open_store(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir, Arc::new(RefusalQueue::default())).unwrap()
}

/// Stores account `account_id` with one (root) key of a placeholder sealed secret.
#[allow(dead_code)] // Not every test file that includes this module uses it.
pub async fn insert_account(store: &SqliteStore, account_id: &str) {
    use slbcert::crypto::Sealed;
    use slbcert::store::{AccessKey, Account, AccountStore};
    let account = Account {
        account_id: account_id.into(),
        name: String::new(),
        default_resource_group_id: "rg-default".into(),
        created_ms: 0,
    };
    let access_key = AccessKey {
        access_key_id: format!("LTAI{account_id}"),
        account_id: account_id.into(),
        sealed_secret: Sealed::from_stored(b"sealed:secret".to_vec()),
        created_ms: 0,
        user_id: None,
    };
    let line =
        slbcert::audit::AuditRecord::new("r", "CreateAccount", "test").success(account_id, None);
    store
        .insert_account(account, access_key, line)
        .await
        .unwrap();
}
