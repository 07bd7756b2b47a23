//! What one running listener needs, built from the control plane's load balancer: its
//! backends, scheduling, headers, timeouts, health checks and TLS. A snapshot: a change of the
//! load balancer builds a new one, and connections keep the one they started with.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;

use super::deny::BackendDeny;
use super::health::{HealthCell, HealthCheck, HealthKey, HealthTable, HttpCheck, UdpCheck};
use crate::store::load_balancers::{
    BackendServer, Listener, LoadBalancer, Protocol, Setting, int, text,
};

#[derive(Debug)]
pub struct Backend {
    pub server_id: String,
    pub address: SocketAddr,
    /// `address` as the authority of forwarded requests' URIs, made once.
    pub authority: http::uri::Authority,
    pub weight: u32,
    /// Requests or connections in flight (weighted least connections).
    pub active: AtomicUsize,
    /// Where its health checks' verdicts are kept (the table's key, for the checks).
    pub health: HealthKey,
    /// The verdict itself, which the proxy reads per request.
    pub verdict: Arc<HealthCell>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduler {
    WeightedRoundRobin,
    RoundRobin,
    WeightedLeastConnections,
    /// The first usable backend (a master-slave group's master while it is healthy).
    Failover,
}

/// The headers a listener adds to forwarded requests (slb-listeners.md §12).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ForwardedHeaders {
    pub forwarded_for: bool,
    pub proto: bool,
    pub slb_id: bool,
    pub slb_ip: bool,
    pub port: bool,
    pub client_source_port: bool,
    /// HTTPS: the client certificate's subject DN, issuer DN, fingerprint, verify result.
    pub client_cert_subject: bool,
    pub client_cert_issuer: bool,
    pub client_cert_fingerprint: bool,
    pub client_cert_verify: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sticky {
    /// The listener sets a cookie naming the backend, for `timeout`.
    Insert { timeout: Duration },
    /// The backend's own cookie of this name picks the backend it was first seen from.
    Server { cookie: String },
}

pub struct ListenerRuntime {
    pub load_balancer_id: String,
    /// Whose load balancer it is (a listener answers its own account's ACME proofs only).
    pub account_id: String,
    pub address: IpAddr,
    /// The port the API shows (the socket may be offset).
    pub port: u16,
    pub protocol: Protocol,
    pub backends: Vec<Backend>,
    pub scheduler: Scheduler,
    /// Smooth weighted round robin's current weights, one per backend.
    weights: Mutex<Vec<i64>>,
    next: AtomicUsize,
    pub headers: ForwardedHeaders,
    pub sticky: Option<Sticky>,
    /// HTTP listeners that redirect to an HTTPS port.
    pub forward_to: Option<u16>,
    pub idle_timeout: Duration,
    pub request_timeout: Duration,
    pub health: HealthCheck,
    pub tls: Option<Arc<ServerConfig>>,
    /// Forwarding rules, each with the pool it sends matching requests to.
    pub routes: Vec<super::routes::Route>,
    /// What a client's address must pass to connect (access control lists, the legacy
    /// whitelist); none lets everyone in.
    pub admit: Vec<super::acl::SourceFilter>,
}

impl std::fmt::Debug for ListenerRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}/{}",
            self.load_balancer_id,
            self.port,
            self.protocol.as_str()
        )
    }
}

fn on(settings: &BTreeMap<String, Setting>, name: &str) -> bool {
    text(settings, name) == Some("on")
}

fn seconds(settings: &BTreeMap<String, Setting>, name: &str, default: u64) -> Duration {
    Duration::from_secs(int(settings, name).map_or(default, |n| n.max(1) as u64))
}

/// The servers a listener forwards to: its VServer group's (with their ports) or the default
/// group's (on `BackendServerPort`). Servers without an address cannot be reached and are
/// left out; so are those of weight 0.
/// Denied addresses (`serve --backend-deny`) are left out too.
fn backends(
    load_balancer: &LoadBalancer,
    listener: &Listener,
    deny: &BackendDeny,
    table: &HealthTable,
) -> Vec<Backend> {
    let settings = &listener.settings;
    // A master-slave group's servers, master first: the failover scheduler takes the first
    // usable one.
    let master_slave: Option<Vec<BackendServer>> =
        text(settings, "MasterSlaveServerGroupId").map(|group| {
            let mut servers: Vec<_> = load_balancer
                .master_slave_groups
                .iter()
                .find(|g| g.id == group)
                .map_or(&[][..], |g| g.servers.as_slice())
                .iter()
                .collect();
            servers.sort_by_key(|entry| entry.slave);
            servers
                .into_iter()
                .map(|entry| entry.server.clone())
                .collect()
        });
    let (servers, default_port): (&[BackendServer], Option<u16>) =
        match text(settings, "VServerGroupId") {
            _ if master_slave.is_some() => (master_slave.as_deref().unwrap_or_default(), None),
            Some(group) => (
                load_balancer
                    .vserver_groups
                    .iter()
                    .find(|g| g.id == group)
                    .map_or(&[], |g| g.servers.as_slice()),
                None,
            ),
            None => (
                &load_balancer.backend_servers,
                int(settings, "BackendServerPort").map(|p| p as u16),
            ),
        };
    servers
        .iter()
        .filter(|server| server.weight > 0)
        .filter_map(|server| {
            let ip: IpAddr = server.server_ip.as_ref()?.parse().ok()?;
            let port = server.port.or(default_port)?;
            if let Some(why) = deny.refusal(ip, Some(port)) {
                tracing::warn!(load_balancer = %load_balancer.id, %why, "backend left out");
                return None;
            }
            let address = SocketAddr::new(ip, port);
            let health = HealthKey {
                load_balancer_id: load_balancer.id.clone(),
                listener_port: listener.port,
                protocol: listener.protocol.as_str(),
                backend: address,
            };
            Some(Backend {
                verdict: table.cell(&health),
                health,
                server_id: server.server_id.clone(),
                authority: address.to_string().parse().ok()?,
                address,
                weight: u32::from(server.weight),
                active: AtomicUsize::new(0),
            })
        })
        .collect()
}

fn health_check(listener: &Listener) -> HealthCheck {
    let settings = &listener.settings;
    let web = matches!(listener.protocol, Protocol::Http | Protocol::Https);
    let http = web || text(settings, "HealthCheckType") == Some("http");
    let classes = text(settings, "HealthCheckHttpCode")
        .unwrap_or("http_2xx")
        .split(',')
        .filter_map(|code| code.strip_prefix("http_")?.bytes().next())
        .map(|digit| digit - b'0')
        .collect();
    let timeout_setting = if web {
        "HealthCheckTimeout"
    } else {
        "HealthCheckConnectTimeout"
    };
    HealthCheck {
        enabled: text(settings, "HealthCheck") != Some("off"),
        interval: seconds(settings, "HealthCheckInterval", 2),
        timeout: seconds(settings, timeout_setting, 5),
        healthy_threshold: int(settings, "HealthyThreshold").unwrap_or(3) as u32,
        unhealthy_threshold: int(settings, "UnhealthyThreshold").unwrap_or(3) as u32,
        http: http.then(|| HttpCheck {
            method: if text(settings, "HealthCheckMethod") == Some("get") {
                "get"
            } else {
                "head"
            },
            uri: text(settings, "HealthCheckURI").unwrap_or("/").to_owned(),
            domain: text(settings, "HealthCheckDomain")
                .filter(|d| *d != "$_ip")
                .unwrap_or("")
                .to_owned(),
            classes,
        }),
        port: int(settings, "HealthCheckConnectPort").map(|p| p as u16),
        udp: (listener.protocol == Protocol::Udp).then(|| UdpCheck {
            request: text(settings, "HealthCheckReq")
                .unwrap_or("slbcert-health-check")
                .as_bytes()
                .to_vec(),
            expect: text(settings, "HealthCheckExp").map(|e| e.as_bytes().to_vec()),
        }),
    }
}

impl ListenerRuntime {
    pub fn new(
        load_balancer: &LoadBalancer,
        listener: &Listener,
        tls: Option<Arc<ServerConfig>>,
        deny: &BackendDeny,
        table: &HealthTable,
    ) -> ListenerRuntime {
        let settings = &listener.settings;
        let backends = backends(load_balancer, listener, deny, table);
        let routes = listener
            .rules
            .iter()
            .map(|rule| {
                let own = super::routes::listener_of_rule(listener, rule);
                super::routes::Route {
                    domain: rule.domain.clone(),
                    url: rule.url.clone(),
                    pool: Arc::new(ListenerRuntime::new(load_balancer, &own, None, deny, table)),
                }
            })
            .collect();
        let scheduler = match text(settings, "Scheduler") {
            _ if settings.contains_key("MasterSlaveServerGroupId") => Scheduler::Failover,
            Some("rr") => Scheduler::RoundRobin,
            Some("wlc") => Scheduler::WeightedLeastConnections,
            _ => Scheduler::WeightedRoundRobin,
        };
        let sticky = match (
            on(settings, "StickySession"),
            text(settings, "StickySessionType"),
        ) {
            (true, Some("insert")) => Some(Sticky::Insert {
                timeout: seconds(settings, "CookieTimeout", 1000),
            }),
            (true, Some("server")) => text(settings, "Cookie").map(|cookie| Sticky::Server {
                cookie: cookie.to_owned(),
            }),
            _ => None,
        };
        let forward_to = (listener.protocol == Protocol::Http && on(settings, "ListenerForward"))
            .then(|| int(settings, "ForwardPort").map(|p| p as u16))
            .flatten();
        ListenerRuntime {
            load_balancer_id: load_balancer.id.clone(),
            account_id: load_balancer.account_id.clone(),
            address: IpAddr::V4(load_balancer.address),
            port: listener.port,
            protocol: listener.protocol,
            weights: Mutex::new(vec![0; backends.len()]),
            backends,
            scheduler,
            next: AtomicUsize::new(0),
            headers: ForwardedHeaders {
                forwarded_for: text(settings, "XForwardedFor") != Some("off"),
                proto: on(settings, "XForwardedFor_proto"),
                slb_id: on(settings, "XForwardedFor_SLBID"),
                slb_ip: on(settings, "XForwardedFor_SLBIP"),
                port: on(settings, "XForwardedFor_SLBPORT"),
                client_source_port: on(settings, "XForwardedFor_ClientSrcPort"),
                client_cert_subject: on(settings, "XForwardedFor_ClientCertSubjectDN"),
                client_cert_issuer: on(settings, "XForwardedFor_ClientCertIssuerDN"),
                client_cert_fingerprint: on(settings, "XForwardedFor_ClientCertFingerprint"),
                client_cert_verify: on(settings, "XForwardedFor_ClientCertClientVerify"),
            },
            sticky,
            forward_to,
            idle_timeout: seconds(settings, "IdleTimeout", 15),
            request_timeout: seconds(settings, "RequestTimeout", 60),
            health: health_check(listener),
            tls,
            admit: Vec::new(),
            routes,
        }
    }

    /// The backend for a new request or connection among those `usable` says may take one:
    /// by the listener's scheduler and the backends' weights.
    pub fn pick(&self, usable: impl Fn(&Backend) -> bool) -> Option<usize> {
        let candidates: Vec<usize> = (0..self.backends.len())
            .filter(|&index| usable(&self.backends[index]))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        match self.scheduler {
            Scheduler::Failover => Some(candidates[0]),
            Scheduler::RoundRobin => {
                let turn = self.next.fetch_add(1, Ordering::Relaxed);
                Some(candidates[turn % candidates.len()])
            }
            Scheduler::WeightedLeastConnections => candidates.into_iter().min_by(|&a, &b| {
                let load = |i: usize| {
                    let backend = &self.backends[i];
                    backend.active.load(Ordering::Relaxed) as u64 * 1000 / u64::from(backend.weight)
                };
                load(a).cmp(&load(b))
            }),
            Scheduler::WeightedRoundRobin => {
                // nginx's smooth weighted round robin: spreads a weight-5 backend's turns.
                let mut weights = self.weights.lock().unwrap_or_else(|p| p.into_inner());
                let total: i64 = candidates
                    .iter()
                    .map(|&i| i64::from(self.backends[i].weight))
                    .sum();
                let mut best = candidates[0];
                for &index in &candidates {
                    weights[index] += i64::from(self.backends[index].weight);
                    if weights[index] > weights[best] {
                        best = index;
                    }
                }
                weights[best] -= total;
                Some(best)
            }
        }
    }
}

#[cfg(test)]
impl ListenerRuntime {
    /// A listener with one backend, for other modules' tests.
    pub fn for_tests() -> ListenerRuntime {
        tests::runtime_with(Scheduler::RoundRobin, &[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn runtime_with(scheduler: Scheduler, weights: &[u32]) -> ListenerRuntime {
        let backends: Vec<Backend> = weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| Backend {
                server_id: format!("i-{i}"),
                address: SocketAddr::from(([127, 0, 0, 1], 8000 + i as u16)),
                authority: format!("127.0.0.1:{}", 8000 + i).parse().unwrap(),
                health: HealthKey {
                    load_balancer_id: "lb-1".into(),
                    listener_port: 80,
                    protocol: "http",
                    backend: SocketAddr::from(([127, 0, 0, 1], 8000 + i as u16)),
                },
                verdict: Default::default(),
                weight,
                active: AtomicUsize::new(0),
            })
            .collect();
        ListenerRuntime {
            load_balancer_id: "lb-1".into(),
            account_id: "1".into(),
            address: IpAddr::from([127, 0, 0, 1]),
            port: 80,
            protocol: Protocol::Http,
            weights: Mutex::new(vec![0; backends.len()]),
            backends,
            scheduler,
            next: AtomicUsize::new(0),
            headers: ForwardedHeaders::default(),
            sticky: None,
            forward_to: None,
            idle_timeout: Duration::from_secs(15),
            request_timeout: Duration::from_secs(60),
            health: HealthCheck {
                enabled: false,
                interval: Duration::from_secs(2),
                timeout: Duration::from_secs(5),
                healthy_threshold: 3,
                unhealthy_threshold: 3,
                http: None,
                port: None,
                udp: None,
            },
            tls: None,
            admit: Vec::new(),
            routes: Vec::new(),
        }
    }

    #[test]
    fn weighted_round_robin_follows_the_weights_and_skips_the_unusable() {
        let runtime = runtime_with(Scheduler::WeightedRoundRobin, &[5, 1, 2]);
        let mut counts = [0; 3];
        for _ in 0..800 {
            counts[runtime.pick(|_| true).unwrap()] += 1;
        }
        assert_eq!(counts, [500, 100, 200]);
        let picks: Vec<usize> = (0..10)
            .filter_map(|_| runtime.pick(|b| b.server_id != "i-0"))
            .collect();
        assert!(picks.iter().all(|&i| i != 0));
        assert_eq!(runtime.pick(|_| false), None);
    }

    #[test]
    fn round_robin_and_least_connections() {
        let runtime = runtime_with(Scheduler::RoundRobin, &[5, 1]);
        let picks: Vec<usize> = (0..4).map(|_| runtime.pick(|_| true).unwrap()).collect();
        assert_eq!(picks, [0, 1, 0, 1]);
        let runtime = runtime_with(Scheduler::WeightedLeastConnections, &[1, 1]);
        runtime.backends[0].active.store(3, Ordering::Relaxed);
        assert_eq!(runtime.pick(|_| true), Some(1));
    }
}
