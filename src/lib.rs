//! slbcert: a self-hosted, wire-compatible implementation of the certificate API of Alibaba
//! Cloud Server Load Balancer (API version 2014-05-15).

pub mod access;
pub mod accounts;
pub(crate) mod admin;
pub mod api;
pub mod audit;
pub mod audit_export;
pub(crate) mod cidr;
pub(crate) mod cipher_policies;
pub mod cli;
pub mod clock;
pub(crate) mod console;
pub mod crypto;
pub mod data_dir;
pub(crate) mod dataplane;
pub mod dispatch;
pub(crate) mod expiry;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod http;
pub mod ids;
pub(crate) mod import;
pub(crate) mod issuance;
pub(crate) mod local;
pub mod metrics;
pub(crate) mod migrate;
pub(crate) mod operator_files;
pub mod pki;
pub mod products;
pub(crate) mod regions;
pub(crate) mod seed;
pub(crate) mod server;
pub(crate) mod state;
pub mod store;
pub(crate) mod tls;
pub mod vault;
