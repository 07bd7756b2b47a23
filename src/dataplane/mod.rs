//! The data plane: every `running` listener of an `active` load balancer is served on the load
//! balancer's `Address` and the listener's port (plus `--listener-port-offset`). It follows the
//! control plane within a second: a counter that every load balancer change advances is polled,
//! and a change rebuilds the listeners it touched. Connections keep the configuration they
//! started with; new ones get the new one.

mod accept;
pub mod access_log;
mod acl;
mod acme;
pub mod deny;
mod edge;
mod headers;
mod health;
mod health_loop;
mod listeners;
mod peer;
mod proxy;
mod routes;
mod runtime;
mod status;
mod tls;
mod traffic;
mod udp;
mod workers;

pub use health::{HealthKey, HealthTable};
pub use listeners::{DataPlane, Options, StatusBoard};
pub use traffic::Traffic;
