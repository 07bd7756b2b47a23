//! One node on SQLite against one and two nodes on PostgreSQL, with the same load generator in
//! the same run: 32 keep-alive clients upload (V1-signed `UploadServerCertificate`, RSA-2048,
//! each one validated, sealed, audited and durable before its answer) for a fixed time, then
//! describe single certificates by ID (`DescribeServerCertificates`). With two nodes the
//! clients alternate between them, as behind a TCP balancer.
//!
//! `cargo bench --bench nodes`. SLBCERT_BENCH_SECONDS sets each round's length (default 8);
//! SLBCERT_BENCH_DATABASE_URL names the PostgreSQL server (default the local one of these
//! machines, postgres://postgres@127.0.0.1:5432/test); SLBCERT_BENCH_TLS_DATABASE_URL, if set,
//! one to reach over TLS (scripts/pg-tls-cluster prints one, with sslmode=verify-full), whose
//! rows follow. Each PostgreSQL configuration gets a fresh database, dropped afterwards. Every
//! process shares the machine's cores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{
    Connection, Credentials, Node, cpu_by_name, cpu_time, percentile, read_credentials,
    signed_query,
};

const CERTIFICATE: &str = include_str!("../tests/fixtures/pki/rsa2048.crt");
const PRIVATE_KEY: &str = include_str!("../tests/fixtures/pki/rsa2048.pkcs1.key");
const CLIENTS: usize = 32;

fn main() {
    let seconds: u64 = std::env::var("SLBCERT_BENCH_SECONDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(8);
    let round = Duration::from_secs(seconds);
    let base = std::env::var("SLBCERT_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        println!(
            "| store | nodes | clients | uploads/s | upload p50 ms | upload p99 ms | cores (slbcert / postgres / load) | describes/s | describe p50 ms | describe p99 ms | cores (slbcert / postgres / load) |"
        );
        println!("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---|");
        measure("SQLite", 1, None, round).await;
        let tls = std::env::var("SLBCERT_BENCH_TLS_DATABASE_URL").ok();
        let servers = [("PostgreSQL", Some(base)), ("PostgreSQL over TLS", tls)];
        for (store, url) in servers {
            let Some(url) = url else { continue };
            for nodes in [1, 2] {
                match Database::create(&url).await {
                    Ok(database) => {
                        measure(store, nodes, Some(&database.url), round).await;
                        database.drop().await;
                    }
                    Err(error) => {
                        println!("\n{store} at {url} is not usable ({error}): its rows are skipped");
                        break;
                    }
                }
            }
        }
    });
}

async fn measure(store: &str, nodes: usize, database: Option<&str>, round: Duration) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let master_key = common::write_master_key(directory.path());
    let mut servers = Vec::new();
    for n in 0..nodes {
        let data_dir = directory.path().join(format!("node{n}"));
        servers.push(Node::start(&data_dir, &master_key, database));
        // The first node makes the schema and the first account; the others find them.
        common::wait_healthy(servers[n].address).await;
    }
    let credentials = Arc::new(
        servers
            .iter()
            .find(|node| node.data_dir.join("credentials").exists())
            .map(|node| read_credentials(&node.data_dir))
            .expect("a node made the first account"),
    );
    let addresses: Vec<SocketAddr> = servers.iter().map(|node| node.address).collect();
    let upload = |credentials: &Credentials| {
        signed_query(
            credentials,
            "UploadServerCertificate",
            &[
                ("ServerCertificate", CERTIFICATE),
                ("PrivateKey", PRIVATE_KEY),
            ],
        )
    };
    run(&addresses, &credentials, 8, Duration::from_secs(1), upload).await;
    let sample = Cores::start();
    let (uploads, upload_latencies, ids) =
        run(&addresses, &credentials, CLIENTS, round, upload).await;
    let upload_cores = sample.end();
    let ids = Arc::new(ids);
    let describe = move |credentials: &Credentials| {
        let id = &ids[fastrand_index(ids.len())];
        signed_query(
            credentials,
            "DescribeServerCertificates",
            &[("ServerCertificateId", id.as_str())],
        )
    };
    let sample = Cores::start();
    let (describes, describe_latencies, _) =
        run(&addresses, &credentials, CLIENTS, round, describe).await;
    let describe_cores = sample.end();
    println!(
        "| {store} | {nodes} | {CLIENTS} | {:.0} | {:.2} | {:.2} | {upload_cores} | {:.0} | {:.2} | {:.2} | {describe_cores} |",
        uploads,
        percentile(&upload_latencies, 0.50),
        percentile(&upload_latencies, 0.99),
        describes,
        percentile(&describe_latencies, 0.50),
        percentile(&describe_latencies, 0.99),
    );
}

/// `clients` connections, spread over `addresses`, send `request()` until `length` passed:
/// requests per second, sorted latencies, and the certificate IDs the answers named.
async fn run(
    addresses: &[SocketAddr],
    credentials: &Arc<Credentials>,
    clients: usize,
    length: Duration,
    request: impl Fn(&Credentials) -> String + Send + Sync + Clone + 'static,
) -> (f64, Vec<Duration>, Vec<String>) {
    let mut connections = Vec::new();
    for n in 0..clients {
        connections.push(Connection::open(addresses[n % addresses.len()]).await);
    }
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::new();
    for mut connection in connections {
        let (credentials, request) = (credentials.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut ids) = (Vec::new(), Vec::new());
            while Instant::now() < deadline {
                let query = request(&credentials);
                let sent = Instant::now();
                let answer = connection.post(&query).await;
                latencies.push(sent.elapsed());
                let id = field(&answer, "ServerCertificateId")
                    .unwrap_or_else(|| panic!("the request failed: {answer}"));
                ids.push(id);
            }
            (latencies, ids)
        }));
    }
    let (mut latencies, mut ids) = (Vec::new(), Vec::new());
    for task in tasks {
        let (more, named) = task.await.expect("client task");
        latencies.extend(more);
        ids.extend(named);
    }
    let rate = latencies.len() as f64 / started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    (rate, latencies, ids)
}

/// Cores used during a round by every slbcert process, every PostgreSQL process, and this load
/// generator: on two cores, who has them decides the throughput.
struct Cores {
    started: Instant,
    slbcert: Duration,
    postgres: Duration,
    load: Duration,
}

impl Cores {
    fn start() -> Cores {
        Cores {
            started: Instant::now(),
            slbcert: cpu_by_name("slbcert"),
            postgres: cpu_by_name("postgres"),
            load: cpu_time(std::process::id()),
        }
    }

    fn end(self) -> String {
        let seconds = self.started.elapsed().as_secs_f64();
        let cores =
            |now: Duration, before: Duration| now.saturating_sub(before).as_secs_f64() / seconds;
        format!(
            "{:.2} / {:.2} / {:.2}",
            cores(cpu_by_name("slbcert"), self.slbcert),
            cores(cpu_by_name("postgres"), self.postgres),
            cores(cpu_time(std::process::id()), self.load),
        )
    }
}

/// The first `"name":"value"` of a JSON answer.
fn field(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("\"{name}\":\""))? + name.len() + 4;
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}

fn fastrand_index(len: usize) -> usize {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("random bytes");
    (u64::from_le_bytes(bytes) % len as u64) as usize
}

/// A fresh database on the server of `base`, for one configuration.
struct Database {
    admin: deadpool_postgres::Object,
    name: String,
    url: String,
}

impl Database {
    /// Through slbcert's own connector, which reads the URL's TLS parameters.
    async fn create(base: &str) -> Result<Database, Box<dyn std::error::Error>> {
        let pool = slbcert::store::postgres::connect(base, 1)?;
        let admin = slbcert::store::postgres::connection(&pool).await?;
        let name = format!(
            "slbcert_bench_{}_{}",
            std::process::id(),
            fastrand_index(1 << 30)
        );
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        // Another database on the same server: the query (sslmode, sslrootcert) stays.
        let (address, query) = base.split_once('?').unwrap_or((base, ""));
        let (prefix, _) = address.rsplit_once('/').unwrap_or((address, ""));
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        Ok(Database {
            admin,
            url: format!("{prefix}/{name}{query}"),
            name,
        })
    }

    async fn drop(self) {
        // The nodes of the configuration are gone; FORCE covers any straggler connection.
        let _ = self
            .admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}
