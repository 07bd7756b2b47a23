//! The audit trail on PostgreSQL: numbered by counting what is final, in the order
//! transactions became so, without a second write.

use std::sync::Arc;

use slbcert::store::AuditEntry;
use slbcert::store::prelude::*;

use crate::database::{Database, audit_lines};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_audit_trail_is_numbered_without_gaps_while_many_write_and_export_at_once() {
    let Some(database) = Database::create("audit").await else {
        return;
    };
    let (first, second) = (
        Arc::new(database.open().await),
        Arc::new(database.open().await),
    );
    let mut writers = Vec::new();
    for (n, store) in [&first, &second, &first, &second].into_iter().enumerate() {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..50 {
                store
                    .record(format!("{{\"w\":{n},\"i\":{i}}}"))
                    .await
                    .unwrap();
            }
        }));
    }
    // Exports meanwhile, on both nodes: each sees a gapless prefix.
    let mut seen = Vec::new();
    while seen.len() < 200 {
        let store = if seen.len() % 2 == 0 { &first } else { &second };
        let after = seen.last().map_or(0, |entry: &AuditEntry| entry.seq);
        let entries = store.audit_records_after(after, 17).await.unwrap();
        for entry in entries {
            assert_eq!(entry.seq, seen.len() as i64 + 1, "a gap or a repeat");
            seen.push(entry);
        }
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let mut lines: Vec<&str> = seen.iter().map(|entry| entry.line.as_str()).collect();
    lines.sort_unstable();
    lines.dedup();
    assert_eq!(lines.len(), 200, "every record exactly once");
    drop((first, second));
    database.drop().await;
}

/// A connection of the test's own to the test database.
async fn connection(database: &Database) -> deadpool_postgres::Object {
    let pool = slbcert::store::postgres::connect(&database.url, 1).unwrap();
    slbcert::store::postgres::connection(&pool).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_waits_for_older_transactions_and_a_rolled_back_one_leaves_no_gap() {
    let Some(database) = Database::create("audit_order").await else {
        return;
    };
    let store = database.open().await;
    let mut client = connection(&database).await;
    let early = client.transaction().await.unwrap();
    early
        .execute(
            "INSERT INTO audit_records (line) VALUES ('{\"n\":\"early\"}')",
            &[],
        )
        .await
        .unwrap();
    store.record("{\"n\":\"late\"}".into()).await.unwrap();
    // `late` committed, but a transaction older than its own still runs: not final yet.
    assert!(store.audit_records_after(0, 10).await.unwrap().is_empty());
    early.commit().await.unwrap();
    let undone = client.transaction().await.unwrap();
    undone
        .execute(
            "INSERT INTO audit_records (line) VALUES ('{\"n\":\"undone\"}')",
            &[],
        )
        .await
        .unwrap();
    undone.rollback().await.unwrap();
    store.record("{\"n\":\"last\"}".into()).await.unwrap();
    let expected = ["{\"n\":\"early\"}", "{\"n\":\"late\"}", "{\"n\":\"last\"}"];
    assert_eq!(audit_lines(&store, 3).await, expected);
    let entries = store.audit_records_after(0, 10).await.unwrap();
    let seqs: Vec<i64> = entries.iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    // Another node numbers them alike, from any point.
    let second = database.open().await;
    let from_two = second.audit_records_after(2, 10).await.unwrap();
    assert_eq!(from_two, [entries[2].clone()]);
    drop((store, second, client));
    database.drop().await;
}

/// The migrations before the audit trail was ordered by transaction (0006), from the source.
const BEFORE_0006: &[&str] = &[
    include_str!("../../src/store/postgres/migrations/0001_init.sql"),
    include_str!("../../src/store/postgres/migrations/0002_ram.sql"),
    include_str!("../../src/store/postgres/migrations/0003_expiry_index.sql"),
    include_str!("../../src/store/postgres/migrations/0004_region_resources.sql"),
    include_str!("../../src/store/postgres/migrations/0005_certificates_without_account_key.sql"),
];

#[tokio::test(flavor = "multi_thread")]
async fn records_numbered_before_the_upgrade_keep_their_numbers_and_the_cursor_its_place() {
    let Some(database) = Database::create("audit_upgrade").await else {
        return;
    };
    let client = connection(&database).await;
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_ms BIGINT NOT NULL)",
        )
        .await
        .unwrap();
    for (index, migration) in BEFORE_0006.iter().enumerate() {
        client.batch_execute(migration).await.unwrap();
        client
            .execute(
                "INSERT INTO schema_migrations VALUES ($1, 0)",
                &[&(index as i64 + 1)],
            )
            .await
            .unwrap();
    }
    // Numbered out of `id` order (the old export numbered by commit), then one not numbered yet.
    client
        .batch_execute(
            "INSERT INTO audit_records (id, seq, line) VALUES \
                 (1, 2, '{\"n\":2}'), (2, 1, '{\"n\":1}'), (3, NULL, '{\"n\":3}'); \
             SELECT setval('audit_records_id_seq', 3); \
             INSERT INTO audit_export (exporter, seq) VALUES ('test:audit_upgrade_node', 1)",
        )
        .await
        .unwrap();
    let store = database.open().await; // migrates
    let all = store.audit_records_after(0, 10).await.unwrap();
    let lines: Vec<(i64, &str)> = all.iter().map(|e| (e.seq, e.line.as_str())).collect();
    assert_eq!(
        lines,
        [(1, "{\"n\":1}"), (2, "{\"n\":2}"), (3, "{\"n\":3}")]
    );
    store.record("{\"n\":4}".into()).await.unwrap();
    assert_eq!(audit_lines(&store, 4).await.len(), 4);
    let next = store.audit_records_after(3, 10).await.unwrap();
    assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), [4]);
    // A node whose cursor was at 1 goes on from its place, not from the start.
    let refusals = Arc::new(slbcert::audit::RefusalQueue::default());
    let node = slbcert::store::postgres::PostgresStore::open(
        &database.url,
        refusals,
        "test:audit_upgrade_node".into(),
    )
    .await
    .unwrap();
    assert_eq!(node.audit_export_cursor().await.unwrap(), 1);
    let after_cursor = node.audit_records_after(1, 10).await.unwrap();
    assert_eq!(
        after_cursor,
        all[1..].iter().cloned().chain(next).collect::<Vec<_>>()
    );
    drop((store, node, client));
    database.drop().await;
}
