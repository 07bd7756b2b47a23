//! TagResources, UntagResources and ListTagResources for every ResourceType SLB tags:
//! `certificate` (server and CA certificates alike), `instance` (load balancers), `listener`,
//! `vservergroup` (as Terraform's alicloud_slb_server_group tags them),
//! `masterslaveservergroup` and `acl`.

mod listing;

pub use listing::list;

use super::MAX_EDIT_ATTEMPTS;
use super::certificates::scope;
use crate::api::error::ApiError;
use crate::products::inputs::{self, MAX_RESOURCES, MAX_TAGS};
use crate::products::{Context, Fields};
use crate::store::acls::Acl;
use crate::store::load_balancers::{LoadBalancer, Owner, parse_listener_tag_id};
use crate::store::region_resources as resources;
use crate::store::{Scope, StoreError, Tag};

/// What the resources of a ResourceType are stored as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Server and CA certificates.
    Certificate,
    /// Load balancers.
    Instance,
    /// Listeners, inside their load balancers, named as [`listener_tag_id`] says.
    Listener,
    /// VServer groups, inside their load balancers.
    VServerGroup,
    /// Master-slave server groups, inside their load balancers.
    MasterSlaveGroup,
    /// Access control lists.
    Acl,
}

impl Kind {
    const ALL: [Kind; 6] = [
        Kind::Instance,
        Kind::Certificate,
        Kind::Acl,
        Kind::Listener,
        Kind::VServerGroup,
        Kind::MasterSlaveGroup,
    ];

    /// Its `ResourceType`.
    fn name(self) -> &'static str {
        match self {
            Kind::Certificate => "certificate",
            Kind::Instance => "instance",
            Kind::Listener => "listener",
            Kind::VServerGroup => "vservergroup",
            Kind::MasterSlaveGroup => "masterslaveservergroup",
            Kind::Acl => "acl",
        }
    }
}

/// RegionId and ResourceType, common to the three actions.
fn target(context: &Context<'_>) -> Result<(Scope, Kind), ApiError> {
    let region = inputs::region(context.params)?;
    let resource_type = context.params.required("ResourceType")?;
    let kind = Kind::ALL
        .into_iter()
        .find(|kind| kind.name() == resource_type)
        .ok_or_else(|| {
            let names: Vec<&str> = Kind::ALL.iter().map(|kind| kind.name()).collect();
            ApiError::InvalidParameter(format!(
                "The specified ResourceType {resource_type:?} is not valid; use one of {}.",
                names.join(", ")
            ))
        })?;
    Ok((scope(context, region), kind))
}

/// `ResourceId.N`: 1 to 20 IDs (or at most 20 where optional).
fn resource_ids(context: &Context<'_>, required: bool) -> Result<Vec<String>, ApiError> {
    let ids = inputs::repeated(context.params, "ResourceId")?;
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
    let (scope, kind) = target(context)?;
    let ids = resource_ids(context, true)?;
    let tags = inputs::tags(context.params)?;
    if tags.is_empty() {
        return Err(ApiError::MissingParameter("Tag.1.Key"));
    }
    match kind {
        Kind::Certificate => {}
        Kind::Acl => {
            return edit_acls(context, &scope, &ids, |resource_tags| {
                for tag in &tags {
                    resource_tags.retain(|t| t.key != tag.key);
                    resource_tags.push(tag.clone());
                }
                resource_tags.sort_by(|a, b| a.key.cmp(&b.key));
            })
            .await;
        }
        Kind::Instance | Kind::Listener | Kind::VServerGroup | Kind::MasterSlaveGroup => {
            return edit_instances(context, &scope, kind, &ids, |resource_tags| {
                for tag in &tags {
                    resource_tags.retain(|t| t.key != tag.key);
                    resource_tags.push(tag.clone());
                }
                resource_tags.sort_by(|a, b| a.key.cmp(&b.key));
            })
            .await;
        }
    }
    let line = context.audit.success(&ids.join(","), None);
    context
        .store
        .tag_certificates(&scope, ids, tags, MAX_TAGS as u64, line)
        .await?;
    Ok(Fields::new())
}

pub async fn untag(context: &Context<'_>) -> Result<Fields, ApiError> {
    let (scope, kind) = target(context)?;
    let ids = resource_ids(context, true)?;
    let keys = inputs::repeated(context.params, "TagKey")?;
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
    let keys: Option<Vec<String>> = match (keys.is_empty(), all) {
        (false, _) => Some(keys.into_iter().map(str::to_owned).collect()),
        (true, true) => None,
        (true, false) => {
            return Err(ApiError::InvalidParameter(
                "Give TagKey.N, or All=true to remove every tag.".into(),
            ));
        }
    };
    match kind {
        Kind::Certificate => {}
        Kind::Acl => {
            return edit_acls(context, &scope, &ids, |resource_tags| {
                resource_tags.retain(|t| keys.as_ref().is_some_and(|keys| !keys.contains(&t.key)));
            })
            .await;
        }
        Kind::Instance | Kind::Listener | Kind::VServerGroup | Kind::MasterSlaveGroup => {
            return edit_instances(context, &scope, kind, &ids, |resource_tags| {
                resource_tags.retain(|t| keys.as_ref().is_some_and(|keys| !keys.contains(&t.key)));
            })
            .await;
        }
    }
    let line = context.audit.success(&ids.join(","), None);
    context
        .store
        .untag_certificates(&scope, ids, keys, line)
        .await?;
    Ok(Fields::new())
}

/// The tags of resource `id` of `kind` in this load balancer, if it holds it.
fn tags_in<'a>(
    load_balancer: &'a mut LoadBalancer,
    kind: Kind,
    id: &str,
) -> Option<&'a mut Vec<Tag>> {
    match kind {
        Kind::Instance => (load_balancer.id == id).then_some(&mut load_balancer.tags),
        Kind::Listener => {
            let (holder, protocol, port) = parse_listener_tag_id(id)?;
            if holder != load_balancer.id {
                return None;
            }
            load_balancer
                .listeners
                .iter_mut()
                .find(|l| l.protocol == protocol && l.port == port)
                .map(|listener| &mut listener.tags)
        }
        Kind::MasterSlaveGroup => load_balancer
            .master_slave_groups
            .iter_mut()
            .find(|group| group.id == id)
            .map(|group| &mut group.tags),
        _ => load_balancer
            .vserver_groups
            .iter_mut()
            .find(|group| group.id == id)
            .map(|group| &mut group.tags),
    }
}

/// Changes the tags of every load balancer (or VServer group) of `ids`, all or nothing; one
/// left with more than [`MAX_TAGS`] tags refuses the whole call.
async fn edit_instances(
    context: &Context<'_>,
    scope: &Scope,
    kind: Kind,
    ids: &[String],
    change: impl Fn(&mut Vec<Tag>),
) -> Result<Fields, ApiError> {
    let owner = Owner {
        account_id: scope.account_id.clone(),
        region_id: Some(scope.region_id.clone()),
    };
    // The load balancers that hold them, in one order, so that two calls naming the same ones
    // cannot wait for each other; each is edited once.
    let mut holders: Vec<String> = Vec::new();
    for id in ids {
        let holder = match kind {
            Kind::Instance => context.store.load_balancer(&owner, id).await?,
            Kind::Listener => match parse_listener_tag_id(id) {
                Some((holder, ..)) => context.store.load_balancer(&owner, holder).await?,
                None => None,
            },
            _ => context.store.load_balancer_holding(&owner, id).await?,
        };
        let missing = || ApiError::ResourceNotFound(id.clone());
        let mut holder = holder.ok_or_else(missing)?;
        // A listener's load balancer may exist without it.
        tags_in(&mut holder, kind, id).ok_or_else(missing)?;
        holders.push(holder.id);
    }
    holders.sort();
    holders.dedup();
    let mut turns = Vec::with_capacity(holders.len());
    for id in &holders {
        turns.push(context.edit_locks.lock(id).await);
    }
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let mut edited = Vec::with_capacity(holders.len());
        for holder in &holders {
            let mut load_balancer = context
                .store
                .load_balancer(&owner, holder)
                .await?
                .ok_or_else(|| ApiError::ResourceNotFound(holder.clone()))?;
            for id in ids {
                let Some(tags) = tags_in(&mut load_balancer, kind, id) else {
                    continue;
                };
                change(tags);
                if tags.len() > MAX_TAGS {
                    return Err(ApiError::TagCountLimit(format!(
                        "{id} would have {} tags; at most {MAX_TAGS} are allowed",
                        tags.len()
                    )));
                }
            }
            edited.push(load_balancer);
        }
        let line = context.audit.success(&ids.join(","), None);
        match context.store.replace_load_balancers(edited, line).await {
            Ok(_) => return Ok(Fields::new()),
            Err(StoreError::Stale) => continue,
            Err(StoreError::NotFound(id)) => return Err(ApiError::ResourceNotFound(id)),
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::OperationBusy)
}

/// Changes the tags of every access control list of `ids`: all are read and checked first, so
/// that a missing one or one over the limit changes nothing.
async fn edit_acls(
    context: &Context<'_>,
    scope: &Scope,
    ids: &[String],
    change: impl Fn(&mut Vec<Tag>),
) -> Result<Fields, ApiError> {
    let mut unique: Vec<&String> = ids.iter().collect();
    unique.sort();
    unique.dedup();
    let mut turns = Vec::with_capacity(unique.len());
    for id in &unique {
        turns.push(context.edit_locks.lock(id).await);
    }
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let mut edited = Vec::with_capacity(unique.len());
        for &id in &unique {
            let mut acl = resources::get::<Acl>(context.store, scope, id)
                .await?
                .ok_or_else(|| ApiError::ResourceNotFound(id.clone()))?;
            change(&mut acl.tags);
            if acl.tags.len() > MAX_TAGS {
                return Err(ApiError::TagCountLimit(format!(
                    "{id} would have {} tags; at most {MAX_TAGS} are allowed",
                    acl.tags.len()
                )));
            }
            edited.push(acl);
        }
        let mut stale = false;
        for acl in edited {
            let line = context.audit.success(&acl.id, None);
            match resources::replace(context.store, acl, line).await {
                Ok(_) => {}
                Err(StoreError::Stale) => stale = true,
                Err(StoreError::NotFound(id)) => return Err(ApiError::ResourceNotFound(id)),
                Err(other) => return Err(other.into()),
            }
        }
        if !stale {
            return Ok(Fields::new());
        }
    }
    Err(ApiError::OperationBusy)
}
