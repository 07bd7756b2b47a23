//! A Prometheus scrape of `/metrics` on a large store: every stored certificate is one
//! `slbcert_certificate_expiry_seconds` series, so the answer grows with the store. For each
//! size in SLBCERT_BENCH_METRICS_SIZES (default 10000,100000; 100 certificates per account,
//! filled through the library as `scale` fills) the release binary serves the store and is
//! scraped 5 times after one warm-up scrape: the time to the whole answer, its size, the
//! server's CPU per scrape and its RSS after, and, for comparison, an API call made while a
//! scrape runs.
//!
//! Then what the write metrics show: on a fresh store, N keep-alive clients upload for 3 s
//! (N = 1, 16, 64), and `slbcert_write_batch_writes` says how many writes each commit carried.
//!
//! `cargo bench --bench metrics`; SLBCERT_BENCH_METRICS_DIR keeps the filled stores there (one
//! directory per size, reused by the next run).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

mod common;

use common::fill::fill_once;
use common::{Connection, Credentials, Served, cpu_time, rss_bytes, signed_query, wait_healthy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SCRAPES: usize = 5;

fn main() {
    let sizes: Vec<usize> = std::env::var("SLBCERT_BENCH_METRICS_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let temporary = tempfile::tempdir().expect("temporary directory");
    let root = std::env::var("SLBCERT_BENCH_METRICS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| temporary.path().to_owned());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        println!("| certificates | scrape p50 ms | scrape max ms | answer MB | server CPU ms per scrape | RSS MB after | DescribeServerCertificates during a scrape, ms |");
        println!("|---:|---:|---:|---:|---:|---:|---:|");
        for size in sizes {
            let dir = root.join(format!("metrics-{size}"));
            let samples = fill_once(&dir, (size / 100).max(1), size).await;
            let credentials = Credentials {
                access_key_id: samples[0].access_key_id.clone(),
                secret: samples[0].secret.clone(),
            };
            measure(size, &dir, &credentials).await;
        }
        println!();
        println!("| concurrent uploaders | uploads/s | commits/s | writes per commit (mean) | commit p50 ms (histogram bucket) |");
        println!("|---:|---:|---:|---:|---:|");
        for clients in [1, 16, 64] {
            batches(&root.join(format!("batches-{clients}")), clients).await;
        }
    });
}

const CERTIFICATE: &str = include_str!("../tests/fixtures/pki/p256.crt");
const PRIVATE_KEY: &str = include_str!("../tests/fixtures/pki/p256.sec1.key");

/// Uploads from `clients` connections for 3 s on a fresh store, then reads the write metrics.
async fn batches(dir: &std::path::Path, clients: usize) {
    let _ = std::fs::remove_dir_all(dir);
    let server = Served::start(
        dir,
        &[
            "--quota-server-certificates",
            "0",
            "--metrics-token",
            METRICS_TOKEN,
        ],
    );
    let address = server.address;
    wait_healthy(address).await;
    let credentials = common::read_credentials(dir);
    let before = scrape(address).await.1;
    let deadline = Instant::now() + Duration::from_secs(3);
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let credentials = credentials.clone();
            tokio::spawn(async move {
                let mut connection = Connection::open(address).await;
                let mut uploads = 0usize;
                while Instant::now() < deadline {
                    let query = signed_query(
                        &credentials,
                        "UploadServerCertificate",
                        &[
                            ("ServerCertificate", CERTIFICATE),
                            ("PrivateKey", PRIVATE_KEY),
                        ],
                    );
                    let body = connection.post(&query).await;
                    assert!(body.contains("ServerCertificateId"), "{body}");
                    uploads += 1;
                }
                uploads
            })
        })
        .collect();
    let mut uploads = 0;
    for task in tasks {
        uploads += task.await.expect("client");
    }
    let after = scrape(address).await.1;
    let value = |text: &str, name: &str| -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0.0)
    };
    let delta = |name: &str| value(&after, name) - value(&before, name);
    let commits = delta("slbcert_write_batch_writes_count");
    let writes = delta("slbcert_write_batch_writes_sum");
    println!(
        "| {clients} | {:.0} | {:.0} | {:.2} | {} |",
        uploads as f64 / 3.0,
        commits / 3.0,
        writes / commits,
        median_bucket(&before, &after, commits),
    );
}

/// The upper bound (ms) of the commit-duration bucket that holds the median commit.
fn median_bucket(before: &str, after: &str, commits: f64) -> String {
    let buckets = |text: &str| -> Vec<(String, f64)> {
        text.lines()
            .filter_map(|line| {
                let rest =
                    line.strip_prefix("slbcert_write_commit_duration_seconds_bucket{le=\"")?;
                let (bound, count) = rest.split_once("\"} ")?;
                Some((bound.to_owned(), count.split(' ').next()?.parse().ok()?))
            })
            .collect()
    };
    let before = buckets(before);
    for (bound, count) in buckets(after) {
        let earlier = before
            .iter()
            .find(|(b, _)| *b == bound)
            .map_or(0.0, |(_, c)| *c);
        if count - earlier >= commits / 2.0 {
            return match bound.parse::<f64>() {
                Ok(seconds) => format!("≤ {:.2}", seconds * 1000.0),
                Err(_) => bound,
            };
        }
    }
    "-".into()
}

async fn measure(size: usize, dir: &std::path::Path, credentials: &Credentials) {
    let server = Served::start(dir, &["--metrics-token", METRICS_TOKEN]);
    let address = server.address;
    wait_healthy(address).await;
    let (_, bytes) = scrape(address).await;
    let series = bytes
        .matches("\nslbcert_certificate_expiry_seconds{")
        .count();
    let described = size.min(slbcert::metrics::DEFAULT_CERTIFICATE_SERIES);
    assert_eq!(
        series, described,
        "one series per certificate, up to the cap"
    );
    let mut times = Vec::new();
    let cpu_before = cpu_time(server.pid());
    for _ in 0..SCRAPES {
        times.push(scrape(address).await.0);
    }
    let cpu = (cpu_time(server.pid()) - cpu_before) / SCRAPES as u32;
    times.sort();
    // An API call while a scrape is under way: does a scrape hold up the API?
    let query = signed_query(
        credentials,
        "DescribeServerCertificates",
        &[("PageSize", "1")],
    );
    let during = tokio::spawn(scrape(address));
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut connection = Connection::open(address).await;
    let sent = Instant::now();
    let body = connection.post(&query).await;
    let api = sent.elapsed();
    assert!(body.contains("ServerCertificates"), "{body}");
    during.await.expect("scrape");
    println!(
        "| {size} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {:.1} |",
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
        bytes.len() as f64 / 1e6,
        ms(cpu),
        rss_bytes(server.pid()) as f64 / 1e6,
        ms(api),
    );
}

/// The API's address serves `/metrics` only behind a token.
const METRICS_TOKEN: &str = "bench-metrics-token";

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// One `GET /metrics` on a new connection: the time to the last byte, and the answer.
async fn scrape(address: SocketAddr) -> (Duration, String) {
    let started = Instant::now();
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream
        .write_all(
            format!(
                "GET /metrics HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {METRICS_TOKEN}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let elapsed = started.elapsed();
    let text = String::from_utf8(answer).expect("UTF-8");
    assert!(
        text.starts_with("HTTP/1.1 200"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(text.ends_with("# EOF\n"), "a whole exposition");
    (elapsed, text)
}
