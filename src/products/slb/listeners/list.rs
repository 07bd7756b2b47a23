//! DescribeLoadBalancerListeners: listeners across load balancers, a page at a time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::views::Item;
use super::{port, protocol_filter};
use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::products::inputs;
use crate::products::slb::region_or_default;
use crate::products::slb::settings;
use crate::products::{Context, Fields, to_fields};
use crate::store::Scope;
use crate::store::load_balancers::{Listener, LoadBalancer};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Page<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    max_results: usize,
    total_count: usize,
    /// Left out when no listener matched, as the service does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    listeners: Vec<Item<'a>>,
}

const DEFAULT_MAX_RESULTS: u64 = 20;
const MAX_RESULTS: u64 = 100;
const MAX_LOAD_BALANCER_IDS: usize = 10;

/// `LoadBalancerId.N`, or (certd) `LoadBalancerId` as a JSON array or a comma list.
fn load_balancer_ids(params: &RpcParams) -> Result<Vec<String>, ApiError> {
    inputs::id_list(params, "LoadBalancerId", MAX_LOAD_BALANCER_IDS)
}

fn next_token(offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("listeners:{offset}"))
}

fn offset_of(token: &str) -> Result<usize, ApiError> {
    URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix("listeners:")?.parse().ok())
        .ok_or_else(|| {
            ApiError::InvalidParameter(format!("The specified NextToken {token:?} is not valid."))
        })
}

/// DescribeLoadBalancerListeners: listeners across the region's load balancers, a page at a
/// time; `NextToken` is left out on the last page (a client loops on an empty one).
pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let region = region_or_default(context)?;
    let ids = load_balancer_ids(params)?;
    let protocol = protocol_filter(params)?;
    let port = match params.non_empty("ListenerPort") {
        Some(_) => Some(port(params)?),
        None => None,
    };
    let description = params.non_empty("Description");
    let tag_filters = inputs::tag_filters(params)?;
    let max = inputs::bounded_number(params, "MaxResults", DEFAULT_MAX_RESULTS, (1, MAX_RESULTS))?
        as usize;
    let offset = params
        .non_empty("NextToken")
        .map(offset_of)
        .transpose()?
        .unwrap_or(0);
    let scope = Scope {
        account_id: context.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    };
    let load_balancers = context.store.list_load_balancers(&scope).await?;
    let matching: Vec<(&LoadBalancer, &Listener)> = load_balancers
        .iter()
        .filter(|lb| ids.is_empty() || ids.contains(&lb.id))
        .flat_map(|lb| lb.listeners.iter().map(move |listener| (lb, listener)))
        .filter(|(_, l)| protocol.is_none_or(|p| p == l.protocol))
        .filter(|(_, l)| port.is_none_or(|p| p == l.port))
        .filter(|(_, l)| {
            description.is_none_or(|d| settings::text(&l.settings, "Description") == Some(d))
        })
        .filter(|(_, l)| {
            tag_filters.iter().all(|f| {
                l.tags
                    .iter()
                    .any(|t| t.key == f.key && f.value.as_ref().is_none_or(|v| *v == t.value))
            })
        })
        .collect();
    let page: Vec<Item> = matching
        .iter()
        .skip(offset)
        .take(max)
        .map(|(lb, listener)| Item::of(lb, listener))
        .collect();
    let next = offset + page.len();
    to_fields(Page {
        next_token: (next < matching.len()).then(|| next_token(next)),
        max_results: max,
        total_count: matching.len(),
        listeners: page,
    })
}
