//! The thread that keeps `audit.log` following the database: a round after commits that added
//! records (at most every [`MIN_INTERVAL`], so that one sync serves many commits), and every
//! second anyway (other processes, the CLI, add records too), and a last round at shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::AuditExport;
use crate::store::Store;

const MIN_INTERVAL: Duration = Duration::from_millis(50);
const POLL: Duration = Duration::from_secs(1);
/// A failing export (a full disk, say) is logged at most this often.
const REPORT_EVERY: Duration = Duration::from_secs(10);

pub struct Exporter {
    stopping: Arc<AtomicBool>,
    store: Arc<dyn Store>,
    thread: JoinHandle<()>,
}

impl Exporter {
    pub fn start(
        export: Arc<AuditExport>,
        store: Arc<dyn Store>,
        runtime: tokio::runtime::Handle,
    ) -> std::io::Result<Exporter> {
        let stopping = Arc::new(AtomicBool::new(false));
        let (thread_stopping, thread_store) = (stopping.clone(), store.clone());
        let thread = std::thread::Builder::new()
            .name("audit-export".into())
            .spawn(move || run(&export, thread_store.as_ref(), &runtime, &thread_stopping))?;
        Ok(Exporter {
            stopping,
            store,
            thread,
        })
    }

    /// Exports what is left and stops.
    pub async fn stop(self) {
        self.stopping.store(true, Ordering::Release);
        self.store.audit_appended().notify_one();
        let thread = self.thread;
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
    }
}

fn run(
    export: &AuditExport,
    store: &dyn Store,
    runtime: &tokio::runtime::Handle,
    stopping: &AtomicBool,
) {
    let appended = store.audit_appended();
    let mut last_report: Option<Instant> = None;
    loop {
        let stop = stopping.load(Ordering::Acquire);
        match export.export_round(store, runtime) {
            Ok(_) => {
                if last_report.take().is_some() {
                    tracing::info!(path = %export.path().display(), "the audit log export caught up");
                }
            }
            Err(error) => {
                if last_report.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
                    tracing::error!(%error, "cannot export the audit trail to its log; retrying");
                    last_report = Some(Instant::now());
                }
            }
        }
        if stop {
            return;
        }
        runtime.block_on(async {
            let _ = tokio::time::timeout(POLL, appended.notified()).await;
        });
        std::thread::sleep(MIN_INTERVAL);
    }
}
