//! What deciding who may do what costs per request: the same read (`DescribeServerCertificates`
//! of one certificate by ID, V1-signed, 16 keep-alive clients) as the account's own key, as a
//! RAM user whose policies must be evaluated (a system policy, a custom one with an address
//! condition and a Deny, a group's), and as an STS role session (token verified, role policies
//! and an inline policy intersected). One SQLite node; rounds alternate, in the same run.
//!
//! `cargo bench --bench access`. SLBCERT_BENCH_SECONDS sets each round's length (default 5);
//! SLBCERT_BENCH_ROUNDS the rounds per principal (default 3; the median is reported).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod common;

use common::{
    Connection, Credentials, Node, cpu_time, percentile, read_credentials, signed_query,
    signed_query_of,
};

const CERTIFICATE: &str = include_str!("../tests/fixtures/pki/rsa2048.crt");
const PRIVATE_KEY: &str = include_str!("../tests/fixtures/pki/rsa2048.pkcs1.key");
const CLIENTS: usize = 16;
const RAM: &str = "2015-05-01";
const STS: &str = "2015-04-01";

/// A caller: a key pair, and the SecurityToken of a role session.
struct Caller {
    credentials: Credentials,
    token: Option<String>,
}

fn main() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(default)
    };
    let round = Duration::from_secs(env("SLBCERT_BENCH_SECONDS", 5));
    let rounds = env("SLBCERT_BENCH_ROUNDS", 3) as usize;
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let directory = tempfile::tempdir().expect("temporary directory");
        let master_key = common::write_master_key(directory.path());
        let node = Node::start(&directory.path().join("node"), &master_key, None);
        common::wait_healthy(node.address).await;
        let root = read_credentials(&node.data_dir);
        let mut setup = Connection::open(node.address).await;
        let (certificate, user, session) = prepare(&mut setup, &root).await;
        let callers = [
            (
                "account's own key",
                Arc::new(Caller {
                    credentials: root,
                    token: None,
                }),
            ),
            (
                "RAM user (4 policies, 1 group)",
                Arc::new(Caller {
                    credentials: user,
                    token: None,
                }),
            ),
            (
                "STS role session (+ inline policy)",
                Arc::new(Caller {
                    credentials: session.0,
                    token: Some(session.1),
                }),
            ),
        ];
        let certificate = Arc::new(certificate);
        let mut results: Vec<Vec<(f64, f64, f64, f64)>> = vec![Vec::new(); callers.len()];
        for (_, caller) in &callers {
            measure(
                node.address,
                caller,
                &certificate,
                Duration::from_secs(1),
                node.pid(),
            )
            .await;
        }
        for _ in 0..rounds {
            for (index, (_, caller)) in callers.iter().enumerate() {
                results[index]
                    .push(measure(node.address, caller, &certificate, round, node.pid()).await);
            }
        }
        println!("| caller | requests/s | p50 ms | p99 ms | server CPU µs/request |");
        println!("|---|---:|---:|---:|---:|");
        for ((name, _), mut runs) in callers.iter().zip(results) {
            runs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (rate, p50, p99, cpu) = runs[runs.len() / 2];
            println!("| {name} | {rate:.0} | {p50:.2} | {p99:.2} | {cpu:.0} |");
        }
    });
}

/// Through the API as the account: a certificate, a user with policies, a role, and a session
/// of it assumed by the user.
async fn prepare(
    connection: &mut Connection,
    root: &Credentials,
) -> (String, Credentials, (Credentials, String)) {
    let answer = connection
        .post(&signed_query(
            root,
            "UploadServerCertificate",
            &[
                ("ServerCertificate", CERTIFICATE),
                ("PrivateKey", PRIVATE_KEY),
            ],
        ))
        .await;
    let certificate = field(&answer, "ServerCertificateId").expect("uploaded");
    let narrow = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"slb:Describe*","Resource":"acs:slb:*:*:certificate/*","Condition":{{"IpAddress":{{"acs:SourceIp":["127.0.0.0/8","10.0.0.0/8"]}}}}}},{{"Effect":"Deny","Action":"slb:Delete*","Resource":"acs:slb:*:*:certificate/{certificate}"}}]}}"#
    );
    let steps: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("CreateUser", vec![("UserName", "reader")]),
        (
            "CreatePolicy",
            vec![
                ("PolicyName", "narrow"),
                ("PolicyDocument", narrow.as_str()),
            ],
        ),
        ("CreateGroup", vec![("GroupName", "readers")]),
        (
            "AddUserToGroup",
            vec![("GroupName", "readers"), ("UserName", "reader")],
        ),
        (
            "AttachPolicyToGroup",
            vec![
                ("GroupName", "readers"),
                ("PolicyType", "System"),
                ("PolicyName", "AliyunYundunCertReadOnlyAccess"),
            ],
        ),
        (
            "AttachPolicyToUser",
            vec![
                ("UserName", "reader"),
                ("PolicyType", "System"),
                ("PolicyName", "AliyunSTSAssumeRoleAccess"),
            ],
        ),
        (
            "AttachPolicyToUser",
            vec![
                ("UserName", "reader"),
                ("PolicyType", "System"),
                ("PolicyName", "AliyunRAMReadOnlyAccess"),
            ],
        ),
        (
            "AttachPolicyToUser",
            vec![
                ("UserName", "reader"),
                ("PolicyType", "Custom"),
                ("PolicyName", "narrow"),
            ],
        ),
        (
            "AttachPolicyToUser",
            vec![
                ("UserName", "reader"),
                ("PolicyType", "System"),
                ("PolicyName", "AliyunSLBReadOnlyAccess"),
            ],
        ),
    ];
    for (action, params) in steps {
        let answer = connection
            .post(&signed_query_of(RAM, root, action, &params))
            .await;
        assert!(!answer.contains("\"Code\""), "{action}: {answer}");
    }
    let answer = connection
        .post(&signed_query_of(
            RAM,
            root,
            "CreateAccessKey",
            &[("UserName", "reader")],
        ))
        .await;
    let user = Credentials {
        access_key_id: field(&answer, "AccessKeyId").expect("a key"),
        secret: field(&answer, "AccessKeySecret").expect("a secret"),
    };
    let identity = connection
        .post(&signed_query_of(STS, root, "GetCallerIdentity", &[]))
        .await;
    let account_id = field(&identity, "AccountId").expect("account");
    let trust = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{{"RAM":["acs:ram::{account_id}:root"]}}}}]}}"#
    );
    for (action, params) in [
        (
            "CreateRole",
            vec![
                ("RoleName", "reader"),
                ("AssumeRolePolicyDocument", trust.as_str()),
            ],
        ),
        (
            "AttachPolicyToRole",
            vec![
                ("RoleName", "reader"),
                ("PolicyType", "System"),
                ("PolicyName", "AliyunSLBReadOnlyAccess"),
            ],
        ),
    ] {
        let answer = connection
            .post(&signed_query_of(RAM, root, action, &params))
            .await;
        assert!(!answer.contains("\"Code\""), "{action}: {answer}");
    }
    let arn = format!("acs:ram::{account_id}:role/reader");
    let inline = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["slb:DescribeServerCertificates","slb:DescribeRegions"],"Resource":"*"}]}"#;
    let answer = connection
        .post(&signed_query_of(
            STS,
            &user,
            "AssumeRole",
            &[
                ("RoleArn", arn.as_str()),
                ("RoleSessionName", "bench"),
                ("Policy", inline),
            ],
        ))
        .await;
    let session = Credentials {
        access_key_id: field(&answer, "AccessKeyId").expect("a session"),
        secret: field(&answer, "AccessKeySecret").expect("a secret"),
    };
    let token = field(&answer, "SecurityToken").expect("a token");
    (certificate, user, (session, token))
}

/// One round: requests per second, p50 and p99 (ms), server CPU per request (µs).
async fn measure(
    address: SocketAddr,
    caller: &Arc<Caller>,
    certificate: &Arc<String>,
    length: Duration,
    pid: u32,
) -> (f64, f64, f64, f64) {
    let mut connections = Vec::new();
    for _ in 0..CLIENTS {
        connections.push(Connection::open(address).await);
    }
    let cpu_before = cpu_time(pid);
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::new();
    for mut connection in connections {
        let (caller, certificate) = (caller.clone(), certificate.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let mut extra = vec![("ServerCertificateId", certificate.as_str())];
                if let Some(token) = &caller.token {
                    extra.push(("SecurityToken", token.as_str()));
                }
                let query = signed_query(&caller.credentials, "DescribeServerCertificates", &extra);
                let sent = Instant::now();
                let answer = connection.post(&query).await;
                latencies.push(sent.elapsed());
                assert!(answer.contains(certificate.as_str()), "refused: {answer}");
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client task"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_time(pid).saturating_sub(cpu_before).as_secs_f64();
    latencies.sort_unstable();
    let count = latencies.len() as f64;
    (
        count / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        cpu / count * 1e6,
    )
}

/// The first `"name":"value"` of a JSON answer.
fn field(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("\"{name}\":\""))? + name.len() + 4;
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_owned())
}
