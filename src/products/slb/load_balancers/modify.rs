//! In-place changes of a load balancer's billing and protection (slb-families.md §6):
//! ModifyLoadBalancerInternetSpec, ModifyLoadBalancerPayType,
//! ModifyLoadBalancerInstanceChargeType and SetLoadBalancerModificationProtection. Each is
//! stored and shown by DescribeLoadBalancerAttribute; nothing is billed here.

use serde::Serialize;

use super::{order_id, settings};
use crate::api::error::ApiError;
use crate::products::slb::settings::Kind as K;
use crate::products::slb::{Lookup, edit};
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{LoadBalancer, Setting};

/// `OrderId` where the load balancer is a subscription (an order is what changes it).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Ordered {
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<i64>,
}

fn ordered(load_balancer: &LoadBalancer) -> Result<Fields, ApiError> {
    let prepaid = settings::text(&load_balancer.attributes, "PayType") == Some("PrePay");
    to_fields(Ordered {
        order_id: prepaid.then(|| order_id(load_balancer)),
    })
}

fn given(context: &Context<'_>, name: &str, kind: K) -> Result<Option<Setting>, ApiError> {
    context
        .params
        .non_empty(name)
        .map(|text| settings::parse_value(name, kind, text))
        .transpose()
}

/// `InternetChargeType` and/or `Bandwidth` (Mbit/s; what `paybybandwidth` pays for).
pub async fn internet_spec(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let charge = given(
        context,
        "InternetChargeType",
        K::Enum(&["paybybandwidth", "paybytraffic"]),
    )?;
    let bandwidth = given(context, "Bandwidth", K::Int(1, 5000))?;
    if charge.is_none() && bandwidth.is_none() {
        return Err(ApiError::InvalidParameter(
            "Give InternetChargeType, Bandwidth or both: there is nothing to change.".into(),
        ));
    }
    let (load_balancer, ()) = edit(context, Lookup::Id(id), |load_balancer| {
        let attributes = &mut load_balancer.attributes;
        if let Some(charge) = &charge {
            attributes.insert("InternetChargeType".into(), charge.clone());
        }
        if let Some(bandwidth) = &bandwidth {
            attributes.insert("Bandwidth".into(), bandwidth.clone());
        }
        Ok(())
    })
    .await?;
    ordered(&load_balancer)
}

/// Pay-as-you-go to subscription, one way: `PayType=PrePay` with `PricingCycle` (month or
/// year) and `Duration` (1 to 9 months, 1 to 3 years). A subscription asked again is left as
/// it is.
pub async fn pay_type(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let pay = context.params.required("PayType")?;
    if pay != "PrePay" {
        return Err(ApiError::InvalidParameter(format!(
            "The specified PayType {pay:?} is not valid: only PrePay (pay-as-you-go becomes a subscription)."
        )));
    }
    let cycle = given(context, "PricingCycle", K::Enum(&["month", "year"]))?;
    let longest = match &cycle {
        Some(Setting::Text(cycle)) if cycle == "year" => 3,
        _ => 9,
    };
    given(context, "Duration", K::Int(1, longest))?;
    let (load_balancer, ()) = edit(context, Lookup::Id(id), |load_balancer| {
        load_balancer
            .attributes
            .insert("PayType".into(), Setting::Text("PrePay".into()));
        Ok(())
    })
    .await?;
    ordered(&load_balancer)
}

/// Pay-by-spec to pay-by-CLCU, one way: the spec becomes `slb.lcu.elastic` and the internet
/// metering `paybytraffic`.
pub async fn instance_charge_type(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let charge = context.params.required("InstanceChargeType")?;
    if charge != "PayByCLCU" {
        return Err(ApiError::InvalidParameter(format!(
            "The specified InstanceChargeType {charge:?} is not valid: only PayByCLCU."
        )));
    }
    if let Some(Setting::Text(metering)) = given(
        context,
        "InternetChargeType",
        K::Enum(&["paybytraffic", "paybybandwidth"]),
    )? && metering != "paybytraffic"
    {
        return Err(ApiError::InvalidParameter(
            "The specified InternetChargeType is not valid: pay-by-CLCU instances pay by traffic."
                .into(),
        ));
    }
    edit(context, Lookup::Id(id), |load_balancer| {
        let attributes = &mut load_balancer.attributes;
        let text = |value: &str| Setting::Text(value.into());
        attributes.insert("InstanceChargeType".into(), text("PayByCLCU"));
        attributes.insert("LoadBalancerSpec".into(), text("slb.lcu.elastic"));
        attributes.insert("InternetChargeType".into(), text("paybytraffic"));
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

/// `ModificationProtectionReason`: 1 to 80 characters, a letter first, then letters, digits,
/// `.`, `_` and `-`.
fn reason(text: &str) -> Result<String, ApiError> {
    let mut chars = text.chars();
    let valid = chars.next().is_some_and(char::is_alphabetic)
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && text.chars().count() <= 80;
    if !valid {
        return Err(ApiError::InvalidParameter(format!(
            "The specified ModificationProtectionReason {text:?} is not valid: use 1 to 80 characters, a letter first, then letters, digits, '.', '_' and '-'."
        )));
    }
    Ok(text.to_owned())
}

/// `ConsoleProtection` guards against edits in the console only: API calls still change the
/// load balancer, as on SLB. `NonProtection` clears the reason.
pub async fn modification_protection(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let status = settings::parse_value(
        "ModificationProtectionStatus",
        K::Enum(&["NonProtection", "ConsoleProtection"]),
        context.params.required("ModificationProtectionStatus")?,
    )?;
    let protected = status == Setting::Text("ConsoleProtection".into());
    let why = match context.params.non_empty("ModificationProtectionReason") {
        Some(text) if protected => Some(reason(text)?),
        _ => None,
    };
    edit(context, Lookup::Id(id), |load_balancer| {
        let attributes = &mut load_balancer.attributes;
        attributes.insert("ModificationProtectionStatus".into(), status.clone());
        match &why {
            Some(why) => {
                let value = Setting::Text(why.clone());
                attributes.insert("ModificationProtectionReason".into(), value);
            }
            None => {
                attributes.remove("ModificationProtectionReason");
            }
        }
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}
