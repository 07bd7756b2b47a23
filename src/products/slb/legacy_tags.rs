//! The legacy tag actions of load balancers (slb-families.md §7): AddTags, RemoveTags and
//! DescribeTags, with `Tags` as JSON `[{"TagKey","TagValue"}]`. They change the same tags as
//! TagResources, so either family sees what the other set.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Lookup, edit, region_or_default};
use crate::api::error::ApiError;
use crate::products::inputs::{self, check_tag_key, check_tag_value, legacy_tags};
use crate::products::{Context, Fields, to_fields};
use crate::store::{Scope, Tag};

/// Pairs one AddTags or RemoveTags call may give.
const MAX_PER_CALL: usize = 5;
/// Tags a load balancer may carry, as TagResources allows.
const MAX_PER_INSTANCE: usize = 20;
const DEFAULT_PAGE_SIZE: u64 = 50;
const MAX_PAGE_SIZE: u64 = 100;

fn given(context: &Context<'_>) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let pairs = legacy_tags(Some(context.params.required("Tags")?))?;
    if pairs.is_empty() || pairs.len() > MAX_PER_CALL {
        return Err(ApiError::InvalidParameter(format!(
            "The parameter Tags lists {} tags; give 1 to {MAX_PER_CALL}.",
            pairs.len()
        )));
    }
    for (key, value) in &pairs {
        check_tag_key(key)?;
        check_tag_value(value.as_deref().unwrap_or_default())?;
    }
    Ok(pairs)
}

/// A key given again overwrites its value.
pub async fn add(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let pairs = given(context)?;
    edit(context, Lookup::Id(id), |load_balancer| {
        for (key, value) in &pairs {
            load_balancer.tags.retain(|tag| &tag.key != key);
            load_balancer.tags.push(Tag {
                key: key.clone(),
                value: value.clone().unwrap_or_default(),
            });
        }
        if load_balancer.tags.len() > MAX_PER_INSTANCE {
            return Err(ApiError::TagCountLimit(format!(
                "the load balancer would carry {} tags; at most {MAX_PER_INSTANCE} are allowed",
                load_balancer.tags.len()
            )));
        }
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

/// A pair without a value removes its key whatever the value.
pub async fn remove(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let pairs = given(context)?;
    edit(context, Lookup::Id(id), |load_balancer| {
        load_balancer.tags.retain(|tag| {
            !pairs.iter().any(|(key, value)| {
                &tag.key == key && value.as_ref().is_none_or(|v| &tag.value == v)
            })
        });
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagSet {
    tag_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tag_value: Option<String>,
    instance_count: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagSets {
    tag_set: Vec<TagSet>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Described {
    tag_sets: TagSets,
    total_count: usize,
    page_number: u64,
    page_size: u64,
}

/// The region's tags (of `LoadBalancerId`'s load balancers, if given; of those carrying every
/// pair of `Tags`, if given), each with how many load balancers carry it; `DistinctKey=true`
/// counts by key alone.
pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let ids = inputs::id_list(params, "LoadBalancerId", 100)?;
    let filters = legacy_tags(params.non_empty("Tags"))?;
    let distinct = params
        .get("DistinctKey")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let page_number = inputs::bounded_number(params, "PageNumber", 1, (1, u32::MAX as u64))?;
    let page_size =
        inputs::bounded_number(params, "PageSize", DEFAULT_PAGE_SIZE, (1, MAX_PAGE_SIZE))?;
    let scope = Scope {
        account_id: context.caller.account_id.clone(),
        region_id: region_or_default(context)?.id.to_owned(),
    };
    let mut counts: BTreeMap<(String, Option<String>), usize> = BTreeMap::new();
    for load_balancer in context.store.list_load_balancers(&scope).await? {
        if !ids.is_empty() && !ids.contains(&load_balancer.id) {
            continue;
        }
        let carries = |(key, value): &(String, Option<String>)| {
            load_balancer
                .tags
                .iter()
                .any(|tag| &tag.key == key && value.as_ref().is_none_or(|v| &tag.value == v))
        };
        if !filters.iter().all(carries) {
            continue;
        }
        for tag in &load_balancer.tags {
            let value = (!distinct).then(|| tag.value.clone());
            *counts.entry((tag.key.clone(), value)).or_default() += 1;
        }
    }
    let total_count = counts.len();
    let tag_set = counts
        .into_iter()
        .skip(((page_number - 1) * page_size) as usize)
        .take(page_size as usize)
        .map(|((tag_key, tag_value), instance_count)| TagSet {
            tag_key,
            tag_value,
            instance_count,
        })
        .collect();
    to_fields(Described {
        tag_sets: TagSets { tag_set },
        total_count,
        page_number,
        page_size,
    })
}
