//! The signals `serve` answers: SIGHUP reopens the audit log, SIGTERM and SIGINT stop it.

use std::sync::Arc;

/// SIGHUP reopens the audit log, so that logrotate (or an operator) can move it aside.
pub(super) fn reopen_audit_log_on_hangup(audit: Arc<crate::audit_export::AuditExport>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot handle SIGHUP: the audit log cannot be reopened");
        return;
    };
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            // Blocking: it opens the file and waits for the export's lock, which a round holds
            // across its flock and fsync.
            let reopening = audit.clone();
            let reopened = tokio::task::spawn_blocking(move || reopening.reopen()).await;
            match reopened {
                Ok(Ok(())) => {
                    tracing::info!(path = %audit.path().display(), "reopened the audit log")
                }
                Ok(Err(error)) => {
                    tracing::error!(%error, "cannot reopen the audit log; still writing the old one")
                }
                Err(error) => tracing::error!(%error, "the audit log's reopen did not finish"),
            }
        }
    });
}

pub(super) async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGKILL");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}
