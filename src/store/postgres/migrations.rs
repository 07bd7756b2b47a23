//! The schema, applied at start-up in one transaction under an advisory lock: nodes that start
//! together take turns, and the second finds the work done.

use deadpool_postgres::GenericClient;

use super::database;
use crate::store::StoreError;

/// In order; a migration is never edited once released, only followed by another.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_ram.sql"),
    include_str!("migrations/0003_expiry_index.sql"),
    include_str!("migrations/0004_region_resources.sql"),
    include_str!("migrations/0005_certificates_without_account_key.sql"),
    include_str!("migrations/0006_audit_by_transaction.sql"),
    include_str!("migrations/0007_certificate_orders.sql"),
];

/// Held while migrating; any number will do that no other user of the database takes.
const MIGRATION_LOCK: i64 = 0x5_1bce_0001;

pub(super) async fn apply(client: &mut deadpool_postgres::Object) -> Result<(), StoreError> {
    let transaction = client.transaction().await.map_err(database)?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(database)?;
    transaction
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
        )
        .await
        .map_err(database)?;
    let applied = transaction
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .await
        .map_err(database)?;
    let applied: i64 = super::column(&applied, 0)?;
    if applied as usize > MIGRATIONS.len() {
        return Err(StoreError::Database(format!(
            "the database is at schema version {applied}, newer than this slbcert knows ({}): \
             upgrade slbcert",
            MIGRATIONS.len()
        )));
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        transaction
            .batch_execute(migration)
            .await
            .map_err(database)?;
        let version = index as i64 + 1;
        let now = crate::clock::unix_ms(crate::clock::now());
        transaction
            .execute(
                "INSERT INTO schema_migrations (version, applied_ms) VALUES ($1, $2)",
                &[&version, &now],
            )
            .await
            .map_err(database)?;
    }
    transaction.commit().await.map_err(database)
}

/// Applies the migrations to the database at `url` (what `serve` does at start-up).
pub async fn migrate(url: &str) -> Result<(), StoreError> {
    let pool = super::connect(url, 1)?;
    let mut client = super::connection(&pool).await?;
    apply(&mut client).await
}
