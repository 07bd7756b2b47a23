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
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

mod common;

use common::{Connection, Credentials, free_address, percentile, signed_query, wait_healthy};
use slbcert::audit::AuditRecord;
use slbcert::crypto::Binding;
use slbcert::store::{Certificate, CertificateKind, CertificateMaterial, Scope};

const CERTIFICATE: &str = include_str!("../tests/fixtures/pki/p256.crt");
const PRIVATE_KEY: &str = include_str!("../tests/fixtures/pki/p256.sec1.key");
const SAMPLES: &str = "bench-samples.json";

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

/// One account of the store, and one certificate of it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Sample {
    access_key_id: String,
    secret: String,
    certificate_id: String,
}

/// Fills `dir` unless an earlier run did; returns a sample per account.
async fn fill_once(dir: &Path, accounts: usize, certificates: usize) -> Vec<Sample> {
    if let Ok(text) = std::fs::read_to_string(dir.join(SAMPLES)) {
        return serde_json::from_str(&text).expect("samples");
    }
    let started = Instant::now();
    let data = slbcert::data_dir::open(dir, &Default::default(), "bench")
        .await
        .expect("open the data directory");
    let leaf =
        slbcert::pki::validate_server_certificate(CERTIFICATE, PRIVATE_KEY, slbcert::clock::now())
            .expect("the fixture validates")
            .chain
            .leaf;
    let audit = AuditRecord::new("bench-fill", "UploadServerCertificate", "bench");
    let mut samples = Vec::with_capacity(accounts);
    let per_account = certificates / accounts;
    let in_flight = Arc::new(tokio::sync::Semaphore::new(1024));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..accounts {
        let credentials =
            slbcert::accounts::create(data.store.as_ref(), &data.vault, &format!("a{n}"), &audit)
                .await
                .expect("create an account");
        let mut first = None;
        for _ in 0..per_account {
            let created_ms = slbcert::clock::unix_ms(slbcert::clock::now());
            let certificate = Certificate {
                id: slbcert::ids::certificate_id(&credentials.account_id, created_ms),
                kind: CertificateKind::Server,
                scope: Scope {
                    account_id: credentials.account_id.clone(),
                    region_id: "cn-hangzhou".into(),
                },
                name: String::new(),
                resource_group_id: "rg-bench".into(),
                fingerprint: leaf.fingerprint.clone(),
                common_name: leaf.common_name.clone(),
                subject_alternative_names: leaf.subject_alternative_names.clone(),
                encryption_algorithm: leaf.public_key.encryption().0.to_owned(),
                encryption_key_length: leaf.public_key.encryption().1,
                expire_ms: slbcert::clock::unix_ms(leaf.not_after),
                created_ms: created_ms - created_ms.rem_euclid(1000),
                ali_cloud: None,
                tags: Vec::new(),
            };
            first.get_or_insert_with(|| certificate.id.clone());
            let (store, vault) = (data.store.clone(), data.vault.clone());
            let line = audit.success(&certificate.id, Some(&certificate.fingerprint));
            let permit = in_flight.clone().acquire_owned().await.expect("semaphore");
            tasks.spawn(async move {
                let binding = Binding::CertificateKey {
                    account_id: certificate.scope.account_id.clone(),
                    region_id: certificate.scope.region_id.clone(),
                    certificate_id: certificate.id.clone(),
                };
                let sealed = vault
                    .seal(PRIVATE_KEY.as_bytes(), &binding)
                    .await
                    .expect("seal");
                let material = CertificateMaterial {
                    certificate_pem: CERTIFICATE.to_owned(),
                    private_key: Some(sealed),
                };
                store
                    .insert_certificate(certificate, material, None, line)
                    .await
                    .expect("insert");
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        samples.push(Sample {
            access_key_id: credentials.access_key_id.clone(),
            secret: credentials.access_key_secret.expose().to_owned(),
            certificate_id: first.unwrap_or_default(),
        });
        if (n + 1) % (accounts / 10).max(1) == 0 {
            eprintln!(
                "filled {} of {accounts} accounts in {:.0?}",
                n + 1,
                started.elapsed()
            );
        }
    }
    while tasks.join_next().await.is_some() {}
    let exported = data.export_audit().await.expect("export the audit trail");
    eprintln!(
        "filled {certificates} certificates in {:.0?} ({exported} audit lines exported)",
        started.elapsed()
    );
    std::fs::write(
        dir.join(SAMPLES),
        serde_json::to_string(&samples).expect("JSON"),
    )
    .expect("samples");
    samples
}

async fn measure(label: &str, dir: &Path, samples: &[Sample], stored: usize) {
    let address = free_address();
    let started = Instant::now();
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_slbcert"))
            .args([
                "serve",
                "--listen",
                &address.to_string(),
                "--data-plane",
                "off",
            ])
            .arg("--data-dir")
            .arg(dir)
            .env("SLBCERT_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()
            .expect("start slbcert"),
    );
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
    let rss = rss_bytes(server.0.id());
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
    let _ = server.0.kill();
    let _ = server.0.wait();
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

fn rss_bytes(pid: u32) -> u64 {
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
