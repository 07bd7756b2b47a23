//! A fresh database per test on the server SLBCERT_TEST_DATABASE_URL names.

use std::sync::Arc;

use slbcert::audit::RefusalQueue;
use slbcert::store::postgres::PostgresStore;
use slbcert::store::prelude::*;

pub struct Database {
    pub admin: deadpool_postgres::Object,
    pub name: String,
    pub url: String,
}

impl Database {
    /// A fresh database, or None (and a note) without SLBCERT_TEST_DATABASE_URL.
    pub async fn create(test: &str) -> Option<Database> {
        let Ok(base) = std::env::var("SLBCERT_TEST_DATABASE_URL") else {
            // Under .ci/run (SLBCERT_STRICT) a missing URL is a broken run, not a skip.
            assert!(
                std::env::var_os("SLBCERT_STRICT").is_none(),
                "{test}: SLBCERT_TEST_DATABASE_URL is not set under SLBCERT_STRICT"
            );
            eprintln!("SKIPPED {test}: SLBCERT_TEST_DATABASE_URL is not set");
            return None;
        };
        // Through the store's own connector: the URL may ask for TLS (scripts/test does).
        let pool = slbcert::store::postgres::connect(&base, 1).expect("the URL parses");
        let admin = slbcert::store::postgres::connection(&pool)
            .await
            .expect("the test database server answers");
        // PostgreSQL cuts names at 63 bytes: a hash keeps long test names apart.
        let hash = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            test.hash(&mut hasher);
            hasher.finish() as u32
        };
        let short: String = test.chars().take(30).collect();
        let name = format!("slbcert_rs_{}_{hash:08x}_{short}", std::process::id());
        // One statement each: a multi-statement string runs as one transaction block.
        for statement in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin.batch_execute(&statement).await.expect(&statement);
        }
        // The same URL with another database: its query (sslmode, sslrootcert) stays.
        let (address, query) = base.split_once('?').unwrap_or((&base, ""));
        let (prefix, _) = address.rsplit_once('/').expect("a URL with a database");
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        Some(Database {
            admin,
            url: format!("{prefix}/{name}{query}"),
            name,
        })
    }

    pub async fn open(&self) -> PostgresStore {
        let refusals = Arc::new(RefusalQueue::default());
        PostgresStore::open(&self.url, refusals, format!("test:{}", self.name))
            .await
            .expect("open the store")
    }

    /// A count the test database answers to `query` with `value` as $1.
    pub async fn admin_query(&self, query: &str, value: &str) -> i64 {
        let pool = slbcert::store::postgres::connect(&self.url, 1).unwrap();
        let client = slbcert::store::postgres::connection(&pool).await.unwrap();
        client.query_one(query, &[&value]).await.unwrap().get(0)
    }

    pub async fn drop(self) {
        let _ = self
            .admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

/// Every audit line the store holds, once at least `count` are final: a record is read only
/// once every older transaction in the cluster has ended, and other tests run at once.
pub async fn audit_lines(store: &PostgresStore, count: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut lines = Vec::new();
    loop {
        let entries = store
            .audit_records_after(lines.len() as i64, 100)
            .await
            .unwrap();
        if entries.is_empty() && lines.len() >= count {
            return lines;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} audit lines expected, {} final: {lines:?}",
            lines.len()
        );
        if entries.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        lines.extend(entries.into_iter().map(|entry| entry.line));
    }
}
