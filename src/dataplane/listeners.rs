//! Which listeners run, and the tasks that serve them: the reconcile loop, one accept loop and
//! one health-check loop per listener, and the cache of opened certificates.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::sign::CertifiedKey;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use super::accept::{accept_loop, worker_count};
use super::acl;
use super::health::HealthTable;
use super::proxy::{self, Shared};
use super::runtime::ListenerRuntime;
pub use super::status::StatusBoard;
use super::tls::{self, SniResolver, TlsSetupError};
use super::traffic::Traffic;
use super::workers::Workers;
use crate::crypto::Binding;
use crate::store::acls::Acl;
use crate::store::load_balancers::{Listener, ListenerStatus, LoadBalancer, Protocol, text};
use crate::store::region_resources as resources;
use crate::store::tls_policies::TlsCipherPolicy;
use crate::store::{CertificateKind, Scope, Store};
use crate::vault::Vault;

/// How often the data plane asks whether the control plane changed anything.
const POLL: Duration = Duration::from_millis(200);
/// How often it rebuilds everything anyway.
const RESYNC: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub struct Options {
    /// Added to every listener's port, for users who cannot bind low ports.
    pub port_offset: u16,
    /// Client connections per listener at most; more wait to be accepted.
    pub max_connections_per_listener: usize,
    /// Backends never connected to.
    pub backend_deny: Arc<super::deny::BackendDeny>,
    /// What an h2 stream may hold of a response its client does not read (bytes).
    pub h2_stream_buffer: usize,
    /// How long a connection may go on once its listener stops or the server shuts down.
    pub shutdown_grace: Duration,
    /// Where each HTTP and HTTPS request is logged, if anywhere.
    pub access_log: Option<Arc<super::access_log::AccessLog>>,
}

/// Why a listener is not served: for the operator's log, and for `GET /dataplane`, which
/// answers without a signature and so names nothing of any account.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Failure {
    public: String,
    detail: String,
}

/// What `serve` keeps of the data plane.
pub struct Handle {
    pub health: Arc<HealthTable>,
    pub traffic: Traffic,
    pub status: Arc<StatusBoard>,
    /// Every client connection of every listener: shutdown waits for them (each is cut after
    /// its grace).
    pub connections: tokio_util::task::TaskTracker,
}

/// A listener's bound socket.
enum Socket {
    Tcp(TcpListener),
    Udp(tokio::net::UdpSocket),
}

/// One listener being served.
struct Running {
    /// What the runtime was built from; a listener whose source is unchanged is left alone.
    source: String,
    runtime: watch::Sender<Arc<ListenerRuntime>>,
    stop: watch::Sender<bool>,
}

pub struct DataPlane {
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    options: Options,
    workers: Arc<Workers>,
    running: HashMap<SocketAddr, Running>,
    /// Custom TLS cipher policies by ID, as of the last reconcile.
    tls_policies: HashMap<String, TlsCipherPolicy>,
    /// Opened certificates by ID (an ID's certificate and key never change).
    certificates: HashMap<String, Arc<CertifiedKey>>,
    /// Listeners that could not be served, with why (logged once per reason).
    failed: HashMap<SocketAddr, Failure>,
    status: Arc<StatusBoard>,
}

impl DataPlane {
    /// Starts serving; stops with `shutdown`. The health table is what DescribeHealthStatus
    /// reads.
    pub fn start(
        store: Arc<dyn Store>,
        vault: Arc<Vault>,
        options: Options,
        shutdown: watch::Receiver<bool>,
    ) -> Handle {
        let health = Arc::new(HealthTable::default());
        let status = Arc::new(StatusBoard::default());
        let traffic = Traffic::default();
        let connections = tokio_util::task::TaskTracker::new();
        let workers = Workers::start(worker_count(), || {
            Shared::new(
                health.clone(),
                traffic.clone(),
                options.h2_stream_buffer,
                connections.clone(),
                options.access_log.clone(),
                store.clone(),
            )
        });
        let plane = DataPlane {
            status: status.clone(),
            store,
            vault,
            options,
            workers: Arc::new(workers),
            running: HashMap::new(),
            certificates: HashMap::new(),
            tls_policies: HashMap::new(),
            failed: HashMap::new(),
        };
        tokio::spawn(plane.run(shutdown));
        Handle {
            health,
            traffic,
            status,
            connections,
        }
    }

    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut seen = None;
        let mut last_full = Instant::now();
        // Changes made here or heard from other nodes wake the loop at once; the poll of the
        // generation and the periodic full resync catch whatever was not heard.
        let changed = self.store.load_balancers_changed();
        loop {
            let generation = self.store.load_balancer_generation().await.ok();
            // Listeners that could not bind are retried every second.
            let retry = !self.failed.is_empty() && last_full.elapsed() >= Duration::from_secs(1);
            let due = retry || last_full.elapsed() >= RESYNC;
            if generation.is_some() && (generation != seen || due) {
                let read = async {
                    let store = &*self.store;
                    Ok::<_, crate::store::StoreError>((
                        store.all_load_balancers().await?,
                        resources::all::<Acl>(store).await?,
                        resources::all::<TlsCipherPolicy>(store).await?,
                    ))
                };
                match read.await {
                    Ok((load_balancers, acls, policies)) => {
                        self.tls_policies =
                            policies.into_iter().map(|p| (p.id.clone(), p)).collect();
                        let acls = acls.iter().map(|acl| (acl.id.as_str(), acl)).collect();
                        self.reconcile(&load_balancers, &acls).await;
                        seen = generation;
                        last_full = Instant::now();
                    }
                    Err(error) => tracing::warn!(%error, "data plane: cannot read load balancers"),
                }
            }
            tokio::select! {
                _ = changed.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => break,
            }
        }
        for (_, running) in self.running.drain() {
            let _ = running.stop.send(true);
        }
    }

    async fn reconcile(&mut self, load_balancers: &[LoadBalancer], acls: &HashMap<&str, &Acl>) {
        let mut wanted: HashMap<SocketAddr, (&LoadBalancer, &Listener)> = HashMap::new();
        for load_balancer in load_balancers.iter().filter(|lb| lb.status == "active") {
            for listener in &load_balancer.listeners {
                if listener.status != ListenerStatus::Running {
                    continue;
                }
                let Some(port) = listener.port.checked_add(self.options.port_offset) else {
                    continue;
                };
                let address = SocketAddr::new(load_balancer.address.into(), port);
                wanted.insert(address, (load_balancer, listener));
            }
        }
        self.running.retain(|address, running| {
            let keep = wanted.contains_key(address);
            if !keep {
                tracing::info!(%address, "listener stopped");
                let _ = running.stop.send(true);
            }
            keep
        });
        self.failed
            .retain(|address, _| wanted.contains_key(address));
        let mut referenced = Vec::new();
        for (&address, &(load_balancer, listener)) in &wanted {
            referenced.extend(certificates_of(listener));
            let source = source_of(load_balancer, listener)
                + &acl::source_of(listener, acls)
                + &self.policy_source(listener);
            if self
                .running
                .get(&address)
                .is_some_and(|r| r.source == source)
            {
                continue;
            }
            let runtime = match self.runtime(load_balancer, listener).await {
                Ok(mut runtime) => {
                    runtime.admit = acl::filters_of(listener, acls);
                    Arc::new(runtime)
                }
                Err(error) => {
                    // A running listener keeps its last good configuration meanwhile.
                    let failure = Failure {
                        // The detail names certificates, whose IDs hold account IDs.
                        public: "cannot set up TLS with the listener's certificates".into(),
                        detail: format!("cannot set up TLS: {error}"),
                    };
                    self.report(address, failure);
                    continue;
                }
            };
            match self.running.get_mut(&address) {
                Some(running) => {
                    self.failed.remove(&address);
                    running.source = source;
                    let _ = running.runtime.send(runtime);
                    tracing::info!(%address, "listener reconfigured");
                }
                None => self.spawn(address, source, runtime).await,
            }
        }
        self.certificates
            .retain(|id, _| referenced.iter().any(|r| r == id));
        self.publish(&wanted);
        let health_keys: std::collections::HashSet<_> = self
            .running
            .values()
            .flat_map(|running| {
                let runtime = running.runtime.borrow().clone();
                let pools =
                    std::iter::once(&*runtime).chain(runtime.routes.iter().map(|r| &*r.pool));
                pools
                    .flat_map(|pool| pool.backends.iter().map(|b| b.health.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        self.workers
            .any()
            .health
            .retain(|key| health_keys.contains(key));
    }

    /// What is served and what failed, for `GET /dataplane`.
    fn publish(&self, wanted: &HashMap<SocketAddr, (&LoadBalancer, &Listener)>) {
        let mut board: Vec<serde_json::Value> = wanted
            .iter()
            .map(|(address, (_, listener))| {
                let serving = self.running.contains_key(address);
                let mut entry = serde_json::json!({
                    "address": address.to_string(),
                    "port": listener.port,
                    "protocol": listener.protocol.as_str(),
                    "state": if serving { "serving" } else { "failed" },
                });
                if let Some(failure) = self.failed.get(address) {
                    entry["reason"] = failure.public.clone().into();
                }
                entry
            })
            .collect();
        board.sort_by_key(|entry| entry["address"].to_string());
        self.status.set(board);
    }

    fn report(&mut self, address: SocketAddr, failure: Failure) {
        if self.failed.get(&address) != Some(&failure) {
            tracing::warn!(%address, reason = %failure.detail, "listener not served");
            self.failed.insert(address, failure);
        }
    }

    async fn spawn(&mut self, address: SocketAddr, source: String, runtime: Arc<ListenerRuntime>) {
        let bound = match runtime.protocol {
            Protocol::Udp => tokio::net::UdpSocket::bind(address).await.map(Socket::Udp),
            _ => TcpListener::bind(address).await.map(Socket::Tcp),
        };
        let socket = match bound {
            Ok(socket) => socket,
            Err(error) => {
                let reason = format!("cannot bind: {error}");
                let failure = Failure {
                    public: reason.clone(),
                    detail: reason,
                };
                self.report(address, failure);
                return;
            }
        };
        self.failed.remove(&address);
        tracing::info!(%address, listener = ?runtime, "listener started");
        let (runtime_sender, runtime_receiver) = watch::channel(runtime);
        let (stop, stopped) = watch::channel(false);
        let stopped = proxy::Stop {
            stopped,
            grace: self.options.shutdown_grace,
        };
        let limit = self.options.max_connections_per_listener;
        match socket {
            Socket::Tcp(socket) => tokio::spawn(accept_loop(
                socket,
                runtime_receiver.clone(),
                stopped.clone(),
                self.workers.clone(),
                Arc::new(Semaphore::new(limit)),
            )),
            Socket::Udp(socket) => tokio::spawn(super::udp::serve(
                socket,
                runtime_receiver.clone(),
                stopped.clone(),
                self.workers.any().clone(),
                limit,
            )),
        };
        tokio::spawn(super::health_loop::run(
            runtime_receiver,
            stopped.stopped,
            self.workers.any().health.clone(),
        ));
        self.running.insert(
            address,
            Running {
                source,
                runtime: runtime_sender,
                stop,
            },
        );
    }

    /// The revision of the custom TLS cipher policy a listener names: a change rebuilds it.
    fn policy_source(&self, listener: &Listener) -> String {
        text(&listener.settings, "TLSCipherPolicy")
            .and_then(|policy| self.tls_policies.get(policy))
            .map_or(String::new(), |policy| {
                format!("{}@{}", policy.id, policy.revision)
            })
    }

    async fn runtime(
        &mut self,
        load_balancer: &LoadBalancer,
        listener: &Listener,
    ) -> Result<ListenerRuntime, TlsSetupError> {
        let tls = match listener.protocol {
            Protocol::Https => Some(self.tls_config(load_balancer, listener).await?),
            _ => None,
        };
        Ok(ListenerRuntime::new(
            load_balancer,
            listener,
            tls,
            &self.options.backend_deny,
            &self.workers.any().health,
        ))
    }

    async fn tls_config(
        &mut self,
        load_balancer: &LoadBalancer,
        listener: &Listener,
    ) -> Result<Arc<rustls::ServerConfig>, TlsSetupError> {
        let scope = load_balancer.scope();
        let default_id = listener.server_certificate_id.clone().unwrap_or_default();
        let default = self.certified(&scope, &default_id).await?;
        let mut extensions = Vec::new();
        for extension in &listener.domain_extensions {
            let key = self
                .certified(&scope, &extension.server_certificate_id)
                .await?;
            extensions.push((extension.domain.to_ascii_lowercase(), key));
        }
        let client_ca = match &listener.ca_certificate_id {
            Some(id) => {
                let material = self
                    .store
                    .certificate_material(&scope, CertificateKind::Ca, id)
                    .await
                    .ok()
                    .flatten()
                    .ok_or_else(|| TlsSetupError::ClientCa(id.clone(), "not found".into()))?;
                Some((id.clone(), material.certificate_pem))
            }
            None => None,
        };
        let policy = text(&listener.settings, "TLSCipherPolicy").unwrap_or_default();
        let offer = match self.tls_policies.get(policy) {
            Some(custom) => tls::Offer::Custom {
                versions: crate::cipher_policies::protocol_versions(&custom.versions),
                suites: crate::cipher_policies::suites(&custom.ciphers),
            },
            None if policy.starts_with("tls-") => {
                return Err(TlsSetupError::Policy(policy.to_owned()));
            }
            None => tls::Offer::Builtin(policy.to_owned()),
        };
        let http2 = text(&listener.settings, "EnableHttp2") != Some("off");
        tls::server_config(
            SniResolver {
                default,
                extensions,
            },
            &offer,
            http2,
            client_ca
                .as_ref()
                .map(|(id, pem)| (id.as_str(), pem.as_str())),
        )
    }

    /// A server certificate with its key, opened from the vault once and kept while bound.
    async fn certified(
        &mut self,
        scope: &Scope,
        id: &str,
    ) -> Result<Arc<CertifiedKey>, TlsSetupError> {
        if let Some(key) = self.certificates.get(id) {
            return Ok(key.clone());
        }
        let material = self
            .store
            .certificate_material(scope, CertificateKind::Server, id)
            .await
            .ok()
            .flatten()
            .ok_or_else(|| TlsSetupError::Certificate(id.to_owned()))?;
        let sealed = material
            .private_key
            .ok_or_else(|| TlsSetupError::Key(id.to_owned()))?;
        let binding = Binding::CertificateKey {
            account_id: scope.account_id.clone(),
            region_id: scope.region_id.clone(),
            certificate_id: id.to_owned(),
        };
        let key_pem = self
            .vault
            .open_text(&sealed, &binding)
            .await
            .map_err(|_| TlsSetupError::Key(id.to_owned()))?;
        let key = tls::certified_key(id, &material.certificate_pem, &key_pem)?;
        self.certificates.insert(id.to_owned(), key.clone());
        Ok(key)
    }
}

/// What a listener's runtime depends on, as text to compare: the listener, the servers it may
/// forward to, and the load balancer's address.
fn source_of(load_balancer: &LoadBalancer, listener: &Listener) -> String {
    serde_json::json!({
        "address": load_balancer.address,
        "listener": listener,
        "servers": load_balancer.backend_servers,
        "groups": load_balancer.vserver_groups,
    })
    .to_string()
}

fn certificates_of(listener: &Listener) -> Vec<String> {
    listener
        .server_certificate_id
        .iter()
        .cloned()
        .chain(
            listener
                .domain_extensions
                .iter()
                .map(|e| e.server_certificate_id.clone()),
        )
        .collect()
}
