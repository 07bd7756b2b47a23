//! Used `SignatureNonce`s, kept durably for their window so that a captured request does not
//! replay after a restart. Signature checks queue them here; the writer appends the queue at the
//! start of every batch, so the nonce of a mutation commits in the same transaction as the
//! mutation (or an earlier one), and a read's nonce with the next batch, or within
//! [`FLUSH_AFTER`] when no batch comes. The table is keyed by expiry (appends touch its last
//! page; expired ones are cut off its front) and never searched while serving: the live ones an
//! earlier process stored are loaded at open ([`Earlier`]), and the serving process checks its
//! own in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::connection::Cached;
use rusqlite::{Connection, params};

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

    pub fn is_empty(&self) -> bool {
        let queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.nonces.is_empty()
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
                "INSERT OR IGNORE INTO nonce_log (access_key_id, nonce, expires_ms) \
                 VALUES (?1, ?2, ?3)",
            )?;
            for nonce in &nonces {
                insert.execute(params![nonce.access_key_id, nonce.nonce, nonce.expires_ms])?;
            }
        }
        if sweep {
            db.execute_cached("DELETE FROM nonce_log WHERE expires_ms < ?1", [now_ms])?;
        }
        Ok(())
    }
}

/// The nonces an earlier process stored that are still live, loaded at open: as many as that
/// process held in its own memory cache at the end, and forgotten once the last expires.
pub(super) struct Earlier {
    /// "AccessKeyId\nnonce" -> when it expires (epoch ms).
    nonces: HashMap<String, i64>,
    until_ms: i64,
}

impl Earlier {
    pub fn load(db: &Connection, now_ms: i64) -> Result<Earlier, StoreError> {
        let mut statement = db.prepare(
            "SELECT access_key_id, nonce, expires_ms FROM nonce_log WHERE expires_ms > ?1",
        )?;
        let mut nonces = HashMap::new();
        let mut until_ms = 0;
        let rows = statement.query_map([now_ms], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (access_key_id, nonce, expires_ms) = row?;
            until_ms = until_ms.max(expires_ms);
            nonces.insert(format!("{access_key_id}\n{nonce}"), expires_ms);
        }
        Ok(Earlier { nonces, until_ms })
    }

    /// Whether an earlier process used `nonce` for `access_key_id` and it is still live.
    pub fn used(&self, access_key_id: &str, nonce: &str, now_ms: i64) -> bool {
        now_ms < self.until_ms
            && self
                .nonces
                .get(&format!("{access_key_id}\n{nonce}"))
                .is_some_and(|expires_ms| *expires_ms > now_ms)
    }
}
