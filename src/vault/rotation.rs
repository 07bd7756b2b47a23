//! Key administration: `slbcert keys rotate` and `slbcert keys rewrap`, both online (a server
//! may run on the same data directory meanwhile).

use super::{Vault, VaultError};
use crate::audit::AuditRecord;
use crate::store::{SealedUpdate, Store};

/// Adds a KEK version; every seal from now on uses it, in this process and in running servers.
pub async fn rotate(vault: &Vault, audit: &AuditRecord) -> Result<u32, VaultError> {
    vault
        .rotate(|version| audit.success(&format!("kek-v{version}"), None))
        .await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RewrapProgress {
    /// Values re-wrapped so far by this run.
    pub done: u64,
    /// Values under older KEKs when this run began.
    pub total: u64,
    /// The KEK version they are re-wrapped under.
    pub version: u32,
}

/// Re-wraps every sealed value (private keys, AccessKeySecrets) under the newest KEK,
/// `batch_size` per transaction, reporting `progress` after each. Resumable: it only ever picks
/// values still under an older KEK, so running it again finishes an interrupted run.
/// `max_batches` stops after that many batches.
pub async fn rewrap(
    store: &dyn Store,
    vault: &Vault,
    batch_size: usize,
    max_batches: Option<usize>,
    audit: &AuditRecord,
    mut progress: impl FnMut(RewrapProgress),
) -> Result<RewrapProgress, VaultError> {
    let newest = vault.newest().await?;
    let mut report = RewrapProgress {
        done: 0,
        total: store.count_sealed_values_below(newest.version).await?,
        version: newest.version,
    };
    let mut batches = 0;
    let mut settled = false;
    while max_batches.is_none_or(|max| batches < max) {
        let values = store
            .sealed_values_below(newest.version, batch_size.max(1))
            .await?;
        if values.is_empty() {
            // A serving process may still seal under the older KEK for a moment after the
            // rotation (it reads the newest version at most every NEWEST_KEK_FOR): look again
            // once that time has passed.
            if settled {
                break;
            }
            tokio::time::sleep(2 * super::NEWEST_KEK_FOR).await;
            settled = true;
            continue;
        }
        let mut updates = Vec::with_capacity(values.len());
        for value in values {
            let new = vault.rewrap(&value.sealed, &value.binding, &newest).await?;
            updates.push(SealedUpdate {
                binding: value.binding,
                old: value.sealed,
                new,
            });
        }
        let line = audit.success(
            &format!("kek-v{} ({} values)", newest.version, updates.len()),
            None,
        );
        report.done += store.replace_sealed_values(updates, line).await? as u64;
        batches += 1;
        progress(report);
    }
    Ok(report)
}
