//! Each account's RAM document, replaced whole under its generation, with its users' keys.

use std::sync::atomic::Ordering;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::accounts::insert_user_key;
use super::connection::Cached;
use crate::audit::AuditLine;
use crate::store::StoreError;
use crate::store::ram::{RamChange, RamDocument, RamStore};

fn read(db: &Connection, account_id: &str) -> Result<RamDocument, StoreError> {
    let row: Option<(i64, String)> = db
        .query_row_cached(
            "SELECT generation, document FROM ram_documents WHERE account_id = ?1",
            params![account_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((generation, text)) => RamDocument {
            generation,
            text: Some(text),
        },
        None => RamDocument {
            generation: 0,
            text: None,
        },
    })
}

fn replace(db: &Connection, change: &RamChange) -> Result<(), StoreError> {
    if read(db, &change.account_id)?.generation != change.generation {
        return Err(StoreError::Stale);
    }
    db.execute_cached(
        "INSERT INTO ram_documents (account_id, generation, document) VALUES (?1, ?2, ?3) \
         ON CONFLICT (account_id) DO UPDATE SET generation = excluded.generation, \
         document = excluded.document",
        params![change.account_id, change.generation + 1, change.text],
    )?;
    for key in &change.added_keys {
        insert_user_key(db, key)?;
    }
    for id in &change.removed_keys {
        db.execute_cached(
            "DELETE FROM access_keys WHERE access_key_id = ?1 AND account_id = ?2",
            params![id, change.account_id],
        )?;
    }
    Ok(())
}

#[async_trait]
impl RamStore for SqliteStore {
    async fn ram_document(&self, account_id: &str) -> Result<RamDocument, StoreError> {
        let account_id = account_id.to_owned();
        self.read(move |db| read(db, &account_id)).await
    }

    async fn replace_ram_document(
        &self,
        change: RamChange,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        self.write(audit, move |db| replace(db, &change)).await?;
        self.ram_epoch.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    fn ram_epoch(&self) -> u64 {
        self.ram_epoch.load(Ordering::Acquire)
    }
}
