//! `slbcert serve`: opens the store, makes the first account on an empty data directory, and
//! serves until SIGTERM or SIGINT, then drains in-flight requests.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use http::{Method, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::access::Verifier;
use crate::accounts::FixedIdentity;
use crate::api;
use crate::data_dir::{self, DataDir, OpenError};
use crate::dispatch;
use crate::http::{self as web, Request, Response};
use crate::products::Limits;
use crate::state::AppState;
use crate::vault::VaultError;

mod first_start;
mod signals;

use first_start::{announce, bootstrap_first_account, plant};

pub const CREDENTIALS_FILE: &str = "credentials";

/// `/metrics`: on the API's address unless `listen` names another (then only there, plain
/// HTTP), behind `Authorization: Bearer TOKEN` when a token is set.
#[derive(Clone, Debug, Default)]
pub struct MetricsOptions {
    pub listen: Option<SocketAddr>,
    pub token: Option<crate::crypto::Secret>,
    /// Certificates described one by one at most per scrape.
    pub certificate_series: usize,
}

pub struct ServeConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub secrets: data_dir::Options,
    /// Per account per region; 0 means unlimited.
    pub quota_server_certificates: u64,
    pub quota_ca_certificates: u64,
    /// Request rates per AccessKey and per account (unlimited by default).
    pub throttle: crate::access::throttle::Rates,
    /// Where `/metrics` is served, and the bearer token it asks for.
    pub metrics: MetricsOptions,
    /// What the operator fixed of the first account's identity.
    pub first_account: FixedIdentity,
    /// Serve `POST /_slbcert/reset`, asking for this bearer token.
    pub admin_token: Option<crate::crypto::Secret>,
    /// What to make at the first start (`--seed`), read and checked.
    pub seed: Option<Box<crate::seed::Loaded>>,
    /// Print the first account's credentials and the address as one JSON line on stdout once
    /// listening (`--ephemeral`).
    pub announce: bool,
    pub load_balancers: crate::products::slb::LoadBalancerLimits,
    pub http: web::Limits,
    /// Answer TLS on the API port, with this certificate.
    pub tls: Option<crate::tls::Source>,
    /// Serve the running listeners; `None`: the control plane only.
    pub data_plane: Option<crate::dataplane::Options>,
    /// Apply for certificates to this ACME CA; `None`: the request actions refuse.
    pub acme: Option<crate::issuance::Options>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("cannot create the first account: {0}")]
    FirstAccount(#[from] VaultError),
    #[error("cannot write {path}: {source}")]
    Credentials {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--account-id/--access-key-id/--access-key-secret: {0}")]
    FixedIdentity(String),
    #[error("--seed: {0}")]
    Seed(String),
    #[error("cannot set up TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot start exporting the audit trail to {path}: {source}")]
    AuditExport {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--acme-*: {0}")]
    Acme(String),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: SocketAddr,
        source: std::io::Error,
    },
}

pub async fn serve(config: ServeConfig) -> Result<(), ServeError> {
    let data = data_dir::open(&config.data_dir, &config.secrets, "serve").await?;
    let fresh = bootstrap_first_account(&data, &config.data_dir, &config.first_account).await?;
    let DataDir {
        store,
        vault,
        audit,
        refusals,
    } = data;
    tracing::info!(audit_log = %audit.path().display(), "audit trail");
    let exporter = crate::audit_export::Exporter::start(
        audit.clone(),
        store.clone(),
        tokio::runtime::Handle::current(),
    )
    .map_err(|source| ServeError::AuditExport {
        path: audit.path().to_owned(),
        source,
    })?;
    let stopping = store.clone();
    let parts = Opened {
        store,
        vault,
        audit,
        refusals,
        fresh,
    };
    let served = run(config, parts).await;
    if let Err(error) = stopping.store_queued().await {
        tracing::warn!(%error, "refused requests' audit records are lost");
    }
    // What the last requests stored goes to audit.log before the process ends, and the export
    // stops before the runtime does, whether serving ended or never began (a port in use).
    exporter.stop().await;
    if served.is_ok() {
        tracing::info!("stopped");
    }
    served
}

/// What `serve` opened before it serves.
struct Opened {
    store: Arc<dyn crate::store::Store>,
    vault: Arc<crate::vault::Vault>,
    audit: Arc<crate::audit_export::AuditExport>,
    refusals: Arc<crate::audit::RefusalQueue>,
    /// The first account was made just now.
    fresh: bool,
}

async fn run(config: ServeConfig, opened: Opened) -> Result<(), ServeError> {
    let Opened {
        store,
        vault,
        audit,
        refusals,
        fresh,
    } = opened;
    let (stop, stopped) = watch::channel(false);
    let data_plane = config.data_plane.clone().map(|options| {
        crate::dataplane::DataPlane::start(store.clone(), vault.clone(), options, stopped.clone())
    });
    let (health, traffic, data_plane_status, data_plane_connections) = match data_plane {
        Some(handle) => (
            Some(handle.health),
            Some(handle.traffic),
            Some(handle.status),
            Some(handle.connections),
        ),
        None => (None, None, None, None),
    };
    let quota = |limit: u64| (limit > 0).then_some(limit);
    let verifier = Verifier::new(&vault);
    let issuer = match config.acme.clone() {
        Some(options) => Some(Arc::new(
            crate::issuance::Issuer::new(options).map_err(ServeError::Acme)?,
        )),
        None => None,
    };
    let state = Arc::new(AppState {
        store,
        vault,
        refusals,
        health,
        traffic,
        data_plane_status,
        issuer,
        verifier,
        directory: Default::default(),
        throttle: crate::access::throttle::Throttle::new(config.throttle),
        secure_transport: config.tls.is_some(),
        metrics: crate::metrics::Metrics::new(config.metrics.certificate_series),
        edit_locks: Default::default(),
        limits: Limits {
            server_certificates_per_region: quota(config.quota_server_certificates),
            ca_certificates_per_region: quota(config.quota_ca_certificates),
            load_balancers: config.load_balancers.clone(),
        },
    });
    let issuing = state.issuer.clone().map(|issuer| {
        tracing::info!(directory = %issuer.ca.directory(), "applying for certificates to an ACME CA");
        let rotation = Arc::new(crate::rotation::Rotator {
            state: state.clone(),
        });
        let (store, vault) = (state.store.clone(), state.vault.clone());
        crate::issuance::worker::start(store, vault, issuer, rotation, stopped.clone())
    });
    if let Some(seed) = &config.seed {
        plant(&state, seed, fresh).await?;
    }
    let tls = match &config.tls {
        Some(source) => Some(tokio_rustls::TlsAcceptor::from(crate::tls::server_config(
            source,
        )?)),
        None => None,
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Listen {
            address: config.listen,
            source,
        })?;
    let address = listener.local_addr().unwrap_or(config.listen);
    tracing::info!(%address, data_dir = %config.data_dir.display(), tls = tls.is_some(), "listening");
    if config.announce {
        announce(&config.data_dir, address)?;
    }

    signals::reopen_audit_log_on_hangup(audit);
    tokio::spawn(async move {
        signals::wait_for_signal().await;
        tracing::info!("shutting down: draining in-flight requests");
        let _ = stop.send(true);
    });
    if let Some(address) = config.metrics.listen {
        let metrics_listener = TcpListener::bind(address)
            .await
            .map_err(|source| ServeError::Listen { address, source })?;
        tracing::info!(address = %metrics_listener.local_addr().unwrap_or(address), "metrics");
        let (state, token) = (state.clone(), config.metrics.token.clone());
        let handler = move |request: Request| serve_metrics(state.clone(), token.clone(), request);
        tokio::spawn(web::serve(
            metrics_listener,
            handler,
            api::protocol_error,
            config.http.clone(),
            None,
            stopped.clone(),
        ));
    }
    let pages = Arc::new(Pages {
        // Tenant data on the API's address only behind a token; its own address may be a
        // network of the operator's, and a token there is the operator's choice.
        metrics: match config.metrics.listen {
            None => config.metrics.token.clone(),
            Some(_) => None,
        },
        admin_token: config.admin_token.clone(),
    });
    let handler = move |request: Request| route(state.clone(), pages.clone(), request);
    let grace = config.http.shutdown_grace;
    web::serve(
        listener,
        handler,
        api::protocol_error,
        config.http,
        tls,
        stopped,
    )
    .await;
    // The data plane's connections were told to stop with the API's: each has the same grace,
    // then is cut.
    if let Some(connections) = data_plane_connections {
        connections.close();
        let waited = tokio::time::timeout(
            grace + std::time::Duration::from_secs(1),
            connections.wait(),
        );
        if waited.await.is_err() {
            tracing::warn!("data plane connections still open after the grace");
        }
    }
    // A step of an order under way is finished and saved, so that a restart resumes after it.
    if let Some(issuing) = issuing
        && tokio::time::timeout(grace, issuing).await.is_err()
    {
        tracing::warn!("an order step still under way after the grace; its lease will lapse");
    }
    Ok(())
}

/// What the API's address serves besides the API.
struct Pages {
    /// `/metrics` is served here, with this token (`None`: it is elsewhere, or not served).
    metrics: Option<crate::crypto::Secret>,
    /// `POST /_slbcert/reset` is served, with this token (`None`: it is not).
    admin_token: Option<crate::crypto::Secret>,
}

async fn route(state: Arc<AppState>, pages: Arc<Pages>, request: Request) -> Response {
    match (&request.method, request.path.as_str()) {
        (&Method::GET | &Method::HEAD, "/healthz") => health(&state).await,
        (&Method::GET, "/metrics") if pages.metrics.is_some() => {
            serve_metrics(state, pages.metrics.clone(), request).await
        }
        (&Method::POST, crate::admin::RESET) if pages.admin_token.is_some() => {
            let token = pages.admin_token.as_ref().expect("checked");
            if !bearer_matches(&request, token) {
                return crate::admin::unauthorized();
            }
            crate::admin::reset(&state).await
        }
        (&Method::GET, "/dataplane") => data_plane_status(&state),
        (&Method::GET | &Method::HEAD, path) if crate::console::owns(path) => {
            crate::console::serve(&request)
        }
        (&Method::GET | &Method::POST, "/") => dispatch::handle(state, request).await,
        _ => api::not_found(&request),
    }
}

/// Whether `request` carries `Authorization: Bearer <token>`, compared in constant time.
fn bearer_matches(request: &Request, token: &crate::crypto::Secret) -> bool {
    let given = request
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    bool::from(subtle::ConstantTimeEq::ct_eq(
        given.as_bytes(),
        token.expose().as_bytes(),
    ))
}

/// The metrics listener's only page, and the API's `/metrics` when it is there.
async fn serve_metrics(
    state: Arc<AppState>,
    token: Option<crate::crypto::Secret>,
    request: Request,
) -> Response {
    let text = "text/plain; charset=utf-8";
    if (&request.method, request.path.as_str()) != (&Method::GET, "/metrics") {
        return Response::new(
            StatusCode::NOT_FOUND,
            text,
            "only GET /metrics is served here\n",
        );
    }
    if let Some(token) = token
        && !bearer_matches(&request, &token)
    {
        return Response::new(
            StatusCode::UNAUTHORIZED,
            text,
            "/metrics needs Authorization: Bearer <the --metrics-token>\n",
        );
    }
    let now_ms = crate::clock::unix_ms(crate::clock::now());
    let data_plane = state.health.as_deref().zip(state.traffic.as_ref());
    match state
        .metrics
        .render(
            state.store.as_ref(),
            data_plane,
            crate::metrics::Process {
                nonces: state.verifier.nonce_cache(),
                refusals_queued: state.refusals.pending(),
            },
            now_ms,
        )
        .await
    {
        Ok(body) => Response::new(
            StatusCode::OK,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            body,
        ),
        Err(error) => {
            tracing::warn!(%error, "metrics: the store cannot be read");
            Response::new(
                StatusCode::SERVICE_UNAVAILABLE,
                text,
                "unavailable: the store cannot be read\n",
            )
        }
    }
}

/// 200 while writes can be made; 503 with the reason while they cannot (the storage failed on
/// the last write and a probe write still fails, or the writer is gone).
async fn health(state: &AppState) -> Response {
    let text = "text/plain; charset=utf-8";
    match state.store.check_writable().await {
        Ok(()) => Response::new(StatusCode::OK, text, "ok\n"),
        Err(error) => {
            tracing::warn!(%error, "unhealthy");
            let why = error
                .health_reason()
                .unwrap_or_else(|| "writes cannot be made".into());
            Response::new(
                StatusCode::SERVICE_UNAVAILABLE,
                text,
                format!("unavailable: {why}\n"),
            )
        }
    }
}

/// The listeners the data plane serves, and those it could not (with why); 404 when it is off.
fn data_plane_status(state: &AppState) -> Response {
    match &state.data_plane_status {
        Some(status) => Response::new(
            StatusCode::OK,
            "application/json",
            status.report().to_string(),
        ),
        None => Response::new(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "the data plane is off (serve --data-plane on)\n",
        ),
    }
}
