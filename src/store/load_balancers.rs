//! Load balancers and what hangs off them (listeners, domain extensions, backend servers,
//! VServer groups), stored and changed as one aggregate: every change reads the load balancer,
//! edits it, and writes it back in one transaction, after the store checked that every
//! certificate it names exists in its account and region.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use super::addresses::AddressPool;
use super::region_resources::ResourceKind;
use super::{CertificateKind, Quota, Scope, StoreError, Tag};
use crate::audit::AuditLine;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadBalancer {
    pub id: String,
    pub account_id: String,
    pub region_id: String,
    /// Handed out by the store from the address pool.
    pub address: Ipv4Addr,
    /// `active` or `inactive`.
    pub status: String,
    pub delete_protection: bool,
    pub created_ms: i64,
    pub client_token: Option<String>,
    /// Advanced by every change (see [`LoadBalancerStore`]).
    pub revision: i64,
    pub resource_group_id: String,
    /// Every other attribute as the client set it (or its default), by wire name:
    /// `LoadBalancerName`, `AddressType`, `LoadBalancerSpec`, `Bandwidth`, ...
    pub attributes: BTreeMap<String, Setting>,
    pub tags: Vec<Tag>,
    /// In creation order.
    pub listeners: Vec<Listener>,
    /// The default server group.
    pub backend_servers: Vec<BackendServer>,
    pub vserver_groups: Vec<VServerGroup>,
    /// Primary/secondary groups (TCP and UDP listeners); documents stored before them have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub master_slave_groups: Vec<MasterSlaveGroup>,
    /// Where its layer-7 access logs would be delivered (SetAccessLogsDownloadAttribute).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<LogDestination>,
}

/// A Log Service project and logstore.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogDestination {
    pub project: String,
    pub store: String,
}

/// A parameter's value, as typed on the wire (`Bandwidth` is a number, `Scheduler` a string).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Setting {
    Int(i64),
    Text(String),
}

/// The text setting `name`, if set.
pub fn text<'a>(settings: &'a BTreeMap<String, Setting>, name: &str) -> Option<&'a str> {
    match settings.get(name) {
        Some(Setting::Text(value)) => Some(value),
        _ => None,
    }
}

/// The number setting `name`, if set.
pub fn int(settings: &BTreeMap<String, Setting>, name: &str) -> Option<i64> {
    match settings.get(name) {
        Some(Setting::Int(value)) => Some(*value),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Https,
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }

    /// Case-insensitively (certd sends `HTTPS`).
    pub fn parse(value: &str) -> Option<Protocol> {
        [
            Protocol::Http,
            Protocol::Https,
            Protocol::Tcp,
            Protocol::Udp,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(value))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListenerStatus {
    Stopped,
    Running,
}

impl ListenerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ListenerStatus::Stopped => "stopped",
            ListenerStatus::Running => "running",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    pub port: u16,
    pub protocol: Protocol,
    pub status: ListenerStatus,
    pub server_certificate_id: Option<String>,
    pub ca_certificate_id: Option<String>,
    /// Every other parameter, by wire name, as set or defaulted.
    pub settings: BTreeMap<String, Setting>,
    pub domain_extensions: Vec<DomainExtension>,
    pub tags: Vec<Tag>,
    /// Forwarding rules (HTTP and HTTPS), in creation order; documents stored before rules
    /// existed have none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

/// How tags name a listener: `lb-…-https-443` (its load balancer, protocol and port), since
/// SLB listeners have no ID of their own.
pub fn listener_tag_id(load_balancer_id: &str, protocol: Protocol, port: u16) -> String {
    format!("{load_balancer_id}-{}-{port}", protocol.as_str())
}

/// The load balancer, protocol and port of a listener's tag ID.
pub fn parse_listener_tag_id(id: &str) -> Option<(&str, Protocol, u16)> {
    let mut parts = id.rsplitn(3, '-');
    let port = parts.next()?.parse().ok()?;
    let protocol = parts.next().filter(|p| *p == p.to_ascii_lowercase())?;
    let protocol = Protocol::parse(protocol)?;
    let load_balancer_id = parts.next().filter(|lb| !lb.is_empty())?;
    Some((load_balancer_id, protocol, port))
}

/// A forwarding rule: requests whose host matches `domain` and whose path starts with `url`
/// go to the VServer group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub name: String,
    pub domain: Option<String>,
    pub url: Option<String>,
    pub vserver_group_id: String,
    /// `ListenerSync` and, when it is `off`, the rule's own scheduler, stickiness and health
    /// check settings, by wire name.
    pub settings: BTreeMap<String, Setting>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainExtension {
    pub id: String,
    pub domain: String,
    pub server_certificate_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendServer {
    pub server_id: String,
    /// `ecs`, `eni` or `eci`.
    pub server_type: String,
    pub server_ip: Option<String>,
    /// VServer groups only.
    pub port: Option<u16>,
    pub weight: u8,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VServerGroup {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    pub servers: Vec<BackendServer>,
    pub tags: Vec<Tag>,
}

/// A primary/secondary group: one master and one slave, which takes traffic only while the
/// master fails its health checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterSlaveGroup {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    /// In the order given.
    pub servers: Vec<MasterSlaveServer>,
    pub tags: Vec<Tag>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterSlaveServer {
    #[serde(flatten)]
    pub server: BackendServer,
    pub slave: bool,
}

impl LoadBalancer {
    /// The stored form (one JSON document per load balancer, in either backend).
    pub fn to_document(&self) -> String {
        serde_json::to_string(self).expect("a load balancer encodes")
    }

    pub fn from_document(document: &str) -> Result<LoadBalancer, StoreError> {
        serde_json::from_str(document).map_err(|error| {
            StoreError::Database(format!("a load balancer does not decode: {error}"))
        })
    }

    pub fn scope(&self) -> Scope {
        Scope {
            account_id: self.account_id.clone(),
            region_id: self.region_id.clone(),
        }
    }

    /// The certificates this load balancer's listeners and domain extensions name.
    pub fn certificate_references(&self) -> Vec<(CertificateKind, &str)> {
        let mut references = Vec::new();
        for listener in &self.listeners {
            if let Some(id) = &listener.server_certificate_id {
                references.push((CertificateKind::Server, id.as_str()));
            }
            if let Some(id) = &listener.ca_certificate_id {
                references.push((CertificateKind::Ca, id.as_str()));
            }
            for extension in &listener.domain_extensions {
                references.push((
                    CertificateKind::Server,
                    extension.server_certificate_id.as_str(),
                ));
            }
        }
        references
    }

    /// The region resources its listeners name, each once: access control lists (`AclId`, one
    /// ID or a comma list) and custom TLS cipher policies (`TLSCipherPolicy` of a `tls-` ID).
    pub fn resource_references(&self) -> Vec<(ResourceKind, &str)> {
        let mut references: Vec<(ResourceKind, &str)> = Vec::new();
        for listener in &self.listeners {
            let acls = text(&listener.settings, "AclId")
                .into_iter()
                .flat_map(|ids| ids.split(','))
                .map(str::trim)
                .filter(|id| !id.is_empty());
            references.extend(acls.map(|id| (ResourceKind::Acl, id)));
            if let Some(policy) = text(&listener.settings, "TLSCipherPolicy")
                .filter(|policy| policy.starts_with("tls-"))
            {
                references.push((ResourceKind::TlsCipherPolicy, policy));
            }
        }
        references.sort_unstable();
        references.dedup();
        references
    }

    /// IDs of domain extensions, forwarding rules and VServer groups, which actions name without their load
    /// balancer.
    pub fn child_ids(&self) -> Vec<&str> {
        let extensions = self
            .listeners
            .iter()
            .flat_map(|listener| listener.domain_extensions.iter().map(|e| e.id.as_str()));
        let rules = self
            .listeners
            .iter()
            .flat_map(|listener| listener.rules.iter().map(|rule| rule.id.as_str()));
        extensions
            .chain(rules)
            .chain(self.vserver_groups.iter().map(|group| group.id.as_str()))
            .chain(
                self.master_slave_groups
                    .iter()
                    .map(|group| group.id.as_str()),
            )
            .collect()
    }
}

/// What a load balancer lookup is limited to: the account always, the region when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub account_id: String,
    pub region_id: Option<String>,
}

/// Changes are compare-and-swap: an action reads a load balancer, edits it, and hands it
/// back; the store writes it only if its `revision` is still the stored one (else `Stale`, and
/// the action starts again from a fresh read).
#[async_trait]
pub trait LoadBalancerStore: Send + Sync {
    /// Stores a new load balancer at the lowest free address of `pool` (`Exhausted` when none
    /// is left), unless its scope holds `quota` of them already. If the account already made
    /// one with the same client token, returns that one and stores nothing.
    async fn insert_load_balancer(
        &self,
        load_balancer: LoadBalancer,
        quota: Quota,
        pool: AddressPool,
        audit: AuditLine,
    ) -> Result<LoadBalancer, StoreError>;
    async fn load_balancer(
        &self,
        owner: &Owner,
        id: &str,
    ) -> Result<Option<LoadBalancer>, StoreError>;
    /// The load balancer that holds the domain extension or VServer group `child_id`.
    async fn load_balancer_holding(
        &self,
        owner: &Owner,
        child_id: &str,
    ) -> Result<Option<LoadBalancer>, StoreError>;
    /// In creation order.
    async fn list_load_balancers(&self, scope: &Scope) -> Result<Vec<LoadBalancer>, StoreError>;
    /// Writes edited load balancers in one transaction, all or nothing, each with its revision
    /// advanced: `NotFound` if one is gone, `Stale` if one changed since it was read,
    /// `MissingCertificate` if one names a certificate that is not in its scope with that kind.
    async fn replace_load_balancers(
        &self,
        edited: Vec<LoadBalancer>,
        audit: AuditLine,
    ) -> Result<Vec<LoadBalancer>, StoreError>;
    /// Every account's load balancers, for the data plane.
    async fn all_load_balancers(&self) -> Result<Vec<LoadBalancer>, StoreError>;
    /// A number that every committed change of any load balancer advances.
    async fn load_balancer_generation(&self) -> Result<i64, StoreError>;
    /// Notified (one permit) when a change is committed here or heard of from another node.
    fn load_balancers_changed(&self) -> std::sync::Arc<tokio::sync::Notify>;
    /// Deletes it with everything on it, unless it changed since it was read (`Stale`).
    async fn delete_load_balancer(
        &self,
        read: &LoadBalancer,
        audit: AuditLine,
    ) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_tag_ids_round_trip_and_garbage_is_none() {
        let id = listener_tag_id("lb-abc-1", Protocol::Https, 443);
        assert_eq!(id, "lb-abc-1-https-443");
        assert_eq!(
            parse_listener_tag_id(&id),
            Some(("lb-abc-1", Protocol::Https, 443))
        );
        for bad in [
            "lb-abc",
            "lb-abc-https-99999",
            "lb-HTTPS-443",
            "-tcp-80",
            "tcp-80",
        ] {
            assert_eq!(parse_listener_tag_id(bad), None, "{bad}");
        }
    }
}
