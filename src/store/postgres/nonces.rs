//! Used nonces, claimed together: every signed request claims its `SignatureNonce` with an
//! insert that all nodes see, and one statement per request made PostgreSQL's per-statement
//! work most of a describe's cost. Claims waiting while a batch is out go in the next one, a
//! single `INSERT … SELECT FROM unnest(…) ON CONFLICT … RETURNING`, so under load a statement
//! carries dozens of them. Each caller still waits for its own answer: a nonce is used once the
//! batch that holds it returned it (claimed) or not (taken by another request or node).

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::Pool;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::sql::{Params, Write};
use super::{PostgresStore, connection, database};
use crate::store::write_nonce::PendingNonce;
use crate::store::{NonceStore, StoreError, UsedNonce};

/// Claims in one statement at most.
const BATCH: usize = 256;
/// Batches in flight at once: the connections of the relaxed pool kept for them.
const IN_FLIGHT: usize = 3;

type Answer = oneshot::Sender<Result<bool, StoreError>>;

/// Where claims queue for their batch.
pub(super) struct Claims {
    queue: mpsc::UnboundedSender<(UsedNonce, i64, Answer)>,
}

impl Claims {
    pub(super) fn start(pool: Pool) -> Claims {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(batches(pool, waiting));
        Claims { queue }
    }

    /// Whether this request is the first to use `nonce` (or the first since it expired).
    pub(super) async fn claim(&self, nonce: UsedNonce, now_ms: i64) -> Result<bool, StoreError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((nonce, now_ms, answer))
            .map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}

async fn batches(pool: Pool, mut waiting: mpsc::UnboundedReceiver<(UsedNonce, i64, Answer)>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = waiting.recv().await {
        // Whatever queued meanwhile joins, once a connection is free: the busier the
        // database, the fuller the batch.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match waiting.try_recv() {
                Ok(claim) => batch.push(claim),
                Err(_) => break,
            }
        }
        let pool = pool.clone();
        tokio::spawn(async move {
            claim_batch(&pool, batch).await;
            drop(slot);
        });
    }
}

async fn claim_batch(pool: &Pool, batch: Vec<(UsedNonce, i64, Answer)>) {
    // The same nonce twice in one batch: the first one claims it, the others are replays (one
    // statement may not touch a row twice).
    let mut seen = HashSet::new();
    let (mut sent, mut repeated) = (Vec::new(), Vec::new());
    for claim in batch {
        if seen.insert((claim.0.access_key_id.clone(), claim.0.nonce.clone())) {
            sent.push(claim);
        } else {
            repeated.push(claim);
        }
    }
    for (_, _, answer) in repeated {
        let _ = answer.send(Ok(false));
    }
    match insert(pool, &sent).await {
        Ok(claimed) => {
            for (nonce, _, answer) in sent {
                let won = claimed.contains(&(nonce.access_key_id, nonce.nonce));
                let _ = answer.send(Ok(won));
            }
        }
        Err(error) => {
            for (_, _, answer) in sent {
                let _ = answer.send(Err(error.clone()));
            }
        }
    }
}

/// One statement, so that two nodes claiming the same nonce at once cannot both win: the
/// second waits on the first's row and then sees it live. An expired one is taken over. The
/// rows returned are the nonces claimed.
async fn insert(
    pool: &Pool,
    claims: &[(UsedNonce, i64, Answer)],
) -> Result<HashSet<(String, String)>, StoreError> {
    let client = connection(pool).await?;
    let statement = client
        .prepare_cached(
            "INSERT INTO used_nonces (access_key_id, nonce, expires_ms) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) \
             ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_ms = EXCLUDED.expires_ms \
             WHERE used_nonces.expires_ms <= $4 \
             RETURNING access_key_id, nonce",
        )
        .await
        .map_err(database)?;
    let keys: Vec<&str> = claims.iter().map(|c| c.0.access_key_id.as_str()).collect();
    let nonces: Vec<&str> = claims.iter().map(|c| c.0.nonce.as_str()).collect();
    let expires: Vec<i64> = claims.iter().map(|c| c.0.expires_ms).collect();
    // Each claim's own "now"; the latest of them judges expiry (they are within a batch).
    let now_ms = claims.iter().map(|c| c.1).max().unwrap_or_default();
    let rows = client
        .query(&statement, &[&keys, &nonces, &expires, &now_ms])
        .await
        .map_err(database)?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get(0).map_err(database)?,
                row.try_get(1).map_err(database)?,
            ))
        })
        .collect()
}

/// The claim of a write request's nonce inside the transaction of its change: it changes one
/// row, or none when the nonce is live already (a replay: the transaction must not commit).
/// Sent first, so that a second node with the same nonce waits on this row before its own
/// writes, as the batched claims do.
pub(super) async fn claim_in(
    transaction: &deadpool_postgres::Transaction<'_>,
    pending: &PendingNonce,
) -> Result<Write, StoreError> {
    let statement = transaction
        .prepare_cached(
            "INSERT INTO used_nonces (access_key_id, nonce, expires_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_ms = EXCLUDED.expires_ms \
             WHERE used_nonces.expires_ms <= $4",
        )
        .await
        .map_err(database)?;
    let mut params = Params::default();
    params.push(pending.nonce.access_key_id.clone());
    params.push(pending.nonce.nonce.clone());
    params.push(pending.nonce.expires_ms);
    params.push(pending.now_ms);
    Ok(Write {
        statement,
        params,
        failure: database,
    })
}

#[async_trait]
impl NonceStore for PostgresStore {
    async fn claim_nonce(&self, nonce: UsedNonce, now_ms: i64) -> Result<bool, StoreError> {
        self.nonces.claim(nonce, now_ms).await
    }

    fn claims_nonces_in_writes(&self) -> bool {
        true
    }

    fn remembers_every_nonce(&self) -> bool {
        true
    }
}
