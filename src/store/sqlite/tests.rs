//! The SQLite store's own machinery: how many reads run at once.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_at_once_are_bounded_by_the_permits_and_all_complete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path(), Arc::default()).unwrap());
    let bound = store.readers.permits.available_permits();
    let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut reads = Vec::new();
    for _ in 0..(bound * 4) {
        let (store, running, most) = (store.clone(), running.clone(), most.clone());
        reads.push(tokio::spawn(async move {
            store
                .read(move |_| {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Held until the bound's worth run at once (or a second passes): without
                    // a bound, more would have started meanwhile.
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
                    while running.load(Ordering::SeqCst) < bound
                        && std::time::Instant::now() < deadline
                    {
                        std::thread::yield_now();
                    }
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(())
                })
                .await
        }));
    }
    for read in reads {
        read.await.unwrap().unwrap();
    }
    let most = most.load(Ordering::SeqCst);
    assert!(most <= bound, "{most} reads at once, bound {bound}");
    assert!(most > 1, "reads ran one at a time");
}
