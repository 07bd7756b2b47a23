//! The data plane against nginx, in the same run, with the same certificate and the same
//! backend: TLS handshakes per second (each request on a new connection) and proxied requests
//! per second (keep-alive), at 1, 16 and 64 connections, measured by wrk.
//!
//! `cargo bench --bench dataplane` needs `wrk` and `nginx` (Debian packages of those names);
//! without them it says so and measures nothing. nginx serves as the backend of both proxies
//! (a fixed 200 answer) and, separately configured, as the peer proxy. Everything shares the
//! machine's cores. SLBCERT_BENCH_BIN runs another slbcert binary; SLBCERT_BENCH_SECONDS sets
//! the length of each wrk run (default 5).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Connection, free_address, read_credentials, signed_query, wait_healthy};

const LEVELS: [usize; 3] = [1, 16, 64];
const OFFSET: u16 = 30000;

fn main() {
    for tool in ["wrk", "nginx"] {
        if which(tool).is_none() {
            println!("{tool} is not installed (apt-get install wrk nginx-light): nothing measured");
            return;
        }
    }
    let seconds: u64 = std::env::var("SLBCERT_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let directory = tempfile::tempdir().expect("temporary directory");
    let dir = directory.path();
    let (certificate, key) = certificate();
    std::fs::write(dir.join("cert.pem"), &certificate).expect("write certificate");
    std::fs::write(dir.join("key.pem"), &key).expect("write key");

    let backend_port = free_address().port();
    let nginx_port = free_address().port();
    let _nginx = Reaped(start_nginx(dir, backend_port, nginx_port));

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
    let listener = runtime.block_on(async {
        wait_healthy(api).await;
        configure(api, &dir.join("data"), &certificate, &key, backend_port).await
    });
    wait_serving(&listener);

    println!("| proxy | connections | handshakes/s | proxied requests/s | p99 ms (keep-alive) |");
    println!("|---|---:|---:|---:|---:|");
    for (name, target) in [
        ("slbcert", listener.clone()),
        ("nginx", format!("127.0.0.1:{nginx_port}")),
    ] {
        for connections in LEVELS {
            let url = format!("https://{target}/");
            let handshakes = wrk(&url, connections, seconds, true);
            let requests = wrk(&url, connections, seconds, false);
            println!(
                "| {name} | {connections} | {:.0} | {:.0} | {:.2} |",
                handshakes.0, requests.0, requests.1
            );
        }
    }
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

/// A P-256 certificate for www.example.org, self-signed.
fn certificate() -> (String, String) {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["www.example.org".to_owned()]).expect("params");
    let certificate = params.self_signed(&key).expect("certificate");
    (certificate.pem(), key.serialize_pem())
}

/// nginx as the backend (a fixed answer) and as the peer TLS proxy in front of it.
fn start_nginx(dir: &Path, backend_port: u16, proxy_port: u16) -> Child {
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
  }}
  server {{
    listen 127.0.0.1:{proxy_port} ssl http2;
    keepalive_requests 1000000;
    ssl_certificate {dir}/cert.pem;
    ssl_certificate_key {dir}/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / {{
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $remote_addr;
    }}
  }}
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
    std::thread::sleep(Duration::from_millis(500));
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

/// wrk's requests per second and p99 latency (ms); `handshakes`: a new connection (and TLS
/// handshake) for every request.
fn wrk(url: &str, connections: usize, seconds: u64, handshakes: bool) -> (f64, f64) {
    let threads = connections.min(2).to_string();
    let mut command = Command::new("wrk");
    command
        .args(["-t", &threads, "-c", &connections.to_string()])
        .args(["-d", &format!("{seconds}s"), "--latency"]);
    if handshakes {
        command.args(["-H", "Connection: close"]);
    }
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
