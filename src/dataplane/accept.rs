//! Accepting a listener's connections and serving each on a worker thread: TLS for HTTPS,
//! then the proxy, until the connection ends or, once the listener stops, its grace runs out.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsAcceptor;

use super::proxy;
use super::runtime::ListenerRuntime;
use super::workers::Workers;
use crate::store::load_balancers::Protocol;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

pub(super) async fn accept_loop(
    socket: TcpListener,
    runtime: watch::Receiver<Arc<ListenerRuntime>>,
    stop: proxy::Stop,
    workers: Arc<Workers>,
    slots: Arc<Semaphore>,
) {
    let mut stopped = stop.stopped.clone();
    loop {
        let permit = tokio::select! {
            _ = stopped.changed() => return,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = stopped.changed() => return,
            accepted = crate::http::accept(&socket) => match accepted {
                Some(accepted) => accepted,
                None => continue,
            },
        };
        // The configuration of the moment: this connection keeps it to the end.
        let current = runtime.borrow().clone();
        // An access control list refuses before any byte is read: the connection is closed.
        if !current.admit.iter().all(|filter| filter.admits(peer.ip())) {
            tracing::debug!(%peer, "refused by the listener's access control");
            continue;
        }
        let stop = stop.clone();
        // Served by the next worker thread, on its own reactor.
        let (worker, shared) = workers.next();
        let shared = shared.clone();
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        // Tracked, so that shutdown waits for the connections (each bounded by its grace).
        let connections = shared.connections.clone();
        connections.spawn_on(
            async move {
                let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                    return;
                };
                let _open = shared.traffic.accepted(current.protocol);
                match (current.protocol, current.tls.clone()) {
                    (Protocol::Tcp, _) => {
                        proxy::serve_tcp(stream, peer, current, shared, stop).await
                    }
                    (_, Some(config)) => {
                        let handshake = TlsAcceptor::from(config).accept(stream);
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                            Ok(Ok(tls)) => {
                                shared.traffic.handshake("ok");
                                let session = tls.get_ref().1;
                                let h2 = session.alpn_protocol() == Some(b"h2".as_slice());
                                let client = proxy::Peer::tls(peer, session);
                                proxy::serve_http(tls, client, h2, current, shared, stop).await
                            }
                            Ok(Err(error)) => {
                                shared.traffic.handshake("refused");
                                tracing::debug!(%peer, %error, "TLS handshake refused")
                            }
                            Err(_) => {
                                shared.traffic.handshake("timeout");
                                tracing::debug!(%peer, "TLS handshake timed out")
                            }
                        }
                    }
                    (_, None) => {
                        let client = proxy::Peer::plain(peer);
                        proxy::serve_http(stream, client, false, current, shared, stop).await
                    }
                }
                drop(permit);
            },
            worker,
        );
    }
}

/// Worker threads: one per core.
pub(super) fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
