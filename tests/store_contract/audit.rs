//! The audit trail: a write's record commits with it and a failed write leaves none; refusals
//! ride with the next write; the export cursor survives reopening.

use std::sync::Arc;

use slbcert::audit::RefusalQueue;
use slbcert::store::StoreError;

use crate::Engine;
use crate::fixtures::*;

/// The audit record of each mutation commits with it, numbered in commit order; failed writes
/// leave none.
pub async fn successful_writes_are_audited_in_their_transaction_failed_ones_are_not(
    engine: &Engine,
) {
    let store = seeded(engine).await;
    // The accounts' two records, final.
    audit_after(store.as_ref(), 0, 2).await;
    let before = last_seq(store.as_ref()).await;
    let row = certificate("c1", SERVER, mine(), vec![]);
    store
        .insert_certificate(
            row.clone(),
            material("k"),
            None,
            "{\"a\":\"uploaded\"}".into(),
        )
        .await
        .unwrap();
    let again = store
        .insert_certificate(row, material("k"), None, "{\"a\":\"duplicate\"}".into())
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    let missing = store
        .delete_certificate(&mine(), SERVER, "nope", "{\"a\":\"nothing\"}".into())
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
    let over = store
        .insert_certificate(
            certificate("c2", SERVER, mine(), vec![]),
            material("k"),
            Some(1),
            "{\"a\":\"over quota\"}".into(),
        )
        .await;
    assert!(matches!(over, Err(StoreError::OverQuota { .. })));
    store.record("{\"a\":\"revealed\"}".into()).await.unwrap();
    let records = audit_after(store.as_ref(), before, 2).await;
    let lines: Vec<&str> = records.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(lines, ["{\"a\":\"uploaded\"}", "{\"a\":\"revealed\"}"]);
    assert_eq!(records[1].seq, records[0].seq + 1, "numbered without gaps");
    drop(store);
    let store = engine.open().await;
    let reopened = audit_after(store.as_ref(), before, 2).await;
    assert_eq!(
        reopened, records,
        "durable, and numbered alike when read again"
    );
}

/// Refused requests queued for the store are stored with the next write, ahead of its record,
/// without a commit of their own per refusal.
pub async fn queued_refusals_are_stored_with_the_next_write(engine: &Engine) {
    let refusals = Arc::new(RefusalQueue::default());
    let store = engine.open_with(refusals.clone()).await;
    let source = "192.0.2.7".parse().unwrap();
    for n in 0..3 {
        refusals.admit(format!("{{\"refused\":{n}}}"), source);
    }
    store.record("{\"a\":\"write\"}".into()).await.unwrap();
    let lines: Vec<String> = audit_after(store.as_ref(), 0, 4)
        .await
        .into_iter()
        .map(|r| r.line)
        .collect();
    let expected = [
        "{\"refused\":0}",
        "{\"refused\":1}",
        "{\"refused\":2}",
        "{\"a\":\"write\"}",
    ];
    assert_eq!(lines, expected);
    // With no write to ride on, a refusal is stored on its own within the flush interval.
    refusals.admit("{\"refused\":3}".into(), source);
    let all = audit_after(store.as_ref(), 0, 5).await;
    assert_eq!(all[4].line, "{\"refused\":3}");
}

/// The export cursor moves to the last record the export read, is stored without a write of
/// the export's own (with the next batch, or by a background task), and survives reopening.
pub async fn the_export_cursor_is_durable(engine: &Engine) {
    let store = seeded(engine).await;
    let records = audit_after(store.as_ref(), 0, 2).await;
    assert_eq!(store.audit_export_cursor().await.unwrap(), 0);
    let last = records.last().unwrap().seq;
    store.advance_audit_export_cursor(last);
    store.record("{}".into()).await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while store.audit_export_cursor().await.unwrap() != last {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cursor is not stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(store);
    let store = engine.open().await;
    assert_eq!(store.audit_export_cursor().await.unwrap(), last);
}
