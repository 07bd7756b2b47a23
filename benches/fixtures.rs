//! What the pytest fixtures cost a test suite: `slbcert serve --ephemeral` from spawn to its
//! JSON line and to a healthy `/healthz` (the session fixture), `account create` on its data
//! directory (the per-test fixture: a fresh account), and SIGTERM to exit with the directory
//! removed. Release binary, 10 rounds; medians and maxima.
//!
//! `cargo bench --bench fixtures`

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{percentile, wait_healthy};

const ROUNDS: usize = 10;
const ACCOUNTS_PER_ROUND: usize = 5;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (mut announced, mut healthy, mut accounts, mut stopped) = (vec![], vec![], vec![], vec![]);
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_slbcert"))
            .args([
                "serve",
                "--ephemeral",
                "--listen",
                "127.0.0.1:0",
                "--data-plane",
                "off",
            ])
            .env("SLBCERT_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start slbcert");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the JSON line");
        announced.push(started.elapsed());
        let first: serde_json::Value = serde_json::from_str(&line).expect("JSON");
        let address = first["Endpoint"]
            .as_str()
            .expect("Endpoint")
            .parse()
            .expect("address");
        runtime.block_on(wait_healthy(address));
        healthy.push(started.elapsed());
        let data_dir = first["DataDir"].as_str().expect("DataDir").to_owned();
        for _ in 0..ACCOUNTS_PER_ROUND {
            let made = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_slbcert"))
                .args(["account", "create", "--json", "--data-dir", &data_dir])
                .env("SLBCERT_LOG", "warn")
                .output()
                .expect("account create");
            assert!(out.status.success());
            accounts.push(made.elapsed());
        }
        let stopping = Instant::now();
        // SAFETY: kill only sends a signal to our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        child.wait().expect("exit");
        stopped.push(stopping.elapsed());
        assert!(
            !std::path::Path::new(&data_dir).exists(),
            "the data directory is gone"
        );
    }
    println!("| step | median ms | max ms |");
    println!("|---|---:|---:|");
    for (label, samples) in [
        ("serve --ephemeral: spawn to JSON line", &mut announced),
        ("serve --ephemeral: spawn to healthy", &mut healthy),
        ("account create (a fresh account per test)", &mut accounts),
        ("SIGTERM to exit, directory removed", &mut stopped),
    ] {
        samples.sort();
        let max = samples.last().copied().unwrap_or(Duration::ZERO);
        println!(
            "| {label} | {:.1} | {:.1} |",
            percentile(samples, 0.5),
            max.as_secs_f64() * 1000.0
        );
    }
}
