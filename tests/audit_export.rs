//! `audit.log` as an export of the audit records the store holds: in order, each record once,
//! whole lines only, across crashes (the file ahead of the durable cursor) and rotation.

use std::path::Path;
use std::sync::Arc;

use slbcert::audit_export::AuditExport;
use slbcert::store::prelude::*;

mod common;

async fn export(audit: &Arc<AuditExport>, store: &Arc<dyn Store>) -> u64 {
    let (audit, store) = (audit.clone(), store.clone());
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || audit.export_round(store.as_ref(), &runtime))
        .await
        .unwrap()
        .unwrap()
}

fn seqs(path: &Path) -> Vec<i64> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.is_empty() || text.ends_with('\n'), "torn: {text:?}");
    text.lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["seq"].as_i64().unwrap()
        })
        .collect()
}

async fn record(store: &Arc<dyn Store>, n: usize) {
    for i in 0..n {
        store.record(format!("{{\"n\":{i}}}")).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_record_is_exported_once_in_order_across_crashes_and_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let store: Arc<dyn Store> = Arc::new(common::open_store(dir.path()));
    let audit = Arc::new(AuditExport::open(&path).unwrap());
    record(&store, 3).await;
    assert_eq!(export(&audit, &store).await, 3);
    assert_eq!(export(&audit, &store).await, 0);
    assert_eq!(seqs(&path), [1, 2, 3]);
    let line = std::fs::read_to_string(&path).unwrap();
    assert!(line.starts_with("{\"seq\":1,\"n\":0}\n"), "{line}");

    // A crash after the lines were synced but before the cursor was: the file knows better.
    drop(store);
    let store: Arc<dyn Store> = Arc::new(common::open_store(dir.path()));
    assert_eq!(store.audit_export_cursor().await.unwrap(), 0);
    record(&store, 2).await;
    assert_eq!(export(&audit, &store).await, 2);
    assert_eq!(seqs(&path), [1, 2, 3, 4, 5]);

    // A crash in the middle of a line: the torn tail is cut at open and written again whole.
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(b"{\"seq\":6,\"n\":").unwrap();
    }
    record(&store, 1).await;
    let audit = Arc::new(AuditExport::open(&path).unwrap());
    assert_eq!(export(&audit, &store).await, 1);
    assert_eq!(seqs(&path), [1, 2, 3, 4, 5, 6]);

    // Rotation: the new file starts where the durable cursor is.
    store.record("{}".into()).await.unwrap(); // commits the cursor with its batch
    assert_eq!(store.audit_export_cursor().await.unwrap(), 6);
    std::fs::rename(&path, dir.path().join("audit.log.1")).unwrap();
    audit.reopen().unwrap();
    assert_eq!(export(&audit, &store).await, 1);
    assert_eq!(seqs(&path), [7]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_delays_the_export_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(common::open_store(dir.path()));
    let full = Arc::new(AuditExport::open(Path::new("/dev/full")).unwrap());
    record(&store, 2).await;
    let (audit, runtime) = (full.clone(), tokio::runtime::Handle::current());
    let writes = store.clone();
    let failed = tokio::task::spawn_blocking(move || audit.export_round(writes.as_ref(), &runtime))
        .await
        .unwrap();
    assert!(failed.is_err());
    assert_eq!(store.audit_export_cursor().await.unwrap(), 0);
    let path = dir.path().join("audit.log");
    let audit = Arc::new(AuditExport::open(&path).unwrap());
    assert_eq!(export(&audit, &store).await, 2);
    assert_eq!(seqs(&path), [1, 2]);
}
