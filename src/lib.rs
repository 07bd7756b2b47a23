//! slbcert: a self-hosted, wire-compatible implementation of the certificate API of Alibaba
//! Cloud Server Load Balancer (API version 2014-05-15).

pub mod access;
pub mod accounts;
pub mod admin;
pub mod api;
pub mod audit;
pub mod audit_export;
pub(crate) mod cidr;
pub(crate) mod cipher_policies;
pub mod cli;
pub mod clock;
pub mod console;
pub mod crypto;
pub mod data_dir;
pub mod dataplane;
pub mod dispatch;
pub mod expiry;
pub mod fuzzing;
pub mod http;
pub mod ids;
pub mod import;
pub mod local;
pub mod metrics;
pub mod migrate;
pub mod pki;
pub mod products;
pub mod regions;
pub mod seed;
pub mod server;
pub mod state;
pub mod store;
pub mod tls;
pub mod vault;
