//! What the benchmarks share: a V1-signed API client over a plain keep-alive connection, and
//! starting points (credentials, a free address, waiting for health).
#![allow(dead_code)] // each bench uses part of it

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use slbcert::api::params::RpcParams;
use slbcert::api::signature::{percent_encode, v1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub mod fill;

#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret: String,
}

pub fn signed_query(credentials: &Credentials, action: &str, extra: &[(&str, &str)]) -> String {
    signed_query_of("2014-05-15", credentials, action, extra)
}

/// A V1-signed query of `action` in product `version` (RAM, STS, ...).
pub fn signed_query_of(
    version: &str,
    credentials: &Credentials,
    action: &str,
    extra: &[(&str, &str)],
) -> String {
    let nonce = slbcert::ids::request_id();
    let timestamp = slbcert::clock::iso8601(slbcert::clock::now());
    let mut pairs = vec![
        ("Action", action),
        ("Version", version),
        ("AccessKeyId", credentials.access_key_id.as_str()),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce.as_str()),
        ("Timestamp", timestamp.as_str()),
        ("Format", "JSON"),
        ("RegionId", "cn-hangzhou"),
    ];
    pairs.extend_from_slice(extra);
    let encoded: Vec<(&str, String)> = pairs
        .iter()
        .map(|(key, value)| (*key, percent_encode(value)))
        .collect();
    let query = encoded
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    // The string to sign straight from the pairs (names need no encoding), without decoding
    // our own query again: the load generator shares the cores with the server.
    let mut sorted: Vec<&(&str, String)> = encoded.iter().collect();
    sorted.sort_unstable_by_key(|(key, _)| *key);
    let canonical = sorted
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    let string_to_sign = format!("POST&%2F&{}", percent_encode(&canonical));
    debug_assert_eq!(
        string_to_sign,
        v1::string_to_sign(
            "POST",
            &RpcParams::parse(&query, b"", None).expect("parses")
        )
    );
    let signature = v1::sign(&credentials.secret, &string_to_sign);
    format!("{query}&Signature={}", percent_encode(&signature))
}

pub struct Connection {
    address: SocketAddr,
    stream: TcpStream,
    buffer: Vec<u8>,
    /// The server said `Connection: close` (moto's server does after every answer).
    closed: bool,
}

impl Connection {
    pub async fn open(address: SocketAddr) -> Connection {
        let stream = TcpStream::connect(address).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Connection {
            address,
            stream,
            buffer: Vec::new(),
            closed: false,
        }
    }

    pub async fn post(&mut self, query: &str) -> String {
        self.send(&format!("/?{query}"), &[], "").await
    }

    /// POSTs `body` to `target` with `headers` and returns the answer's body.
    pub async fn send(&mut self, target: &str, headers: &[(&str, String)], body: &str) -> String {
        if self.closed {
            *self = Connection::open(self.address).await;
        }
        let mut request = format!("POST {target} HTTP/1.1\r\nHost: bench\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        self.stream
            .write_all(request.as_bytes())
            .await
            .expect("write");
        loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        let (name, value) = line.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim())
                    })
                    .and_then(|n| n.parse().ok())
                    .expect("content-length");
                if self.buffer.len() >= end + 4 + length {
                    self.closed = head.to_ascii_lowercase().contains("\r\nconnection: close");
                    let body = String::from_utf8_lossy(&self.buffer[end + 4..end + 4 + length])
                        .to_string();
                    self.buffer.drain(..end + 4 + length);
                    return body;
                }
            }
            let mut chunk = vec![0u8; 64 * 1024];
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "server closed the connection");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}

pub fn percentile(sorted: &[Duration], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

pub fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

pub async fn wait_healthy(address: SocketAddr) {
    for _ in 0..200 {
        if let Ok(mut stream) = TcpStream::connect(address).await {
            let _ = stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: b\r\n\r\n")
                .await;
            let mut reply = [0u8; 12];
            if stream.read_exact(&mut reply).await.is_ok() && reply.ends_with(b"200") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("slbcert did not become healthy");
}

/// Waits until something accepts connections on `address`.
pub async fn wait_port(address: SocketAddr) {
    for _ in 0..400 {
        if TcpStream::connect(address).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing listens on {address}");
}

pub fn read_credentials(directory: &std::path::Path) -> Credentials {
    let text = std::fs::read_to_string(directory.join("credentials")).expect("credentials");
    let value: serde_json::Value = serde_json::from_str(&text).expect("credentials JSON");
    Credentials {
        access_key_id: value["AccessKeyId"]
            .as_str()
            .expect("AccessKeyId")
            .to_owned(),
        secret: value["AccessKeySecret"]
            .as_str()
            .expect("AccessKeySecret")
            .to_owned(),
    }
}

/// User plus system CPU time of process `pid` and its threads.
pub fn cpu_time(pid: u32) -> Duration {
    try_cpu_time(pid).expect("/proc/PID/stat")
}

/// `cpu_time`, or None if the process is gone.
fn try_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<u64> = rest
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // utime and stime are fields 14 and 15, in clock ticks.
    let ticks = fields.get(11)? + fields.get(12)?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// The CPU time of every running process whose command name is `name` (`postgres` counts
/// every backend and helper of the database server).
pub fn cpu_by_name(name: &str) -> Duration {
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return Duration::ZERO;
    };
    processes
        .flatten()
        .filter_map(|process| process.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim_end() == name)
        })
        .filter_map(try_cpu_time)
        .sum()
}

/// A fresh master key in `directory`, owner-only, for nodes that must share it; its path.
pub fn write_master_key(directory: &std::path::Path) -> std::path::PathBuf {
    let path = directory.join("master.key");
    std::fs::write(&path, base64_key()).expect("master key");
    set_owner_only(&path);
    path
}

fn base64_key() -> String {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).expect("random bytes");
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key)
}

fn set_owner_only(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

/// One `slbcert serve`, killed when dropped.
pub struct Node {
    child: Child,
    pub address: SocketAddr,
    pub data_dir: std::path::PathBuf,
}

impl Node {
    pub fn start(data_dir: &Path, master_key: &Path, database: Option<&str>) -> Node {
        let address = free_address();
        let mut command = Command::new(env!("CARGO_BIN_EXE_slbcert"));
        command
            .args(["serve", "--listen", &address.to_string()])
            .args(["--quota-server-certificates", "0", "--data-plane", "off"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--master-key-file")
            .arg(master_key)
            .env("SLBCERT_LOG", "warn")
            .env_remove("SLBCERT_DATABASE_URL")
            .stderr(Stdio::null());
        if let Some(url) = database {
            command.args(["--database-url", url]);
        }
        Node {
            child: command.spawn().expect("start slbcert"),
            address,
            data_dir: data_dir.to_owned(),
        }
    }
}

impl Node {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resident set of process `pid`, in bytes.
pub fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| {
            value
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// `slbcert serve` on a data directory at a free address, data plane off, with `extra` flags;
/// killed when dropped.
pub struct Served {
    child: Child,
    pub address: SocketAddr,
}

impl Served {
    pub fn start(data_dir: &Path, extra: &[&str]) -> Served {
        let address = free_address();
        let child = Command::new(env!("CARGO_BIN_EXE_slbcert"))
            .args([
                "serve",
                "--listen",
                &address.to_string(),
                "--data-plane",
                "off",
            ])
            .args(extra)
            .arg("--data-dir")
            .arg(data_dir)
            .env("SLBCERT_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()
            .expect("start slbcert");
        Served { child, address }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
