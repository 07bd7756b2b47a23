//! HTTP and HTTPS listeners: hyper serves HTTP/1.1 and h2 to clients, hyper-util's client
//! forwards each request over HTTP/1.1 to the backend the listener's scheduler picks, with the
//! forwarding headers the listener enables. TCP listeners forward bytes.

use std::convert::Infallible;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use super::access_log::{AccessLog, Logged, Record, Upstream};
use super::headers::{self as names, strip_added, strip_hop_by_hop};
use super::health::HealthTable;
pub use super::peer::Peer;
use super::runtime::{Backend, ListenerRuntime, Sticky};
use super::traffic::Traffic;

pub type Body = BoxBody<Bytes, hyper::Error>;

/// The cookie an `insert` sticky session sets, naming the backend.
const STICKY_COOKIE: &str = "SERVERID";
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Streams one h2 client connection may have open at once (RFC 9113 asks for 100 at least).
const MAX_H2_STREAMS: u32 = 100;
/// What a backend connection buffers of a response (at least hyper's 8 KiB).
const BACKEND_READ_BUFFER: usize = 16 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What every listener's connections share: the client to backends and the health results.
pub struct Shared {
    client: Client<HttpConnector, Incoming>,
    pub health: Arc<HealthTable>,
    pub traffic: Traffic,
    /// What an h2 stream may hold of a response its client does not read, in bytes.
    h2_stream_buffer: usize,
    /// Every client connection, for shutdown to wait for.
    pub connections: tokio_util::task::TaskTracker,
    /// Where each request is logged, if anywhere.
    access_log: Option<Arc<AccessLog>>,
    /// Where ACME proofs the listeners answer themselves are looked up.
    store: Arc<dyn crate::store::Store>,
}

impl Shared {
    pub fn new(
        health: Arc<HealthTable>,
        traffic: Traffic,
        h2_stream_buffer: usize,
        connections: tokio_util::task::TaskTracker,
        access_log: Option<Arc<AccessLog>>,
        store: Arc<dyn crate::store::Store>,
    ) -> Shared {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
        connector.set_nodelay(true);
        Shared {
            client: Client::builder(TokioExecutor::new())
                // What a backend connection reads ahead of a client that does not read; also
                // the largest response head a backend may send (nginx's proxy_buffer_size is
                // 4 or 8 KiB).
                .http1_max_buf_size(BACKEND_READ_BUFFER)
                .build(connector),
            health,
            traffic,
            h2_stream_buffer,
            connections,
            access_log,
            store,
        }
    }

    pub(super) fn usable(&self, runtime: &ListenerRuntime, backend: &Backend) -> bool {
        !runtime.health.enabled || backend.verdict.is_healthy()
    }
}

/// When a connection must end: once its listener stops (or the server shuts down), it gets
/// `grace` to finish, then it is cut.
#[derive(Clone)]
pub struct Stop {
    pub stopped: tokio::sync::watch::Receiver<bool>,
    pub grace: Duration,
}

impl Stop {
    /// Until the listener stops (its sender gone counts too).
    async fn stopping(&mut self) {
        let _ = self.stopped.wait_for(|stopped| *stopped).await;
    }
}

/// Serves an HTTP connection until it ends; once the listener stops, it is asked to close
/// (HTTP/1.1 after the request in flight, h2 with GOAWAY) and cut after the grace.
async fn until_stopped<C>(connection: C, mut stop: Stop) -> Result<(), String>
where
    C: hyper_util::server::graceful::GracefulConnection,
    C::Error: std::fmt::Display,
{
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return result.map_err(|error| error.to_string()),
        _ = stop.stopping() => {}
    }
    connection.as_mut().graceful_shutdown();
    match tokio::time::timeout(stop.grace, connection).await {
        Ok(result) => result.map_err(|error| error.to_string()),
        Err(_) => Err("cut: the listener stopped and the grace ran out".into()),
    }
}

/// Serves one client connection (plain or TLS) of an HTTP or HTTPS listener: h2 when TLS
/// agreed on it by ALPN, else HTTP/1.1 (SLB's HTTP listeners do not speak cleartext h2).
pub async fn serve_http<S>(
    stream: S,
    client: Peer,
    h2: bool,
    runtime: Arc<ListenerRuntime>,
    shared: Arc<Shared>,
    stop: Stop,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let idle = runtime.idle_timeout;
    let stream_buffer = shared.h2_stream_buffer;
    let peer = client.address;
    let client = Arc::new(client);
    let service = service_fn(move |request| {
        let (runtime, shared, client) = (runtime.clone(), shared.clone(), client.clone());
        async move {
            let response = match &shared.access_log {
                None => {
                    forward(
                        request,
                        &client,
                        &runtime,
                        &shared,
                        &mut Upstream::default(),
                    )
                    .await
                }
                Some(log) => logged(request, &client, &runtime, &shared, log.clone()).await,
            };
            Ok::<_, Infallible>(response)
        }
    });
    let io = TokioIo::new(stream);
    let served = if h2 {
        let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .max_concurrent_streams(MAX_H2_STREAMS)
            // A peer may advertise any window and then not read: what each stream holds for
            // it is bounded here, and the backend is not read further meanwhile.
            .max_send_buf_size(stream_buffer)
            .max_header_list_size(MAX_HEADER_BYTES as u32)
            // A peer that stops answering pings within the idle timeout is gone.
            .keep_alive_interval(idle)
            .keep_alive_timeout(idle)
            .serve_connection(io, service);
        until_stopped(connection, stop).await
    } else {
        // The header timer runs whenever a request is awaited: it is the idle timeout too.
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(idle)
            .max_buf_size(MAX_HEADER_BYTES)
            .serve_connection(io, service);
        until_stopped(connection, stop).await
    };
    if let Err(error) = served {
        tracing::debug!(%peer, %error, "client connection ended");
    }
}

fn answer(status: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(
        Full::new(text.into())
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// The host a client asked for, without its port.
fn host(request: &Request<Incoming>) -> Option<String> {
    let host = request.uri().host().map(str::to_owned).or_else(|| {
        let value = request.headers().get(header::HOST)?.to_str().ok()?;
        Some(value.rsplit_once(':').map_or(value, |(h, _)| h).to_owned())
    })?;
    Some(host)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A backend's name in the sticky cookie: stable for its address, meaningless to clients.
fn sticky_token(backend: &Backend) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    backend.address.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// The backend a sticky session names, if it may take requests.
fn sticky_choice(runtime: &ListenerRuntime, shared: &Shared, headers: &HeaderMap) -> Option<usize> {
    let usable = |index: &usize| shared.usable(runtime, &runtime.backends[*index]);
    match runtime.sticky.as_ref()? {
        Sticky::Insert { .. } => {
            let token = cookie(headers, STICKY_COOKIE)?;
            (0..runtime.backends.len())
                .filter(usable)
                .find(|&i| sticky_token(&runtime.backends[i]) == token)
        }
        Sticky::Server { cookie: name } => {
            let value = cookie(headers, name)?;
            let candidates: Vec<usize> = (0..runtime.backends.len()).filter(usable).collect();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            value.hash(&mut hasher);
            (!candidates.is_empty())
                .then(|| candidates[hasher.finish() as usize % candidates.len()])
        }
    }
}

/// Counts a request in flight on its backend (weighted least connections).
struct InFlight<'a>(&'a Backend);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// [`forward`], with a line in the access log once the response is sent.
async fn logged(
    request: Request<Incoming>,
    client: &Peer,
    runtime: &ListenerRuntime,
    shared: &Shared,
    log: Arc<AccessLog>,
) -> Response<Body> {
    let started = std::time::Instant::now();
    let mut record = Record::of(&request, client, runtime);
    let mut upstream = Upstream::default();
    let response = forward(request, client, runtime, shared, &mut upstream).await;
    record.answered(response.status(), &upstream);
    response.map(|body| Logged::new(body, record, started, log).boxed())
}

/// Sends a request to the backend its route and scheduler pick; `upstream` learns which one
/// answered, and how.
async fn forward(
    mut request: Request<Incoming>,
    client: &Peer,
    runtime: &ListenerRuntime,
    shared: &Shared,
    upstream: &mut Upstream,
) -> Response<Body> {
    if let Some((status, why)) = super::edge::refusal(&request) {
        return answer(status, why);
    }
    let (path, store) = (request.uri().path(), shared.store.as_ref());
    if path.starts_with(super::acme::PREFIX)
        && let Some(file) =
            super::acme::proof(store, &runtime.account_id, host(&request), path).await
    {
        return answer(StatusCode::OK, file);
    }
    if let Some(port) = runtime.forward_to {
        return redirect(&request, port);
    }
    let runtime = match super::routes::choose(
        &runtime.routes,
        host(&request).as_deref(),
        request.uri().path(),
    ) {
        Some(route) => &*route.pool,
        None => runtime,
    };
    let sticky = sticky_choice(runtime, shared, request.headers());
    let Some(index) = sticky.or_else(|| runtime.pick(|backend| shared.usable(runtime, backend)))
    else {
        return answer(StatusCode::SERVICE_UNAVAILABLE, "no healthy backend\n");
    };
    let backend = &runtime.backends[index];
    if prepare(&mut request, client, runtime, backend).is_err() {
        return answer(StatusCode::BAD_REQUEST, "the request target is not valid\n");
    }
    backend.active.fetch_add(1, Ordering::Relaxed);
    let _in_flight = InFlight(backend);
    upstream.address = Some(backend.address);
    let asked = std::time::Instant::now();
    let result =
        tokio::time::timeout(runtime.request_timeout, shared.client.request(request)).await;
    let mut response = match result {
        Ok(Ok(response)) => {
            upstream.status = Some(response.status().as_u16());
            upstream.elapsed = Some(asked.elapsed());
            response.map(BodyExt::boxed)
        }
        Ok(Err(error)) => {
            tracing::debug!(backend = %backend.address, server_id = %backend.server_id, %error, "backend failed");
            return answer(StatusCode::BAD_GATEWAY, "the backend did not answer\n");
        }
        Err(_) => return answer(StatusCode::GATEWAY_TIMEOUT, "the backend took too long\n"),
    };
    strip_hop_by_hop(response.headers_mut());
    if let Some(Sticky::Insert { timeout }) = &runtime.sticky
        && sticky.is_none()
        && let Ok(value) = HeaderValue::from_str(&format!(
            "{STICKY_COOKIE}={}; Max-Age={}; Path=/",
            sticky_token(backend),
            timeout.as_secs()
        ))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// HTTP listeners with `ListenerForward=on`: to the same host and path on the HTTPS port.
fn redirect(request: &Request<Incoming>, port: u16) -> Response<Body> {
    let Some(host) = host(request) else {
        return answer(StatusCode::BAD_REQUEST, "no Host header\n");
    };
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let mut response = answer(StatusCode::MOVED_PERMANENTLY, "moved to HTTPS\n");
    match HeaderValue::from_str(&format!("https://{host}:{port}{path}")) {
        Ok(location) => {
            response.headers_mut().insert(header::LOCATION, location);
            response
        }
        Err(_) => answer(StatusCode::BAD_REQUEST, "the Host header is not valid\n"),
    }
}

/// A request target that cannot be made the backend's.
struct InvalidTarget;

/// Makes a client's request the backend's: absolute URI of the backend, HTTP/1.1, a Host, no
/// hop-by-hop headers, and the forwarding headers the listener enables.
fn prepare(
    request: &mut Request<Incoming>,
    client: &Peer,
    runtime: &ListenerRuntime,
    backend: &Backend,
) -> Result<(), InvalidTarget> {
    let peer = client.address;
    let path = request
        .uri()
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| http::uri::PathAndQuery::from_static("/"));
    let host = super::edge::host(request);
    let uri = Uri::builder()
        .scheme(http::uri::Scheme::HTTP)
        .authority(backend.authority.clone())
        .path_and_query(path)
        .build()
        .map_err(|_| InvalidTarget)?;
    *request.uri_mut() = uri;
    *request.version_mut() = http::Version::HTTP_11;
    let headers = request.headers_mut();
    strip_hop_by_hop(headers);
    strip_added(headers);
    match host {
        Some(value) => {
            headers.insert(header::HOST, value);
        }
        // HTTP/1.0 may send none: the backend is told the listener's address.
        None => {
            let listener = SocketAddr::new(runtime.address, runtime.port).to_string();
            if let Ok(value) = HeaderValue::from_str(&listener) {
                headers.insert(header::HOST, value);
            }
        }
    }
    let flags = runtime.headers;
    let mut set = |name: &HeaderName, value: String| {
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(name.clone(), value);
        }
    };
    if flags.proto {
        set(
            &names::X_FORWARDED_PROTO,
            if client.tls { "https" } else { "http" }.into(),
        );
    }
    if flags.slb_id {
        set(&names::SLB_ID, runtime.load_balancer_id.clone());
    }
    if flags.slb_ip {
        set(&names::SLB_IP, runtime.address.to_string());
    }
    if flags.port {
        set(&names::X_FORWARDED_PORT, runtime.port.to_string());
    }
    if flags.client_source_port {
        set(&names::X_FORWARDED_CLIENT_SRCPORT, peer.port().to_string());
    }
    if client.tls {
        let certificate = client.certificate.as_ref();
        if flags.client_cert_verify {
            // The handshake refuses a certificate that does not verify: what reaches here
            // verified, or there was none.
            let verdict = if certificate.is_some() {
                "SUCCESS"
            } else {
                "NONE"
            };
            set(&names::CLIENT_CERT_VERIFY, verdict.into());
        }
        if let Some(certificate) = certificate {
            if flags.client_cert_subject {
                set(&names::CLIENT_CERT_SUBJECT, certificate.subject.clone());
            }
            if flags.client_cert_issuer {
                set(&names::CLIENT_CERT_ISSUER, certificate.issuer.clone());
            }
            if flags.client_cert_fingerprint {
                set(
                    &names::CLIENT_CERT_FINGERPRINT,
                    certificate.fingerprint.clone(),
                );
            }
        }
    }
    if flags.forwarded_for {
        let list = match super::edge::forwarded_for(headers) {
            Some(list) => format!("{list}, {}", peer.ip()),
            None => peer.ip().to_string(),
        };
        if let Ok(value) = HeaderValue::try_from(list) {
            headers.insert(names::X_FORWARDED_FOR.clone(), value);
        }
    }
    Ok(())
}

/// A TCP listener's connection: to the backend the scheduler picks, bytes both ways.
pub async fn serve_tcp(
    mut client: TcpStream,
    peer: SocketAddr,
    runtime: Arc<ListenerRuntime>,
    shared: Arc<Shared>,
    mut stop: Stop,
) {
    let Some(index) = runtime.pick(|backend| shared.usable(&runtime, backend)) else {
        tracing::debug!(%peer, "no healthy backend; closing");
        return;
    };
    let backend = &runtime.backends[index];
    backend.active.fetch_add(1, Ordering::Relaxed);
    let _in_flight = InFlight(backend);
    let connected =
        tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(backend.address)).await;
    let Ok(Ok(mut upstream)) = connected else {
        tracing::debug!(backend = %backend.address, "backend did not accept the connection");
        return;
    };
    let _ = upstream.set_nodelay(true);
    let copy = tokio::io::copy_bidirectional(&mut client, &mut upstream);
    tokio::pin!(copy);
    tokio::select! {
        _ = copy.as_mut() => return,
        _ = stop.stopping() => {}
    }
    // Bytes have no request boundary to close at: the connection runs out the grace.
    if tokio::time::timeout(stop.grace, copy).await.is_err() {
        tracing::debug!(%peer, "cut: the listener stopped and the grace ran out");
    }
}
