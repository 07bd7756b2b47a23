//! Used `SignatureNonce`s, kept durably for their window. Signature checks queue them here; the
//! writer inserts the queue at the start of every batch, so the nonce of a mutation commits in
//! the same transaction as the mutation (or an earlier one), and a read's nonce with the next
//! batch, or within [`FLUSH_AFTER`] when no batch comes. Expired ones are deleted as batches go
//! by.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::connection::Cached;
use rusqlite::{Connection, OptionalExtension, params};

use crate::store::{StoreError, UsedNonce};

/// How often (at most) a batch also deletes expired nonces.
const SWEEP_EVERY_MS: i64 = 60_000;
/// Queued nonces wait at most about this long for a batch; then one is started for them.
pub(super) const FLUSH_AFTER: Duration = Duration::from_millis(250);

#[derive(Default)]
pub(super) struct Pending {
    queue: Mutex<Queue>,
}

#[derive(Default)]
struct Queue {
    nonces: Vec<UsedNonce>,
    /// When the oldest queued nonce was queued.
    oldest: Option<Instant>,
    last_sweep_ms: i64,
}

impl Pending {
    pub fn push(&self, nonce: UsedNonce) {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.oldest.get_or_insert_with(Instant::now);
        queue.nonces.push(nonce);
    }

    /// Whether nonces have waited [`FLUSH_AFTER`] for a batch to take them.
    pub fn overdue(&self) -> bool {
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue
            .oldest
            .is_some_and(|oldest| oldest.elapsed() >= FLUSH_AFTER)
    }

    /// Inserts the queued nonces (and deletes expired ones now and then) in the writer's open
    /// transaction. If the transaction then fails they are lost from the database, not from
    /// the memory cache that checked them first.
    pub fn write(&self, db: &Connection, now_ms: i64) -> Result<(), StoreError> {
        let (nonces, sweep) = {
            let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            let sweep = now_ms - queue.last_sweep_ms >= SWEEP_EVERY_MS;
            if sweep {
                queue.last_sweep_ms = now_ms;
            }
            queue.oldest = None;
            (std::mem::take(&mut queue.nonces), sweep)
        };
        if !nonces.is_empty() {
            let mut insert = db.prepare_cached(
                "INSERT INTO used_nonces (access_key_id, nonce, expires_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_ms = excluded.expires_ms",
            )?;
            for nonce in &nonces {
                insert.execute(params![nonce.access_key_id, nonce.nonce, nonce.expires_ms])?;
            }
        }
        if sweep {
            db.execute_cached("DELETE FROM used_nonces WHERE expires_ms < ?1", [now_ms])?;
        }
        Ok(())
    }
}

/// Whether `nonce` was used by `access_key_id` and is still within its window.
pub(super) fn used(
    db: &Connection,
    access_key_id: &str,
    nonce: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let found: Option<i64> = db
        .prepare_cached(
            "SELECT 1 FROM used_nonces WHERE access_key_id = ?1 AND nonce = ?2 AND expires_ms > ?3",
        )?
        .query_row(params![access_key_id, nonce, now_ms], |row| row.get(0))
        .optional()?;
    Ok(found.is_some())
}

/// When the last stored nonce expires (epoch ms), 0 if none is stored.
pub(super) fn last_expiry(db: &Connection) -> Result<i64, StoreError> {
    Ok(db.query_row_cached(
        "SELECT COALESCE(MAX(expires_ms), 0) FROM used_nonces",
        [],
        |row| row.get(0),
    )?)
}
