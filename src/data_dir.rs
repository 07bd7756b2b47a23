//! Opening a data directory, as every command does: its audit log, its store, the master key
//! and the keyring (the vault).

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zeroize::Zeroizing;

use crate::audit::{AuditRecord, RefusalQueue};
use crate::audit_export::{self, AuditExport};
use crate::crypto::MasterKeyError;
use crate::crypto::master_key::{self, Origin};
use crate::ids;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};
use crate::vault::{Vault, VaultError};

/// Where secrets and the audit trail of a data directory come from.
#[derive(Clone, Default)]
pub struct Options {
    /// `--master-key-file`; else `SLBCERT_MASTER_KEY`; else `DATA_DIR/master.key`.
    pub master_key_file: Option<PathBuf>,
    /// `SLBCERT_MASTER_KEY` (base64), read from the environment by the command line.
    pub master_key: Option<Zeroizing<String>>,
    /// `--audit-log`; else `DATA_DIR/audit.log`.
    pub audit_log: Option<PathBuf>,
    /// `--database-url`: a PostgreSQL database shared by many nodes; else SQLite in the data
    /// directory. The URL may carry a password, so it is not shown by `Debug`.
    pub database_url: Option<Zeroizing<String>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("master_key_file", &self.master_key_file)
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("audit_log", &self.audit_log)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

pub struct DataDir {
    pub store: Arc<dyn Store>,
    pub vault: Arc<Vault>,
    /// `audit.log`, the export of the audit trail the store holds.
    pub audit: Arc<AuditExport>,
    /// Refused requests' audit lines, for the store's writer.
    pub refusals: Arc<RefusalQueue>,
}

impl DataDir {
    /// Brings `audit.log` up to date with the store (as a command does before it ends).
    pub async fn export_audit(&self) -> Result<u64, audit_export::ExportError> {
        let (audit, store) = (self.audit.clone(), self.store.clone());
        let runtime = tokio::runtime::Handle::current();
        match tokio::task::spawn_blocking(move || audit.export_round(store.as_ref(), &runtime))
            .await
        {
            Ok(result) => result,
            // A bug in the round is a bug of the command, not a round that exported nothing.
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            Err(_) => Ok(0),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("data directory {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("audit log {path}: {source}")]
    AuditLog {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    #[error("keyring: {0}")]
    Vault(#[from] VaultError),
}

/// Opens `path` (creating it, owner-only, if needed) for a command run by `actor` (`serve`
/// or `cli`, as the audit trail shows it).
pub async fn open(path: &Path, options: &Options, actor: &str) -> Result<DataDir, OpenError> {
    create(path)?;
    let audit_path = options
        .audit_log
        .clone()
        .unwrap_or_else(|| path.join(audit_export::DEFAULT_FILE));
    let audit = Arc::new(
        AuditExport::open(&audit_path).map_err(|source| OpenError::AuditLog {
            path: audit_path.clone(),
            source,
        })?,
    );
    let refusals = Arc::new(RefusalQueue::default());
    let store: Arc<dyn Store> = match &options.database_url {
        Some(url) => {
            Arc::new(PostgresStore::open(url, refusals.clone(), exporter_name(&audit_path)).await?)
        }
        None => Arc::new(SqliteStore::open(path, refusals.clone())?),
    };
    // A new master key is made only while nothing is sealed under an old one.
    let sealed_already = store.newest_key_encryption_key().await?.is_some();
    let (master, origin) = master_key::load(
        options.master_key_file.as_deref(),
        options.master_key.clone(),
        path,
        !sealed_already,
    )?;
    if let Origin::Created(file) = &origin {
        tracing::warn!(
            path = %file.display(),
            "generated the master key; back it up apart from the data: without it no stored \
             private key or AccessKeySecret can be read"
        );
    }
    let bootstrap = AuditRecord::new(&ids::request_id(), "CreateKeyEncryptionKey", actor);
    let vault = Vault::open(master, store.clone(), |version| {
        bootstrap.success(&format!("kek-v{version}"), None)
    })
    .await?;
    Ok(DataDir {
        store,
        vault: Arc::new(vault),
        audit,
        refusals,
    })
}

/// How a shared database tells this node's audit log from other nodes': host and path.
fn exporter_name(audit_path: &Path) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let path = std::fs::canonicalize(audit_path).unwrap_or_else(|_| audit_path.to_owned());
    format!("{}:{}", host.trim(), path.display())
}

/// Creates the data directory, readable by its owner only.
fn create(path: &Path) -> Result<(), OpenError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|source| OpenError::Directory {
            path: path.to_owned(),
            source,
        })
}
