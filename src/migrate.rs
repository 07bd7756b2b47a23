//! `slbcert migrate --from DATA_DIR --to postgres://…`: copies a SQLite store into PostgreSQL
//! row by row, table by table, in batches. Each batch commits with the position it reached
//! (`copied_from_sqlite`), so an interrupted copy resumes where it stopped. Values are copied
//! as stored: sealed keys stay sealed (under the same master key), IDs and the audit trail's
//! numbers stay what they were.

use std::path::Path;

use deadpool_postgres::GenericClient;
use indicatif::{ProgressBar, ProgressStyle};
use rusqlite::types::Value;
use tokio_postgres::types::{ToSql, Type};

use crate::store::StoreError;

/// A table and its columns, in the target's order, as the source names them.
struct Table {
    name: &'static str,
    target: &'static str,
    columns: &'static str,
    source_columns: &'static str,
}

const fn same(name: &'static str, columns: &'static str) -> Table {
    Table {
        name,
        target: name,
        columns,
        source_columns: columns,
    }
}

/// In an order that satisfies the foreign keys.
const TABLES: &[Table] = &[
    same("key_encryption_keys", "version, wrapped, created_ms"),
    same(
        "accounts",
        "account_id, name, default_resource_group_id, created_ms",
    ),
    same(
        "access_keys",
        "access_key_id, account_id, sealed_secret, kek_version, created_ms, user_id",
    ),
    same("ram_documents", "account_id, generation, document"),
    same(
        "certificates",
        "seq, id, kind, account_id, region_id, name, resource_group_id, fingerprint, \
         common_name, subject_alternative_names, expire_ms, created_ms, ali_cloud_certificate_id, \
         ali_cloud_certificate_name, ali_cloud_region_id, certificate_pem, encryption_algorithm, \
         encryption_key_length",
    ),
    same("certificate_tags", "certificate_id, tag_key, tag_value"),
    same(
        "certificate_keys",
        "certificate_id, sealed_key, kek_version",
    ),
    same(
        "user_certificates",
        "seq, cert_id, account_id, name, resource_group_id, fingerprint, common_name, \
         subject_alternative_names, issuer, serial_number, algorithm, not_before_ms, \
         not_after_ms, created_ms, certificate_pem, sealed_key, kek_version, tags, client_token",
    ),
    same(
        "certificate_orders",
        "order_id, account_id, status, domain, challenge_token, created_ms, next_attempt_ms, \
         not_after_ms, lease_holder, lease_until_ms, document, sealed_key, kek_version",
    ),
    same(
        "acme_accounts",
        "account_id, directory_url, sealed_credentials, kek_version, created_ms",
    ),
    same(
        "load_balancers",
        "seq, id, account_id, region_id, address_number, client_token, revision, document",
    ),
    same("load_balancer_children", "child_id, load_balancer_id"),
    same("certificate_references", "certificate_id, load_balancer_id"),
    same(
        "region_resources",
        "seq, kind, id, account_id, region_id, name, revision, document",
    ),
    same(
        "region_resource_references",
        "resource_id, load_balancer_id",
    ),
    Table {
        name: "audit_records",
        target: "audit_records",
        // Final and in SQLite's order: ahead of every record PostgreSQL's transactions write.
        columns: "id, xid, line",
        source_columns: "seq, 0, line",
    },
];

/// Serial columns whose sequences must move past the copied values.
const SERIALS: &[(&str, &str)] = &[
    ("certificates", "seq"),
    ("user_certificates", "seq"),
    ("load_balancers", "seq"),
    ("region_resources", "seq"),
    ("audit_records", "id"),
];

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("source {path}: {detail}")]
    Source { path: String, detail: String },
    #[error("target: {0}")]
    Target(#[from] StoreError),
    #[error(
        "the target database already holds state that is not from this copy ({0}); migrate \
         into an empty database"
    )]
    TargetNotEmpty(String),
}

pub struct Copied {
    pub copied: u64,
    pub skipped: u64,
}

pub async fn sqlite_to_postgres(
    data_dir: &Path,
    url: &str,
    batch_size: usize,
) -> Result<Copied, MigrateError> {
    let path = data_dir.join(crate::store::sqlite::DATABASE_FILE);
    let source_error = |detail: String| MigrateError::Source {
        path: path.display().to_string(),
        detail,
    };
    if !path.exists() {
        return Err(source_error("there is no slbcert.db here".into()));
    }
    // Brings an older data directory to the current schema first (a write, as any command).
    crate::store::sqlite::upgrade(&path)?;
    let source = rusqlite::Connection::open_with_flags(
        &path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|error| source_error(error.to_string()))?;
    crate::store::postgres::migrate(url).await?;
    let pool = crate::store::postgres::connect(url, 1)?;
    let mut target = crate::store::postgres::connection(&pool).await?;
    refuse_foreign_state(&target).await?;

    let mut totals = Vec::new();
    for table in TABLES {
        let count: i64 = source
            .query_row(&format!("SELECT COUNT(*) FROM {}", table.name), [], |row| {
                row.get(0)
            })
            .map_err(|error| source_error(error.to_string()))?;
        totals.push(count as u64);
    }
    let bar = ProgressBar::new(totals.iter().sum());
    bar.set_style(
        ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} rows ({eta} left)")
            .expect("the template parses")
            .progress_chars("=> "),
    );
    let mut result = Copied {
        copied: 0,
        skipped: 0,
    };
    for table in TABLES {
        bar.set_message(table.name);
        let (copied, skipped) = copy_table(&source, &mut target, table, batch_size, &bar)
            .await
            .map_err(|error| match error {
                Failure::Source(detail) => source_error(detail),
                Failure::Target(error) => MigrateError::Target(error),
            })?;
        result.copied += copied;
        result.skipped += skipped;
    }
    bar.finish_with_message("copied");
    finish(&source, &target)
        .await
        .map_err(|error| match error {
            Failure::Source(detail) => source_error(detail),
            Failure::Target(error) => MigrateError::Target(error),
        })?;
    Ok(result)
}

enum Failure {
    Source(String),
    Target(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Failure {
        Failure::Source(error.to_string())
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Failure {
        Failure::Target(crate::store::postgres::database_error(error))
    }
}

/// A database that has accounts or keys but no record of a copy was used by a node already:
/// its KEK version 1 is not the source's, and the two cannot be merged.
async fn refuse_foreign_state(target: &impl GenericClient) -> Result<(), MigrateError> {
    let row = target
        .query_one(
            "SELECT (SELECT COUNT(*) FROM copied_from_sqlite), \
                    (SELECT COUNT(*) FROM key_encryption_keys), \
                    (SELECT COUNT(*) FROM accounts)",
            &[],
        )
        .await
        .map_err(crate::store::postgres::database_error)?;
    let (progress, keys, accounts): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    if progress == 0 && (keys > 0 || accounts > 0) {
        return Err(MigrateError::TargetNotEmpty(format!(
            "{keys} key-encryption keys, {accounts} accounts"
        )));
    }
    Ok(())
}

/// Copies the rows of `table` after the last one copied; (copied, already there).
async fn copy_table(
    source: &rusqlite::Connection,
    target: &mut deadpool_postgres::Object,
    table: &Table,
    batch_size: usize,
    bar: &ProgressBar,
) -> Result<(u64, u64), Failure> {
    let done = target
        .query_opt(
            "SELECT last_key, rows FROM copied_from_sqlite WHERE table_name = $1",
            &[&table.name],
        )
        .await?;
    let (mut last, mut rows): (i64, i64) = match done {
        Some(row) => (row.get::<_, String>(0).parse().unwrap_or(0), row.get(1)),
        None => (0, 0),
    };
    bar.inc(rows as u64);
    let skipped = rows as u64;
    let width = table.columns.split(',').count();
    let placeholders: Vec<String> = (1..=width).map(|n| format!("${n}")).collect();
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT DO NOTHING",
        table.target,
        table.columns,
        placeholders.join(", ")
    );
    let select = format!(
        "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        table.source_columns, table.name
    );
    let mut copied = 0;
    loop {
        let batch: Vec<(i64, Vec<Value>)> = {
            let mut statement = source.prepare_cached(&select)?;
            let mapped =
                statement.query_map(rusqlite::params![last, batch_size as i64], |row| {
                    let values = (1..=width)
                        .map(|index| row.get::<_, Value>(index))
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    Ok((row.get::<_, i64>(0)?, values))
                })?;
            mapped.collect::<rusqlite::Result<_>>()?
        };
        let Some((newest, _)) = batch.last() else {
            break;
        };
        let newest = *newest;
        let transaction = target.transaction().await?;
        let statement = transaction.prepare_cached(&insert).await?;
        for (_, values) in &batch {
            let params = typed(values, statement.params()).map_err(Failure::Source)?;
            let refs: Vec<&(dyn ToSql + Sync)> = params
                .iter()
                .map(|value| value.as_ref() as &(dyn ToSql + Sync))
                .collect();
            transaction.execute(&statement, &refs).await?;
        }
        rows += batch.len() as i64;
        transaction
            .execute(
                "INSERT INTO copied_from_sqlite (table_name, last_key, rows) VALUES ($1, $2, $3) \
                 ON CONFLICT (table_name) DO UPDATE SET last_key = EXCLUDED.last_key, \
                 rows = EXCLUDED.rows",
                &[&table.name, &newest.to_string(), &rows],
            )
            .await?;
        transaction.commit().await?;
        copied += batch.len() as u64;
        bar.inc(batch.len() as u64);
        last = newest;
    }
    Ok((copied, skipped))
}

/// SQLite's loosely typed values as the target columns' types.
fn typed(values: &[Value], types: &[Type]) -> Result<Vec<Box<dyn ToSql + Sync + Send>>, String> {
    values
        .iter()
        .zip(types)
        .map(
            |(value, kind)| -> Result<Box<dyn ToSql + Sync + Send>, String> {
                Ok(match (value, kind) {
                    (Value::Null, &Type::INT8) => Box::new(None::<i64>),
                    (Value::Null, &Type::BYTEA) => Box::new(None::<Vec<u8>>),
                    (Value::Null, _) => Box::new(None::<String>),
                    (Value::Integer(number), &Type::INT8) => Box::new(*number),
                    (Value::Integer(number), &Type::TEXT) => Box::new(number.to_string()),
                    (Value::Text(text), &Type::TEXT) => Box::new(text.clone()),
                    (Value::Blob(bytes), &Type::BYTEA) => Box::new(bytes.clone()),
                    (other, kind) => {
                        return Err(format!(
                            "a {:?} value for a {kind} column",
                            other.data_type()
                        ));
                    }
                })
            },
        )
        .collect()
}

/// Once every table is copied: the live nonces, the load balancers' generation, and the
/// sequences moved past the copied numbers.
async fn finish(source: &rusqlite::Connection, target: &impl GenericClient) -> Result<(), Failure> {
    let now = crate::clock::unix_ms(crate::clock::now());
    let nonces: Vec<(String, String, i64)> = source
        .prepare("SELECT access_key_id, nonce, expires_ms FROM nonce_log WHERE expires_ms > ?1")?
        .query_map([now], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (access_key_id, nonce, expires_ms) in nonces {
        target
            .execute(
                "INSERT INTO used_nonces (access_key_id, nonce, expires_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[&access_key_id, &nonce, &expires_ms],
            )
            .await?;
    }
    let generation: i64 = source.query_row(
        "SELECT value FROM load_balancer_generation WHERE id = 1",
        [],
        |row| row.get(0),
    )?;
    target
        .execute(
            "UPDATE load_balancer_generation SET value = GREATEST(value, $1) WHERE id = 1",
            &[&generation],
        )
        .await?;
    for (table, column) in SERIALS {
        target
            .execute(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                     GREATEST((SELECT MAX({column}) FROM {table}), 1))"
                ),
                &[],
            )
            .await?;
    }
    Ok(())
}
