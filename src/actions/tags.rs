//! TagResources, UntagResources and ListTagResources for `ResourceType=certificate` (server and
//! CA certificates alike).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::certificates::scope;
use super::fields::{self, MAX_RESOURCES, MAX_TAGS};
use super::{Context, Fields};
use crate::api::error::ApiError;
use crate::store::{Scope, TagCursor, TagQuery};

/// ListTagResources answers this many tags per page.
const PAGE_SIZE: usize = 50;

/// The resource types SLB tags; only certificates exist here.
const RESOURCE_TYPES: [&str; 6] = [
    "instance",
    "certificate",
    "acl",
    "listener",
    "vservergroup",
    "masterslaveservergroup",
];

/// RegionId and ResourceType, common to the three actions; false for a resource type this
/// server has no resources of.
fn target(context: &Context<'_>) -> Result<(Scope, bool), ApiError> {
    let region = fields::region(context.params)?;
    let resource_type = context.params.required("ResourceType")?;
    if !RESOURCE_TYPES.contains(&resource_type) {
        return Err(ApiError::InvalidParameter(format!(
            "The specified ResourceType {resource_type:?} is not valid; use one of {}.",
            RESOURCE_TYPES.join(", ")
        )));
    }
    Ok((scope(context, region), resource_type == "certificate"))
}

/// `ResourceId.N`: 1 to 20 IDs (or at most 20 where optional).
fn resource_ids(context: &Context<'_>, required: bool) -> Result<Vec<String>, ApiError> {
    let ids = fields::repeated(context.params, "ResourceId")?;
    if required && ids.is_empty() {
        return Err(ApiError::MissingParameter("ResourceId.1"));
    }
    if ids.len() > MAX_RESOURCES {
        return Err(ApiError::InvalidParameter(format!(
            "{} resources are given; at most {MAX_RESOURCES} are allowed per call.",
            ids.len()
        )));
    }
    Ok(ids.into_iter().map(str::to_owned).collect())
}

pub async fn tag(context: &Context<'_>) -> Result<Fields, ApiError> {
    let (scope, certificates) = target(context)?;
    let ids = resource_ids(context, true)?;
    let tags = fields::tags(context.params)?;
    if tags.is_empty() {
        return Err(ApiError::MissingParameter("Tag.1.Key"));
    }
    if !certificates {
        return Err(ApiError::ResourceNotFound(ids[0].clone()));
    }
    let line = context.audit.success(&ids.join(","), None);
    context
        .store
        .tag_certificates(&scope, ids, tags, MAX_TAGS as u64, line)
        .await?;
    Ok(Fields::new())
}

pub async fn untag(context: &Context<'_>) -> Result<Fields, ApiError> {
    let (scope, certificates) = target(context)?;
    let ids = resource_ids(context, true)?;
    let keys = fields::repeated(context.params, "TagKey")?;
    if keys.len() > MAX_TAGS {
        return Err(ApiError::TagCountLimit(format!(
            "{} tag keys are given; at most {MAX_TAGS} are allowed",
            keys.len()
        )));
    }
    let all = match context.params.non_empty("All") {
        None => false,
        Some(value) if value.eq_ignore_ascii_case("true") => true,
        Some(value) if value.eq_ignore_ascii_case("false") => false,
        Some(other) => {
            return Err(ApiError::InvalidParameter(format!(
                "The specified All {other:?} is not valid; use true or false."
            )));
        }
    };
    // All takes effect only without TagKey.N; with neither, nothing is asked for.
    let keys = match (keys.is_empty(), all) {
        (false, _) => Some(keys.into_iter().map(str::to_owned).collect()),
        (true, true) => None,
        (true, false) => {
            return Err(ApiError::InvalidParameter(
                "Give TagKey.N, or All=true to remove every tag.".into(),
            ));
        }
    };
    if !certificates {
        return Err(ApiError::ResourceNotFound(ids[0].clone()));
    }
    let line = context.audit.success(&ids.join(","), None);
    context
        .store
        .untag_certificates(&scope, ids, keys, line)
        .await?;
    Ok(Fields::new())
}

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let (scope, certificates) = target(context)?;
    let query = TagQuery {
        resource_ids: resource_ids(context, false)?,
        tags: fields::tag_filters(context.params)?,
        after: context
            .params
            .non_empty("NextToken")
            .map(parse_token)
            .transpose()?,
        limit: PAGE_SIZE + 1,
    };
    let mut rows = if certificates {
        context.store.list_certificate_tags(&scope, &query).await?
    } else {
        Vec::new()
    };
    let more = rows.len() > PAGE_SIZE;
    rows.truncate(PAGE_SIZE);
    let mut fields = Fields::new();
    // Present only when there is another page: an empty token would be ambiguous.
    if more && let Some(last) = rows.last() {
        fields.insert("NextToken".into(), Value::String(token(&last.cursor)));
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "ResourceId": row.resource_id,
                "ResourceType": "certificate",
                "TagKey": row.tag.key,
                "TagValue": row.tag.value,
            })
        })
        .collect();
    fields.insert("TagResources".into(), json!({ "TagResource": items }));
    Ok(fields)
}

fn token(cursor: &TagCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", cursor.seq, cursor.key))
}

fn parse_token(token: &str) -> Result<TagCursor, ApiError> {
    let invalid = || ApiError::InvalidParameter("The specified NextToken is not valid.".into());
    let text = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(text).map_err(|_| invalid())?;
    let (seq, key) = text.split_once(':').ok_or_else(invalid)?;
    Ok(TagCursor {
        seq: seq.parse().map_err(|_| invalid())?,
        key: key.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_garbage_is_refused() {
        let cursor = TagCursor {
            seq: 42,
            key: "env:prod".into(),
        };
        assert_eq!(parse_token(&token(&cursor)).unwrap(), cursor);
        assert!(parse_token("!!").is_err());
        assert!(parse_token(&URL_SAFE_NO_PAD.encode("x:y")).is_err());
    }
}
