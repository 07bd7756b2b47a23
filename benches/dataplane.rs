//! The data plane against HAProxy and nginx, in the same run, with the same certificates and
//! the same backend: new TLS handshakes per second (`openssl s_time -new`, no resumption, from
//! 1, 16 and 64 clients at once) and proxied keep-alive requests per second with their p99 (wrk,
//! 1, 16 and 64 connections), for an RSA-2048 and a P-256 certificate, in interleaved rounds
//! (each cell's median is printed).
//!
//! `cargo bench --bench dataplane` needs `wrk`, `nginx`, `haproxy` and `openssl` (Debian
//! packages wrk, nginx-light, haproxy, openssl); without them it says so and measures nothing.
//! nginx serves as the backend of every proxy (a fixed 200 answer) and, separately configured,
//! as a peer proxy; HAProxy runs with `nbthread 2`, nginx with a worker per core. Everything
//! shares the machine's cores. SLBCERT_BENCH_BIN runs another slbcert binary;
//! SLBCERT_BENCH_SECONDS sets the length of each wrk run (default 3), SLBCERT_BENCH_ROUNDS the
//! rounds (default 3), SLBCERT_BENCH_ONLY=NAME measures one proxy alone (to profile it).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Connection, free_address, read_credentials, signed_query, wait_healthy};

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
    let _nginx = Reaped(start_nginx(dir, backend_port, &nginx_ports));
    let haproxy_ports = KEYS.map(|_| free_address().port());
    let _haproxy = Reaped(start_haproxy(dir, backend_port, &haproxy_ports));

    let api = free_address();
    let binary =
        std::env::var("SLBCERT_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_slbcert").into());
    let _slbcert = Reaped(
        Command::new(binary)
            .args([
                "serve",
                "--listen",
                &api.to_string(),
                "--address-pool",
                "127.77.0.0/24",
            ])
            .args(["--listener-port-offset", &OFFSET.to_string()])
            .arg("--data-dir")
            .arg(dir.join("data"))
            .env("SLBCERT_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()
            .expect("start slbcert"),
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
                        cells.entry((k, l, p)).or_default().push((0.0, 0.0, 0.0));
                        continue;
                    }
                    let (_, _, address) = targets
                        .iter()
                        .find(|(name, of, _)| name == proxy && of == kind)
                        .expect("a target");
                    let url = format!("https://{address}/");
                    let handshakes = new_handshakes(address, *connections, seconds);
                    let requests = wrk(&url, *connections, seconds);
                    cells
                        .entry((k, l, p))
                        .or_default()
                        .push((handshakes, requests.0, requests.1));
                }
            }
        }
    }
    println!(
        "Median of {rounds} interleaved rounds of {seconds} s per cell; ratios are slbcert's."
    );
    println!();
    println!(
        "| certificate | connections | proxy | handshakes/s | proxied requests/s | p99 ms (keep-alive) |"
    );
    println!("|---|---:|---|---:|---:|---:|");
    for (k, (kind, _)) in KEYS.iter().enumerate() {
        for (l, connections) in LEVELS.iter().enumerate() {
            let medians: Vec<Sample> = (0..PROXIES.len())
                .map(|p| median(&cells[&(k, l, p)]))
                .collect();
            for (p, proxy) in PROXIES.iter().enumerate() {
                let (handshakes, requests, p99) = medians[p];
                let ratio = |ours: f64, theirs: f64| match p {
                    0 => String::new(),
                    _ => format!(" ({:.2}x)", ours / theirs),
                };
                println!(
                    "| {kind} | {connections} | {proxy} | {handshakes:.0}{} | {requests:.0}{} | {p99:.2} |",
                    ratio(medians[0].0, handshakes),
                    ratio(medians[0].1, requests),
                );
            }
        }
    }
}

/// (certificate type, connections, proxy), by index.
type Cell = (usize, usize, usize);
/// Handshakes/s, keep-alive requests/s, keep-alive p99 ms.
type Sample = (f64, f64, f64);

/// Each figure's median over the rounds.
fn median(samples: &[Sample]) -> Sample {
    let of = |pick: fn(&Sample) -> f64| {
        let mut values: Vec<f64> = samples.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    (of(|s| s.0), of(|s| s.1), of(|s| s.2))
}

/// A child process stopped when the bench ends, however it ends, with its own children (nginx's
/// workers would otherwise outlive their master, holding our stdout).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        // Its children first (nginx's workers), then itself.
        let _ = Command::new("pkill").args(["-TERM", "-P", &pid]).status();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.0.wait();
    }
}

fn which(tool: &str) -> Option<String> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// A self-signed certificate for www.example.org of key type `spec` (`rsa:2048`, `ec`), as
/// DIR/KIND.crt, DIR/KIND.key and, for HAProxy, both in DIR/KIND.pem.
fn certificate(dir: &Path, kind: &str, spec: &str) {
    let (crt, key) = (
        dir.join(format!("{kind}.crt")),
        dir.join(format!("{kind}.key")),
    );
    let mut command = Command::new("openssl");
    command
        .args([
            "req",
            "-x509",
            "-nodes",
            "-days",
            "30",
            "-subj",
            "/CN=www.example.org",
        ])
        .args([
            "-addext",
            "subjectAltName=DNS:www.example.org",
            "-newkey",
            spec,
        ]);
    if spec == "ec" {
        command.args(["-pkeyopt", "ec_paramgen_curve:P-256"]);
    }
    let status = command
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&crt)
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl req failed");
    let both =
        std::fs::read_to_string(&crt).expect("cert") + &std::fs::read_to_string(&key).expect("key");
    std::fs::write(dir.join(format!("{kind}.pem")), both).expect("write pem");
}

/// nginx as the backend (a fixed answer) and as a peer TLS proxy in front of it, one port per
/// certificate type.
fn start_nginx(dir: &Path, backend_port: u16, proxy_ports: &[u16; 2]) -> Child {
    let servers: String = KEYS
        .iter()
        .zip(proxy_ports)
        .map(|((kind, _), port)| {
            format!(
                r#"
  server {{
    listen 127.0.0.1:{port} ssl http2;
    keepalive_requests 1000000;
    ssl_certificate {dir}/{kind}.crt;
    ssl_certificate_key {dir}/{kind}.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}"#,
                dir = dir.display()
            )
        })
        .collect();
    let conf = format!(
        r#"worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{backend_port};
    keepalive_requests 1000000;
    location / {{ return 200 "ok\n"; }}
  }}{servers}
}}
"#,
        dir = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
    let child = Command::new("nginx")
        .args(["-e", "stderr", "-c"])
        .arg(dir.join("nginx.conf"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    wait_serving(&format!("127.0.0.1:{backend_port}"));
    child
}

/// HAProxy 2.6 with a thread per core, in front of the same backend, one port per certificate
/// type; connections to the backend kept and reused, as slbcert and nginx do.
fn start_haproxy(dir: &Path, backend_port: u16, ports: &[u16; 2]) -> Child {
    let frontends: String = KEYS
        .iter()
        .zip(ports)
        .map(|((kind, _), port)| {
            format!(
                "frontend {kind}\n  bind 127.0.0.1:{port} ssl crt {dir}/{kind}.pem alpn h2,http/1.1\n  default_backend nginx\n",
                dir = dir.display()
            )
        })
        .collect();
    let conf = format!(
        "global\n  nbthread 2\n  maxconn 4096\n\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n  option forwardfor\n  http-reuse always\n\n{frontends}\nbackend nginx\n  server backend 127.0.0.1:{backend_port}\n"
    );
    std::fs::write(dir.join("haproxy.cfg"), conf).expect("haproxy.cfg");
    let child = Command::new("haproxy")
        .args(["-db", "-f"])
        .arg(dir.join("haproxy.cfg"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start haproxy");
    for port in ports {
        wait_serving(&format!("127.0.0.1:{port}"));
    }
    child
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

fn wait_serving(address: &str) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(address).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the listener is not served");
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
