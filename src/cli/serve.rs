//! `serve`'s flags, and the configuration they make.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use super::Storage;
use crate::accounts::FixedIdentity;
use crate::dataplane::deny::{BackendDeny, Cidr};
use crate::products::slb::LoadBalancerLimits;
use crate::server::ServeConfig;
use crate::store::load_balancers::AddressPool;

#[derive(clap::Args)]
pub(super) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SLBCERT_LISTEN", default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    #[command(flatten)]
    storage: Storage,
    /// Server certificates per account per region; 0 means unlimited.
    #[arg(long, env = "SLBCERT_QUOTA_SERVER_CERTIFICATES", default_value_t = 100)]
    quota_server_certificates: u64,
    /// CA certificates per account per region; 0 means unlimited.
    #[arg(long, env = "SLBCERT_QUOTA_CA_CERTIFICATES", default_value_t = 100)]
    quota_ca_certificates: u64,
    /// Requests per second each AccessKey may make (a burst of one second's worth); beyond it
    /// calls answer `Throttling.User`. Unlimited unless set.
    #[arg(long, env = "SLBCERT_THROTTLE_PER_ACCESS_KEY", value_parser = positive_rate)]
    throttle_per_access_key: Option<f64>,
    /// Requests per second all keys of one account may make together. Unlimited unless set.
    #[arg(long, env = "SLBCERT_THROTTLE_PER_ACCOUNT", value_parser = positive_rate)]
    throttle_per_account: Option<f64>,
    /// Serve `GET /metrics` (Prometheus) on this address only, in plain HTTP, instead of on
    /// the API's address.
    #[arg(long, env = "SLBCERT_METRICS_LISTEN")]
    metrics_listen: Option<std::net::SocketAddr>,
    /// Ask for `Authorization: Bearer TOKEN` on `/metrics` (at least 16 characters). The
    /// API's address serves `/metrics` only with it: the page names every account's
    /// certificates and backends.
    #[arg(long, env = "SLBCERT_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Certificates given a `slbcert_certificate_expiry_seconds` series each per scrape, at
    /// most (soonest expiry first; the counts cover every certificate). About 220 bytes each.
    #[arg(long, env = "SLBCERT_METRICS_CERTIFICATE_SERIES",
          default_value_t = crate::metrics::DEFAULT_CERTIFICATE_SERIES)]
    metrics_certificate_series: usize,
    #[command(flatten)]
    load_balancers: LoadBalancerArgs,
    #[command(flatten)]
    acme: AcmeArgs,
    /// Keep everything in a new temporary directory, removed when the server stops, and print
    /// the first account's credentials and the address as one JSON line on stdout once
    /// listening. For CI jobs and shell scripts; not with --data-dir or --database-url.
    #[arg(long, env = "SLBCERT_EPHEMERAL", conflicts_with_all = ["database_url", "data_dir"])]
    ephemeral: bool,
    /// Make the accounts, certificates, load balancers, listeners and domain extensions of
    /// this YAML (or .json) file at the first start, through the API's own handlers; any bad
    /// item refuses start-up, naming it. See docs/testing.md.
    #[arg(long, env = "SLBCERT_SEED")]
    seed: Option<PathBuf>,
    /// Serve `POST /_slbcert/reset` (empties the store but for the first account), asking for
    /// `Authorization: Bearer TOKEN`. Off unless given.
    #[arg(long, env = "SLBCERT_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The first account's AccountId (16 digits), instead of a random one.
    #[arg(long, env = "SLBCERT_ACCOUNT_ID", value_parser = crate::accounts::parse_account_id)]
    account_id: Option<String>,
    /// The first account's AccessKeyId (16 to 64 letters and digits), instead of a random one.
    #[arg(long, env = "SLBCERT_ACCESS_KEY_ID", value_parser = crate::accounts::parse_access_key_id)]
    access_key_id: Option<String>,
    /// The first account's AccessKeySecret (16 to 64 letters and digits); needs
    /// --access-key-id. Checked after parsing, so that a refusal does not repeat it.
    #[arg(
        long,
        env = "SLBCERT_ACCESS_KEY_SECRET",
        hide_env_values = true,
        requires = "access_key_id"
    )]
    access_key_secret: Option<String>,
    /// Answer HTTPS (only) on the listen address, with a certificate from a local CA made once
    /// in the data directory: trust DATA_DIR/ca.pem (SSL_CERT_FILE, REQUESTS_CA_BUNDLE).
    #[arg(long, env = "SLBCERT_TLS")]
    tls: bool,
    /// Answer HTTPS with this certificate chain (PEM) instead of the local CA's; needs --tls-key.
    #[arg(long, env = "SLBCERT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key (PEM) of --tls-cert.
    #[arg(long, env = "SLBCERT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve the running listeners on their load balancers' addresses (on), or only the API.
    #[arg(long, env = "SLBCERT_DATA_PLANE", default_value = "on",
          value_parser = ["on", "off"])]
    data_plane: String,
    /// Added to every listener's port when it is served (for users who cannot bind low ports).
    #[arg(long, env = "SLBCERT_LISTENER_PORT_OFFSET", default_value_t = 0)]
    listener_port_offset: u16,
    /// Client connections per served listener at most; more wait to be accepted.
    #[arg(long, env = "SLBCERT_LISTENER_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    listener_max_connections: u32,
    /// Bytes an HTTP/2 stream of a served listener may hold of a response its client does not
    /// read (at most 100 streams per connection, each also with a 16 KiB backend buffer): what
    /// a slow or hostile reader can cost, about 3.5 MB per connection by default.
    #[arg(long, env = "SLBCERT_LISTENER_H2_STREAM_BUFFER", default_value_t = 16 * 1024,
          value_parser = clap::value_parser!(u32).range(4096..=16 * 1024 * 1024))]
    listener_h2_stream_buffer: u32,
    /// Log every request of the HTTP and HTTPS listeners to this file, one JSON line each, with
    /// the fields of SLB's layer-7 access logs.
    #[arg(long, env = "SLBCERT_ACCESS_LOG")]
    access_log: Option<PathBuf>,
    /// Past this size the access log moves to FILE.1 (replacing it) and a new one begins.
    #[arg(long, env = "SLBCERT_ACCESS_LOG_MAX_BYTES", default_value_t = 100 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(4096..))]
    access_log_max_bytes: u64,
    /// Open client connections at most; near the cap, idle ones are closed first.
    #[arg(long, env = "SLBCERT_MAX_CONNECTIONS", default_value_t = 4096,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Seconds in-flight requests get to finish at shutdown before their connections close.
    #[arg(long, env = "SLBCERT_SHUTDOWN_GRACE", default_value_t = 10)]
    shutdown_grace: u64,
    /// Seconds one response may take to be written to a client that does not read.
    #[arg(long, env = "SLBCERT_WRITE_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    write_timeout: u64,
}

/// Quotas of load balancers and what hangs off them (the real service's defaults), and the
/// addresses they get.
#[derive(clap::Args)]
struct LoadBalancerArgs {
    /// Load balancers per account per region; 0 means unlimited.
    #[arg(long, env = "SLBCERT_QUOTA_LOAD_BALANCERS", default_value_t = 60)]
    quota_load_balancers: u64,
    /// Listeners per load balancer.
    #[arg(long, env = "SLBCERT_MAX_LISTENERS", default_value_t = 50)]
    max_listeners: usize,
    /// Domain extensions (additional certificates) per HTTPS listener.
    #[arg(long, env = "SLBCERT_MAX_DOMAIN_EXTENSIONS", default_value_t = 3)]
    max_domain_extensions: usize,
    /// Forwarding rules per HTTP or HTTPS listener (SLB's fixed limit is 40).
    #[arg(long, env = "SLBCERT_MAX_RULES", default_value_t = 40)]
    max_rules: usize,
    /// Backend servers per load balancer (default server group), and per VServer group.
    #[arg(long, env = "SLBCERT_MAX_BACKEND_SERVERS", default_value_t = 200)]
    max_backend_servers: usize,
    /// Backend servers per AddBackendServers (and similar) call.
    #[arg(
        long,
        env = "SLBCERT_MAX_BACKEND_SERVERS_PER_CALL",
        default_value_t = 20
    )]
    max_backend_servers_per_call: usize,
    /// Access control lists per account per region; 0 means unlimited.
    #[arg(long, env = "SLBCERT_QUOTA_ACLS", default_value_t = 50)]
    quota_acls: u64,
    /// Entries per access control list.
    #[arg(long, env = "SLBCERT_MAX_ACL_ENTRIES", default_value_t = 300)]
    max_acl_entries: usize,
    /// Addresses handed out to load balancers (a CIDR block; loopback by default, so that
    /// their listeners can be served on this machine).
    #[arg(long, env = "SLBCERT_ADDRESS_POOL", default_value = "127.18.0.0/16",
          value_parser = AddressPool::from_cidr)]
    address_pool: AddressPool,
    /// Address blocks no backend server may be in (comma-separated, or the flag again).
    /// This server's own API and metrics addresses are refused whatever is given.
    #[arg(long, env = "SLBCERT_BACKEND_DENY", value_delimiter = ',',
          default_value = crate::dataplane::deny::DEFAULT_DENIED, value_parser = Cidr::parse)]
    backend_deny: Vec<Cidr>,
}

/// Certificates applied for through the SSL Certificates Service, issued by an ACME CA.
#[derive(clap::Args)]
struct AcmeArgs {
    /// The ACME directory URL of the CA to apply to (Let's Encrypt's, a step-ca's, pebble's).
    /// Without it, CreateCertificateRequest answers an error and stores nothing.
    #[arg(long, env = "SLBCERT_ACME_DIRECTORY")]
    acme_directory: Option<String>,
    /// A PEM root to trust for the directory's HTTPS (a private CA's).
    #[arg(long, env = "SLBCERT_ACME_CA_FILE", requires = "acme_directory")]
    acme_ca_file: Option<PathBuf>,
    /// The contact of the ACME accounts made with the CA.
    #[arg(long, env = "SLBCERT_ACME_EMAIL", requires = "acme_directory")]
    acme_email: Option<String>,
    /// External account binding: the key ID the CA gave.
    #[arg(long, env = "SLBCERT_ACME_EAB_KID", requires_all = ["acme_directory", "acme_eab_hmac"])]
    acme_eab_kid: Option<String>,
    /// External account binding: the HMAC key the CA gave (base64url).
    #[arg(
        long,
        env = "SLBCERT_ACME_EAB_HMAC",
        hide_env_values = true,
        requires = "acme_eab_kid"
    )]
    acme_eab_hmac: Option<String>,
    /// The DNS server (ADDRESS:PORT) on which proofs are looked up before the CA is told to
    /// look; the system's resolver when not given.
    #[arg(long, env = "SLBCERT_ACME_DNS_RESOLVER")]
    acme_dns_resolver: Option<SocketAddr>,
    /// The port the CA fetches FILE proofs from.
    #[arg(long, env = "SLBCERT_ACME_HTTP_PORT", default_value_t = 80)]
    acme_http_port: u16,
    /// Seconds a domain's proof may take to be put in place before its order fails.
    #[arg(long, env = "SLBCERT_ACME_PROOF_DEADLINE", default_value_t = 3 * 24 * 3600,
          value_parser = clap::value_parser!(u64).range(1..))]
    acme_proof_deadline: u64,
    /// How long before its end an issued certificate is renewed (`30d`, `12h`, `90m`, or
    /// seconds); at two thirds of its life at the latest.
    #[arg(long, env = "SLBCERT_ACME_RENEW_BEFORE", default_value = "30d", value_parser = duration)]
    acme_renew_before: std::time::Duration,
    /// Orders per account not issued (under validation, failed or cancelled) at most; more are
    /// refused with OverQuota until some are deleted. 0 means unlimited.
    #[arg(long, env = "SLBCERT_ACME_MAX_OPEN_ORDERS", default_value_t = 100)]
    acme_max_open_orders: u64,
}

/// `30d`, `12h`, `90m`, `45s` or a number of seconds.
fn duration(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: use a number with d, h, m or s")),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: use a number with d, h, m or s"))?;
    Ok(std::time::Duration::from_secs(
        number.saturating_mul(seconds),
    ))
}

impl AcmeArgs {
    fn options(&self) -> Option<crate::issuance::Options> {
        Some(crate::issuance::Options {
            directory: self.acme_directory.clone()?,
            ca_file: self.acme_ca_file.clone(),
            email: self.acme_email.clone(),
            external_account: match (&self.acme_eab_kid, &self.acme_eab_hmac) {
                (Some(key_id), Some(hmac)) => Some(crate::issuance::ExternalAccount {
                    key_id: key_id.clone(),
                    hmac_key: crate::crypto::Secret::new(hmac.clone()),
                }),
                _ => None,
            },
            resolver: self.acme_dns_resolver,
            http_port: self.acme_http_port,
            proof_deadline: std::time::Duration::from_secs(self.acme_proof_deadline),
            renew_before: self.acme_renew_before,
            max_open_orders: (self.acme_max_open_orders > 0).then_some(self.acme_max_open_orders),
        })
    }
}

impl LoadBalancerArgs {
    fn limits(&self, backend_deny: Arc<BackendDeny>) -> LoadBalancerLimits {
        LoadBalancerLimits {
            per_region: (self.quota_load_balancers > 0).then_some(self.quota_load_balancers),
            listeners_per_load_balancer: self.max_listeners,
            domain_extensions_per_listener: self.max_domain_extensions,
            rules_per_listener: self.max_rules,
            backend_servers_per_load_balancer: self.max_backend_servers,
            backend_servers_per_call: self.max_backend_servers_per_call,
            acls_per_region: (self.quota_acls > 0).then_some(self.quota_acls),
            entries_per_acl: self.max_acl_entries,
            address_pool: self.address_pool,
            backend_deny,
        }
    }
}

impl ServeArgs {
    /// Serves until SIGTERM or SIGINT; an ephemeral data directory is removed afterwards.
    pub(super) async fn run(mut self) -> Result<(), super::BoxError> {
        check_token("--metrics-token", self.metrics_token.as_deref())?;
        check_token("--admin-token", self.admin_token.as_deref())?;
        let secret = match self.access_key_secret.take().map(zeroize::Zeroizing::new) {
            Some(text) => Some(crate::accounts::parse_access_key_secret(&text)?),
            None => None,
        };
        let seed = match &self.seed {
            Some(path) => Some(crate::seed::load(path).map_err(|why| format!("--seed {why}"))?),
            None => None,
        };
        let from_seed = match &seed {
            Some(seed) => seed
                .first_identity()
                .map_err(|why| format!("--seed: {why}"))?,
            None => Default::default(),
        };
        let ephemeral = match self.ephemeral {
            true => Some(Ephemeral::create()?),
            false => None,
        };
        if let Some(directory) = &ephemeral {
            self.storage.data_dir = directory.0.clone();
        }
        let access_log = match &self.access_log {
            Some(path) => Some(
                crate::dataplane::access_log::AccessLog::open(path, self.access_log_max_bytes)
                    .map_err(|why| format!("--access-log {}: {why}", path.display()))?,
            ),
            None => None,
        };
        let mut config = self.config(secret);
        if let Some(data_plane) = &mut config.data_plane {
            data_plane.access_log = access_log;
        }
        config.first_account = merge(config.first_account, from_seed)?;
        config.seed = seed.map(Box::new);
        let served = crate::server::serve(config).await;
        drop(ephemeral);
        Ok(served?)
    }

    /// What `serve` runs with, given the checked secret.
    fn config(self, access_key_secret: Option<crate::crypto::Secret>) -> ServeConfig {
        // This server's own addresses: a backend there would relay to the API.
        let own = std::iter::once(self.listen)
            .chain(self.metrics_listen)
            .collect();
        let backend_deny = Arc::new(BackendDeny::new(
            self.load_balancers.backend_deny.clone(),
            own,
        ));
        ServeConfig {
            data_plane: (self.data_plane == "on").then_some(crate::dataplane::Options {
                port_offset: self.listener_port_offset,
                max_connections_per_listener: self.listener_max_connections as usize,
                backend_deny: backend_deny.clone(),
                h2_stream_buffer: self.listener_h2_stream_buffer as usize,
                shutdown_grace: std::time::Duration::from_secs(self.shutdown_grace),
                access_log: None,
            }),
            tls: match (&self.tls_cert, &self.tls_key, self.tls) {
                (Some(certificate), Some(key), _) => Some(crate::tls::Source::Files {
                    certificate: certificate.clone(),
                    key: key.clone(),
                }),
                (_, _, true) => Some(crate::tls::Source::LocalCa {
                    data_dir: self.storage.data_dir.clone(),
                    listen: self.listen.ip(),
                }),
                _ => None,
            },
            listen: self.listen,
            secrets: self.storage.options(),
            data_dir: self.storage.data_dir,
            quota_server_certificates: self.quota_server_certificates,
            quota_ca_certificates: self.quota_ca_certificates,
            throttle: crate::access::throttle::Rates {
                per_access_key: self.throttle_per_access_key,
                per_account: self.throttle_per_account,
            },
            metrics: crate::server::MetricsOptions {
                listen: self.metrics_listen,
                token: self.metrics_token.map(crate::crypto::Secret::new),
                certificate_series: self.metrics_certificate_series,
            },
            load_balancers: self.load_balancers.limits(backend_deny),
            acme: self.acme.options(),
            first_account: crate::accounts::FixedIdentity {
                account_id: self.account_id,
                access_key_id: self.access_key_id,
                access_key_secret,
            },
            announce: self.ephemeral,
            admin_token: self.admin_token.map(crate::crypto::Secret::new),
            seed: None,
            http: crate::http::Limits {
                max_connections: self.max_connections as usize,
                shutdown_grace: std::time::Duration::from_secs(self.shutdown_grace),
                write_timeout: std::time::Duration::from_secs(self.write_timeout),
                ..Default::default()
            },
        }
    }
}

/// The first account's identity from the flags and from the seed file's first entry: each part
/// from either, or from both if they agree.
fn merge(flags: FixedIdentity, seed: FixedIdentity) -> Result<FixedIdentity, String> {
    fn one<T>(
        flag: Option<T>,
        seed: Option<T>,
        what: &str,
        same: impl Fn(&T, &T) -> bool,
    ) -> Result<Option<T>, String> {
        match (flag, seed) {
            (Some(a), Some(b)) if !same(&a, &b) => Err(format!(
                "--{what} and the seed file's accounts[0] give different values"
            )),
            (flag, seed) => Ok(flag.or(seed)),
        }
    }
    Ok(FixedIdentity {
        account_id: one(flags.account_id, seed.account_id, "account-id", String::eq)?,
        access_key_id: one(
            flags.access_key_id,
            seed.access_key_id,
            "access-key-id",
            String::eq,
        )?,
        access_key_secret: one(
            flags.access_key_secret,
            seed.access_key_secret,
            "access-key-secret",
            |a, b| a.expose() == b.expose(),
        )?,
    })
}

/// `--ephemeral`'s data directory: made owner-only under the temporary directory, removed
/// when dropped.
struct Ephemeral(PathBuf);

impl Ephemeral {
    fn create() -> std::io::Result<Ephemeral> {
        use std::os::unix::fs::DirBuilderExt;
        let path = std::env::temp_dir().join(format!(
            "slbcert-ephemeral-{}",
            crate::ids::request_id().to_ascii_lowercase()
        ));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Ephemeral(path))
    }
}

impl Drop for Ephemeral {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(path = %self.0.display(), %error, "cannot remove the ephemeral data directory");
        }
    }
}

/// A request rate: a finite number above zero.
/// The shortest bearer token `serve` takes: an empty or short one would open what it guards.
pub const MIN_TOKEN_CHARS: usize = 16;

/// A bearer token: at least [`MIN_TOKEN_CHARS`] printable characters without spaces. Checked
/// after parsing, so that the refusal does not repeat it.
fn check_token(flag: &str, token: Option<&str>) -> Result<(), String> {
    let Some(text) = token else {
        return Ok(());
    };
    let printable = text.chars().all(|c| c.is_ascii_graphic());
    if text.chars().count() < MIN_TOKEN_CHARS || !printable {
        return Err(format!(
            "{flag}: a token must be at least {MIN_TOKEN_CHARS} printable characters without spaces"
        ));
    }
    Ok(())
}

fn positive_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!(
            "{text:?} is not a rate above zero (requests per second)"
        )),
    }
}
