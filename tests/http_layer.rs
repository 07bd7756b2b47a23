//! The HTTP/1.1 layer over real sockets: long request targets, keep-alive, pipelining, chunked
//! bodies, `Expect: 100-continue`, limits, panics and graceful shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use slbcert::http::{self as web, Request, Response};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Told when a `?slow` request reaches the handler (tests wait for it, not for a time).
static SLOW_STARTED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Echoes what the handler saw: `<method> <path> q=<query length> b=<body>`.
async fn echo(request: Request) -> Response {
    if request.query.contains("panic") {
        panic!("handler panicked on purpose");
    }
    if request.query.contains("slow") {
        SLOW_STARTED.notify_one();
        tokio::time::sleep(Duration::from_millis(500)).await; // the handler's own slowness
    }
    let text = format!(
        "{} {} q={} b={}",
        request.method,
        request.path,
        request.query.len(),
        String::from_utf8_lossy(&request.body)
    );
    Response::new(StatusCode::OK, "text/plain", Bytes::from(text))
}

struct Server {
    address: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

async fn start(limits: web::Limits) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(web::serve(
        listener,
        echo,
        slbcert::api::protocol_error,
        limits,
        None,
        stopped,
    ));
    Server {
        address,
        stop,
        task,
    }
}

/// Reads one response (head + content-length body) from the stream.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> (u16, String) {
    loop {
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_string();
            let status: u16 = head[9..12].parse().unwrap();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .map(|n| n.parse().unwrap())
                .unwrap_or(0);
            if status == 100 {
                buffer.drain(..end + 4);
                return (100, String::new());
            }
            if buffer.len() >= end + 4 + length {
                let body = String::from_utf8_lossy(&buffer[end + 4..end + 4 + length]).to_string();
                buffer.drain(..end + 4 + length);
                return (status, body);
            }
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a full response");
        buffer.extend_from_slice(&chunk[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn exchange(address: SocketAddr, raw: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(raw).await.unwrap();
    read_response(&mut stream, &mut Vec::new()).await
}

#[tokio::test]
async fn accepts_request_targets_far_beyond_64_kib() {
    let server = start(web::Limits::default()).await;
    let query = format!("ServerCertificate={}", "A".repeat(200 * 1024));
    let raw = format!("GET /?{query} HTTP/1.1\r\nHost: x\r\n\r\n");
    let (status, body) = exchange(server.address, raw.as_bytes()).await;
    assert_eq!(status, 200);
    assert_eq!(body, format!("GET / q={} b=", query.len()));
}

#[tokio::test]
async fn keeps_connections_alive_and_answers_pipelined_requests_in_order() {
    let server = start(web::Limits::default()).await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let mut buffer = Vec::new();
    stream
        .write_all(b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\none")
        .await
        .unwrap();
    assert_eq!(
        read_response(&mut stream, &mut buffer).await.1,
        "POST /a q=0 b=one"
    );
    // Two requests in one write.
    stream
        .write_all(b"GET /b?x=1 HTTP/1.1\r\n\r\nPOST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\ntwo")
        .await
        .unwrap();
    assert_eq!(
        read_response(&mut stream, &mut buffer).await.1,
        "GET /b q=3 b="
    );
    assert_eq!(
        read_response(&mut stream, &mut buffer).await.1,
        "POST /c q=0 b=two"
    );
}

#[tokio::test]
async fn decodes_chunked_bodies_and_honours_expect_continue() {
    let server = start(web::Limits::default()).await;
    let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\n";
    assert_eq!(
        exchange(server.address, raw).await.1,
        "POST / q=0 b=Wikipedia"
    );

    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let mut buffer = Vec::new();
    stream
        .write_all(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut buffer).await.0, 100);
    stream.write_all(b"hello").await.unwrap();
    assert_eq!(
        read_response(&mut stream, &mut buffer).await.1,
        "POST / q=0 b=hello"
    );
}

#[tokio::test]
async fn refuses_oversized_and_malformed_requests_with_the_error_envelope() {
    let limits = web::Limits {
        max_head_bytes: 1024,
        max_body_bytes: 16,
        ..web::Limits::default()
    };
    let server = start(limits).await;
    let long = format!("GET /?{} HTTP/1.1\r\n\r\n", "a".repeat(2048));
    let (status, body) = exchange(server.address, long.as_bytes()).await;
    assert_eq!(status, 431);
    assert!(
        body.contains("\"Code\":\"InvalidParameter.TooLarge\""),
        "{body}"
    );

    let big = b"POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n";
    assert_eq!(exchange(server.address, big).await.0, 413);

    let (status, body) = exchange(server.address, b"NOT HTTP AT ALL\r\n\r\n").await;
    assert_eq!(status, 400);
    assert!(body.contains("\"RequestId\""), "{body}");

    let smuggle = b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_eq!(exchange(server.address, smuggle).await.0, 400);
}

#[tokio::test]
async fn a_panicking_handler_costs_one_500_not_the_connection() {
    let server = start(web::Limits::default()).await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    let mut buffer = Vec::new();
    stream
        .write_all(b"GET /?panic HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let (status, body) = read_response(&mut stream, &mut buffer).await;
    assert_eq!(status, 500);
    assert!(body.contains("InternalError"), "{body}");
    stream
        .write_all(b"GET /after HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_response(&mut stream, &mut buffer).await.0, 200);
}

#[tokio::test]
async fn shutdown_finishes_in_flight_requests_then_stops() {
    let server = start(web::Limits::default()).await;
    let mut slow = TcpStream::connect(server.address).await.unwrap();
    slow.write_all(b"GET /?slow HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let idle = TcpStream::connect(server.address).await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), SLOW_STARTED.notified())
        .await
        .expect("the slow request reaches its handler");
    server.stop.send(true).unwrap();

    let mut buffer = Vec::new();
    let (status, body) = read_response(&mut slow, &mut buffer).await;
    assert_eq!((status, body.as_str()), (200, "GET / q=4 b="));
    let head = String::from_utf8_lossy(&buffer).to_string();
    assert!(head.is_empty(), "nothing after the last response: {head}");
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("serve returns once connections are drained")
        .unwrap();
    drop(idle);
    assert!(TcpStream::connect(server.address).await.is_err());
}
