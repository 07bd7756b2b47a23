//! Threads that serve listeners' connections, one per core, each with a single-threaded
//! runtime and its own pool of backend connections: a connection, its TLS, its requests and
//! the backend connections they use all run on one thread, so that handing a request to its
//! backend connection and the answer back wakes no other thread (nginx's and HAProxy's model;
//! on tokio's shared runtime, those hand-offs cost more than the proxying itself).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::runtime::Handle;

use super::proxy::Shared;

pub struct Workers {
    workers: Vec<(Handle, Arc<Shared>)>,
    next: AtomicUsize,
}

impl Workers {
    /// `count` threads, each with the `Shared` that `make` gives it (its own backend client).
    /// A thread that cannot be started is replaced by the caller's runtime, with a warning.
    pub fn start(count: usize, make: impl Fn() -> Shared) -> Workers {
        let workers = (0..count.max(1))
            .map(|index| {
                let handle = thread(index).unwrap_or_else(|error| {
                    tracing::warn!(%error, "data plane: no thread of its own; sharing the runtime");
                    Handle::current()
                });
                (handle, Arc::new(make()))
            })
            .collect();
        Workers {
            workers,
            next: AtomicUsize::new(0),
        }
    }

    /// The next worker, in turn: where a new connection is served.
    pub fn next(&self) -> &(Handle, Arc<Shared>) {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        &self.workers[turn % self.workers.len()]
    }

    /// Any worker's shared state (the health table, traffic and connections are the same in
    /// every one).
    pub fn any(&self) -> &Arc<Shared> {
        &self.workers[0].1
    }
}

/// A thread running a single-threaded runtime until the process ends; its handle.
fn thread(index: usize) -> std::io::Result<Handle> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let handle = runtime.handle().clone();
    std::thread::Builder::new()
        .name(format!("dataplane-{index}"))
        .spawn(move || runtime.block_on(std::future::pending::<()>()))?;
    Ok(handle)
}
