//! An optional local access log of HTTP and HTTPS listeners (`--access-log PATH`): one JSON
//! line per request, with the field names of SLB's layer-7 access logs. Lines go through a
//! bounded queue to a thread of their own, so a slow disk drops lines (counted and warned
//! about) instead of stalling requests or growing memory; past `--access-log-max-bytes` the
//! file is moved to `PATH.1` and a new one begun, so the log holds at most twice that.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use serde::Serialize;

use super::proxy::Body;

/// Lines waiting for the disk at most.
const QUEUE: usize = 8192;

/// Where lines go.
pub struct AccessLog {
    queue: SyncSender<Vec<u8>>,
    dropped: AtomicU64,
}

impl AccessLog {
    /// Opens (appends to) `path` and starts its writer thread.
    pub fn open(path: &Path, max_bytes: u64) -> io::Result<Arc<AccessLog>> {
        let file = append(path)?;
        let written = file.metadata()?.len();
        let (queue, lines) = sync_channel(QUEUE);
        let writer = Writer {
            path: path.to_owned(),
            out: BufWriter::new(file),
            written,
            max_bytes,
        };
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || writer.run(lines))?;
        Ok(Arc::new(AccessLog {
            queue,
            dropped: AtomicU64::new(0),
        }))
    }

    fn write(&self, record: &Record) {
        let Ok(mut line) = serde_json::to_vec(record) else {
            return;
        };
        line.push(b'\n');
        if let Err(TrySendError::Full(_)) = self.queue.try_send(line) {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped == 1 || dropped.is_multiple_of(10_000) {
                tracing::warn!(
                    dropped,
                    "access log: the disk is behind; lines were dropped"
                );
            }
        }
    }
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dropped = self.dropped.load(Ordering::Relaxed);
        write!(f, "AccessLog {{ dropped: {dropped} }}")
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

struct Writer {
    path: PathBuf,
    out: BufWriter<File>,
    written: u64,
    max_bytes: u64,
}

impl Writer {
    /// Until every sender is gone; flushes whenever the queue runs empty.
    fn run(mut self, lines: Receiver<Vec<u8>>) {
        while let Ok(line) = lines.recv() {
            let mut next = Some(line);
            while let Some(line) = next.take() {
                if let Err(error) = self.line(&line) {
                    tracing::warn!(%error, path = %self.path.display(), "access log: write failed");
                }
                next = lines.try_recv().ok();
            }
            if let Err(error) = self.out.flush() {
                tracing::warn!(%error, "access log: flush failed");
            }
        }
    }

    fn line(&mut self, line: &[u8]) -> io::Result<()> {
        if self.written > 0 && self.written + line.len() as u64 > self.max_bytes {
            self.out.flush()?;
            let mut rotated = self.path.clone().into_os_string();
            rotated.push(".1");
            std::fs::rename(&self.path, rotated)?;
            self.out = BufWriter::new(append(&self.path)?);
            self.written = 0;
        }
        self.out.write_all(line)?;
        self.written += line.len() as u64;
        Ok(())
    }
}

/// One request, in the words of SLB's layer-7 access log.
#[derive(Serialize)]
pub struct Record {
    pub time: String,
    pub slbid: String,
    pub slb_vport: u16,
    pub vip_addr: String,
    pub client_ip: String,
    pub client_port: u16,
    pub scheme: &'static str,
    pub host: String,
    pub request_method: String,
    pub request_uri: String,
    pub server_protocol: &'static str,
    pub request_length: u64,
    pub http_user_agent: String,
    pub http_referer: String,
    pub http_x_forwarded_for: String,
    pub ssl_protocol: String,
    pub ssl_cipher: String,
    pub status: u16,
    pub body_bytes_sent: u64,
    /// Seconds from the request's head to the response's last byte.
    pub request_time: f64,
    pub upstream_addr: String,
    pub upstream_status: Option<u16>,
    pub upstream_response_time: Option<f64>,
}

/// A response body that counts what it sends and writes the record when it is done (sent,
/// or dropped with its connection).
pub struct Logged {
    inner: Body,
    record: Option<Record>,
    started: Instant,
    log: Arc<AccessLog>,
}

impl Logged {
    pub fn new(inner: Body, record: Record, started: Instant, log: Arc<AccessLog>) -> Logged {
        Logged {
            inner,
            record: Some(record),
            started,
            log,
        }
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(mut record) = self.record.take() {
            record.request_time = self.started.elapsed().as_secs_f64();
            self.log.write(&record);
        }
    }
}

impl HttpBody for Logged {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(context);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
            && let Some(record) = self.record.as_mut()
        {
            record.body_bytes_sent += data.len() as u64;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What the proxy saw of the backend that answered a request.
#[derive(Default)]
pub struct Upstream {
    pub address: Option<std::net::SocketAddr>,
    pub status: Option<u16>,
    pub elapsed: Option<std::time::Duration>,
}

impl Record {
    /// What the request says, before it is forwarded.
    pub fn of(
        request: &http::Request<hyper::body::Incoming>,
        client: &super::peer::Peer,
        runtime: &super::runtime::ListenerRuntime,
    ) -> Record {
        let header = |name: http::header::HeaderName| {
            request
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let length = header(http::header::CONTENT_LENGTH).parse().unwrap_or(0);
        Record {
            time: crate::clock::iso8601(crate::clock::now()),
            slbid: runtime.load_balancer_id.clone(),
            slb_vport: runtime.port,
            vip_addr: runtime.address.to_string(),
            client_ip: client.address.ip().to_string(),
            client_port: client.address.port(),
            scheme: if client.tls { "https" } else { "http" },
            host: super::edge::host(request)
                .and_then(|host| host.to_str().ok().map(str::to_owned))
                .unwrap_or_default(),
            request_method: request.method().to_string(),
            request_uri: request
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
            server_protocol: match request.version() {
                http::Version::HTTP_2 => "HTTP/2.0",
                http::Version::HTTP_10 => "HTTP/1.0",
                _ => "HTTP/1.1",
            },
            request_length: length,
            http_user_agent: header(http::header::USER_AGENT),
            http_referer: header(http::header::REFERER),
            http_x_forwarded_for: header(http::header::HeaderName::from_static("x-forwarded-for")),
            ssl_protocol: client.ssl_protocol.to_owned(),
            ssl_cipher: client.ssl_cipher.to_owned(),
            status: 0,
            body_bytes_sent: 0,
            request_time: 0.0,
            upstream_addr: String::new(),
            upstream_status: None,
            upstream_response_time: None,
        }
    }

    /// The answer, and the backend that gave it if one did.
    pub fn answered(&mut self, status: http::StatusCode, upstream: &Upstream) {
        self.status = status.as_u16();
        self.upstream_addr = upstream.address.map(|a| a.to_string()).unwrap_or_default();
        self.upstream_status = upstream.status;
        self.upstream_response_time = upstream.elapsed.map(|e| e.as_secs_f64());
    }
}
