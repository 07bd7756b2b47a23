//! One client connection: reads requests one after another (keep-alive, pipelining), answers
//! each, and closes on error, on request, on idle timeout or at shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use http::{Method, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};
use zeroize::Zeroize;

use super::pressure::{SHED_ARRIVING_AFTER, SHED_IDLE_AFTER, ShedRequests};
use super::request::{
    BodyFraming, FramingError, Head, MAX_CHUNK_EXTENSIONS, MAX_CHUNK_LINE, find_head_end,
    parse_chunk_size, parse_head,
};
use super::{Limits, ProtocolErrorBody, Request, Response};

const READ_CHUNK: usize = 16 * 1024;

pub struct Connection<H, S> {
    stream: S,
    peer: SocketAddr,
    limits: Arc<Limits>,
    handler: H,
    protocol_error: ProtocolErrorBody,
    shutdown: watch::Receiver<bool>,
    shed: ShedRequests,
    buf: BytesMut,
    /// When the request being read started arriving.
    arriving_since: Instant,
}

/// What ended the reading of a request.
enum ReadStop {
    /// The peer went away or was too slow: close without answering.
    Gone,
    /// The request is unacceptable: answer with this error, then close.
    Refused(FramingError),
}

impl<H, F, S> Connection<H, S>
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
    S: AsyncRead + AsyncWrite + Unpin,
{
    pub fn new(
        stream: S,
        peer: SocketAddr,
        limits: Arc<Limits>,
        handler: H,
        protocol_error: ProtocolErrorBody,
        shutdown: watch::Receiver<bool>,
        shed: ShedRequests,
    ) -> Self {
        Connection {
            stream,
            peer,
            limits,
            handler,
            protocol_error,
            shutdown,
            shed,
            buf: BytesMut::with_capacity(READ_CHUNK),
            arriving_since: Instant::now(),
        }
    }

    pub async fn run(mut self) {
        loop {
            if self.buf.is_empty() && !self.wait_for_next_request().await {
                return;
            }
            self.arriving_since = Instant::now();
            let deadline = self.arriving_since + self.limits.request_timeout;
            let (head, body) = match self.read_request(deadline).await {
                Ok(request) => request,
                Err(ReadStop::Gone) => return,
                Err(ReadStop::Refused(error)) => {
                    let response = (self.protocol_error)(error.status(), error.message());
                    let _ = self.write_response(response, false, true).await;
                    return;
                }
            };
            let head_only = head.method == Method::HEAD;
            let mut close = head.wants_close;
            let request = Request {
                method: head.method,
                path: head.path,
                query: head.query,
                headers: head.headers,
                body,
                peer: self.peer,
            };
            // A separate task, so that a panicking handler costs one 500, not the connection.
            let response = match tokio::spawn((self.handler)(request)).await {
                Ok(response) => response,
                Err(_) => (self.protocol_error)(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The request processing has failed due to some unknown error.",
                ),
            };
            close |= *self.shutdown.borrow();
            if self
                .write_response(response, head_only, close)
                .await
                .is_err()
                || close
            {
                return;
            }
        }
    }

    /// Waits for the first byte of the next request. False: close the connection (also when
    /// the server is full and asks idle connections to go).
    async fn wait_for_next_request(&mut self) -> bool {
        let idle = self.limits.idle_timeout;
        let idle_since = Instant::now();
        tokio::select! {
            _ = super::until_stopped(&mut self.shutdown) => false,
            _ = self.shed.until_shed(idle_since, SHED_IDLE_AFTER) => false,
            read = timeout(idle, self.stream.read_buf(&mut self.buf)) => matches!(read, Ok(Ok(n)) if n > 0),
        }
    }

    async fn read_request(&mut self, deadline: Instant) -> Result<(Head, BytesMut), ReadStop> {
        let head = self.read_head(deadline).await?;
        if head.expects_continue && head.body != BodyFraming::Length(0) && self.buf.is_empty() {
            let interim = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            match timeout(self.limits.write_timeout, interim).await {
                Ok(Ok(())) => {}
                _ => return Err(ReadStop::Gone),
            }
        }
        let body = match head.body {
            BodyFraming::Length(length) => self.read_exact(length, deadline).await?,
            BodyFraming::Chunked => self.read_chunked(deadline).await?,
        };
        Ok((head, body))
    }

    async fn read_head(&mut self, deadline: Instant) -> Result<Head, ReadStop> {
        // The head is parsed once its end is in the buffer; until then each read only scans
        // the new bytes for it.
        let mut scanned = 0;
        loop {
            let limits = &self.limits;
            let Some(end) = find_head_end(&self.buf, scanned) else {
                if self.buf.len() >= limits.max_head_bytes {
                    return Err(ReadStop::Refused(FramingError::HeadTooLarge));
                }
                scanned = self.buf.len();
                self.fill(deadline).await?;
                continue;
            };
            if end > limits.max_head_bytes {
                return Err(ReadStop::Refused(FramingError::HeadTooLarge));
            }
            match parse_head(&self.buf, limits.max_headers, limits.max_body_bytes) {
                Ok(Some((head, consumed))) => {
                    // The head is copied into `head`; wipe the buffer's copy (PEM in the URL).
                    self.buf[..consumed].zeroize();
                    self.buf.advance(consumed);
                    return Ok(head);
                }
                // Blank lines before the request line: its end is further on.
                Ok(None) => scanned = end,
                Err(error) => return Err(ReadStop::Refused(error)),
            }
        }
    }

    async fn read_exact(&mut self, length: usize, deadline: Instant) -> Result<BytesMut, ReadStop> {
        while self.buf.len() < length {
            self.buf.reserve(length - self.buf.len());
            self.fill(deadline).await?;
        }
        Ok(self.buf.split_to(length))
    }

    async fn read_chunked(&mut self, deadline: Instant) -> Result<BytesMut, ReadStop> {
        let mut body = BytesMut::new();
        let mut extensions = 0;
        loop {
            let Some(chunk) = parse_chunk_size(&self.buf).map_err(ReadStop::Refused)? else {
                self.fill(deadline).await?;
                continue;
            };
            extensions += chunk.extensions;
            if extensions > MAX_CHUNK_EXTENSIONS {
                return Err(ReadStop::Refused(FramingError::ChunkLineTooLong));
            }
            let (size, line) = (chunk.size, chunk.length);
            if size == 0 {
                self.buf.advance(line);
                self.skip_trailers(deadline).await?;
                return Ok(body);
            }
            if size > (self.limits.max_body_bytes - body.len()) as u64 {
                return Err(ReadStop::Refused(FramingError::BodyTooLarge));
            }
            let size = size as usize;
            while self.buf.len() < line + size + 2 {
                self.fill(deadline).await?;
            }
            if &self.buf[line + size..line + size + 2] != b"\r\n" {
                return Err(ReadStop::Refused(FramingError::Malformed(
                    "A chunk is not followed by CRLF.",
                )));
            }
            body.extend_from_slice(&self.buf[line..line + size]);
            self.buf[..line + size + 2].zeroize();
            self.buf.advance(line + size + 2);
        }
    }

    /// Discards the trailer section after the last chunk, up to its terminating empty line;
    /// it may hold at most [`MAX_CHUNK_LINE`] bytes, each scanned once.
    async fn skip_trailers(&mut self, deadline: Instant) -> Result<(), ReadStop> {
        let mut skipped = 0;
        let mut scanned = 0;
        loop {
            if let Some(end) = self.buf[scanned..]
                .windows(2)
                .position(|pair| pair == b"\r\n")
                .map(|at| scanned + at)
            {
                let empty = end == 0;
                self.buf.advance(end + 2);
                skipped += end + 2;
                scanned = 0;
                if empty {
                    return Ok(());
                }
                if skipped > MAX_CHUNK_LINE {
                    return Err(ReadStop::Refused(FramingError::TrailersTooLarge));
                }
            } else if skipped + self.buf.len() > MAX_CHUNK_LINE {
                return Err(ReadStop::Refused(FramingError::TrailersTooLarge));
            } else {
                scanned = self.buf.len().saturating_sub(1);
                self.fill(deadline).await?;
            }
        }
    }

    /// Reads more bytes into the buffer before `deadline`; EOF or a timeout ends the request,
    /// and so does a request to shed once this one has been arriving for too long.
    async fn fill(&mut self, deadline: Instant) -> Result<(), ReadStop> {
        self.buf.reserve(READ_CHUNK);
        let since = self.arriving_since;
        tokio::select! {
            _ = self.shed.until_shed(since, SHED_ARRIVING_AFTER) => Err(ReadStop::Gone),
            read = timeout_at(deadline, self.stream.read_buf(&mut self.buf)) => match read {
                Ok(Ok(n)) if n > 0 => Ok(()),
                _ => Err(ReadStop::Gone),
            },
        }
    }

    async fn write_response(
        &mut self,
        response: Response,
        head_only: bool,
        close: bool,
    ) -> io::Result<()> {
        let status = response.status;
        let mut out = Vec::with_capacity(256 + response.body.len());
        out.extend_from_slice(
            format!(
                "HTTP/1.1 {} {}\r\n",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Unknown")
            )
            .as_bytes(),
        );
        for (name, value) in &response.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("content-length: {}\r\n", response.body.len()).as_bytes());
        if close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !head_only {
            out.extend_from_slice(&response.body);
        }
        // A client that does not read must not hold the connection (and shutdown) forever.
        let write_timeout = self.limits.write_timeout;
        timeout(write_timeout, self.stream.write_all(&out))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        if close {
            let _ = timeout(write_timeout, self.stream.shutdown()).await;
        }
        Ok(())
    }
}
