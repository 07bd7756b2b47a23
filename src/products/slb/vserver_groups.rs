//! VServer groups: named sets of backend servers with ports, which listeners forward to.

use serde::Serialize;

use super::backends::{self, add_to, names, reweigh};
use super::settings;
use super::{Lookup, edit, find};
use crate::api::error::ApiError;
use crate::clock;
use crate::ids;
use crate::products::inputs;
use crate::products::views::{Associated, Listed, ListenerRef, RuleRef, TagsView, listed};
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{LoadBalancer, VServerGroup};

const MAX_NAME_CHARS: usize = 256;

fn group_name(text: Option<&str>) -> Result<Option<String>, ApiError> {
    match text {
        None => Ok(None),
        Some(name)
            if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) =>
        {
            Err(ApiError::InvalidParameter(format!(
                "The specified VServerGroupName is not valid: use at most {MAX_NAME_CHARS} characters."
            )))
        }
        Some(name) => Ok(Some(name.to_owned())),
    }
}

fn per_call(context: &Context<'_>) -> usize {
    context.limits.load_balancers.backend_servers_per_call
}

/// A group as its actions answer: `VServerGroupId` and its servers, the name where the
/// action's model has it, and more in DescribeVServerGroupAttribute.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupView<'a> {
    #[serde(rename = "VServerGroupId")]
    vserver_group_id: &'a str,
    #[serde(rename = "VServerGroupName", skip_serializing_if = "Option::is_none")]
    vserver_group_name: Option<&'a str>,
    backend_servers: Listed<backends::ServerView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_balancer_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<TagsView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    create_time: Option<String>,
}

impl<'a> GroupView<'a> {
    fn of(group: &'a VServerGroup, with_name: bool) -> GroupView<'a> {
        GroupView {
            vserver_group_id: &group.id,
            vserver_group_name: with_name.then_some(group.name.as_str()),
            backend_servers: listed(
                "BackendServer",
                group.servers.iter().map(backends::view).collect(),
            ),
            load_balancer_id: None,
            tags: None,
            create_time: None,
        }
    }
}

fn answer(group: &VServerGroup, with_name: bool) -> Result<Fields, ApiError> {
    to_fields(GroupView::of(group, with_name))
}

fn created(group: &VServerGroup) -> String {
    clock::iso8601(clock::from_unix_ms(group.created_ms))
}

/// An item of DescribeVServerGroups.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ItemView<'a> {
    #[serde(rename = "VServerGroupId")]
    vserver_group_id: &'a str,
    #[serde(rename = "VServerGroupName")]
    vserver_group_name: &'a str,
    create_time: String,
    server_count: usize,
    tags: TagsView,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_objects: Option<Associated<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Listing<'a> {
    #[serde(rename = "VServerGroups")]
    vserver_groups: Listed<ItemView<'a>>,
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let name = group_name(params.non_empty("VServerGroupName"))?.unwrap_or_default();
    let servers = backends::parse(params, false, true, per_call(context))?;
    backends::refuse_denied(context, &servers)?;
    let tags = inputs::tags(params)?;
    let limit = context
        .limits
        .load_balancers
        .backend_servers_per_load_balancer;
    let group_id = ids::vserver_group_id();
    let created_ms = clock::unix_ms(context.now);
    let (_, group) = edit(context, Lookup::Id(id), |load_balancer| {
        let mut group = VServerGroup {
            id: group_id.clone(),
            name: name.clone(),
            created_ms,
            servers: Vec::new(),
            tags: tags.clone(),
        };
        add_to(&mut group.servers, &servers, limit)?;
        load_balancer.vserver_groups.push(group.clone());
        Ok(group)
    })
    .await?;
    answer(&group, false)
}

/// The listeners that forward to `group_id`.
fn users(load_balancer: &LoadBalancer, group_id: &str) -> Vec<ListenerRef> {
    load_balancer
        .listeners
        .iter()
        .filter(|l| settings::text(&l.settings, "VServerGroupId") == Some(group_id))
        .map(|l| ListenerRef {
            port: l.port,
            protocol: l.protocol.as_str(),
        })
        .collect()
}

/// The forwarding rules that send traffic to `group_id`.
fn rule_users<'a>(load_balancer: &'a LoadBalancer, group_id: &str) -> Vec<RuleRef<'a>> {
    load_balancer
        .listeners
        .iter()
        .flat_map(|listener| listener.rules.iter())
        .filter(|rule| rule.vserver_group_id == group_id)
        .map(|rule| RuleRef {
            rule_id: &rule.id,
            rule_name: &rule.name,
            domain: rule.domain.as_deref().unwrap_or_default(),
            url: rule.url.as_deref().unwrap_or_default(),
        })
        .collect()
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let include_listeners = params
        .get("IncludeListener")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let include_rules = params
        .get("IncludeRule")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let load_balancer = find(context, Lookup::Id(id)).await?;
    let items = load_balancer.vserver_groups.iter().map(|group| ItemView {
        vserver_group_id: &group.id,
        vserver_group_name: &group.name,
        create_time: created(group),
        server_count: group.servers.len(),
        tags: TagsView::of(&group.tags),
        associated_objects: (include_listeners || include_rules).then(|| Associated {
            listeners: include_listeners
                .then(|| listed("Listener", users(&load_balancer, &group.id))),
            rules: include_rules.then(|| listed("Rule", rule_users(&load_balancer, &group.id))),
        }),
    });
    to_fields(Listing {
        vserver_groups: listed("VServerGroup", items.collect()),
    })
}

fn holder(id: &str) -> Lookup<'_> {
    Lookup::Child(id, ApiError::VServerGroupNotFound)
}

fn group_mut<'a>(
    load_balancer: &'a mut LoadBalancer,
    id: &str,
) -> Result<&'a mut VServerGroup, ApiError> {
    load_balancer
        .vserver_groups
        .iter_mut()
        .find(|g| g.id == id)
        .ok_or_else(|| ApiError::VServerGroupNotFound(id.to_owned()))
}

pub async fn attribute(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("VServerGroupId")?;
    let mut load_balancer = find(context, holder(id)).await?;
    let load_balancer_id = load_balancer.id.clone();
    let group = group_mut(&mut load_balancer, id)?;
    to_fields(GroupView {
        load_balancer_id: Some(&load_balancer_id),
        tags: Some(TagsView::of(&group.tags)),
        create_time: Some(created(group)),
        ..GroupView::of(group, true)
    })
}

pub async fn set(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("VServerGroupId")?;
    let name = group_name(params.non_empty("VServerGroupName"))?;
    let given = backends::parse(params, false, false, per_call(context))?;
    backends::refuse_denied(context, &given)?;
    let (_, group) = edit(context, holder(id), |load_balancer| {
        let group = group_mut(load_balancer, id)?;
        if let Some(name) = &name {
            group.name = name.clone();
        }
        reweigh(&mut group.servers, &given)?;
        Ok(group.clone())
    })
    .await?;
    answer(&group, true)
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("VServerGroupId")?;
    edit(context, holder(id), |load_balancer| {
        if !users(load_balancer, id).is_empty() || !rule_users(load_balancer, id).is_empty() {
            return Err(ApiError::ServerGroupInUse(format!(
                "The VServer group {id} is used by a listener or a forwarding rule; point them elsewhere first."
            )));
        }
        group_mut(load_balancer, id)?;
        load_balancer.vserver_groups.retain(|g| g.id != id);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn add_servers(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("VServerGroupId")?;
    let new = backends::parse(context.params, true, true, per_call(context))?;
    backends::refuse_denied(context, &new)?;
    let limit = context
        .limits
        .load_balancers
        .backend_servers_per_load_balancer;
    let (_, group) = edit(context, holder(id), |load_balancer| {
        let group = group_mut(load_balancer, id)?;
        add_to(&mut group.servers, &new, limit)?;
        Ok(group.clone())
    })
    .await?;
    answer(&group, false)
}

pub async fn remove_servers(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("VServerGroupId")?;
    let gone = backends::parse(context.params, true, false, per_call(context))?;
    let (_, group) = edit(context, holder(id), |load_balancer| {
        let group = group_mut(load_balancer, id)?;
        group
            .servers
            .retain(|server| !gone.iter().any(|g| names(g, server)));
        Ok(group.clone())
    })
    .await?;
    answer(&group, false)
}

/// Replaces `OldBackendServers` (each must be in the group) by `NewBackendServers`, in one
/// change: what Ansible's footmark calls to move a group to other servers or ports.
pub async fn modify_servers(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("VServerGroupId")?;
    let per_call = per_call(context);
    let old = backends::parse_named(context.params, "OldBackendServers", true, true, per_call)?;
    let new = backends::parse_named(context.params, "NewBackendServers", true, true, per_call)?;
    backends::refuse_denied(context, &new)?;
    let limit = context
        .limits
        .load_balancers
        .backend_servers_per_load_balancer;
    let (_, group) = edit(context, holder(id), |load_balancer| {
        let group = group_mut(load_balancer, id)?;
        if let Some(missing) = old
            .iter()
            .find(|gone| !group.servers.iter().any(|server| names(gone, server)))
        {
            return Err(ApiError::BackendServerNotFound(missing.server_id.clone()));
        }
        group
            .servers
            .retain(|server| !old.iter().any(|gone| names(gone, server)));
        add_to(&mut group.servers, &new, limit)?;
        Ok(group.clone())
    })
    .await?;
    answer(&group, false)
}
