//! `GET /metrics` in the OpenMetrics text format that Prometheus scrapes: requests by product,
//! action and outcome code with their latency, and at each scrape the certificates stored and
//! **seconds until each one expires**, labelled with where it is bound, so that "what expires
//! next, and where" is one query (and one alert rule) away; and the data plane's backends'
//! health.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::dataplane::{HealthTable, Traffic};
use crate::expiry;
use crate::store::{Store, StoreError};

/// Certificates described at most per scrape (one series each): a bound on the answer.
pub const MAX_CERTIFICATE_SERIES: usize = 100_000;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    // Static where they can be: a label set is made per request.
    product: &'static str,
    action: &'static str,
    /// The error code, or `Success`.
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProductLabels {
    product: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CertificateLabels {
    account: String,
    region: String,
    certificate_id: String,
    kind: String,
    common_name: String,
    /// Whether a running listener (of an active load balancer) serves it.
    bound: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoredLabels {
    account: String,
    region: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BackendLabels {
    load_balancer: String,
    listener_port: String,
    protocol: String,
    backend: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WithinLabels {
    within: String,
}

/// What requests have done since the start; what is stored is read at each scrape.
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<ProductLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| {
                // 100 µs to about 13 s.
                Histogram::new(exponential_buckets(0.0001, 2.0, 18))
            }),
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn observe(
        &self,
        product: &'static str,
        action: &'static str,
        code: Option<&str>,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                product,
                action: if action.is_empty() { "-" } else { action },
                code: code.unwrap_or("Success").to_owned(),
            })
            .inc();
        self.durations
            .get_or_create(&ProductLabels { product })
            .observe(elapsed.as_secs_f64());
    }

    /// The exposition: the request metrics, the stored certificates as of now, and the data
    /// plane's backends (when it runs).
    pub async fn render(
        &self,
        store: &dyn Store,
        data_plane: Option<(&HealthTable, &Traffic)>,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let mut registry = Registry::with_prefix("slbcert");
        registry.register(
            "requests",
            "API requests answered, by product, action and outcome code",
            self.requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to its answer",
            self.durations.clone(),
        );
        let writes = store.write_stats();
        registry.register(
            "write_batch_writes",
            "Writes committed together per commit (SQLite groups them; PostgreSQL commits each)",
            writes.batch_writes.clone(),
        );
        registry.register(
            "write_commit_duration_seconds",
            "Time for a commit to become durable",
            writes.commit_seconds.clone(),
        );
        let expiry_seconds = Family::<CertificateLabels, Gauge<f64, AtomicU64>>::default();
        let stored = Family::<StoredLabels, Gauge>::default();
        let expiring = Family::<WithinLabels, Gauge>::default();
        for within in ["7d", "30d"] {
            expiring
                .get_or_create(&WithinLabels {
                    within: within.into(),
                })
                .set(0);
        }
        for row in expiry::report(store, i64::MAX, MAX_CERTIFICATE_SERIES).await? {
            let certificate = &row.certificate;
            let scope = &certificate.scope;
            let left_ms = certificate.expire_ms - now_ms;
            expiry_seconds
                .get_or_create(&CertificateLabels {
                    account: scope.account_id.clone(),
                    region: scope.region_id.clone(),
                    certificate_id: certificate.id.clone(),
                    kind: certificate.kind.as_str().into(),
                    common_name: certificate.common_name.clone(),
                    bound: row.bindings.iter().any(|b| b.running).to_string(),
                })
                .set(left_ms as f64 / 1000.0);
            stored
                .get_or_create(&StoredLabels {
                    account: scope.account_id.clone(),
                    region: scope.region_id.clone(),
                    kind: certificate.kind.as_str().into(),
                })
                .inc();
            for (within, days) in [("7d", 7), ("30d", 30)] {
                if left_ms < days * 86_400_000 {
                    expiring
                        .get_or_create(&WithinLabels {
                            within: within.into(),
                        })
                        .inc();
                }
            }
        }
        registry.register(
            "certificate_expiry_seconds",
            "Seconds until each stored server or CA certificate expires (negative once expired)",
            expiry_seconds,
        );
        registry.register(
            "certificates",
            "Server and CA certificates stored, by account, region and kind",
            stored,
        );
        registry.register(
            "certificates_expiring",
            "Certificates that expire within 7 or 30 days (or have expired)",
            expiring,
        );
        if let Some((health, traffic)) = data_plane {
            register_traffic(&mut registry, traffic);
            let backends = Family::<BackendLabels, Gauge>::default();
            for (key, healthy) in health.snapshot() {
                backends
                    .get_or_create(&BackendLabels {
                        load_balancer: key.load_balancer_id,
                        listener_port: key.listener_port.to_string(),
                        protocol: key.protocol.to_owned(),
                        backend: key.backend.to_string(),
                    })
                    .set(i64::from(healthy));
            }
            registry.register(
                "backend_healthy",
                "1 if a running listener's health checks find a backend healthy, else 0",
                backends,
            );
        }
        let mut text = String::new();
        encode_registry(&mut text, &registry).expect("writing to a String cannot fail");
        encode_eof(&mut text).expect("writing to a String cannot fail");
        Ok(text)
    }
}

fn register_traffic(registry: &mut Registry, traffic: &Traffic) {
    registry.register(
        "dataplane_connections",
        "Client connections the data plane's listeners accepted, by listener protocol",
        traffic.connections.clone(),
    );
    registry.register(
        "dataplane_open_connections",
        "Client connections open now, by listener protocol",
        traffic.open.clone(),
    );
    registry.register(
        "dataplane_tls_handshakes",
        "TLS handshakes of HTTPS listeners, by outcome (ok, refused, timeout)",
        traffic.handshakes.clone(),
    );
}
