//! What a node writes on its own time, on connections without synchronous commit: refused
//! requests' audit lines (within [`crate::audit::REFUSALS_FLUSH_AFTER`]), its audit export
//! cursor, and the sweep of expired nonces.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{GenericClient, Pool};

use super::audit::{self, Place};
use super::{connection, database};
use crate::audit::{REFUSALS_FLUSH_AFTER, RefusalQueue};
use crate::store::StoreError;

const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(super) struct Queues {
    /// The export cursor to write, if it moved.
    cursor: Mutex<Option<Place>>,
}

impl Queues {
    pub fn advance_cursor(&self, place: Place) {
        let mut cursor = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        if cursor.is_none_or(|queued| queued.seq < place.seq) {
            *cursor = Some(place);
        }
    }

    fn take_cursor(&self) -> Option<Place> {
        self.cursor.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

pub(super) fn start(
    pool: Pool,
    refusals: Arc<RefusalQueue>,
    queues: Arc<Queues>,
    exporter: String,
) {
    tokio::spawn(async move {
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(REFUSALS_FLUSH_AFTER / 2).await;
            if let Err(error) = flush_refusals(&pool, &refusals).await {
                tracing::warn!(%error, "cannot store refused requests' audit lines yet");
            }
            if let Some(place) = queues.take_cursor() {
                let written = match connection(&pool).await {
                    Ok(client) => audit::advance_cursor(&client, &exporter, place).await,
                    Err(error) => Err(error),
                };
                if written.is_err() {
                    queues.advance_cursor(place);
                }
            }
            if last_sweep.elapsed() >= SWEEP_EVERY {
                last_sweep = tokio::time::Instant::now();
                let now = crate::clock::unix_ms(crate::clock::now());
                if let Ok(client) = connection(&pool).await
                    && let Err(error) = client
                        .execute("DELETE FROM used_nonces WHERE expires_ms < $1", &[&now])
                        .await
                {
                    tracing::warn!(%error, "cannot sweep expired nonces");
                }
            }
        }
    });
}

pub(super) async fn flush_refusals(pool: &Pool, refusals: &RefusalQueue) -> Result<(), StoreError> {
    let lines = refusals.take();
    if lines.is_empty() {
        return Ok(());
    }
    let stored = async {
        let mut client = connection(pool).await?;
        let transaction = client.transaction().await.map_err(database)?;
        let mut writes = Vec::with_capacity(lines.len());
        for line in &lines {
            writes.push(audit::write(&transaction, line).await?);
        }
        super::sql::pipelined(&transaction, &writes).await?;
        transaction.commit().await.map_err(database)
    }
    .await;
    match &stored {
        Ok(()) => refusals.stored(&lines),
        Err(_) => refusals.give_back(lines),
    }
    stored
}
