//! CreateLoadBalancer, DescribeLoadBalancerAttribute, DeleteLoadBalancer and the Set*/Modify*
//! actions of a load balancer's own attributes; DescribeLoadBalancers is in [`list`].

mod list;
mod modify;
mod views;

pub use list::describe;
pub use modify::{instance_charge_type, internet_spec, modification_protection, pay_type};

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde_json::Value;

use super::settings::{self, Fallback as D, Field, Kind as K};
use super::{Lookup, edit, find, region_or_default};
use crate::api::error::ApiError;
use crate::clock;
use crate::ids;
use crate::products::inputs;
use crate::products::{Context, Fields, to_fields};
use crate::store::StoreError;
use crate::store::load_balancers::{LoadBalancer, Setting};

/// The name a load balancer created without one gets (as the real service names them).
const DEFAULT_NAME: &str = "auto_named_slb";
const SPECS: &[&str] = &[
    "slb.s1.small",
    "slb.s2.small",
    "slb.s2.medium",
    "slb.s3.small",
    "slb.s3.medium",
    "slb.s3.large",
    "slb.s4.large",
    "slb.lcu.elastic",
];

const fn lb_attribute(name: &'static str, kind: K, default: D) -> Field {
    Field {
        name,
        kind,
        protocols: &[],
        default,
        aliases: &[],
        common: false,
    }
}

/// A load balancer's own attributes, stored as given (or defaulted) and echoed by Describe.
#[rustfmt::skip]
static ATTRIBUTES: &[Field] = &[
    lb_attribute("LoadBalancerName", K::Text(80), D::Text(DEFAULT_NAME)),
    lb_attribute("AddressType", K::Enum(&["internet", "intranet"]), D::None),
    lb_attribute("AddressIPVersion", K::Enum(&["ipv4", "ipv6"]), D::Text("ipv4")),
    lb_attribute("VpcId", K::Text(64), D::None),
    lb_attribute("VSwitchId", K::Text(64), D::None),
    lb_attribute("Bandwidth", K::Int(1, 5120), D::Int(5120)),
    lb_attribute("InternetChargeType", K::Enum(&["paybytraffic", "paybybandwidth"]), D::Text("paybytraffic")),
    lb_attribute("LoadBalancerSpec", K::Enum(SPECS), D::None),
    lb_attribute("MasterZoneId", K::Text(64), D::None),
    lb_attribute("SlaveZoneId", K::Text(64), D::None),
    lb_attribute("PayType", K::Enum(&["PayOnDemand", "PrePay"]), D::Text("PayOnDemand")),
    lb_attribute("InstanceChargeType", K::Enum(&["PayBySpec", "PayByCLCU"]), D::Text("PayBySpec")),
    lb_attribute("ModificationProtectionStatus", K::Enum(&["NonProtection", "ConsoleProtection"]), D::Text("NonProtection")),
    lb_attribute("ModificationProtectionReason", K::Text(80), D::None),
];

/// `LoadBalancerName`: 1 to 80 characters, a letter (or CJK character) first, then letters,
/// digits, `.`, `_` and `-`.
fn check_name(name: &str) -> Result<(), ApiError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphabetic());
    let rest_ok = chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if first_ok && rest_ok && name.chars().count() <= 80 {
        return Ok(());
    }
    Err(ApiError::InvalidParameter(format!(
        "The specified LoadBalancerName {name:?} is not valid: use 1 to 80 characters, starting with a letter, of letters, digits, '.', '_' and '-'."
    )))
}

fn on_off(parameter: &str, value: &str) -> Result<bool, ApiError> {
    match settings::parse_value(parameter, K::Enum(&["on", "off"]), value)? {
        Setting::Text(text) => Ok(text == "on"),
        Setting::Int(_) => unreachable!("an enum parses to text"),
    }
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let region = region_or_default(context)?;
    let mut attributes = BTreeMap::new();
    for field in ATTRIBUTES {
        if let Some(value) = field.parse(params)?.or_else(|| field.default_value()) {
            attributes.insert(field.name.to_owned(), value);
        }
    }
    if let Some(name) = settings::text(&attributes, "LoadBalancerName") {
        check_name(name)?;
    }
    let in_vpc = attributes.contains_key("VSwitchId") || attributes.contains_key("VpcId");
    let defaults = [
        (
            "AddressType",
            if attributes.contains_key("VSwitchId") {
                "intranet"
            } else {
                "internet"
            },
        ),
        ("NetworkType", if in_vpc { "vpc" } else { "classic" }),
        ("MasterZoneId", &*format!("{}-a", region.id)),
        ("SlaveZoneId", &*format!("{}-b", region.id)),
        // Shared-resource instances can no longer be created: an unnamed spec is the smallest.
        (
            "LoadBalancerSpec",
            if settings::text(&attributes, "InstanceChargeType") == Some("PayByCLCU") {
                "slb.lcu.elastic"
            } else {
                "slb.s1.small"
            },
        ),
    ];
    for (name, value) in defaults {
        attributes
            .entry(name.to_owned())
            .or_insert_with(|| Setting::Text(value.to_owned()));
    }
    let wanted_address = match params.non_empty("Address") {
        Some(text) => Some(text.parse::<Ipv4Addr>().map_err(|_| {
            ApiError::InvalidParameter(format!(
                "The specified Address {text:?} is not an IPv4 address."
            ))
        })?),
        None => None,
    };
    let client_token = params.non_empty("ClientToken").map(str::to_owned);
    if client_token
        .as_ref()
        .is_some_and(|t| t.len() > 64 || !t.is_ascii())
    {
        return Err(ApiError::InvalidParameter(
            "The specified ClientToken is not valid: use at most 64 ASCII characters.".into(),
        ));
    }
    let delete_protection = match params.non_empty("DeleteProtection") {
        Some(value) => on_off("DeleteProtection", value)?,
        None => false,
    };
    let resource_group_id = inputs::resource_group(params)?
        .unwrap_or_else(|| context.caller.default_resource_group_id.clone());
    let created_ms = clock::unix_ms(context.now);
    let load_balancer = LoadBalancer {
        id: ids::load_balancer_id(),
        account_id: context.caller.account_id.clone(),
        region_id: region.id.to_owned(),
        address: wanted_address.unwrap_or(Ipv4Addr::UNSPECIFIED),
        status: "active".into(),
        delete_protection,
        created_ms: created_ms - created_ms.rem_euclid(1000),
        client_token,
        revision: 0,
        resource_group_id,
        attributes,
        tags: inputs::tags(params)?,
        listeners: Vec::new(),
        backend_servers: Vec::new(),
        vserver_groups: Vec::new(),
        master_slave_groups: Vec::new(),
        access_log: None,
    };
    let limits = &context.limits.load_balancers;
    let line = context.audit.success(&load_balancer.id, None);
    let stored = match context
        .store
        .insert_load_balancer(load_balancer, limits.per_region, limits.address_pool, line)
        .await
    {
        Ok(stored) => stored,
        Err(StoreError::OverQuota { used, limit }) => {
            return Err(ApiError::OverQuota(format!(
                "the account already has {used} load balancers in {} (quota {limit})",
                region.id
            )));
        }
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::InvalidParameter(
                "Illegal parameter. The IP address is not in subnet or is already used.".into(),
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let prepaid = settings::text(&stored.attributes, "PayType") == Some("PrePay");
    to_fields(views::Created::of(
        &stored,
        prepaid.then(|| order_id(&stored)),
    ))
}

/// A subscription's order number: stable for the load balancer.
fn order_id(load_balancer: &LoadBalancer) -> i64 {
    20_000_000_000 + load_balancer.created_ms.rem_euclid(10_000_000_000)
}

pub fn setting_value(setting: &Setting) -> Value {
    match setting {
        Setting::Int(number) => Value::from(*number),
        Setting::Text(text) => Value::from(text.as_str()),
    }
}

pub async fn attribute(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let load_balancer = find(context, Lookup::Id(id)).await?;
    to_fields(views::Described::of(&load_balancer))
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let _turn = context.edit_locks.lock(id).await;
    for _ in 0..super::MAX_EDIT_ATTEMPTS {
        let load_balancer = find(context, Lookup::Id(id)).await?;
        if load_balancer.delete_protection {
            return Err(ApiError::DeleteProtectionIsOn);
        }
        let line = context.audit.success(id, None);
        match context
            .store
            .delete_load_balancer(&load_balancer, line)
            .await
        {
            Ok(()) => return Ok(Fields::new()),
            Err(StoreError::Stale) => continue,
            Err(StoreError::NotFound(_)) => return Err(ApiError::LoadBalancerNotFound(id.into())),
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::OperationBusy)
}

pub async fn set_name(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let name = context.params.required("LoadBalancerName")?;
    check_name(name)?;
    edit(context, Lookup::Id(id), |load_balancer| {
        let value = Setting::Text(name.to_owned());
        load_balancer
            .attributes
            .insert("LoadBalancerName".into(), value);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn set_status(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let text = context.params.required("LoadBalancerStatus")?;
    let Setting::Text(status) =
        settings::parse_value("LoadBalancerStatus", K::Enum(&["active", "inactive"]), text)?
    else {
        unreachable!("an enum parses to text")
    };
    edit(context, Lookup::Id(id), |load_balancer| {
        load_balancer.status = status.clone();
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn set_delete_protection(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let protect = on_off(
        "DeleteProtection",
        context.params.required("DeleteProtection")?,
    )?;
    edit(context, Lookup::Id(id), |load_balancer| {
        load_balancer.delete_protection = protect;
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn modify_spec(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let spec = settings::parse_value(
        "LoadBalancerSpec",
        K::Enum(SPECS),
        context.params.required("LoadBalancerSpec")?,
    )?;
    let (load_balancer, ()) = edit(context, Lookup::Id(id), |load_balancer| {
        let charge = settings::text(&load_balancer.attributes, "InstanceChargeType");
        let elastic = spec == Setting::Text("slb.lcu.elastic".into());
        if (charge == Some("PayByCLCU")) != elastic {
            return Err(ApiError::ModifySpecNotAllowed(
                "pay-by-CLCU instances are slb.lcu.elastic, and only they".into(),
            ));
        }
        load_balancer
            .attributes
            .insert("LoadBalancerSpec".into(), spec.clone());
        Ok(())
    })
    .await?;
    let mut out = Fields::new();
    if settings::text(&load_balancer.attributes, "PayType") == Some("PrePay") {
        out.insert("OrderId".into(), order_id(&load_balancer).into());
    }
    Ok(out)
}
