//! Helpers shared by the Rust integration tests.

use std::path::Path;
use std::sync::Arc;

use slbcert::audit::RefusalQueue;
use slbcert::store::sqlite::SqliteStore;

/// The store of data directory `dir`, with a refusal queue of its own.
pub fn open_store(dir: &Path) -> SqliteStore {
    SqliteStore::open(dir, Arc::new(RefusalQueue::default())).unwrap()
}
