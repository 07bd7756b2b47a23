//! DescribeLoadBalancers: a page of the region's load balancers, filtered.

use serde::Serialize;

use super::views::{Item, Summary};
use crate::api::error::ApiError;
use crate::products::inputs;
use crate::products::slb::certificates::legacy_tag_filters;
use crate::products::slb::region_or_default;
use crate::products::slb::settings;
use crate::products::views::{Listed, TagsView, listed};
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{LoadBalancer, Setting};
use crate::store::{Scope, Tag, TagFilter};

const MAX_FILTER_IDS: usize = 10;
const DEFAULT_PAGE_SIZE: u64 = 10;
const MAX_PAGE_SIZE: u64 = 100;

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let region = region_or_default(context)?;
    let filter = Filter::parse(context)?;
    let page_number = inputs::bounded_number(params, "PageNumber", 1, (1, u32::MAX as u64))?;
    let page_size =
        inputs::bounded_number(params, "PageSize", DEFAULT_PAGE_SIZE, (1, MAX_PAGE_SIZE))?;
    let scope = Scope {
        account_id: context.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    };
    let matching: Vec<LoadBalancer> = context
        .store
        .list_load_balancers(&scope)
        .await?
        .into_iter()
        .filter(|load_balancer| filter.matches(load_balancer))
        .collect();
    let total = matching.len();
    let items = matching
        .iter()
        .skip(((page_number - 1) * page_size) as usize)
        .take(page_size as usize)
        .map(|load_balancer| {
            let mut summary = Summary::of(load_balancer);
            summary.internet_charge_type_alias = load_balancer.attributes.get("InternetChargeType");
            let tags = TagsView::of(&load_balancer.tags);
            Item { summary, tags }
        })
        .collect();
    to_fields(Page {
        page_number,
        page_size,
        total_count: total,
        load_balancers: listed("LoadBalancer", items),
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Page<'a> {
    page_number: u64,
    page_size: u64,
    total_count: usize,
    load_balancers: Listed<Item<'a>>,
}

/// DescribeLoadBalancers' filters; each given one must match.
struct Filter {
    ids: Vec<String>,
    names: Vec<String>,
    /// Attribute or status filters: (wire name, value).
    equal: Vec<(&'static str, String)>,
    server_ids: Vec<String>,
    server_addresses: Vec<String>,
    tags: Vec<TagFilter>,
}

const EQUAL_FILTERS: &[&str] = &[
    "LoadBalancerStatus",
    "Address",
    "AddressType",
    "AddressIPVersion",
    "NetworkType",
    "VpcId",
    "VSwitchId",
    "MasterZoneId",
    "SlaveZoneId",
    "PayType",
    "InternetChargeType",
    "ResourceGroupId",
    "LoadBalancerSpec",
];

impl Filter {
    fn parse(context: &Context<'_>) -> Result<Filter, ApiError> {
        let params = context.params;
        Ok(Filter {
            ids: inputs::id_list(params, "LoadBalancerId", MAX_FILTER_IDS)?,
            names: inputs::id_list(params, "LoadBalancerName", MAX_FILTER_IDS)?,
            equal: EQUAL_FILTERS
                .iter()
                .filter_map(|name| Some((*name, params.non_empty(name)?.to_owned())))
                .collect(),
            server_ids: inputs::id_list(params, "ServerId", 100)?,
            server_addresses: inputs::id_list(params, "ServerIntranetAddress", 100)?,
            tags: {
                let mut tags = inputs::tag_filters(params)?;
                tags.extend(legacy_tag_filters(params.non_empty("Tags"))?);
                tags
            },
        })
    }

    fn matches(&self, load_balancer: &LoadBalancer) -> bool {
        let name = settings::text(&load_balancer.attributes, "LoadBalancerName").unwrap_or("");
        let value_of = |field: &str| -> String {
            match field {
                "LoadBalancerStatus" => load_balancer.status.clone(),
                "Address" => load_balancer.address.to_string(),
                "ResourceGroupId" => load_balancer.resource_group_id.clone(),
                other => match load_balancer.attributes.get(other) {
                    Some(Setting::Text(text)) => text.clone(),
                    Some(Setting::Int(number)) => number.to_string(),
                    None => String::new(),
                },
            }
        };
        let servers = || {
            load_balancer.backend_servers.iter().chain(
                load_balancer
                    .vserver_groups
                    .iter()
                    .flat_map(|group| group.servers.iter()),
            )
        };
        (self.ids.is_empty() || self.ids.contains(&load_balancer.id))
            && (self.names.is_empty() || self.names.iter().any(|n| n == name))
            && self
                .equal
                .iter()
                .all(|(field, wanted)| value_of(field).eq_ignore_ascii_case(wanted))
            && (self.server_ids.is_empty()
                || servers().any(|server| self.server_ids.contains(&server.server_id)))
            && (self.server_addresses.is_empty()
                || servers().any(|server| {
                    server
                        .server_ip
                        .as_ref()
                        .is_some_and(|ip| self.server_addresses.contains(ip))
                }))
            && self
                .tags
                .iter()
                .all(|filter| carries(&load_balancer.tags, filter))
    }
}

fn carries(tags: &[Tag], filter: &TagFilter) -> bool {
    tags.iter().any(|tag| {
        tag.key == filter.key
            && filter
                .value
                .as_ref()
                .is_none_or(|value| *value == tag.value)
    })
}
