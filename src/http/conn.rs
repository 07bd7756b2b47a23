//! One client connection: reads requests one after another (keep-alive, pipelining), answers
//! each, and closes on error, on request, on idle timeout or at shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use http::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{Instant, timeout, timeout_at};
use zeroize::Zeroize;

use super::request::{BodyFraming, FramingError, Head, parse_chunk_size, parse_head};
use super::{Limits, ProtocolErrorBody, Request, Response};

const READ_CHUNK: usize = 16 * 1024;

pub struct Connection<H> {
    stream: TcpStream,
    peer: SocketAddr,
    limits: Arc<Limits>,
    handler: H,
    protocol_error: ProtocolErrorBody,
    shutdown: watch::Receiver<bool>,
    buf: BytesMut,
}

/// What ended the reading of a request.
enum ReadStop {
    /// The peer went away or was too slow: close without answering.
    Gone,
    /// The request is unacceptable: answer with this error, then close.
    Refused(FramingError),
}

impl<H, F> Connection<H>
where
    H: Fn(Request) -> F + Send + Sync + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    pub fn new(
        stream: TcpStream,
        peer: SocketAddr,
        limits: Arc<Limits>,
        handler: H,
        protocol_error: ProtocolErrorBody,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        Connection {
            stream,
            peer,
            limits,
            handler,
            protocol_error,
            shutdown,
            buf: BytesMut::with_capacity(READ_CHUNK),
        }
    }

    pub async fn run(mut self) {
        loop {
            if self.buf.is_empty() && !self.wait_for_next_request().await {
                return;
            }
            let deadline = Instant::now() + self.limits.request_timeout;
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

    /// Waits for the first byte of the next request. False: close the connection.
    async fn wait_for_next_request(&mut self) -> bool {
        let idle = self.limits.idle_timeout;
        tokio::select! {
            _ = super::until_stopped(&mut self.shutdown) => false,
            read = timeout(idle, self.stream.read_buf(&mut self.buf)) => matches!(read, Ok(Ok(n)) if n > 0),
        }
    }

    async fn read_request(&mut self, deadline: Instant) -> Result<(Head, BytesMut), ReadStop> {
        let head = self.read_head(deadline).await?;
        if head.expects_continue && head.body != BodyFraming::Length(0) && self.buf.is_empty() {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| ReadStop::Gone)?;
        }
        let body = match head.body {
            BodyFraming::Length(length) => self.read_exact(length, deadline).await?,
            BodyFraming::Chunked => self.read_chunked(deadline).await?,
        };
        Ok((head, body))
    }

    async fn read_head(&mut self, deadline: Instant) -> Result<Head, ReadStop> {
        loop {
            let limits = &self.limits;
            match parse_head(&self.buf, limits.max_headers, limits.max_body_bytes) {
                Ok(Some((_, consumed))) if consumed > limits.max_head_bytes => {
                    return Err(ReadStop::Refused(FramingError::HeadTooLarge));
                }
                Ok(Some((head, consumed))) => {
                    // The head is copied into `head`; wipe the buffer's copy (PEM in the URL).
                    self.buf[..consumed].zeroize();
                    self.buf.advance(consumed);
                    return Ok(head);
                }
                Ok(None) if self.buf.len() >= limits.max_head_bytes => {
                    return Err(ReadStop::Refused(FramingError::HeadTooLarge));
                }
                Ok(None) => self.fill(deadline).await?,
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
        loop {
            let Some((size, line)) = parse_chunk_size(&self.buf).map_err(ReadStop::Refused)? else {
                self.fill(deadline).await?;
                continue;
            };
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

    /// Discards the trailer section after the last chunk, up to its terminating empty line.
    async fn skip_trailers(&mut self, deadline: Instant) -> Result<(), ReadStop> {
        loop {
            if let Some(end) = self.buf.windows(2).position(|pair| pair == b"\r\n") {
                let empty = end == 0;
                self.buf.advance(end + 2);
                if empty {
                    return Ok(());
                }
            } else if self.buf.len() > self.limits.max_head_bytes {
                return Err(ReadStop::Refused(FramingError::HeadTooLarge));
            } else {
                self.fill(deadline).await?;
            }
        }
    }

    /// Reads more bytes into the buffer before `deadline`; EOF or a timeout ends the request.
    async fn fill(&mut self, deadline: Instant) -> Result<(), ReadStop> {
        self.buf.reserve(READ_CHUNK);
        match timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
            Ok(Ok(n)) if n > 0 => Ok(()),
            _ => Err(ReadStop::Gone),
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
        self.stream.write_all(&out).await?;
        if close {
            let _ = self.stream.shutdown().await;
        }
        Ok(())
    }
}
