//! A big store: SLBCERT_BENCH_CERTIFICATES server certificates (default 1,000,000) across
//! SLBCERT_BENCH_ACCOUNTS accounts (default 10,000), filled through the library (accounts
//! created, keys sealed, records audited and group-committed as uploads are; the certificate
//! is one fixture, validated once). Then the release binary serves it, and the same binary a
//! store of 100 certificates, for comparison: start-up time, DescribeServerCertificates by ID
//! and an account's full listing (100 certificates) over a keep-alive connection, the server's
//! RSS, and the database size per certificate.
//!
//! `cargo bench --bench scale`; SLBCERT_BENCH_SCALE_DIR keeps the filled store there (and reuses
//! it on the next run) instead of a temporary directory.

use std::path::Path;
use std::time::Instant;

mod common;

use common::fill::{Sample, fill_once};
use common::{Connection, Credentials, Served, percentile, rss_bytes, signed_query, wait_healthy};

fn main() {
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let certificates = number("SLBCERT_BENCH_CERTIFICATES", 1_000_000);
    let accounts = number("SLBCERT_BENCH_ACCOUNTS", 10_000);
    let temporary = tempfile::tempdir().expect("temporary directory");
    let big = std::env::var("SLBCERT_BENCH_SCALE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| temporary.path().join("big"));
    let small = temporary.path().join("small");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let big_samples = fill_once(&big, accounts, certificates).await;
        let small_samples = fill_once(&small, 1, 100).await;
        println!("| store | start-up ms | by ID p50 ms | by ID p99 ms | listing of 100 p50 ms | listing p99 ms | RSS MB | database bytes per certificate |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        for (label, dir, samples, stored) in [
            (format!("{certificates} certificates, {accounts} accounts"), &big, &big_samples, certificates),
            ("100 certificates, 1 account".to_owned(), &small, &small_samples, 100),
        ] {
            measure(&label, dir, samples, stored).await;
        }
    });
}

async fn measure(label: &str, dir: &Path, samples: &[Sample], stored: usize) {
    let started = Instant::now();
    let server = Served::start(dir, &[]);
    let address = server.address;
    wait_healthy(address).await;
    let start_up = started.elapsed();
    let mut by_id = Vec::new();
    let mut listing = Vec::new();
    let mut connection = Connection::open(address).await;
    for round in 0..2000 {
        let sample = &samples[(round * 7919) % samples.len()];
        let credentials = Credentials {
            access_key_id: sample.access_key_id.clone(),
            secret: sample.secret.clone(),
        };
        let query = signed_query(
            &credentials,
            "DescribeServerCertificates",
            &[("ServerCertificateId", &sample.certificate_id)],
        );
        let sent = Instant::now();
        let body = connection.post(&query).await;
        by_id.push(sent.elapsed());
        assert!(body.contains(&sample.certificate_id), "{body}");
        if round % 10 == 0 {
            let query = signed_query(&credentials, "DescribeServerCertificates", &[]);
            let sent = Instant::now();
            let body = connection.post(&query).await;
            listing.push(sent.elapsed());
            let listed = body.matches("\"ServerCertificateId\"").count();
            assert_eq!(
                listed,
                stored / samples.len(),
                "{}",
                &body[..body.len().min(300)]
            );
        }
    }
    by_id.sort();
    listing.sort();
    let rss = rss_bytes(server.pid());
    let database = ["slbcert.db", "slbcert.db-wal"]
        .iter()
        .filter_map(|file| std::fs::metadata(dir.join(file)).ok())
        .map(|meta| meta.len())
        .sum::<u64>();
    println!(
        "| {label} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} |",
        start_up.as_secs_f64() * 1000.0,
        percentile(&by_id, 0.5),
        percentile(&by_id, 0.99),
        percentile(&listing, 0.5),
        percentile(&listing, 0.99),
        rss as f64 / 1e6,
        database as f64 / stored as f64,
    );
}
