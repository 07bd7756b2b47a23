//! What one upload costs the server, and how many it takes: N keep-alive clients send V1-signed
//! UploadServerCertificate requests (RSA-2048 certificate and PKCS#1 key in the URL, as the
//! SDKs send them) for a fixed time; every upload is validated, sealed, audited and fsynced
//! before its answer. The server's CPU time (user + system, from /proc/PID/stat) divided by the
//! uploads it acknowledged is the cost per upload.
//!
//! In the same run, with the same load generator, moto's IAM `UploadServerCertificate` (the
//! nearest peer: no validation, no durability), if `moto_server` is on the PATH
//! (`pip install 'moto[server]'`).
//!
//! `cargo bench --bench upload_cpu`. SLBCERT_BENCH_SECONDS sets each round's length (default 8);
//! SLBCERT_BENCH_BIN runs another slbcert binary, to compare builds; SLBCERT_BENCH_PROFILE=FILE
//! records the 16-client round with `perf record` into FILE (perf.data) for a flame graph.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{Connection, Credentials, cpu_time, free_address, percentile, read_credentials};
use slbcert::api::signature::percent_encode;

const CERTIFICATE: &str = include_str!("../tests/fixtures/pki/rsa2048.crt");
const PRIVATE_KEY: &str = include_str!("../tests/fixtures/pki/rsa2048.pkcs1.key");
const LEVELS: [usize; 3] = [16, 32, 64];

fn main() {
    let seconds: u64 = std::env::var("SLBCERT_BENCH_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let round = Duration::from_secs(seconds);
    let directory = tempfile::tempdir().expect("temporary directory");
    let address = free_address();
    let binary =
        std::env::var("SLBCERT_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_slbcert").into());
    let server = Server(
        Command::new(binary)
            .args(["serve", "--listen", &address.to_string()])
            .args(["--quota-server-certificates", "0"])
            .arg("--data-dir")
            .arg(directory.path())
            .env("SLBCERT_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()
            .expect("start slbcert"),
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        common::wait_healthy(address).await;
        let credentials = Arc::new(read_credentials(directory.path()));
        let slbcert = Target::Slbcert(Arc::new(UploadSigner::new(&credentials)));
        // Warm-up: page cache, connection pools, the first WAL pages.
        run_round(address, &slbcert, 16, Duration::from_secs(1), None).await;
        println!("| server | clients | uploads/s | p50 ms | p99 ms | server CPU µs/upload | server cores | load generator cores |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        for clients in LEVELS {
            let profile = (clients == 16)
                .then(|| std::env::var("SLBCERT_BENCH_PROFILE").ok())
                .flatten();
            let result = run_round(address, &slbcert, clients, round, profile.map(|file| (server.0.id(), file))).await;
            result.print("slbcert", clients);
        }
        match Moto::start() {
            Some(moto) => {
                common::wait_port(moto.address).await;
                let target = Target::Moto(Arc::new(std::sync::atomic::AtomicU64::new(0)));
                run_round(moto.address, &target, 16, Duration::from_secs(1), None).await;
                let result = run_round(moto.address, &target, 16, round, None).await;
                result.print("moto (IAM)", 16);
                drop(moto);
            }
            None => println!("\nmoto_server is not on the PATH: pip install 'moto[server]' to compare"),
        }
    });
}

/// Kills its process when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Moto {
    _child: Server,
    address: SocketAddr,
}

impl Moto {
    fn start() -> Option<Moto> {
        let address = free_address();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &address.port().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        Some(Moto {
            _child: Server(child),
            address,
        })
    }
}

#[derive(Clone)]
enum Target {
    Slbcert(Arc<UploadSigner>),
    /// The counter makes each certificate name unique, as IAM requires.
    Moto(Arc<std::sync::atomic::AtomicU64>),
}

impl Target {
    /// One upload's request; its answer names the stored certificate's ID on success.
    fn request(&self) -> (String, Vec<(&'static str, String)>, String, &'static str) {
        match self {
            Target::Slbcert(signer) => {
                let query = signer.query();
                (
                    format!("/?{query}"),
                    Vec::new(),
                    String::new(),
                    "\"ServerCertificateId\"",
                )
            }
            Target::Moto(counter) => {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let name = format!("bench-{n}");
                let body = [
                    ("Action", "UploadServerCertificate"),
                    ("Version", "2010-05-08"),
                    ("ServerCertificateName", name.as_str()),
                    ("CertificateBody", CERTIFICATE),
                    ("PrivateKey", PRIVATE_KEY),
                ]
                .iter()
                .map(|(key, value)| {
                    format!("{key}={}", slbcert::api::signature::percent_encode(value))
                })
                .collect::<Vec<_>>()
                .join("&");
                // moto picks the service from the credential scope; it checks no signature.
                let headers = vec![
                    ("Content-Type", "application/x-www-form-urlencoded".to_owned()),
                    (
                        "Authorization",
                        "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/iam/aws4_request, \
                         SignedHeaders=host, Signature=0"
                            .to_owned(),
                    ),
                ];
                ("/".to_owned(), headers, body, "<ServerCertificateId>")
            }
        }
    }
}

/// V1-signed uploads of the same certificate and key, as `common::signed_query` makes them but
/// with the constant parameters encoded once: the load generator shares the two cores with the
/// server, and should take as little of them as it can.
struct UploadSigner {
    access_key_id: String,
    secret: String,
    /// `ServerCertificate` and `PrivateKey`, encoded once (for the query) and twice (for the
    /// string to sign).
    certificate: (String, String),
    private_key: (String, String),
}

impl UploadSigner {
    fn new(credentials: &Credentials) -> UploadSigner {
        let both = |value: &str| {
            let once = percent_encode(value);
            let twice = percent_encode(&once);
            (once, twice)
        };
        UploadSigner {
            access_key_id: credentials.access_key_id.clone(),
            secret: credentials.secret.clone(),
            certificate: both(CERTIFICATE),
            private_key: both(PRIVATE_KEY),
        }
    }

    fn query(&self) -> String {
        let nonce = slbcert::ids::request_id();
        let timestamp = percent_encode(&slbcert::clock::iso8601(slbcert::clock::now()));
        // Every parameter, sorted by name as V1 signs them: (name, encoded once, twice).
        let pairs: [(&str, &str, String); 11] = [
            (
                "AccessKeyId",
                &self.access_key_id,
                percent_encode(&self.access_key_id),
            ),
            (
                "Action",
                "UploadServerCertificate",
                "UploadServerCertificate".into(),
            ),
            ("Format", "JSON", "JSON".into()),
            (
                "PrivateKey",
                &self.private_key.0,
                self.private_key.1.clone(),
            ),
            ("RegionId", "cn-hangzhou", "cn-hangzhou".into()),
            (
                "ServerCertificate",
                &self.certificate.0,
                self.certificate.1.clone(),
            ),
            ("SignatureMethod", "HMAC-SHA1", "HMAC-SHA1".into()),
            ("SignatureNonce", &nonce, nonce.clone()),
            ("SignatureVersion", "1.0", "1.0".into()),
            ("Timestamp", &timestamp, percent_encode(&timestamp)),
            ("Version", "2014-05-15", "2014-05-15".into()),
        ];
        let mut string_to_sign = String::from("POST&%2F&");
        let mut query = String::new();
        for (index, (name, once, twice)) in pairs.iter().enumerate() {
            if index > 0 {
                string_to_sign.push_str("%26");
                query.push('&');
            }
            string_to_sign.push_str(name);
            string_to_sign.push_str("%3D");
            string_to_sign.push_str(twice);
            query.push_str(name);
            query.push('=');
            query.push_str(once);
        }
        let signature = slbcert::api::signature::v1::sign(&self.secret, &string_to_sign);
        query.push_str("&Signature=");
        query.push_str(&percent_encode(&signature));
        query
    }
}

struct RoundResult {
    elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: Duration,
    /// This process's CPU time meanwhile.
    load_generator: Duration,
}

impl RoundResult {
    fn print(&self, server: &str, clients: usize) {
        let uploads = self.latencies.len() as f64;
        println!(
            "| {server} | {clients} | {:.0} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} |",
            uploads / self.elapsed.as_secs_f64(),
            percentile(&self.latencies, 0.50),
            percentile(&self.latencies, 0.99),
            self.cpu.as_secs_f64() * 1e6 / uploads,
            self.cpu.as_secs_f64() / self.elapsed.as_secs_f64(),
            self.load_generator.as_secs_f64() / self.elapsed.as_secs_f64(),
        );
    }
}

/// `clients` connections upload until `length` has passed; the server's CPU time is read around
/// the round, and `profile` (its PID and a perf.data path) is recorded with perf meanwhile.
async fn run_round(
    address: SocketAddr,
    target: &Target,
    clients: usize,
    length: Duration,
    profile: Option<(u32, String)>,
) -> RoundResult {
    let target = Arc::new(target.clone());
    let mut connections = Vec::new();
    for _ in 0..clients {
        connections.push(Connection::open(address).await);
    }
    let pid = server_pid(address);
    let recorder = profile.map(|(pid, file)| {
        Command::new("perf")
            .args([
                "record",
                "-q",
                "-e",
                "cpu-clock",
                "-F",
                "997",
                "--call-graph",
                "dwarf,32768",
            ])
            .args(["-p", &pid.to_string(), "-o", &file, "--", "sleep"])
            .arg(length.as_secs().to_string())
            .stdout(Stdio::null())
            .spawn()
            .expect("perf record")
    });
    let cpu_before = pid.map(cpu_time);
    let own_before = cpu_time(std::process::id());
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::new();
    for mut connection in connections {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let (path, headers, body, success) = target.request();
                let sent = Instant::now();
                let answer = connection.send(&path, &headers, &body).await;
                latencies.push(sent.elapsed());
                assert!(answer.contains(success), "upload failed: {answer}");
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client task"));
    }
    let elapsed = started.elapsed();
    let load_generator = cpu_time(std::process::id()).saturating_sub(own_before);
    let cpu = match (pid, cpu_before) {
        (Some(pid), Some(before)) => cpu_time(pid).saturating_sub(before),
        _ => Duration::ZERO,
    };
    if let Some(mut recorder) = recorder {
        let _ = recorder.wait();
    }
    latencies.sort();
    RoundResult {
        elapsed,
        latencies,
        cpu,
        load_generator,
    }
}

/// The PID of the process listening on `address` (ours, or moto's), from /proc/net/tcp.
fn server_pid(address: SocketAddr) -> Option<u32> {
    let port = format!(":{:04X}", address.port());
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    let inode = table.lines().skip(1).find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1)?.ends_with(&port) && fields.get(3) == Some(&"0A"))
            .then(|| fields[9].to_owned())
    })?;
    let socket = format!("socket:[{inode}]");
    for process in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = process.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(descriptors) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        for descriptor in descriptors.flatten() {
            if std::fs::read_link(descriptor.path())
                .is_ok_and(|link| link.to_string_lossy() == socket)
            {
                return Some(pid);
            }
        }
    }
    None
}
