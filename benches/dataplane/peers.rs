//! The peers slbcert is measured against, each started from a configuration written here: an
//! nginx backend (a fixed 200 answer), nginx as a TLS proxy, and HAProxy; and what each process
//! spends of the CPU.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::KEYS;

/// A child process stopped when the bench ends, however it ends, with its own children (nginx's
/// workers would otherwise outlive their master, holding our stdout).
pub struct Reaped(pub Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        // Its children first (nginx's workers), then itself.
        let _ = Command::new("pkill").args(["-TERM", "-P", &pid]).status();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.0.wait();
    }
}

/// `slbcert serve` (the binary `binary`) answering its API on `api`, with the data plane on
/// addresses of `pool` and listeners' ports plus `offset`, and `extra` flags.
pub fn start_slbcert(
    binary: &str,
    api: std::net::SocketAddr,
    data_dir: &Path,
    pool: &str,
    offset: u16,
    extra: &[&str],
) -> Reaped {
    Reaped(
        Command::new(binary)
            .args([
                "serve",
                "--listen",
                &api.to_string(),
                "--address-pool",
                pool,
            ])
            .args(["--listener-port-offset", &offset.to_string()])
            .args(extra)
            .arg("--data-dir")
            .arg(data_dir)
            .env("SLBCERT_LOG", "warn")
            .stderr(Stdio::null())
            .spawn()
            .expect("start slbcert"),
    )
}

pub fn which(tool: &str) -> Option<String> {
    let out = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn wait_serving(address: &str) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(address).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the listener is not served");
}

/// A self-signed certificate for www.example.org of key type `spec` (`rsa:2048`, `ec`), as
/// DIR/KIND.crt, DIR/KIND.key and, for HAProxy, both in DIR/KIND.pem.
pub fn certificate(dir: &Path, kind: &str, spec: &str) {
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

/// nginx in its own directory from `http` (the body of its http block), foreground.
fn run_nginx(dir: &Path, name: &str, http: &str) -> Child {
    let home = dir.join(name);
    std::fs::create_dir_all(&home).expect("nginx directory");
    let conf = format!(
        r#"worker_processes auto;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
daemon off;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {home}/body;
  proxy_temp_path {home}/proxy;{http}
}}
"#,
        home = home.display()
    );
    std::fs::write(home.join("nginx.conf"), conf).expect("nginx.conf");
    Command::new("nginx")
        .args(["-e", "stderr", "-c"])
        .arg(home.join("nginx.conf"))
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx")
}

/// The backend of every proxy: nginx with a fixed answer, in processes of its own so that the
/// CPU of the peer nginx proxy is counted apart from it.
pub fn start_backend(dir: &Path, port: u16) -> Reaped {
    let http = format!(
        r#"
  server {{
    listen 127.0.0.1:{port};
    keepalive_requests 1000000;
    location / {{ return 200 "ok\n"; }}
  }}"#
    );
    let child = Reaped(run_nginx(dir, "backend", &http));
    wait_serving(&format!("127.0.0.1:{port}"));
    child
}

/// nginx as a peer TLS proxy in front of the backend, one port per certificate type.
pub fn start_nginx(dir: &Path, backend_port: u16, proxy_ports: &[u16; 2]) -> Reaped {
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
    let http = format!(
        "\n  upstream backend {{ server 127.0.0.1:{backend_port}; keepalive 128; }}{servers}"
    );
    Reaped(run_nginx(dir, "proxy", &http))
}

/// HAProxy 2.6 with a thread per core, in front of the same backend, one port per certificate
/// type; connections to the backend kept and reused, as slbcert and nginx do.
pub fn start_haproxy(dir: &Path, backend_port: u16, ports: &[u16; 2]) -> Reaped {
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
    Reaped(child)
}

impl Reaped {
    /// CPU time its process and every child process (nginx's workers) have used so far: user
    /// and system, all threads, from /proc.
    pub fn cpu(&self) -> Duration {
        let pid = self.0.id();
        let children = Command::new("pgrep")
            .args(["-P", &pid.to_string()])
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
            .unwrap_or_default();
        let pids = std::iter::once(pid).chain(children.lines().filter_map(|l| l.parse().ok()));
        pids.map(crate::common::cpu_time).sum()
    }
}
