//! The answers about listeners, as serde types. A listener's settings are a table (which of
//! them a protocol has is [`crate::products::slb::settings`]'s), so they are shown as a map of
//! their wire names, typed as stored.

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::products::slb::domain_extensions::{self, ExtensionView};
use crate::products::slb::settings::LISTENER_FIELDS;
use crate::products::views::{Listed, TagView, listed};
use crate::store::load_balancers::{Listener, LoadBalancer, Protocol, Setting, text};

/// Settings by wire name. TCP's `ProxyProtocolV2Enabled` is a JSON bool in Describe*Attribute
/// (`bool_flags`) and a string in DescribeLoadBalancerListeners, as on the service.
pub struct Shown<'a> {
    settings: Vec<(&'a str, &'a Setting)>,
    bool_flags: bool,
}

impl Serialize for Shown<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.settings.len()))?;
        for (name, value) in &self.settings {
            match (*name, value) {
                ("ProxyProtocolV2Enabled", Setting::Text(flag)) if self.bool_flags => {
                    map.serialize_entry(name, &(flag == "true"))?
                }
                _ => map.serialize_entry(name, value)?,
            }
        }
        map.end()
    }
}

/// The IDs of `AclId` (stored as a comma list).
pub fn acl_ids(listener: &Listener) -> Vec<&str> {
    text(&listener.settings, "AclId")
        .map(|ids| ids.split(',').filter(|id| !id.is_empty()).collect())
        .unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleView<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    domain: &'a str,
    url: &'a str,
    #[serde(rename = "VServerGroupId")]
    vserver_group_id: &'a str,
}

/// DescribeLoadBalancer{HTTP,HTTPS,TCP,UDP}ListenerAttribute.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Described<'a> {
    load_balancer_id: &'a str,
    listener_port: u16,
    status: &'static str,
    #[serde(flatten)]
    settings: Shown<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_certificate_id: Option<&'a str>,
    #[serde(rename = "CACertificateId", skip_serializing_if = "Option::is_none")]
    ca_certificate_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain_extensions: Option<Listed<ExtensionView<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    syn_proxy: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    security_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rules: Option<Listed<RuleView<'a>>>,
    acl_ids: Listed<&'a str>,
    tags: Listed<TagView>,
}

impl<'a> Described<'a> {
    pub fn of(load_balancer: &'a LoadBalancer, listener: &'a Listener) -> Described<'a> {
        let protocol = listener.protocol;
        let https = protocol == Protocol::Https;
        let layer7 = matches!(protocol, Protocol::Http | Protocol::Https);
        let extensions = listener
            .domain_extensions
            .iter()
            .map(domain_extensions::view);
        let rules = listener.rules.iter().map(|rule| RuleView {
            rule_id: &rule.id,
            rule_name: &rule.name,
            domain: rule.domain.as_deref().unwrap_or_default(),
            url: rule.url.as_deref().unwrap_or_default(),
            vserver_group_id: &rule.vserver_group_id,
        });
        Described {
            load_balancer_id: &load_balancer.id,
            listener_port: listener.port,
            status: listener.status.as_str(),
            settings: Shown {
                settings: listener
                    .settings
                    .iter()
                    .map(|(n, v)| (n.as_str(), v))
                    .collect(),
                bool_flags: true,
            },
            server_certificate_id: listener.server_certificate_id.as_deref().filter(|_| https),
            ca_certificate_id: listener.ca_certificate_id.as_deref().filter(|_| https),
            domain_extensions: https.then(|| listed("DomainExtension", extensions.collect())),
            syn_proxy: (protocol == Protocol::Tcp).then_some("disable"),
            security_status: layer7.then_some("normal"),
            rules: layer7.then(|| listed("Rule", rules.collect())),
            acl_ids: listed("AclId", acl_ids(listener)),
            tags: listed("Tag", TagView::all(&listener.tags)),
        }
    }
}

/// An item of DescribeLoadBalancerListeners: the settings every protocol has at the top, the
/// rest in the protocol's own block (`HTTPSListenerConfig`, ...).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Item<'a> {
    load_balancer_id: &'a str,
    listener_port: u16,
    listener_protocol: &'static str,
    status: &'static str,
    #[serde(flatten)]
    common: Shown<'a>,
    acl_ids: Vec<&'a str>,
    tags: Vec<TagView>,
    #[serde(flatten)]
    config: Block<'a>,
}

/// `{"<PROTOCOL>ListenerConfig": {...}}`.
struct Block<'a> {
    name: &'static str,
    config: Config<'a>,
}

impl Serialize for Block<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.name, &self.config)?;
        map.end()
    }
}

#[derive(Serialize)]
struct Config<'a> {
    #[serde(flatten)]
    settings: Shown<'a>,
    #[serde(
        rename = "ServerCertificateId",
        skip_serializing_if = "Option::is_none"
    )]
    server_certificate_id: Option<&'a str>,
    #[serde(rename = "CACertificateId", skip_serializing_if = "Option::is_none")]
    ca_certificate_id: Option<&'a str>,
}

impl<'a> Item<'a> {
    pub fn of(load_balancer: &'a LoadBalancer, listener: &'a Listener) -> Item<'a> {
        let common = |name: &str| {
            name == "VServerGroupId" || LISTENER_FIELDS.iter().any(|f| f.name == name && f.common)
        };
        let (top, rest): (Vec<_>, Vec<_>) = listener
            .settings
            .iter()
            .map(|(name, value)| (name.as_str(), value))
            .partition(|(name, _)| common(name));
        let https = listener.protocol == Protocol::Https;
        let name = match listener.protocol {
            Protocol::Http => "HTTPListenerConfig",
            Protocol::Https => "HTTPSListenerConfig",
            Protocol::Tcp => "TCPListenerConfig",
            Protocol::Udp => "UDPListenerConfig",
        };
        Item {
            load_balancer_id: &load_balancer.id,
            listener_port: listener.port,
            listener_protocol: listener.protocol.as_str(),
            status: listener.status.as_str(),
            common: Shown {
                settings: top,
                bool_flags: false,
            },
            acl_ids: acl_ids(listener),
            tags: TagView::all(&listener.tags),
            config: Block {
                name,
                config: Config {
                    settings: Shown {
                        settings: rest,
                        bool_flags: false,
                    },
                    server_certificate_id: listener
                        .server_certificate_id
                        .as_deref()
                        .filter(|_| https),
                    ca_certificate_id: listener.ca_certificate_id.as_deref().filter(|_| https),
                },
            },
        }
    }
}
