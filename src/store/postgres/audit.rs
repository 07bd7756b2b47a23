//! The audit trail's tables. A record is inserted in the transaction of its change and keeps
//! that transaction's ID (a column default). Exports read only the records of transactions
//! older than the oldest one still running: that set is final, so every node orders it alike,
//! by (xid, id), and numbers it by counting on from its cursor. `seq` then follows commit
//! visibility, has no gap, and costs no second write, however many nodes write at once.

use std::sync::Arc;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};

use super::sql::{Params, Write};
use super::{PostgresStore, column, database};
use crate::audit::AuditLine;
use crate::store::{AuditEntry, AuditStore, StoreError};

/// A numbered record's place in the export order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Place {
    pub seq: i64,
    pub xid: i64,
    pub id: i64,
}

impl Place {
    /// Before the first record (migrated records have negative transaction IDs).
    pub const START: Place = Place {
        seq: 0,
        xid: i64::MIN,
        id: 0,
    };
}

/// The insert of `line`, to be sent with the transaction's other writes.
pub(super) async fn write(db: &Transaction<'_>, line: &AuditLine) -> Result<Write, StoreError> {
    let statement = db
        .prepare_cached("INSERT INTO audit_records (line) VALUES ($1)")
        .await
        .map_err(database)?;
    let mut params = Params::default();
    params.push(line.clone());
    Ok(Write {
        statement,
        params,
        failure: database,
    })
}

/// Up to `limit` final records after `from`, the first `skip` of them left out, numbered on
/// from `from.seq + skip`; with the place of the last one.
pub(super) async fn after(
    db: &impl GenericClient,
    from: Place,
    skip: i64,
    limit: usize,
) -> Result<(Vec<AuditEntry>, Option<Place>), StoreError> {
    let statement = db
        .prepare_cached(
            "SELECT xid, id, line FROM audit_records \
             WHERE (xid, id) > ($1, $2) \
               AND xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             ORDER BY xid, id OFFSET $3 LIMIT $4",
        )
        .await
        .map_err(database)?;
    let rows = db
        .query(&statement, &[&from.xid, &from.id, &skip, &(limit as i64)])
        .await
        .map_err(database)?;
    let mut last = None;
    let mut entries = Vec::with_capacity(rows.len());
    for (seq, row) in (from.seq + skip + 1..).zip(&rows) {
        last = Some(Place {
            seq,
            xid: column(row, 0)?,
            id: column(row, 1)?,
        });
        entries.push(AuditEntry {
            seq,
            line: column(row, 2)?,
        });
    }
    Ok((entries, last))
}

/// The durable place of `exporter`'s last exported record.
pub(super) async fn cursor(db: &impl GenericClient, exporter: &str) -> Result<Place, StoreError> {
    let row = db
        .query_opt(
            "SELECT seq, xid, id FROM audit_export WHERE exporter = $1",
            &[&exporter],
        )
        .await
        .map_err(database)?;
    match row {
        Some(row) if column::<i64>(&row, 0)? > 0 => Ok(Place {
            seq: column(&row, 0)?,
            xid: column(&row, 1)?,
            id: column(&row, 2)?,
        }),
        _ => Ok(Place::START),
    }
}

pub(super) async fn advance_cursor(
    db: &impl GenericClient,
    exporter: &str,
    place: Place,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO audit_export (exporter, seq, xid, id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (exporter) DO UPDATE \
         SET seq = EXCLUDED.seq, xid = EXCLUDED.xid, id = EXCLUDED.id \
         WHERE audit_export.seq < EXCLUDED.seq",
        &[&exporter, &place.seq, &place.xid, &place.id],
    )
    .await
    .map_err(database)?;
    Ok(())
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn record(&self, line: AuditLine) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        self.commit(transaction, &line).await
    }

    async fn audit_records_after(
        &self,
        seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let client = self.client().await?;
        let exported = *self.exported.lock().unwrap_or_else(|p| p.into_inner());
        // Records are numbered by counting: from the last place read, else from the durable
        // cursor (the file may be ahead of it after a crash), else from the start.
        let (from, skip) = if exported.seq == seq {
            (exported, 0)
        } else {
            let cursor = cursor(&client, &self.exporter).await?;
            let from = if cursor.seq <= seq {
                cursor
            } else {
                Place::START
            };
            (from, seq - from.seq)
        };
        let (entries, last) = after(&client, from, skip, limit).await?;
        if let Some(last) = last {
            *self.exported.lock().unwrap_or_else(|p| p.into_inner()) = last;
        }
        Ok(entries)
    }

    async fn audit_export_cursor(&self) -> Result<i64, StoreError> {
        Ok(cursor(&self.client().await?, &self.exporter).await?.seq)
    }

    fn advance_audit_export_cursor(&self, seq: i64) {
        let exported = *self.exported.lock().unwrap_or_else(|p| p.into_inner());
        if exported.seq == seq {
            self.background.advance_cursor(exported);
        } else {
            // The export moves the cursor to the last record it read; anything else is a bug.
            tracing::error!(
                seq,
                read = exported.seq,
                "audit cursor moved to a record not read last"
            );
        }
    }

    fn audit_appended(&self) -> Arc<tokio::sync::Notify> {
        self.appended.clone()
    }

    async fn store_queued(&self) -> Result<(), StoreError> {
        super::background::flush_refusals(&self.pool, &self.refusals).await
    }
}
