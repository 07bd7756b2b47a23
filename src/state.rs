//! What every request of a serving process shares: the store, the keys, the caches of
//! signatures and RAM state, the limits, and what the data plane reports.

use std::sync::Arc;

use crate::access::{Directory, throttle::Throttle};
use crate::audit::RefusalQueue;
use crate::dataplane::HealthTable;
use crate::products::{EditLocks, Limits};
use crate::store::Store;
use crate::vault::Vault;

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub vault: Arc<Vault>,
    pub refusals: Arc<RefusalQueue>,
    pub verifier: crate::access::Verifier,
    /// Each account's RAM state, for keys' status and policies.
    pub directory: Directory,
    pub throttle: Throttle,
    /// Whether the API answers over TLS (`acs:SecureTransport`).
    pub secure_transport: bool,
    /// Requests counted and timed for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    pub limits: Limits,
    pub edit_locks: EditLocks,
    /// The data plane's health checks and what it serves, when it runs.
    pub health: Option<Arc<HealthTable>>,
    /// The data plane's connection counts, for `/metrics`.
    pub traffic: Option<crate::dataplane::Traffic>,
    pub data_plane_status: Option<Arc<crate::dataplane::StatusBoard>>,
    /// The ACME CA certificates are applied to, when `serve` names one.
    pub issuer: Option<Arc<crate::issuance::Issuer>>,
}
