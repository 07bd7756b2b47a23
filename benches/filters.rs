//! What access control lists and forwarding rules cost a running listener (issue 22): proxied
//! requests per second through three HTTP listeners of one load balancer in the same run, in
//! front of the same nginx backend: one with neither, one with a white list of 1,000 entries
//! (the client's block last), and one with 100 forwarding rules (`--max-rules 100`: SLB allows
//! 40), none of which the requests match, so every request is checked against all of them. Each is
//! measured with keep-alive connections (wrk, 16 connections) and with a new connection per
//! request (`Connection: close`, where the list is checked on every accept). Each cell is the
//! median of interleaved rounds.
//!
//! `cargo bench --bench filters` needs `wrk` and `nginx` (Debian packages wrk, nginx-light).
//! SLBCERT_BENCH_SECONDS (default 3) and SLBCERT_BENCH_ROUNDS (default 3).

mod common;
#[allow(dead_code)]
#[path = "dataplane/peers.rs"]
mod peers;

use std::process::Command;

use common::{Connection, free_address, read_credentials, signed_query, wait_healthy};
use peers::{start_backend, start_slbcert, wait_serving, which};

const OFFSET: u16 = 31000;
/// What peers.rs starts nginx proxies for; this bench starts only the backend.
const KEYS: [(&str, &str); 2] = [("RSA-2048", "rsa:2048"), ("P-256", "ec")];
const LISTENERS: [(&str, u16); 3] = [("neither", 80), ("1,000-entry ACL", 81), ("100 rules", 82)];

fn main() {
    for tool in ["wrk", "nginx"] {
        if which(tool).is_none() {
            println!("{tool} is not installed (apt-get install wrk nginx-light): nothing measured");
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
    let directory = tempfile::tempdir().expect("temporary directory");
    let dir = directory.path();
    let backend_port = free_address().port();
    let _backend = start_backend(dir, backend_port);
    let api = free_address();
    let slbcert = start_slbcert(
        env!("CARGO_BIN_EXE_slbcert"),
        api,
        &dir.join("data"),
        "127.78.0.0/24",
        OFFSET,
        &["--max-acl-entries", "1000", "--max-rules", "100"],
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(wait_healthy(api));
    let address = runtime.block_on(configure(api, &dir.join("data"), backend_port));
    let urls: Vec<String> = LISTENERS
        .iter()
        .map(|(_, port)| format!("http://{address}:{}/", port + OFFSET))
        .collect();
    for url in &urls {
        wait_serving(url.trim_start_matches("http://").trim_end_matches('/'));
    }
    // Per listener: (requests/s, slbcert's CPU µs per request) kept alive, then new.
    let mut samples = vec![[(Vec::new(), Vec::new()), (Vec::new(), Vec::new())]; LISTENERS.len()];
    for _ in 0..rounds {
        for (index, url) in urls.iter().enumerate() {
            for (mode, close) in [false, true].into_iter().enumerate() {
                let before = slbcert.cpu();
                let rate = wrk(url, seconds, close);
                let cpu = (slbcert.cpu() - before).as_secs_f64() * 1e6 / (rate * seconds as f64);
                samples[index][mode].0.push(rate);
                samples[index][mode].1.push(cpu);
            }
        }
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let medians: Vec<[(f64, f64); 2]> = samples
        .iter_mut()
        .map(|modes| {
            modes
                .each_mut()
                .map(|(rates, cpu)| (median(rates), median(cpu)))
        })
        .collect();
    println!(
        "Median of {rounds} interleaved rounds of {seconds} s; slbcert's own CPU (user + system) per request."
    );
    println!();
    println!(
        "| listener | keep-alive requests/s | CPU µs per request | a connection per request, requests/s | CPU µs per request |"
    );
    println!("|---|---:|---:|---:|---:|");
    for ((name, _), [kept, new]) in LISTENERS.iter().zip(&medians) {
        println!(
            "| {name} | {:.0} | {:.1} | {:.0} | {:.1} |",
            kept.0, kept.1, new.0, new.1
        );
    }
}

/// Three HTTP listeners on one load balancer in front of the backend; the load balancer's
/// address.
async fn configure(api: std::net::SocketAddr, data: &std::path::Path, backend_port: u16) -> String {
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
    let created = call("CreateLoadBalancer", &[]).await;
    let lb = created["LoadBalancerId"].as_str().expect("lb").to_owned();
    let port = backend_port.to_string();
    let servers = r#"[{"ServerId":"i-backend","ServerIp":"127.0.0.1"}]"#;
    call(
        "AddBackendServers",
        &[("LoadBalancerId", &lb), ("BackendServers", servers)],
    )
    .await;
    let acl = call("CreateAccessControlList", &[("AclName", "office")]).await["AclId"]
        .as_str()
        .expect("acl")
        .to_owned();
    let mut blocks: Vec<String> = (0..999)
        .map(|n| format!("10.{}.{}.0/24", n / 256, n % 256))
        .collect();
    blocks.push("127.0.0.0/8".into());
    for chunk in blocks.chunks(50) {
        let entries: Vec<serde_json::Value> = chunk
            .iter()
            .map(|block| serde_json::json!({ "entry": block, "comment": "" }))
            .collect();
        let entries = serde_json::Value::from(entries).to_string();
        call(
            "AddAccessControlListEntry",
            &[("AclId", &acl), ("AclEntrys", &entries)],
        )
        .await;
    }
    let group_servers =
        format!(r#"[{{"ServerId":"i-backend","ServerIp":"127.0.0.1","Port":{backend_port}}}]"#);
    let group = call(
        "CreateVServerGroup",
        &[("LoadBalancerId", &lb), ("BackendServers", &group_servers)],
    )
    .await["VServerGroupId"]
        .as_str()
        .expect("group")
        .to_owned();
    for (_, listener_port) in LISTENERS {
        let listener_port = listener_port.to_string();
        let mut params = vec![
            ("LoadBalancerId", lb.as_str()),
            ("ListenerPort", listener_port.as_str()),
            ("BackendServerPort", port.as_str()),
            ("Bandwidth", "-1"),
            ("HealthCheck", "off"),
        ];
        if listener_port == "81" {
            params.extend([
                ("AclStatus", "on"),
                ("AclType", "white"),
                ("AclId", acl.as_str()),
            ]);
        }
        call("CreateLoadBalancerHTTPListener", &params).await;
        if listener_port == "82" {
            for batch in 0..10 {
                let rules: Vec<serde_json::Value> = (0..10)
                    .map(|n| {
                        let n = batch * 10 + n;
                        serde_json::json!({ "RuleName": format!("r{n}"), "Domain": format!("r{n}.example.com"),
                                            "Url": format!("/r{n}"), "VServerGroupId": group })
                    })
                    .collect();
                let rules = serde_json::Value::from(rules).to_string();
                call(
                    "CreateRules",
                    &[
                        ("LoadBalancerId", &lb),
                        ("ListenerPort", "82"),
                        ("RuleList", &rules),
                    ],
                )
                .await;
            }
        }
        call(
            "StartLoadBalancerListener",
            &[("LoadBalancerId", &lb), ("ListenerPort", &listener_port)],
        )
        .await;
    }
    created["Address"].as_str().expect("address").to_owned()
}

/// wrk's requests per second, 16 connections, keep-alive or a connection per request.
fn wrk(url: &str, seconds: u64, close: bool) -> f64 {
    let mut command = Command::new("wrk");
    command.args(["-t", "2", "-c", "16", "-d", &format!("{seconds}s")]);
    if close {
        command.args(["-H", "Connection: close"]);
    }
    let out = command.arg(url).output().expect("run wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("wrk said:\n{text}"))
}
