//! ListTagResources: the tags of one ResourceType, paged by 50 with a `NextToken` cursor.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use super::{Kind, resource_ids, target};
use crate::api::error::ApiError;
use crate::products::inputs;
use crate::products::{Context, Fields, to_fields};
use crate::store::acls::Acl;
use crate::store::load_balancers::listener_tag_id;
use crate::store::region_resources as resources;
use crate::store::{Scope, Tag, TagCursor, TagQuery, TaggedResource};

/// ListTagResources answers this many tags per page.
const PAGE_SIZE: usize = 50;

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let (scope, kind) = target(context)?;
    let query = TagQuery {
        resource_ids: resource_ids(context, false)?,
        tags: inputs::tag_filters(context.params)?,
        after: context
            .params
            .non_empty("NextToken")
            .map(parse_token)
            .transpose()?,
        limit: PAGE_SIZE + 1,
    };
    let mut rows = match kind {
        Kind::Certificate => context.store.list_certificate_tags(&scope, &query).await?,
        _ => instance_tags(context, &scope, kind, &query).await?,
    };
    let more = rows.len() > PAGE_SIZE;
    rows.truncate(PAGE_SIZE);
    to_fields(Listed {
        // Present only when there is another page: an empty token would be ambiguous.
        next_token: rows.last().filter(|_| more).map(|last| token(&last.cursor)),
        tag_resources: TagResources {
            tag_resource: rows
                .iter()
                .map(|row| TagResource {
                    resource_id: &row.resource_id,
                    resource_type: kind.name(),
                    tag_key: &row.tag.key,
                    tag_value: &row.tag.value,
                })
                .collect(),
        },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Listed<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    tag_resources: TagResources<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagResources<'a> {
    tag_resource: Vec<TagResource<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagResource<'a> {
    resource_id: &'a str,
    resource_type: &'static str,
    tag_key: &'a str,
    tag_value: &'a str,
}

/// ListTagResources over load balancers (or their VServer groups): in creation order, then key
/// order; the cursor's `seq` is the resource's position in that order.
async fn instance_tags(
    context: &Context<'_>,
    scope: &Scope,
    kind: Kind,
    query: &TagQuery,
) -> Result<Vec<TaggedResource>, ApiError> {
    let load_balancers = match kind {
        Kind::Acl => Vec::new(),
        _ => context.store.list_load_balancers(scope).await?,
    };
    let acls = match kind {
        Kind::Acl => resources::list::<Acl>(context.store, scope).await?,
        _ => Vec::new(),
    };
    let resources: Vec<(String, &Vec<Tag>)> = match kind {
        Kind::Instance => load_balancers
            .iter()
            .map(|lb| (lb.id.clone(), &lb.tags))
            .collect(),
        Kind::Acl => acls.iter().map(|acl| (acl.id.clone(), &acl.tags)).collect(),
        Kind::Listener => load_balancers
            .iter()
            .flat_map(|lb| {
                lb.listeners.iter().map(|listener| {
                    let id = listener_tag_id(&lb.id, listener.protocol, listener.port);
                    (id, &listener.tags)
                })
            })
            .collect(),
        Kind::MasterSlaveGroup => load_balancers
            .iter()
            .flat_map(|lb| {
                lb.master_slave_groups
                    .iter()
                    .map(|g| (g.id.clone(), &g.tags))
            })
            .collect(),
        _ => load_balancers
            .iter()
            .flat_map(|lb| lb.vserver_groups.iter().map(|g| (g.id.clone(), &g.tags)))
            .collect(),
    };
    let mut rows = Vec::new();
    for (seq, (id, tags)) in resources.into_iter().enumerate() {
        let seq = seq as i64;
        let listed = query.resource_ids.is_empty() || query.resource_ids.contains(&id);
        let carries = query.tags.iter().all(|filter| {
            tags.iter().any(|tag| {
                tag.key == filter.key && filter.value.as_ref().is_none_or(|v| *v == tag.value)
            })
        });
        if !listed || !carries {
            continue;
        }
        // In key order, which the cursor follows (a group's tags are kept as created).
        let mut sorted: Vec<&Tag> = tags.iter().collect();
        sorted.sort_by(|a, b| a.key.cmp(&b.key));
        for tag in sorted {
            let cursor = TagCursor {
                seq,
                key: tag.key.clone(),
            };
            let after = query
                .after
                .as_ref()
                .is_none_or(|a| (cursor.seq, &cursor.key) > (a.seq, &a.key));
            if after && rows.len() < query.limit {
                rows.push(TaggedResource {
                    resource_id: id.clone(),
                    tag: tag.clone(),
                    cursor,
                });
            }
        }
    }
    Ok(rows)
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
