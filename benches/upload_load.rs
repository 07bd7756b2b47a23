//! End to end over loopback: the release binary on a fresh data directory, driven by N keep-alive
//! connections that send V1-signed UploadServerCertificate requests (RSA-2048 certificate and
//! PKCS#1 key in the URL, as the SDKs send them). Every upload is validated and durably committed
//! (fsync) before its answer. Then DescribeServerCertificates with everything stored.
//!
//! Last, the same uploads on 4 connections while 4 more connections flood the server with
//! requests whose signature is wrong (each refused and audited), as a hostile client would.
//!
//! `cargo bench --bench upload_load` (SLBCERT_BENCH_UPLOADS sets uploads per level, default 2000;
//! SLBCERT_BENCH_BIN runs another slbcert binary, to compare builds). Client and server share the
//! machine's cores.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{
    Connection, Credentials, free_address, percentile, read_credentials, signed_query, wait_healthy,
};

const CERTIFICATE: &str = include_str!("../tests/fixtures/pki/rsa2048.crt");
const PRIVATE_KEY: &str = include_str!("../tests/fixtures/pki/rsa2048.pkcs1.key");
const LEVELS: [usize; 4] = [1, 4, 16, 64];

fn main() {
    let uploads: usize = std::env::var("SLBCERT_BENCH_UPLOADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let directory = tempfile::tempdir().expect("temporary directory");
    let address = free_address();
    let binary =
        std::env::var("SLBCERT_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_slbcert").into());
    let mut server = Command::new(binary)
        .args([
            "serve",
            "--listen",
            &address.to_string(),
            "--quota-server-certificates",
            "0",
        ])
        .arg("--data-dir")
        .arg(directory.path())
        .env("SLBCERT_LOG", "warn")
        .stderr(Stdio::null())
        .spawn()
        .expect("start slbcert");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        wait_healthy(address).await;
        let credentials = read_credentials(directory.path());
        println!("| uploads | connections | uploads/s | p50 ms | p99 ms | max ms |");
        println!("|---:|---:|---:|---:|---:|---:|");
        for connections in LEVELS {
            let (elapsed, mut latencies) = upload_round(address, &credentials, connections, uploads).await;
            latencies.sort();
            println!(
                "| {uploads} | {connections} | {:.0} | {:.2} | {:.2} | {:.2} |",
                uploads as f64 / elapsed.as_secs_f64(),
                percentile(&latencies, 0.50),
                percentile(&latencies, 0.99),
                percentile(&latencies, 1.0),
            );
        }
        flood_round(address, &credentials, uploads).await;
        rotation_rounds(address, &credentials).await;
        let stored = uploads * (LEVELS.len() + 1);
        let mut connection = Connection::open(address).await;
        let mut latencies = Vec::new();
        let mut size = 0;
        for _ in 0..20 {
            let started = Instant::now();
            let query = signed_query(&credentials, "DescribeServerCertificates", &[]);
            size = connection.post(&query).await.len();
            latencies.push(started.elapsed());
        }
        latencies.sort();
        println!(
            "\nDescribeServerCertificates, {stored} stored ({size} bytes): p50 {:.1} ms, max {:.1} ms",
            percentile(&latencies, 0.50),
            percentile(&latencies, 1.0)
        );
    });
    let _ = server.kill();
    let _ = server.wait();
}

/// Uploads on 4 connections while 4 others send wrongly signed deletes until they are done.
async fn flood_round(address: SocketAddr, credentials: &Credentials, uploads: usize) {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut flooders = Vec::new();
    for _ in 0..4 {
        let done = done.clone();
        let bogus = Credentials {
            access_key_id: credentials.access_key_id.clone(),
            secret: "not-the-secret".into(),
        };
        flooders.push(tokio::spawn(async move {
            let mut connection = Connection::open(address).await;
            let mut sent = 0u64;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let query = signed_query(
                    &bogus,
                    "DeleteServerCertificate",
                    &[("ServerCertificateId", "x")],
                );
                let body = connection.post(&query).await;
                assert!(body.contains("SignatureDoesNotMatch"), "{body}");
                sent += 1;
            }
            sent
        }));
    }
    let (elapsed, mut latencies) = upload_round(address, credentials, 4, uploads).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut refused = 0;
    for flooder in flooders {
        refused += flooder.await.expect("flooder");
    }
    latencies.sort();
    println!(
        "\nWith 4 connections flooding wrongly signed deletes: {uploads} uploads on 4 connections at \
         {:.0}/s (p50 {:.2} ms, p99 {:.2} ms), {:.0} refusals/s answered meanwhile",
        uploads as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        refused as f64 / elapsed.as_secs_f64(),
    );
}

/// Certificate rotations (`SetLoadBalancerHTTPSListenerAttribute ServerCertificateId=...`), the
/// write renewal tools make: on one load balancer with 50 HTTPS listeners (every write of one
/// load balancer is a compare-and-swap of its whole document, so concurrent writers race), and
/// spread over 16 load balancers.
async fn rotation_rounds(address: SocketAddr, credentials: &Credentials) {
    let mut connection = Connection::open(address).await;
    let mut certificates = Vec::new();
    for _ in 0..2 {
        let query = signed_query(
            credentials,
            "UploadServerCertificate",
            &[
                ("ServerCertificate", CERTIFICATE),
                ("PrivateKey", PRIVATE_KEY),
            ],
        );
        certificates.push(field(&connection.post(&query).await, "ServerCertificateId"));
    }
    let mut load_balancers = Vec::new();
    for _ in 0..16 {
        let query = signed_query(credentials, "CreateLoadBalancer", &[]);
        let id = field(&connection.post(&query).await, "LoadBalancerId");
        for port in 1..=50u16 {
            let port = port.to_string();
            let query = signed_query(
                credentials,
                "CreateLoadBalancerHTTPSListener",
                &[
                    ("LoadBalancerId", &id),
                    ("ListenerPort", &port),
                    ("BackendServerPort", "80"),
                    ("Bandwidth", "-1"),
                    ("HealthCheck", "on"),
                    ("ServerCertificateId", &certificates[0]),
                ],
            );
            let body = connection.post(&query).await;
            assert!(!body.contains("\"Code\""), "listener not created: {body}");
        }
        load_balancers.push(id);
    }
    println!("\n| rotations | connections | load balancers | rotations/s | p50 ms | p99 ms |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for (connections, spread) in [(1, 1), (16, 1), (16, 16)] {
        let rotations = 1600;
        let targets: Vec<String> = load_balancers[..spread].to_vec();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for client in 0..connections {
            let credentials = Credentials {
                access_key_id: credentials.access_key_id.clone(),
                secret: credentials.secret.clone(),
            };
            let (targets, certificates) = (targets.clone(), certificates.clone());
            tasks.push(tokio::spawn(async move {
                let mut connection = Connection::open(address).await;
                let mut latencies = Vec::new();
                for n in 0..rotations / connections {
                    let lb = &targets[(client + n) % targets.len()];
                    let port = (1 + (client * 7 + n) % 50).to_string();
                    let certificate = &certificates[n % 2];
                    let query = signed_query(
                        &credentials,
                        "SetLoadBalancerHTTPSListenerAttribute",
                        &[
                            ("LoadBalancerId", lb),
                            ("ListenerPort", &port),
                            ("ServerCertificateId", certificate),
                        ],
                    );
                    let sent = Instant::now();
                    let body = connection.post(&query).await;
                    latencies.push(sent.elapsed());
                    assert!(!body.contains("\"Code\""), "rotation failed: {body}");
                }
                latencies
            }));
        }
        let mut latencies = Vec::new();
        for task in tasks {
            latencies.extend(task.await.expect("client task"));
        }
        let elapsed = started.elapsed();
        latencies.sort();
        println!(
            "| {rotations} | {connections} | {spread} | {:.0} | {:.2} | {:.2} |",
            rotations as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
        );
    }
}

/// The string value of `"name":"..."` in a JSON answer.
fn field(body: &str, name: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(body).expect("a JSON answer");
    value[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {body}"))
        .to_owned()
}

async fn upload_round(
    address: SocketAddr,
    credentials: &Credentials,
    connections: usize,
    uploads: usize,
) -> (Duration, Vec<Duration>) {
    let per_connection = uploads / connections;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let credentials = Credentials {
            access_key_id: credentials.access_key_id.clone(),
            secret: credentials.secret.clone(),
        };
        tasks.push(tokio::spawn(async move {
            let mut connection = Connection::open(address).await;
            let mut latencies = Vec::with_capacity(per_connection);
            for _ in 0..per_connection {
                let query = signed_query(
                    &credentials,
                    "UploadServerCertificate",
                    &[
                        ("ServerCertificate", CERTIFICATE),
                        ("PrivateKey", PRIVATE_KEY),
                    ],
                );
                let sent = Instant::now();
                let body = connection.post(&query).await;
                latencies.push(sent.elapsed());
                assert!(
                    body.contains("\"ServerCertificateId\""),
                    "upload failed: {body}"
                );
            }
            latencies
        }));
    }
    let mut latencies = Vec::with_capacity(uploads);
    for task in tasks {
        latencies.extend(task.await.expect("client task"));
    }
    (started.elapsed(), latencies)
}
