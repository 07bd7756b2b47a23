//! Primary/secondary ("master-slave") server groups (slb-families.md §4): one master and one
//! slave; a TCP or UDP listener naming the group sends traffic to the master while it passes
//! its health checks, and to the slave while it does not.

use serde::Serialize;
use serde_json::Value;

use super::backends;
use super::certificates::TagsView;
use super::settings;
use super::{Lookup, edit, find};
use crate::api::error::ApiError;
use crate::clock;
use crate::ids;
use crate::products::inputs;
use crate::products::views::{Associated, Listed, ListenerRef, listed};
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{LoadBalancer, MasterSlaveGroup, MasterSlaveServer};

const MAX_NAME_CHARS: usize = 256;
const SERVERS: &str = "MasterSlaveBackendServers";

/// The one master and one slave of `MasterSlaveBackendServers` (`ServerType` `Master`, the
/// default, or `Slave`; numbers may be numeric strings).
fn parse_servers(context: &Context<'_>) -> Result<Vec<MasterSlaveServer>, ApiError> {
    let per_call = context.limits.load_balancers.backend_servers_per_call;
    let servers = backends::parse_named(context.params, SERVERS, true, true, per_call)?;
    backends::refuse_denied(context, &servers)?;
    let entries: Vec<Value> = context
        .params
        .non_empty(SERVERS)
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (server, entry) in servers.into_iter().zip(&entries) {
        let slave = match entry.get("ServerType").and_then(Value::as_str) {
            None | Some("Master") => false,
            Some("Slave") => true,
            Some(other) => {
                return Err(ApiError::InvalidParameter(format!(
                    "The specified ServerType {other:?} is not valid: use Master or Slave."
                )));
            }
        };
        out.push(MasterSlaveServer { server, slave });
    }
    let slaves = out.iter().filter(|s| s.slave).count();
    if out.len() != 2 || slaves != 1 {
        return Err(ApiError::InvalidParameter(format!(
            "The specified {SERVERS} must list two servers: one Master and one Slave."
        )));
    }
    Ok(out)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MemberView<'a> {
    #[serde(flatten)]
    server: backends::ServerView<'a>,
    server_type: &'static str,
    /// What older Terraform reads.
    is_backup: i64,
}

fn server_views(group: &MasterSlaveGroup) -> Listed<MemberView<'_>> {
    let members = group.servers.iter().map(|entry| MemberView {
        server: backends::view(&entry.server),
        server_type: if entry.slave { "Slave" } else { "Master" },
        is_backup: i64::from(entry.slave),
    });
    listed("MasterSlaveBackendServer", members.collect())
}

/// CreateMasterSlaveServerGroup and DescribeMasterSlaveServerGroupAttribute.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GroupView<'a> {
    master_slave_server_group_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    master_slave_server_group_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_balancer_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    create_time: Option<String>,
    master_slave_backend_servers: Listed<MemberView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<TagsView>,
}

/// An item of DescribeMasterSlaveServerGroups.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ItemView<'a> {
    master_slave_server_group_id: &'a str,
    master_slave_server_group_name: &'a str,
    create_time: String,
    tags: TagsView,
    #[serde(skip_serializing_if = "Option::is_none")]
    associated_objects: Option<Associated<'a>>,
}

fn created(group: &MasterSlaveGroup) -> String {
    clock::iso8601(clock::from_unix_ms(group.created_ms))
}

fn missing(id: String) -> ApiError {
    // Terraform treats this message as "already gone".
    ApiError::InvalidParameter(format!(
        "The specified MasterSlaveGroupId does not exist: {id:?}."
    ))
}

fn holder(id: &str) -> Lookup<'_> {
    Lookup::Child(id, missing)
}

/// The listeners that forward to `group_id`.
fn users(load_balancer: &LoadBalancer, group_id: &str) -> Vec<ListenerRef> {
    load_balancer
        .listeners
        .iter()
        .filter(|l| settings::text(&l.settings, "MasterSlaveServerGroupId") == Some(group_id))
        .map(|l| ListenerRef {
            port: l.port,
            protocol: l.protocol.as_str(),
        })
        .collect()
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let name = params
        .non_empty("MasterSlaveServerGroupName")
        .unwrap_or_default();
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(ApiError::InvalidParameter(format!(
            "The specified MasterSlaveServerGroupName is not valid: use at most {MAX_NAME_CHARS} characters."
        )));
    }
    let servers = parse_servers(context)?;
    let tags = inputs::tags(params)?;
    let group = MasterSlaveGroup {
        id: ids::vserver_group_id(),
        name: name.to_owned(),
        created_ms: clock::unix_ms(context.now),
        servers,
        tags,
    };
    edit(context, Lookup::Id(id), |load_balancer| {
        load_balancer.master_slave_groups.push(group.clone());
        Ok(())
    })
    .await?;
    to_fields(GroupView {
        master_slave_server_group_id: &group.id,
        master_slave_server_group_name: None,
        load_balancer_id: None,
        create_time: None,
        master_slave_backend_servers: server_views(&group),
        tags: None,
    })
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("MasterSlaveServerGroupId")?;
    edit(context, holder(id), |load_balancer| {
        if !users(load_balancer, id).is_empty() {
            return Err(ApiError::ServerGroupInUse(format!(
                "The master-slave server group {id} is used by a listener; point the listener elsewhere first."
            )));
        }
        load_balancer.master_slave_groups.retain(|g| g.id != id);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Listing<'a> {
    master_slave_server_groups: Listed<ItemView<'a>>,
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let include_listeners = params
        .get("IncludeListener")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let load_balancer = find(context, Lookup::Id(id)).await?;
    let items = load_balancer
        .master_slave_groups
        .iter()
        .map(|group| ItemView {
            master_slave_server_group_id: &group.id,
            master_slave_server_group_name: &group.name,
            create_time: created(group),
            tags: TagsView::of(&group.tags),
            associated_objects: include_listeners.then(|| Associated {
                listeners: Some(listed("Listener", users(&load_balancer, &group.id))),
                rules: None,
            }),
        });
    to_fields(Listing {
        master_slave_server_groups: listed("MasterSlaveServerGroup", items.collect()),
    })
}

pub async fn attribute(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("MasterSlaveServerGroupId")?;
    let load_balancer = find(context, holder(id)).await?;
    let group = load_balancer
        .master_slave_groups
        .iter()
        .find(|g| g.id == id)
        .ok_or_else(|| missing(id.to_owned()))?;
    to_fields(GroupView {
        master_slave_server_group_id: &group.id,
        master_slave_server_group_name: Some(&group.name),
        load_balancer_id: Some(&load_balancer.id),
        create_time: Some(created(group)),
        master_slave_backend_servers: server_views(group),
        tags: Some(TagsView::of(&group.tags)),
    })
}
