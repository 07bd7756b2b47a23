//! The audit trail's tables: the records (inserted by the writer in the transaction of the change
//! each records) and how far `audit.log` holds them (the export cursor).

use std::sync::Mutex;
use std::time::Instant;

use rusqlite::{Connection, params};

use crate::audit::{AuditLine, REFUSALS_FLUSH_AFTER};
use crate::store::{AuditEntry, StoreError};

pub(super) fn insert(db: &Connection, line: &AuditLine) -> Result<(), StoreError> {
    db.prepare_cached("INSERT INTO audit_records (line) VALUES (?1)")?
        .execute([line])?;
    Ok(())
}

pub(super) fn after(
    db: &Connection,
    seq: i64,
    limit: usize,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut statement = db.prepare_cached(
        "SELECT seq, line FROM audit_records WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = statement.query_map(params![seq, limit as i64], |row| {
        Ok(AuditEntry {
            seq: row.get(0)?,
            line: row.get(1)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn cursor(db: &Connection) -> Result<i64, StoreError> {
    Ok(db
        .prepare_cached("SELECT seq FROM audit_export WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

/// The export cursor, moved on by the exporter and written with the writer's next batch.
#[derive(Default)]
pub(super) struct PendingCursor {
    state: Mutex<CursorState>,
}

#[derive(Default)]
struct CursorState {
    wanted: i64,
    written: i64,
    since: Option<Instant>,
}

impl PendingCursor {
    pub fn advance(&self, seq: i64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if seq > state.wanted {
            state.wanted = seq;
            state.since.get_or_insert_with(Instant::now);
        }
    }

    pub fn overdue(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .since
            .is_some_and(|since| since.elapsed() >= REFUSALS_FLUSH_AFTER)
    }

    /// Writes the cursor in the writer's open transaction if it moved; returns the value to
    /// report to [`PendingCursor::committed`] once the transaction commits.
    pub fn write(&self, db: &Connection) -> Result<Option<i64>, StoreError> {
        let wanted = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            (state.wanted > state.written).then_some(state.wanted)
        };
        if let Some(seq) = wanted {
            db.prepare_cached("UPDATE audit_export SET seq = ?1 WHERE id = 1 AND seq < ?1")?
                .execute([seq])?;
        }
        Ok(wanted)
    }

    pub fn committed(&self, seq: i64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.written = state.written.max(seq);
        if state.written >= state.wanted {
            state.since = None;
        }
    }
}
