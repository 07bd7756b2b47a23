//! Health checks of backends, as each listener configures them, and the table of their results
//! that the proxies and DescribeHealthStatus read.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A backend as one listener sees it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HealthKey {
    pub load_balancer_id: String,
    pub listener_port: u16,
    pub protocol: &'static str,
    pub backend: SocketAddr,
}

/// One backend's verdict, shared by the table and the listener runtimes that forward to it:
/// the proxy reads it per request without a lock or a lookup.
#[derive(Debug, Default)]
pub struct HealthCell(AtomicU8);

const UNCHECKED: u8 = 0;
const HEALTHY: u8 = 1;
const UNHEALTHY: u8 = 2;

impl HealthCell {
    /// A backend not checked (yet, or ever) is healthy.
    pub fn is_healthy(&self) -> bool {
        self.0.load(Ordering::Relaxed) != UNHEALTHY
    }

    /// `None` if the backend has not been checked.
    fn checked(&self) -> Option<bool> {
        match self.0.load(Ordering::Relaxed) {
            UNCHECKED => None,
            verdict => Some(verdict == HEALTHY),
        }
    }

    fn set(&self, healthy: bool) {
        self.0
            .store(if healthy { HEALTHY } else { UNHEALTHY }, Ordering::Relaxed);
    }
}

#[derive(Debug, Default)]
struct State {
    cell: Arc<HealthCell>,
    /// Consecutive results against the current verdict.
    streak: u32,
}

/// Results of every listener's checks. A backend not checked (yet, or ever) is healthy.
#[derive(Default)]
pub struct HealthTable {
    states: Mutex<HashMap<HealthKey, State>>,
}

impl HealthTable {
    /// The cell of `key`'s verdicts, for a runtime to keep.
    pub fn cell(&self, key: &HealthKey) -> Arc<HealthCell> {
        self.lock().entry(key.clone()).or_default().cell.clone()
    }

    pub fn is_healthy(&self, key: &HealthKey) -> bool {
        self.lock()
            .get(key)
            .is_none_or(|state| state.cell.is_healthy())
    }

    /// `None` if the backend has not been checked.
    pub fn checked(&self, key: &HealthKey) -> Option<bool> {
        self.lock().get(key).and_then(|state| state.cell.checked())
    }

    /// Records one check: the first decides at once; then a backend changes state after
    /// `healthy_after` successes or `unhealthy_after` failures in a row.
    pub fn record(&self, key: &HealthKey, ok: bool, healthy_after: u32, unhealthy_after: u32) {
        let mut states = self.lock();
        let state = states.entry(key.clone()).or_default();
        let Some(healthy) = state.cell.checked() else {
            state.cell.set(ok);
            state.streak = 0;
            return;
        };
        if healthy == ok {
            state.streak = 0;
            return;
        }
        state.streak += 1;
        let needed = if ok { healthy_after } else { unhealthy_after };
        if state.streak >= needed {
            state.cell.set(ok);
            state.streak = 0;
            tracing::info!(backend = %key.backend, listener_port = key.listener_port,
                           healthy = ok, "backend health changed");
        }
    }

    /// Every checked backend and whether it is healthy now (for `/metrics`).
    pub fn snapshot(&self) -> Vec<(HealthKey, bool)> {
        self.lock()
            .iter()
            .filter_map(|(key, state)| Some((key.clone(), state.cell.checked()?)))
            .collect()
    }

    /// Forgets the backends of listeners that no longer run.
    pub fn retain(&self, keep: impl Fn(&HealthKey) -> bool) {
        self.lock().retain(|key, _| keep(key));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<HealthKey, State>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// How a listener checks its backends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    pub enabled: bool,
    pub interval: Duration,
    pub timeout: Duration,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    /// `None`: a TCP connect is the check.
    pub http: Option<HttpCheck>,
    /// UDP listeners: a datagram is the check.
    pub udp: Option<UdpCheck>,
    /// Checks this port instead of the backend's.
    pub port: Option<u16>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpCheck {
    pub method: &'static str,
    pub uri: String,
    /// Empty: the backend's address.
    pub domain: String,
    /// Accepted status classes, 2 to 5 (`http_2xx` is 2).
    pub classes: Vec<u8>,
}

/// A UDP listener's check (`healthCheckReq`, `healthCheckExp`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpCheck {
    pub request: Vec<u8>,
    /// What the answer must hold; `None`: any answer, or silence, passes (a closed port
    /// answers ICMP unreachable, which fails).
    pub expect: Option<Vec<u8>>,
}

async fn check_udp(target: SocketAddr, check: &UdpCheck, timeout: Duration) -> bool {
    let local: SocketAddr = match target {
        SocketAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let Ok(socket) = tokio::net::UdpSocket::bind(local).await else {
        return false;
    };
    if socket.connect(target).await.is_err() || socket.send(&check.request).await.is_err() {
        return false;
    }
    let mut answer = vec![0u8; 2048];
    match tokio::time::timeout(timeout, socket.recv(&mut answer)).await {
        Ok(Ok(length)) => check.expect.as_ref().is_none_or(|expect| {
            answer[..length]
                .windows(expect.len().max(1))
                .any(|window| window == expect.as_slice())
        }),
        // ICMP port unreachable.
        Ok(Err(_)) => false,
        Err(_) => check.expect.is_none(),
    }
}

/// One check of one backend.
pub async fn check(backend: SocketAddr, spec: &HealthCheck) -> bool {
    let target = SocketAddr::new(backend.ip(), spec.port.unwrap_or(backend.port()));
    if let Some(udp) = &spec.udp {
        return check_udp(target, udp, spec.timeout).await;
    }
    let attempt = async {
        let mut stream = TcpStream::connect(target).await.ok()?;
        let Some(http) = &spec.http else {
            return Some(true);
        };
        let host = if http.domain.is_empty() {
            backend.ip().to_string()
        } else {
            http.domain.clone()
        };
        let request = format!(
            "{} {} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: slbcert-health-check\r\n\r\n",
            http.method.to_ascii_uppercase(),
            http.uri
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.ok()?;
        // "HTTP/1.x NNN"
        let class = head.get(9).filter(|b| b.is_ascii_digit())? - b'0';
        Some(http.classes.contains(&class))
    };
    matches!(
        tokio::time::timeout(spec.timeout, attempt).await,
        Ok(Some(true))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> HealthKey {
        HealthKey {
            load_balancer_id: "lb-1".into(),
            listener_port: 80,
            protocol: "http",
            backend: "127.0.0.1:1".parse().unwrap(),
        }
    }

    #[test]
    fn thresholds_decide_changes_after_the_first_check() {
        let table = HealthTable::default();
        assert!(table.is_healthy(&key()) && table.checked(&key()).is_none());
        table.record(&key(), false, 2, 3);
        assert!(!table.is_healthy(&key()));
        table.record(&key(), true, 2, 3);
        assert!(!table.is_healthy(&key()));
        table.record(&key(), true, 2, 3);
        assert!(table.is_healthy(&key()));
        table.record(&key(), false, 2, 3);
        table.record(&key(), true, 2, 3);
        table.record(&key(), false, 2, 3);
        table.record(&key(), false, 2, 3);
        assert!(
            table.is_healthy(&key()),
            "a success breaks a streak of failures"
        );
        table.record(&key(), false, 2, 3);
        assert!(!table.is_healthy(&key()));
    }
}
