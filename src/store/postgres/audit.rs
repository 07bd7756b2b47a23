//! The audit trail's tables. A record is inserted unnumbered in the transaction of its change;
//! the export numbers committed records in one transaction at a time (an advisory lock), so
//! that `seq` follows the order in which records became visible and never has a gap, however
//! many nodes write at once.

use deadpool_postgres::{GenericClient, Transaction};

use super::sql::{Params, Write};
use super::{column, database};
use crate::audit::AuditLine;
use crate::store::{AuditEntry, StoreError};

/// Held while numbering records.
const NUMBERING_LOCK: i64 = 0x5_1bce_0002;
/// Records numbered per transaction at most.
const NUMBER_AT_ONCE: i64 = 50_000;

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

/// Numbers the committed records that have no `seq` yet, after the highest one.
pub(super) async fn number_committed(
    client: &mut deadpool_postgres::Object,
) -> Result<(), StoreError> {
    let pending = client
        .query_opt("SELECT 1 FROM audit_records WHERE seq IS NULL LIMIT 1", &[])
        .await
        .map_err(database)?;
    if pending.is_none() {
        return Ok(());
    }
    let transaction = client.transaction().await.map_err(database)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&NUMBERING_LOCK])
        .await
        .map_err(database)?;
    transaction
        .execute(
            "WITH top AS (SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_records), \
                  next AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM audit_records \
                           WHERE seq IS NULL ORDER BY id LIMIT $1) \
             UPDATE audit_records a SET seq = top.seq + next.n FROM top, next \
             WHERE a.id = next.id",
            &[&NUMBER_AT_ONCE],
        )
        .await
        .map_err(database)?;
    transaction.commit().await.map_err(database)
}

pub(super) async fn after(
    db: &impl GenericClient,
    seq: i64,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let rows = db
        .query(
            "SELECT seq, line FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&seq, &(limit as i64)],
        )
        .await
        .map_err(database)?;
    rows.iter()
        .map(|row| {
            Ok(AuditEntry {
                seq: column(row, 0)?,
                line: column(row, 1)?,
            })
        })
        .collect()
}

pub(super) async fn cursor(db: &impl GenericClient, exporter: &str) -> Result<i64, StoreError> {
    let row = db
        .query_opt(
            "SELECT seq FROM audit_export WHERE exporter = $1",
            &[&exporter],
        )
        .await
        .map_err(database)?;
    row.map_or(Ok(0), |row| column(&row, 0))
}

pub(super) async fn advance_cursor(
    db: &impl GenericClient,
    exporter: &str,
    seq: i64,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO audit_export (exporter, seq) VALUES ($1, $2) ON CONFLICT (exporter) \
         DO UPDATE SET seq = GREATEST(audit_export.seq, EXCLUDED.seq)",
        &[&exporter, &seq],
    )
    .await
    .map_err(database)?;
    Ok(())
}
