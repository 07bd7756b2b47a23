//! The legacy listener whitelist (slb-families.md §2): SetListenerAccessControlStatus,
//! Add/RemoveListenerWhiteListItem and DescribeListenerAccessControlAttribute. Stored with the
//! listener (`AccessControlStatus`, `SourceItems`) and enforced by the data plane like a white
//! access control list, while the status is `open_white_list`.

use serde::Serialize;

use super::{port, the_listener};
use crate::api::error::ApiError;
use crate::cidr::Cidr;
use crate::products::slb::settings;
use crate::products::slb::{Lookup, edit, find};
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{Listener, Setting};

const STATUS: &str = "AccessControlStatus";
const ITEMS: &str = "SourceItems";

/// `SourceItems`: a comma-separated list of addresses and CIDR blocks, canonical (a single
/// address bare, as given) and each once;
/// `0.0.0.0` and `0.0.0.0/0` are refused (they would list everyone).
fn items(text: &str) -> Result<Vec<String>, ApiError> {
    let mut items: Vec<String> = Vec::new();
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let block = Cidr::parse(item)
            .map_err(|_| {
                ApiError::InvalidParameter(format!(
                    "The specified SourceItems holds {item:?}, which is not an address or CIDR block."
                ))
            })?
            .network();
        let block = block.to_short_string();
        if block == "0.0.0.0/0" || block == "0.0.0.0" {
            return Err(ApiError::InvalidParameter(
                "The specified SourceItems may not hold 0.0.0.0 or 0.0.0.0/0.".into(),
            ));
        }
        if !items.contains(&block) {
            items.push(block);
        }
    }
    if items.is_empty() {
        return Err(ApiError::MissingParameter("SourceItems"));
    }
    Ok(items)
}

fn listed(listener: &Listener) -> Vec<String> {
    settings::text(&listener.settings, ITEMS)
        .map(|text| text.split(',').map(str::to_owned).collect())
        .unwrap_or_default()
}

fn store_items(listener: &mut Listener, items: Vec<String>) {
    if items.is_empty() {
        listener.settings.remove(ITEMS);
    } else {
        let value = Setting::Text(items.join(","));
        listener.settings.insert(ITEMS.into(), value);
    }
}

pub async fn set_status(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    port(context.params)?;
    let status = settings::parse_value(
        STATUS,
        settings::Kind::Enum(&["open_white_list", "close"]),
        context.params.required(STATUS)?,
    )?;
    edit(context, Lookup::Id(id), |load_balancer| {
        let index = the_listener(load_balancer, context.params)?;
        let listener = &mut load_balancer.listeners[index];
        listener.settings.insert(STATUS.into(), status.clone());
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

/// Adds (`add`) or removes the items of `SourceItems`, at most `limit` kept.
async fn change(context: &Context<'_>, add: bool) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    port(context.params)?;
    let given = items(context.params.required("SourceItems")?)?;
    let limit = context.limits.load_balancers.entries_per_acl;
    edit(context, Lookup::Id(id), |load_balancer| {
        let index = the_listener(load_balancer, context.params)?;
        let listener = &mut load_balancer.listeners[index];
        let mut kept = listed(listener);
        if add {
            for item in &given {
                if !kept.contains(item) {
                    kept.push(item.clone());
                }
            }
            if kept.len() > limit {
                return Err(ApiError::InvalidParameter(format!(
                    "The whitelist would hold {} items; at most {limit} are allowed.",
                    kept.len()
                )));
            }
        } else {
            kept.retain(|item| !given.contains(item));
        }
        store_items(listener, kept);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn add_items(context: &Context<'_>) -> Result<Fields, ApiError> {
    change(context, true).await
}

pub async fn remove_items(context: &Context<'_>) -> Result<Fields, ApiError> {
    change(context, false).await
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute {
    access_control_status: String,
    source_items: String,
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    port(context.params)?;
    let load_balancer = find(context, Lookup::Id(id)).await?;
    let listener = &load_balancer.listeners[the_listener(&load_balancer, context.params)?];
    to_fields(Attribute {
        access_control_status: settings::text(&listener.settings, STATUS)
            .unwrap_or("close")
            .to_owned(),
        source_items: listed(listener).join(","),
    })
}
