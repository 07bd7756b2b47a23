//! Each account's RAM document, replaced whole under its generation, with its users' keys.
//! Every change is announced, so that other nodes' policy caches read it again.

use async_trait::async_trait;
use deadpool_postgres::GenericClient;

use super::accounts::insert_key;
use super::{PostgresStore, announce, column, database};
use crate::audit::AuditLine;
use crate::store::StoreError;
use crate::store::ram::{RamChange, RamDocument, RamStore};

async fn read(
    db: &impl GenericClient,
    account_id: &str,
    lock: bool,
) -> Result<RamDocument, StoreError> {
    let sql = if lock {
        "SELECT generation, document FROM ram_documents WHERE account_id = $1 FOR UPDATE"
    } else {
        "SELECT generation, document FROM ram_documents WHERE account_id = $1"
    };
    let statement = db.prepare_cached(sql).await.map_err(database)?;
    let row = db
        .query_opt(&statement, &[&account_id])
        .await
        .map_err(database)?;
    Ok(match row {
        Some(row) => RamDocument {
            generation: column(&row, 0)?,
            text: Some(column(&row, 1)?),
        },
        None => RamDocument {
            generation: 0,
            text: None,
        },
    })
}

#[async_trait]
impl RamStore for PostgresStore {
    async fn ram_document(&self, account_id: &str) -> Result<RamDocument, StoreError> {
        read(&self.client().await?, account_id, false).await
    }

    async fn replace_ram_document(
        &self,
        change: RamChange,
        audit: AuditLine,
    ) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let transaction = client.transaction().await.map_err(database)?;
        if read(&transaction, &change.account_id, true)
            .await?
            .generation
            != change.generation
        {
            return Err(StoreError::Stale);
        }
        // A first document races on the primary key instead: the loser fails as stale.
        let written = transaction
            .execute(
                "INSERT INTO ram_documents (account_id, generation, document) VALUES ($1, $2, $3) \
                 ON CONFLICT (account_id) DO UPDATE SET generation = excluded.generation, \
                 document = excluded.document WHERE ram_documents.generation = $4",
                &[
                    &change.account_id,
                    &(change.generation + 1),
                    &change.text,
                    &change.generation,
                ],
            )
            .await
            .map_err(database)?;
        if written != 1 {
            return Err(StoreError::Stale);
        }
        for key in &change.added_keys {
            insert_key(&transaction, key).await?;
        }
        for id in &change.removed_keys {
            transaction
                .execute(
                    "DELETE FROM access_keys WHERE access_key_id = $1 AND account_id = $2",
                    &[id, &change.account_id],
                )
                .await
                .map_err(database)?;
        }
        announce(&transaction, "ram").await?;
        self.commit(transaction, &audit).await?;
        self.feed.ram_changed();
        Ok(())
    }

    fn ram_epoch(&self) -> u64 {
        self.feed.ram_epoch()
    }
}
