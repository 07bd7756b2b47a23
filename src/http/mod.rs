//! A small HTTP/1.1 server: framing, keep-alive, limits and graceful shutdown.
//!
//! Why not hyper (and so axum): hyper parses every request-target into an `http::Uri`, which
//! cannot hold more than 65,534 bytes (hyperium/hyper#3960). Alibaba's SDKs send the PEM
//! certificate, chain and key in the query string, and we promise request targets of at least
//! 64 KiB. Owning the framing also keeps the query (which carries private keys) out of any
//! generic request logging: handlers see it as a separate field, never as part of a URI.

mod conn;
mod pressure;
pub mod request;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;
use zeroize::Zeroize;

/// One parsed request, body fully read. Its query and body are wiped when it is dropped: they
/// carry private keys.
pub struct Request {
    pub method: Method,
    /// The request-target's path, without the query.
    pub path: String,
    /// The raw (still percent-encoded) query string, without the leading `?`.
    pub query: String,
    pub headers: HeaderMap,
    pub body: BytesMut,
    pub peer: SocketAddr,
}

impl Drop for Request {
    fn drop(&mut self) {
        self.query.zeroize();
        self.body.as_mut().zeroize();
    }
}

/// A complete response; the connection layer adds `content-length` and `connection`.
pub struct Response {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Response {
    pub fn new(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Response {
            status,
            headers: vec![(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static(content_type),
            )],
            body: body.into(),
        }
    }
}

/// Limits and timeouts of the HTTP layer.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Request line plus headers. Bounds the request-target (PEM in the URL).
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_body_bytes: usize,
    /// Time allowed to receive one whole request once its first byte arrived.
    pub request_timeout: Duration,
    /// Time an idle keep-alive connection is kept open.
    pub idle_timeout: Duration,
    /// Time allowed to write one whole response to a client that does not read.
    pub write_timeout: Duration,
    pub max_connections: usize,
    /// At shutdown, how long in-flight requests may take before their connections are closed.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 512 * 1024,
            max_headers: 128,
            max_body_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            write_timeout: Duration::from_secs(30),
            max_connections: 4096,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Builds the body of a response the HTTP layer makes itself (malformed or oversized request),
/// so that it has the same envelope as every other error.
pub type ProtocolErrorBody = fn(StatusCode, &str) -> Response;

/// Serves `handler` on `listener` until `shutdown` turns true, then stops accepting, lets every
/// in-flight request finish (its connection closes after the response) within the grace
/// period, and returns.
pub async fn serve<H, F>(
    listener: TcpListener,
    handler: H,
    protocol_error: ProtocolErrorBody,
    limits: Limits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    mut shutdown: watch::Receiver<bool>,
) where
    H: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    let tracker = TaskTracker::new();
    let slots = pressure::Slots::new(limits.max_connections);
    let limits = Arc::new(limits);
    loop {
        let permit = tokio::select! {
            _ = until_stopped(&mut shutdown) => break,
            permit = slots.acquire() => permit,
        };
        let (stream, peer) = tokio::select! {
            _ = until_stopped(&mut shutdown) => break,
            accepted = accept(&listener) => match accepted {
                Some(accepted) => accepted,
                None => continue,
            },
        };
        let connection = Accepted {
            peer,
            limits: limits.clone(),
            handler: handler.clone(),
            protocol_error,
            shutdown: shutdown.clone(),
            shed: slots.shed_requests(),
        };
        let tls = tls.clone();
        tracker.spawn(async move {
            match tls {
                None => connection.run(stream).await,
                Some(acceptor) => {
                    let timeout = connection.limits.request_timeout;
                    match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => connection.run(stream).await,
                        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    tracker.close();
    if tokio::time::timeout(limits.shutdown_grace, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            open = tracker.len(),
            "shutdown grace period over: closing the connections still open"
        );
    }
}

/// Runs one connection over an in-memory stream that carries `input` from a client that then
/// stops sending, with `handler` answering; returns what the server wrote. For fuzzing and
/// corpus replay: the HTTP layer exactly as it serves, without a socket.
/// The next connection, with Nagle off; `None` after an error (EMFILE and friends), logged and
/// followed by a short pause instead of a spin.
pub async fn accept(listener: &TcpListener) -> Option<(tokio::net::TcpStream, SocketAddr)> {
    match listener.accept().await {
        Ok((stream, peer)) => {
            let _ = stream.set_nodelay(true);
            Some((stream, peer))
        }
        Err(error) => {
            tracing::warn!(%error, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
            None
        }
    }
}

/// An accepted connection, before its stream (plain or TLS) is known.
struct Accepted<H> {
    peer: SocketAddr,
    limits: Arc<Limits>,
    handler: H,
    protocol_error: ProtocolErrorBody,
    shutdown: watch::Receiver<bool>,
    shed: pressure::ShedRequests,
}

impl<H, F> Accepted<H>
where
    H: Fn(Request) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    async fn run<S>(self, stream: S)
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        conn::Connection::new(
            stream,
            self.peer,
            self.limits,
            self.handler,
            self.protocol_error,
            self.shutdown,
            self.shed,
        )
        .run()
        .await;
    }
}

pub async fn serve_bytes<H, F>(input: &[u8], handler: H, limits: Limits) -> Vec<u8>
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (client, server) = tokio::io::duplex(64 * 1024);
    let (mut from_server, mut to_server) = tokio::io::split(client);
    let (_stop, stopped) = watch::channel(false);
    let slots = pressure::Slots::new(1);
    let peer = SocketAddr::from(([127, 0, 0, 1], 1));
    let connection = conn::Connection::new(
        server,
        peer,
        Arc::new(limits),
        handler,
        |status, message| Response::new(status, "text/plain", format!("{status} {message}")),
        stopped,
        slots.shed_requests(),
    );
    let input = input.to_vec();
    let writer = async move {
        let _ = to_server.write_all(&input).await;
        let _ = to_server.shutdown().await;
    };
    let mut output = Vec::new();
    let reader = from_server.read_to_end(&mut output);
    let _ = tokio::join!(connection.run(), writer, reader);
    output
}

/// Resolves once shutdown is requested (or its sender is gone).
async fn until_stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it before any other await.
    let _ = shutdown.wait_for(|stop| *stop).await;
}
