//! The health-check loop of one listener: every interval, each backend of the listener and of
//! its forwarding rules' pools is checked as its pool says, and the verdicts recorded.

use std::sync::Arc;

use tokio::sync::watch;

use super::health::HealthTable;
use super::runtime::ListenerRuntime;

/// Checks the listener's backends every interval, with the configuration of the moment.
pub(super) async fn run(
    runtime: watch::Receiver<Arc<ListenerRuntime>>,
    mut stopped: watch::Receiver<bool>,
    health: Arc<HealthTable>,
) {
    loop {
        let current = runtime.borrow().clone();
        // The listener's backends, and those of its forwarding rules' pools (a rule may check
        // its own way, or not at all).
        let pools = std::iter::once(&*current).chain(current.routes.iter().map(|r| &*r.pool));
        let mut targets = Vec::new();
        for pool in pools.filter(|pool| pool.health.enabled) {
            for backend in &pool.backends {
                targets.push((backend.health.clone(), backend.address, pool.health.clone()));
            }
        }
        let checks = targets.into_iter().map(|(key, address, spec)| async move {
            let ok = super::health::check(address, &spec).await;
            (key, ok, spec)
        });
        for (key, ok, spec) in futures_join_all(checks).await {
            health.record(&key, ok, spec.healthy_threshold, spec.unhealthy_threshold);
        }
        tokio::select! {
            _ = tokio::time::sleep(current.health.interval) => {}
            _ = stopped.changed() => return,
        }
    }
}

/// Runs the checks of one round at once.
async fn futures_join_all<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        if let Ok(result) = handle.await {
            results.push(result);
        }
    }
    results
}
