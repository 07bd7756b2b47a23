//! VServer groups: named sets of backend servers with ports, which listeners forward to.

use serde_json::{Value, json};

use super::backends::{self, add_to, names, reweigh};
use super::settings;
use super::{Lookup, edit, find};
use crate::api::error::ApiError;
use crate::clock;
use crate::ids;
use crate::products::fields;
use crate::products::{Context, Fields};
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

/// `VServerGroupId` and its servers; `with_name` where the action's model has the name too.
fn answer(group: &VServerGroup, with_name: bool) -> Fields {
    let mut out = Fields::new();
    out.insert("VServerGroupId".into(), group.id.clone().into());
    if with_name {
        out.insert("VServerGroupName".into(), group.name.clone().into());
    }
    let items: Vec<Value> = group.servers.iter().map(backends::view).collect();
    out.insert("BackendServers".into(), json!({ "BackendServer": items }));
    out
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let name = group_name(params.non_empty("VServerGroupName"))?.unwrap_or_default();
    let servers = backends::parse(params, false, true, per_call(context))?;
    backends::refuse_denied(context, &servers)?;
    let tags = fields::tags(params)?;
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
    Ok(answer(&group, false))
}

/// The listeners that forward to `group_id`.
fn users(load_balancer: &LoadBalancer, group_id: &str) -> Vec<Value> {
    load_balancer
        .listeners
        .iter()
        .filter(|l| settings::text(&l.settings, "VServerGroupId") == Some(group_id))
        .map(|l| json!({ "Port": l.port, "Protocol": l.protocol.as_str() }))
        .collect()
}

/// The forwarding rules that send traffic to `group_id`.
fn rule_users(load_balancer: &LoadBalancer, group_id: &str) -> Vec<Value> {
    load_balancer
        .listeners
        .iter()
        .flat_map(|listener| listener.rules.iter())
        .filter(|rule| rule.vserver_group_id == group_id)
        .map(|rule| {
            json!({ "RuleId": rule.id, "RuleName": rule.name,
                    "Domain": rule.domain.clone().unwrap_or_default(),
                    "Url": rule.url.clone().unwrap_or_default() })
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
    let items: Vec<Value> = load_balancer
        .vserver_groups
        .iter()
        .map(|group| {
            let mut item = json!({
                "VServerGroupId": group.id,
                "VServerGroupName": group.name,
                "CreateTime": clock::iso8601(clock::from_unix_ms(group.created_ms)),
                "ServerCount": group.servers.len(),
                "Tags": { "Tag": tag_views(&group.tags) },
            });
            if include_listeners || include_rules {
                let mut associated = Fields::new();
                if include_listeners {
                    associated.insert(
                        "Listeners".into(),
                        json!({ "Listener": users(&load_balancer, &group.id) }),
                    );
                }
                if include_rules {
                    associated.insert(
                        "Rules".into(),
                        json!({ "Rule": rule_users(&load_balancer, &group.id) }),
                    );
                }
                item["AssociatedObjects"] = Value::Object(associated);
            }
            item
        })
        .collect();
    let mut out = Fields::new();
    out.insert("VServerGroups".into(), json!({ "VServerGroup": items }));
    Ok(out)
}

fn tag_views(tags: &[crate::store::Tag]) -> Vec<Value> {
    tags.iter()
        .map(|tag| json!({ "TagKey": tag.key, "TagValue": tag.value }))
        .collect()
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
    let mut out = answer(group, true);
    out.insert("LoadBalancerId".into(), load_balancer_id.into());
    out.insert("Tags".into(), json!({ "Tag": tag_views(&group.tags) }));
    out.insert(
        "CreateTime".into(),
        clock::iso8601(clock::from_unix_ms(group.created_ms)).into(),
    );
    Ok(out)
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
    Ok(answer(&group, true))
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
    Ok(answer(&group, false))
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
    Ok(answer(&group, false))
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
    Ok(answer(&group, false))
}
