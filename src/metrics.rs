//! `GET /metrics` in the OpenMetrics text format that Prometheus scrapes: requests by product,
//! action and outcome code with their latency, and at each scrape the certificates stored and
//! **seconds until each one expires**, labelled with where it is bound, so that "what expires
//! next, and where" is one query (and one alert rule) away; how the store's writer batches
//! and commits; and the data plane's connections, TLS handshakes and backends' health.

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

/// Certificates described one by one per scrape by default (one series each, soonest expiry
/// first): a bound on the answer, about 22 MB at this many.
pub const DEFAULT_CERTIFICATE_SERIES: usize = 100_000;

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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

/// What requests have done since the start; what is stored is read at each scrape.
pub struct Metrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<ProductLabels, Histogram>,
    /// Certificates described one by one at most (the counts cover every one).
    certificate_series: usize,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new(DEFAULT_CERTIFICATE_SERIES)
    }
}

impl Metrics {
    pub fn new(certificate_series: usize) -> Metrics {
        Metrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| {
                // 100 µs to about 13 s.
                Histogram::new(exponential_buckets(0.0001, 2.0, 18))
            }),
            certificate_series,
        }
    }

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
        process: Process,
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
        let (remembered, full) = process.nonces;
        let queued = Gauge::<i64>::default();
        queued.set(i64::try_from(process.refusals_queued).unwrap_or(i64::MAX));
        registry.register(
            "audit_refusals_queued",
            "Audit records of refused requests not stored yet (they ride with the next write, or \
             are stored within a quarter second)",
            queued,
        );
        let entries = Gauge::<i64>::default();
        entries.set(i64::try_from(remembered).unwrap_or(i64::MAX));
        registry.register(
            "nonce_cache_entries",
            "Used SignatureNonces this process remembers in memory (at most 4,000,000)",
            entries,
        );
        let refused = Counter::<u64>::default();
        refused.inc_by(full);
        registry.register(
            "nonce_cache_full",
            "Signed requests whose nonce found the memory cache full (turned away with \
             Throttling.User on SQLite; judged by the database alone on PostgreSQL)",
            refused,
        );
        register_counts(&mut registry, store, now_ms).await?;
        register_orders(&mut registry, store).await?;
        let described = expiry::report(store, i64::MAX, self.certificate_series).await?;
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
        // Writing 100,000 series takes tens of milliseconds: not on an async worker.
        let encoding = tokio::task::spawn_blocking(move || {
            let mut text = String::with_capacity(4096 + described.len() * 240);
            encode_registry(&mut text, &registry).expect("writing to a String cannot fail");
            encode_expiry(&mut text, &described, now_ms);
            encode_eof(&mut text).expect("writing to a String cannot fail");
            text
        });
        encoding.await.map_err(|error| StoreError::Unavailable {
            what: "the metrics could not be written",
            detail: error.to_string(),
        })
    }
}

/// What this process holds in memory, for /metrics.
pub struct Process {
    /// What the nonce cache holds and how many found it full (Verifier::nonce_cache).
    pub nonces: (usize, u64),
    pub refusals_queued: usize,
}

/// `slbcert_certificate_expiry_seconds`, one gauge per certificate labelled with its account,
/// region, ID, kind, common name and whether a running listener (of an active load balancer)
/// serves it. Written as text rather than through a `Family`: at 100,000 certificates the
/// family's label sets cost more than the rest of the scrape (see BENCHMARKS.md).
fn encode_expiry(text: &mut String, described: &[expiry::Expiring], now_ms: i64) {
    use std::fmt::Write;
    text.push_str(
        "# HELP slbcert_certificate_expiry_seconds Seconds until each stored server or CA \
         certificate expires (negative once expired), soonest first up to \
         --metrics-certificate-series.\n\
         # TYPE slbcert_certificate_expiry_seconds gauge\n",
    );
    for row in described {
        let certificate = &row.certificate;
        let scope = &certificate.scope;
        text.push_str("slbcert_certificate_expiry_seconds{account=\"");
        escape_label(text, &scope.account_id);
        text.push_str("\",region=\"");
        escape_label(text, &scope.region_id);
        text.push_str("\",certificate_id=\"");
        escape_label(text, &certificate.id);
        text.push_str("\",kind=\"");
        text.push_str(certificate.kind.as_str());
        text.push_str("\",common_name=\"");
        escape_label(text, &certificate.common_name);
        let bound = row.bindings.iter().any(|binding| binding.running);
        let seconds = (certificate.expire_ms - now_ms) as f64 / 1000.0;
        let _ = writeln!(text, "\",bound=\"{bound}\"}} {seconds:?}");
    }
}

/// A label value as the text format quotes it: `\`, `"` and line feeds escaped.
fn escape_label(text: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => text.push_str("\\\\"),
            '"' => text.push_str("\\\""),
            '\n' => text.push_str("\\n"),
            c => text.push(c),
        }
    }
}

/// Certificates stored per account, region and kind, and how many expire within 7 and 30
/// days: counted by the store, so they cover every certificate.
async fn register_counts(
    registry: &mut Registry,
    store: &dyn Store,
    now_ms: i64,
) -> Result<(), StoreError> {
    const WITHIN: [(&str, i64); 2] = [("7d", 7), ("30d", 30)];
    let before = WITHIN.map(|(_, days)| now_ms + days * 86_400_000);
    let stored = Family::<StoredLabels, Gauge>::default();
    let mut expiring = [0u64; 2];
    for count in store.count_certificates(before).await? {
        stored
            .get_or_create(&StoredLabels {
                account: count.scope.account_id,
                region: count.scope.region_id,
                kind: count.kind.as_str().into(),
            })
            .set(count.total as i64);
        expiring[0] += count.expiring[0];
        expiring[1] += count.expiring[1];
    }
    let expiring_family = Family::<WithinLabels, Gauge>::default();
    for ((within, _), count) in WITHIN.iter().zip(expiring) {
        expiring_family
            .get_or_create(&WithinLabels {
                within: (*within).into(),
            })
            .set(count as i64);
    }
    registry.register(
        "certificates",
        "Server and CA certificates stored, by account, region and kind",
        stored,
    );
    registry.register(
        "certificates_expiring",
        "Certificates that expire within 7 or 30 days (or have expired)",
        expiring_family,
    );
    Ok(())
}

/// Certificate orders of the SSL Certificates Service by status, and the next renewal.
async fn register_orders(registry: &mut Registry, store: &dyn Store) -> Result<(), StoreError> {
    use crate::store::certificate_orders::OrderStatus;
    let counts = store.count_certificate_orders().await?;
    let by_status = Family::<StatusLabels, Gauge>::default();
    for status in [
        OrderStatus::DomainVerify,
        OrderStatus::Process,
        OrderStatus::Certificate,
        OrderStatus::VerifyFail,
        OrderStatus::Payed,
    ] {
        by_status
            .get_or_create(&StatusLabels {
                status: status.as_str().into(),
            })
            .set(counts.with_status(status) as i64);
    }
    registry.register(
        "certificate_orders",
        "Certificate orders (CreateCertificateRequest) of every account, by status: pending \
         ones are domain_verify and process, failed ones verify_fail",
        by_status,
    );
    if let Some(next) = counts.next_renewal_ms {
        let gauge = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        gauge.set(next as f64 / 1000.0);
        registry.register(
            "certificate_next_renewal_timestamp_seconds",
            "When the next issued certificate is due for renewal (or its renewal is looked at)",
            gauge,
        );
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::escape_label;

    #[test]
    fn label_values_escape_backslashes_quotes_and_line_feeds() {
        let mut text = String::new();
        escape_label(&mut text, "a\\b\"c\nd é");
        assert_eq!(text, "a\\\\b\\\"c\\nd é");
    }
}
