//! What every SQL module of the PostgreSQL store shares: connecting, the mapping of database
//! errors to the store's, row access, parameters built at run time, locks and announcements.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime, Transaction};
use tokio_postgres::error::SqlState;

use super::tls::Target;
use super::{CHANNEL, CONNECT_TIMEOUT, WAIT_FOR_CONNECTION};
use crate::store::StoreError;

/// What `url` connects to, with its TLS (the `PGSSL*` variables fill what it leaves out).
pub(super) fn target(url: &str) -> Result<Target, StoreError> {
    let mut target = super::tls::target(url, |name| std::env::var(name).ok())?;
    let config = &mut target.config;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_application_name().is_none() {
        config.application_name("slbcert");
    }
    // A database host that vanishes without closing its connections is noticed within about
    // 25 s, not TCP's two hours.
    config
        .keepalives_idle(Duration::from_secs(10))
        .keepalives_interval(Duration::from_secs(5))
        .keepalives_retries(3);
    // Bounds on every session, so that a stuck statement or a node that died mid-transaction
    // (holding a quota's lock) cannot hold others up for long; options in the URL come after
    // these and win.
    let ours = "-c statement_timeout=30s -c lock_timeout=10s \
                -c idle_in_transaction_session_timeout=60s";
    let options = match config.get_options() {
        Some(theirs) => format!("{ours} {theirs}"),
        None => ours.to_owned(),
    };
    config.options(options);
    Ok(target)
}

/// `target` for connections whose commits do not wait for the WAL flush.
pub(super) fn relaxed(target: &Target) -> Target {
    let mut relaxed = target.clone();
    let options = target.config.get_options().unwrap_or_default();
    relaxed
        .config
        .options(format!("{options} -c synchronous_commit=off"));
    relaxed
}

pub(super) fn pool(target: Target, size: usize) -> Result<Pool, StoreError> {
    let manager = Manager::from_config(
        target.config,
        target.tls,
        ManagerConfig {
            // A connection the database closed (a restart) is replaced, not handed out.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(WAIT_FOR_CONNECTION))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .recycle_timeout(Some(CONNECT_TIMEOUT))
        .build()
        .map_err(|error| StoreError::Database(format!("connection pool: {error}")))
}

/// A pool of `size` connections to `url` (for commands that use the database directly).
pub fn connect(url: &str, size: usize) -> Result<Pool, StoreError> {
    pool(target(url)?, size)
}

pub async fn connection(pool: &Pool) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|error| match &error {
        deadpool_postgres::PoolError::Backend(cause) => {
            refused(cause).unwrap_or_else(|| StoreError::Unavailable {
                what: "the database is unreachable",
                detail: error.to_string(),
            })
        }
        _ => StoreError::Unavailable {
            what: "the database is unreachable",
            detail: error.to_string(),
        },
    })
}

/// Why the database turned a new connection away, when it did (pg_hba, a password, TLS
/// required) or its certificate was not trusted: PostgreSQL's own words, or rustls'.
pub(super) fn refused(error: &tokio_postgres::Error) -> Option<StoreError> {
    if let Some(db) = error.as_db_error() {
        let class = &db.code().code()[..2];
        // 28: invalid authorization; 08: the server rejected the connection.
        if class == "28"
            || *db.code() == SqlState::SQLSERVER_REJECTED_ESTABLISHMENT_OF_SQLCONNECTION
        {
            return Some(StoreError::Refused(format!(
                "{}: {}",
                db.severity(),
                db.message()
            )));
        }
        return None;
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        // tokio-rustls hands rustls' error over inside an io::Error, whose source() skips it.
        let inner = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map_or(cause, |inner| inner as &(dyn std::error::Error + 'static));
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(StoreError::Refused(format!("TLS: {tls}")));
        }
        source = cause.source();
    }
    // tokio-postgres says so when sslmode needs TLS and the server offers none.
    let text = error.to_string();
    text.contains("TLS")
        .then(|| StoreError::Refused(format!("TLS: {text}")))
}

/// A database error as the store reports it: connection trouble and an overloaded or
/// restarting server are `Unavailable` (503, try again); anything else is a fault of ours.
pub(crate) fn database(error: tokio_postgres::Error) -> StoreError {
    let unavailable = |what| StoreError::Unavailable {
        what,
        detail: described(&error),
    };
    match error.code() {
        None if error.is_closed() || source_is_io(&error) => {
            unavailable("the database is unreachable")
        }
        None => StoreError::Database(described(&error)),
        Some(code) => match &code.code()[..2] {
            // Connection exceptions, insufficient resources, operator intervention (a
            // restart), system errors.
            "08" | "53" | "57" | "58" => unavailable("the database is unavailable"),
            // Serialization failures, deadlocks, a lock not granted within lock_timeout:
            // nothing was changed; a retry may pass.
            "40" => unavailable("the database is busy"),
            _ if *code == SqlState::LOCK_NOT_AVAILABLE => unavailable("the database is busy"),
            _ if *code == SqlState::READ_ONLY_SQL_TRANSACTION => {
                unavailable("the database takes no writes (a replica?)")
            }
            _ => StoreError::Database(described(&error)),
        },
    }
}

/// PostgreSQL's own message and code where it sent one (the error's `Display` says only
/// "db error"), else the error and its cause.
fn described(error: &tokio_postgres::Error) -> String {
    match (error.as_db_error(), std::error::Error::source(error)) {
        (Some(db), _) => format!("{} ({})", db.message(), db.code().code()),
        (None, Some(cause)) => format!("{error}: {cause}"),
        (None, None) => error.to_string(),
    }
}

fn source_is_io(error: &tokio_postgres::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The constraint a unique or foreign-key violation broke, if that is what `error` is.
pub(super) fn violated(error: &tokio_postgres::Error, state: &SqlState) -> Option<String> {
    let db = error.as_db_error()?;
    (db.code() == state).then(|| db.constraint().unwrap_or_default().to_owned())
}

pub(super) fn unique_violation(error: &tokio_postgres::Error) -> Option<String> {
    violated(error, &SqlState::UNIQUE_VIOLATION)
}

/// Serialises transactions that touch `key` (a quota's scope, the address pool) until they end,
/// on every node.
pub(super) async fn lock(transaction: &Transaction<'_>, key: &str) -> Result<(), StoreError> {
    transaction
        .execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&key],
        )
        .await
        .map_err(database)?;
    Ok(())
}

/// Tells every node, once `transaction` commits, that `what` changed.
pub(super) async fn announce(transaction: &Transaction<'_>, what: &str) -> Result<(), StoreError> {
    transaction
        .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &what])
        .await
        .map_err(database)?;
    Ok(())
}

/// Column `index` of `row`, or the store's error if it does not have that type.
pub(super) fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    index: usize,
) -> Result<T, StoreError> {
    row.try_get(index).map_err(database)
}

/// Parameters of a query built at run time: `push` binds a value and answers its placeholder.
#[derive(Default)]
pub(super) struct Params(Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>>);

impl Params {
    pub(super) fn push(
        &mut self,
        value: impl tokio_postgres::types::ToSql + Sync + Send + 'static,
    ) -> String {
        self.0.push(Box::new(value));
        format!("${}", self.0.len())
    }

    pub(super) fn refs(&self) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
        self.0
            .iter()
            .map(|value| value.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect()
    }
}

/// A statement sent with others in one round trip (tokio-postgres pipelines the requests of
/// futures polled together): its parameters owned, and how its failure reads.
pub(super) struct Write {
    pub statement: tokio_postgres::Statement,
    pub params: Params,
    pub failure: fn(tokio_postgres::Error) -> StoreError,
}

/// Runs `writes` in `transaction` in one round trip: the rows each changed, or the first
/// failure in order (the statements after it failed only because the transaction was aborted).
pub(super) async fn pipelined(
    transaction: &Transaction<'_>,
    writes: &[Write],
) -> Result<Vec<u64>, StoreError> {
    let params: Vec<_> = writes.iter().map(|write| write.params.refs()).collect();
    let sent = writes
        .iter()
        .zip(&params)
        .map(|(write, params)| transaction.execute(&write.statement, params));
    let results = futures_util::future::join_all(sent).await;
    writes
        .iter()
        .zip(results)
        .map(|(write, result)| result.map_err(write.failure))
        .collect()
}

/// Runs `write` on its own: one statement, its own transaction. Answers the rows it changed.
pub(super) async fn alone(
    client: &deadpool_postgres::Object,
    write: &Write,
) -> Result<u64, StoreError> {
    client
        .execute(&write.statement, &write.params.refs())
        .await
        .map_err(write.failure)
}

impl crate::store::filters::Bind for Params {
    fn bind(&mut self, value: String) -> String {
        self.push(value)
    }
}
