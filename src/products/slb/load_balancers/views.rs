//! The answers about a load balancer, as serde types (field order as the service sends them).

use serde::Serialize;

use crate::clock;
use crate::products::slb::backends::{self, ServerView};
use crate::products::views::{Listed, TagsView, listed};
use crate::store::load_balancers::{LoadBalancer, Protocol, Setting, int, text};

/// Skipped when absent: attributes are echoed only when stored.
type Attribute<'a> = Option<&'a Setting>;

/// The scalar fields Describe and DescribeAttribute share.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Summary<'a> {
    load_balancer_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_balancer_name: Attribute<'a>,
    load_balancer_status: &'a str,
    address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    address_type: Attribute<'a>,
    #[serde(rename = "AddressIPVersion", skip_serializing_if = "Option::is_none")]
    address_ip_version: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_type: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_id: Attribute<'a>,
    #[serde(rename = "VSwitchId", skip_serializing_if = "Option::is_none")]
    v_switch_id: Attribute<'a>,
    region_id: &'a str,
    region_id_alias: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    master_zone_id: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    slave_zone_id: Attribute<'a>,
    create_time: String,
    create_time_stamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pay_type: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    internet_charge_type: Attribute<'a>,
    /// DescribeLoadBalancers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_charge_type_alias: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bandwidth: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_balancer_spec: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance_charge_type: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    modification_protection_status: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    modification_protection_reason: Attribute<'a>,
    resource_group_id: &'a str,
    delete_protection: &'static str,
}

impl<'a> Summary<'a> {
    pub fn of(load_balancer: &'a LoadBalancer) -> Summary<'a> {
        let attribute = |name: &str| load_balancer.attributes.get(name);
        Summary {
            load_balancer_id: &load_balancer.id,
            load_balancer_name: attribute("LoadBalancerName"),
            load_balancer_status: &load_balancer.status,
            address: load_balancer.address.to_string(),
            address_type: attribute("AddressType"),
            address_ip_version: attribute("AddressIPVersion"),
            network_type: attribute("NetworkType"),
            vpc_id: attribute("VpcId"),
            v_switch_id: attribute("VSwitchId"),
            region_id: &load_balancer.region_id,
            region_id_alias: &load_balancer.region_id,
            master_zone_id: attribute("MasterZoneId"),
            slave_zone_id: attribute("SlaveZoneId"),
            create_time: clock::iso8601(clock::from_unix_ms(load_balancer.created_ms)),
            create_time_stamp: load_balancer.created_ms,
            pay_type: attribute("PayType"),
            internet_charge_type: attribute("InternetChargeType"),
            internet_charge_type_alias: None,
            bandwidth: attribute("Bandwidth"),
            load_balancer_spec: attribute("LoadBalancerSpec"),
            instance_charge_type: attribute("InstanceChargeType"),
            modification_protection_status: attribute("ModificationProtectionStatus"),
            modification_protection_reason: attribute("ModificationProtectionReason"),
            resource_group_id: &load_balancer.resource_group_id,
            delete_protection: if load_balancer.delete_protection {
                "on"
            } else {
                "off"
            },
        }
    }
}

/// An item of DescribeLoadBalancers.
#[derive(Serialize)]
pub struct Item<'a> {
    #[serde(flatten)]
    pub summary: Summary<'a>,
    #[serde(rename = "Tags")]
    pub tags: TagsView,
}

/// DescribeLoadBalancerAttribute.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Described<'a> {
    #[serde(flatten)]
    summary: Summary<'a>,
    end_time: &'static str,
    end_time_stamp: i64,
    listener_ports: Listed<u16>,
    /// Both spellings are real: the misspelled block is what older clients read.
    listener_ports_and_protocal: Listed<Misspelled>,
    listener_ports_and_protocol: Listed<PortAndProtocol<'a>>,
    backend_servers: Listed<ServerView<'a>>,
    tags: TagsView,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Misspelled {
    listener_port: u16,
    listener_protocal: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PortAndProtocol<'a> {
    listener_port: u16,
    listener_protocol: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    listener_forward: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forward_port: Option<i64>,
}

/// Not a real subscription's: the far end the service shows for pay-as-you-go instances.
const END_TIME: &str = "2999-09-08T16:00:00Z";
const END_TIME_STAMP: i64 = 32_493_801_600_000;

impl<'a> Described<'a> {
    pub fn of(load_balancer: &'a LoadBalancer) -> Described<'a> {
        let listeners = &load_balancer.listeners;
        let spelled = listeners.iter().map(|listener| {
            let forwarding = listener.protocol == Protocol::Http
                && text(&listener.settings, "ListenerForward") == Some("on");
            PortAndProtocol {
                listener_port: listener.port,
                listener_protocol: listener.protocol.as_str(),
                description: text(&listener.settings, "Description"),
                listener_forward: forwarding.then_some("on"),
                forward_port: int(&listener.settings, "ForwardPort").filter(|_| forwarding),
            }
        });
        Described {
            summary: Summary::of(load_balancer),
            end_time: END_TIME,
            end_time_stamp: END_TIME_STAMP,
            listener_ports: listed("ListenerPort", listeners.iter().map(|l| l.port).collect()),
            listener_ports_and_protocal: listed(
                "ListenerPortAndProtocal",
                listeners
                    .iter()
                    .map(|l| Misspelled {
                        listener_port: l.port,
                        listener_protocal: l.protocol.as_str(),
                    })
                    .collect(),
            ),
            listener_ports_and_protocol: listed("ListenerPortAndProtocol", spelled.collect()),
            backend_servers: listed(
                "BackendServer",
                load_balancer
                    .backend_servers
                    .iter()
                    .map(backends::view)
                    .collect(),
            ),
            tags: TagsView::of(&load_balancer.tags),
        }
    }
}

/// CreateLoadBalancer's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Created<'a> {
    load_balancer_id: &'a str,
    resource_group_id: &'a str,
    address: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_balancer_name: Attribute<'a>,
    #[serde(rename = "AddressIPVersion", skip_serializing_if = "Option::is_none")]
    address_ip_version: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    network_type: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_id: Attribute<'a>,
    #[serde(rename = "VSwitchId", skip_serializing_if = "Option::is_none")]
    v_switch_id: Attribute<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<i64>,
}

impl<'a> Created<'a> {
    pub fn of(load_balancer: &'a LoadBalancer, order_id: Option<i64>) -> Created<'a> {
        let attribute = |name: &str| load_balancer.attributes.get(name);
        Created {
            load_balancer_id: &load_balancer.id,
            resource_group_id: &load_balancer.resource_group_id,
            address: load_balancer.address.to_string(),
            load_balancer_name: attribute("LoadBalancerName"),
            address_ip_version: attribute("AddressIPVersion"),
            network_type: attribute("NetworkType"),
            vpc_id: attribute("VpcId"),
            v_switch_id: attribute("VSwitchId"),
            order_id,
        }
    }
}
