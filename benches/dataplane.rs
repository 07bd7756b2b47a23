//! The data plane against HAProxy and nginx, in the same run, with the same certificates and
//! the same backend: new TLS handshakes per second (`openssl s_time -new`, no resumption, from
//! 1, 16 and 64 clients at once) and proxied keep-alive requests per second with their p99 (wrk,
//! 1, 16 and 64 connections), for an RSA-2048 and a P-256 certificate, in interleaved rounds
//! (each cell's median is printed), with the CPU time each proxy's processes spent per
//! handshake and per request (the rates depend on the clients sharing the cores; this does not).
//!
//! `cargo bench --bench dataplane` needs `wrk`, `nginx`, `haproxy` and `openssl` (Debian
//! packages wrk, nginx-light, haproxy, openssl); without them it says so and measures nothing.
//! nginx serves as the backend of every proxy (a fixed 200 answer) and, as other processes,
//! as a peer proxy; HAProxy runs with `nbthread 2`, nginx with a worker per core. Everything
//! shares the machine's cores. SLBCERT_BENCH_BIN runs another slbcert binary;
//! SLBCERT_BENCH_SECONDS sets the length of each wrk run (default 3), SLBCERT_BENCH_ROUNDS the
//! rounds (default 3), SLBCERT_BENCH_ONLY=NAME measures one proxy alone (to profile it).

mod common;
#[path = "dataplane/peers.rs"]
mod peers;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Connection, free_address, read_credentials, signed_query, wait_healthy};
use peers::{
    certificate, start_backend, start_haproxy, start_nginx, start_slbcert, wait_serving, which,
};

const LEVELS: [usize; 3] = [1, 16, 64];
const OFFSET: u16 = 30000;
const PROXIES: [&str; 3] = ["slbcert", "haproxy", "nginx"];
/// The certificate types, as `openssl req -newkey` takes them.
const KEYS: [(&str, &str); 2] = [("RSA-2048", "rsa:2048"), ("P-256", "ec")];

fn main() {
    for tool in ["wrk", "nginx", "haproxy", "openssl"] {
        if which(tool).is_none() {
            println!(
                "{tool} is not installed (apt-get install wrk nginx-light haproxy openssl): nothing measured"
            );
            return;
        }
    }
    let number = |name: &str, default: u64| -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let seconds = number("SLBCERT_BENCH_SECONDS", 3);
    let rounds = number("SLBCERT_BENCH_ROUNDS", 3);
    // SLBCERT_BENCH_ONLY=slbcert measures one proxy (to profile it); the others print 0.
    let only = std::env::var("SLBCERT_BENCH_ONLY").ok();
    let directory = tempfile::tempdir().expect("temporary directory");
    let dir = directory.path();
    for (kind, spec) in KEYS {
        certificate(dir, kind, spec);
    }
    let backend_port = free_address().port();
    // Per proxy, per certificate type: the address it serves.
    let mut targets: Vec<(&str, &str, String)> = Vec::new();
    let nginx_ports = KEYS.map(|_| free_address().port());
    let _backend = start_backend(dir, backend_port);
    let nginx = start_nginx(dir, backend_port, &nginx_ports);
    let haproxy_ports = KEYS.map(|_| free_address().port());
    let haproxy = start_haproxy(dir, backend_port, &haproxy_ports);

    let api = free_address();
    let binary =
        std::env::var("SLBCERT_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_slbcert").into());
    let slbcert = start_slbcert(
        &binary,
        api,
        &dir.join("data"),
        "127.77.0.0/24",
        OFFSET,
        &[],
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(wait_healthy(api));
    for (index, (kind, _)) in KEYS.iter().enumerate() {
        let certificate = std::fs::read_to_string(dir.join(format!("{kind}.crt"))).expect("cert");
        let key = std::fs::read_to_string(dir.join(format!("{kind}.key"))).expect("key");
        let listener = runtime.block_on(configure(
            api,
            &dir.join("data"),
            &certificate,
            &key,
            backend_port,
        ));
        targets.push(("slbcert", kind, listener));
        targets.push((
            "haproxy",
            kind,
            format!("127.0.0.1:{}", haproxy_ports[index]),
        ));
        targets.push(("nginx", kind, format!("127.0.0.1:{}", nginx_ports[index])));
    }
    for (_, _, address) in &targets {
        wait_serving(address);
    }

    // Every cell of every round, the proxies taking turns within each cell, so that a drift of
    // the shared machine's speed falls on all of them alike.
    let mut cells: std::collections::BTreeMap<Cell, Vec<Sample>> = Default::default();
    for _ in 0..rounds {
        for (k, (kind, _)) in KEYS.iter().enumerate() {
            for (l, connections) in LEVELS.iter().enumerate() {
                for (p, proxy) in PROXIES.iter().enumerate() {
                    if !only.as_ref().is_none_or(|only| only.contains(*proxy)) {
                        cells.entry((k, l, p)).or_default().push(Sample::default());
                        continue;
                    }
                    let (_, _, address) = targets
                        .iter()
                        .find(|(name, of, _)| name == proxy && of == kind)
                        .expect("a target");
                    let process = [&slbcert, &haproxy, &nginx][p];
                    let url = format!("https://{address}/");
                    let before = process.cpu();
                    let handshakes = new_handshakes(address, *connections, seconds);
                    let handshake_cpu = process.cpu() - before;
                    let requests = wrk(&url, *connections, seconds);
                    let request_cpu = process.cpu() - before - handshake_cpu;
                    let per = |cpu: Duration, rate: f64| {
                        cpu.as_secs_f64() * 1e6 / (rate * seconds as f64)
                    };
                    cells.entry((k, l, p)).or_default().push(Sample {
                        handshakes,
                        requests: requests.0,
                        p99: requests.1,
                        handshake_cpu: per(handshake_cpu, handshakes),
                        request_cpu: per(request_cpu, requests.0),
                    });
                }
            }
        }
    }
    println!(
        "Median of {rounds} interleaved rounds of {seconds} s per cell; ratios are slbcert's."
    );
    println!();
    println!(
        "CPU µs per op is what the proxy's own processes spent (user + system, /proc) per handshake or request."
    );
    println!();
    println!(
        "| certificate | connections | proxy | handshakes/s | CPU µs per handshake | proxied requests/s | CPU µs per request | p99 ms (keep-alive) |"
    );
    println!("|---|---:|---|---:|---:|---:|---:|---:|");
    for (k, (kind, _)) in KEYS.iter().enumerate() {
        for (l, connections) in LEVELS.iter().enumerate() {
            let medians: Vec<Sample> = (0..PROXIES.len())
                .map(|p| median(&cells[&(k, l, p)]))
                .collect();
            let ours = &medians[0];
            for (p, proxy) in PROXIES.iter().enumerate() {
                let m = &medians[p];
                let ratio = |ours: f64, theirs: f64| match p {
                    0 => String::new(),
                    _ => format!(" ({:.2}x)", ours / theirs),
                };
                println!(
                    "| {kind} | {connections} | {proxy} | {:.0}{} | {:.0} | {:.0}{} | {:.1} | {:.2} |",
                    m.handshakes,
                    ratio(ours.handshakes, m.handshakes),
                    m.handshake_cpu,
                    m.requests,
                    ratio(ours.requests, m.requests),
                    m.request_cpu,
                    m.p99,
                );
            }
        }
    }
}

/// (certificate type, connections, proxy), by index.
type Cell = (usize, usize, usize);

/// One proxy's figures in one cell of one round.
#[derive(Clone, Copy, Default)]
struct Sample {
    handshakes: f64,
    requests: f64,
    /// Of the keep-alive requests, in ms.
    p99: f64,
    /// The proxy's CPU time per handshake and per request, in µs.
    handshake_cpu: f64,
    request_cpu: f64,
}

/// Each figure's median over the rounds.
fn median(samples: &[Sample]) -> Sample {
    let of = |pick: fn(&Sample) -> f64| {
        let mut values: Vec<f64> = samples.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Sample {
        handshakes: of(|s| s.handshakes),
        requests: of(|s| s.requests),
        p99: of(|s| s.p99),
        handshake_cpu: of(|s| s.handshake_cpu),
        request_cpu: of(|s| s.request_cpu),
    }
}

/// Uploads the certificate and makes an HTTPS listener (TLS 1.2 and 1.3, like nginx here) in
/// front of the backend; returns the address it is served on.
async fn configure(
    api: std::net::SocketAddr,
    data: &Path,
    certificate: &str,
    key: &str,
    backend_port: u16,
) -> String {
    let credentials = read_credentials(data);
    let mut connection = Connection::open(api).await;
    let mut call = async |action: &str, params: &[(&str, &str)]| -> serde_json::Value {
        let body = connection
            .post(&signed_query(&credentials, action, params))
            .await;
        let value: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert!(value.get("Code").is_none(), "{action}: {body}");
        value
    };
    let uploaded = call(
        "UploadServerCertificate",
        &[("ServerCertificate", certificate), ("PrivateKey", key)],
    )
    .await;
    let certificate_id = uploaded["ServerCertificateId"]
        .as_str()
        .expect("id")
        .to_owned();
    let created = call("CreateLoadBalancer", &[]).await;
    let lb = created["LoadBalancerId"].as_str().expect("lb").to_owned();
    let address = created["Address"].as_str().expect("address").to_owned();
    let port = backend_port.to_string();
    call(
        "CreateLoadBalancerHTTPSListener",
        &[
            ("LoadBalancerId", &lb),
            ("ListenerPort", "443"),
            ("BackendServerPort", &port),
            ("Bandwidth", "-1"),
            ("HealthCheck", "off"),
            ("ServerCertificateId", &certificate_id),
            ("TLSCipherPolicy", "tls_cipher_policy_1_2_strict_with_1_3"),
        ],
    )
    .await;
    let servers = r#"[{"ServerId":"i-backend","ServerIp":"127.0.0.1"}]"#;
    call(
        "AddBackendServers",
        &[("LoadBalancerId", &lb), ("BackendServers", servers)],
    )
    .await;
    call(
        "StartLoadBalancerListener",
        &[("LoadBalancerId", &lb), ("ListenerPort", "443")],
    )
    .await;
    format!("{address}:{}", 443 + OFFSET)
}

/// Full TLS handshakes per second (no resumption: `openssl s_time -new`), from `clients`
/// processes at once, each handshaking again and again for `seconds`.
fn new_handshakes(address: &str, clients: usize, seconds: u64) -> f64 {
    let children: Vec<Child> = (0..clients)
        .map(|_| {
            Command::new("openssl")
                .args(["s_time", "-connect", address, "-new", "-time"])
                .arg(seconds.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("run openssl s_time")
        })
        .collect();
    children
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().expect("openssl s_time");
            let text = String::from_utf8_lossy(&out.stdout);
            // "123 connections in 3.00s; 41.00 connections/user sec, …" then
            // "123 connections in 4 real seconds, …": the first line's count over the wall time.
            let count: f64 = text
                .lines()
                .find(|line| line.contains("connections in") && line.contains("real seconds"))
                .and_then(|line| line.split_whitespace().next()?.parse().ok())
                .unwrap_or(0.0);
            count / seconds as f64
        })
        .sum()
}

/// wrk's keep-alive requests per second and p99 latency (ms).
fn wrk(url: &str, connections: usize, seconds: u64) -> (f64, f64) {
    let threads = connections.min(2).to_string();
    let mut command = Command::new("wrk");
    command
        .args(["-t", &threads, "-c", &connections.to_string()])
        .args(["-d", &format!("{seconds}s"), "--latency"]);
    let out = command.arg(url).output().expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    let rate = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("wrk said:\n{text}"));
    let p99 = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .map(|value| milliseconds(value.trim()))
        .unwrap_or(f64::NAN);
    (rate, p99)
}

fn milliseconds(text: &str) -> f64 {
    let (number, unit) =
        text.split_at(text.find(|c: char| c.is_alphabetic()).unwrap_or(text.len()));
    let value: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => value / 1000.0,
        "s" => value * 1000.0,
        _ => value,
    }
}
