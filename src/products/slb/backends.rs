//! Backend servers of a load balancer's default server group, and DescribeHealthStatus.
//! The `BackendServers` JSON of these actions is parsed here for VServer groups too.

use std::net::{IpAddr, SocketAddr};

use serde::Serialize;
use serde_json::Value;

use super::listeners;
use super::settings;
use super::{Lookup, edit, find};
use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::dataplane::HealthKey;
use crate::products::views::{Listed, listed};
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{BackendServer, ListenerStatus};

const MAX_DESCRIPTION_CHARS: usize = 80;
const SERVER_TYPES: &[&str] = &["ecs", "eni", "eci"];

fn invalid(detail: impl std::fmt::Display) -> ApiError {
    ApiError::InvalidParameter(format!(
        "The specified BackendServers is invalid: {detail}."
    ))
}

/// A number given as a JSON number or a string of digits (clients send both).
fn number(entry: &Value, name: &str, (min, max): (u64, u64)) -> Result<Option<u64>, ApiError> {
    let value = match entry.get(name) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) if s.is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match value {
        Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(invalid(format!(
            "{name} must be a whole number from {min} to {max}"
        ))),
    }
}

fn text<'a>(entry: &'a Value, name: &str) -> Result<Option<&'a str>, ApiError> {
    match entry.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("{name} must be a string"))),
    }
}

fn server(entry: &Value, port_required: bool) -> Result<BackendServer, ApiError> {
    // libcloud's RemoveBackendServers sends bare IDs.
    if let Value::String(id) = entry {
        let server = Value::Object(Fields::from_iter([("ServerId".into(), id.clone().into())]));
        return self::server(&server, port_required);
    }
    if !entry.is_object() {
        return Err(invalid("each entry must be an object with a ServerId"));
    }
    let server_id = text(entry, "ServerId")?.ok_or_else(|| invalid("ServerId is missing"))?;
    if server_id.len() > 128
        || server_id
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(invalid(format!(
            "ServerId {server_id:?} is not an instance ID"
        )));
    }
    let server_type = match text(entry, "Type")? {
        None => "ecs".to_owned(),
        Some(t) => SERVER_TYPES
            .iter()
            .find(|known| known.eq_ignore_ascii_case(t))
            .map(|known| (*known).to_owned())
            .ok_or_else(|| invalid(format!("Type {t:?} is not one of ecs, eni, eci")))?,
    };
    let server_ip = match text(entry, "ServerIp")? {
        None => None,
        Some(ip) => Some(
            ip.parse::<IpAddr>()
                .map_err(|_| invalid(format!("ServerIp {ip:?} is not an IP address")))?
                .to_string(),
        ),
    };
    if server_type != "ecs" && server_ip.is_none() {
        return Err(invalid(format!(
            "ServerIp is required for a backend of type {server_type}"
        )));
    }
    let port = number(entry, "Port", (1, 65535))?.map(|p| p as u16);
    if port_required && port.is_none() {
        return Err(invalid("Port is required in a VServer group"));
    }
    let description = text(entry, "Description")?.unwrap_or_default();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(invalid(format!(
            "Description is longer than {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    Ok(BackendServer {
        server_id: server_id.to_owned(),
        server_type,
        server_ip,
        port,
        weight: number(entry, "Weight", (0, 100))?.unwrap_or(100) as u8,
        description: description.to_owned(),
    })
}

/// `BackendServers`: a JSON list of at most `per_call` servers (`Port` required in VServer
/// groups, and ignored by the default server group: see [`without_ports`]).
pub fn parse(
    params: &RpcParams,
    required: bool,
    port_required: bool,
    per_call: usize,
) -> Result<Vec<BackendServer>, ApiError> {
    parse_named(params, "BackendServers", required, port_required, per_call)
}

/// [`parse`] of the list in `parameter` (ModifyVServerGroupBackendServers has two).
pub fn parse_named(
    params: &RpcParams,
    parameter: &'static str,
    required: bool,
    port_required: bool,
    per_call: usize,
) -> Result<Vec<BackendServer>, ApiError> {
    let Some(json) = params.non_empty(parameter) else {
        return if required {
            Err(ApiError::MissingParameter(parameter))
        } else {
            Ok(Vec::new())
        };
    };
    let entries: Vec<Value> =
        serde_json::from_str(json).map_err(|_| invalid("it is not a JSON list"))?;
    if entries.len() > per_call {
        return Err(ApiError::TooManyBackendServers(format!(
            "{} servers are given; at most {per_call} are allowed per call",
            entries.len()
        )));
    }
    entries
        .iter()
        .map(|entry| server(entry, port_required))
        .collect()
}

/// Refuses servers at an address no backend may have (`serve --backend-deny`, this server's
/// own addresses): a load balancer must not become a relay to them. Removals are not checked.
pub fn refuse_denied(context: &Context<'_>, servers: &[BackendServer]) -> Result<(), ApiError> {
    let deny = &context.limits.load_balancers.backend_deny;
    for server in servers {
        let Some(ip) = server.server_ip.as_ref().and_then(|ip| ip.parse().ok()) else {
            continue;
        };
        if let Some(why) = deny.refusal(ip, server.port) {
            return Err(invalid(format!("ServerIp {ip} is not allowed: {why}")));
        }
    }
    Ok(())
}

/// The default server group's servers take the listener's port, never their own.
fn without_ports(mut servers: Vec<BackendServer>) -> Vec<BackendServer> {
    servers.iter_mut().for_each(|server| server.port = None);
    servers
}

/// Whether `given` (from a Remove or Set request) names `server`: by ID, and by IP and port
/// where given.
pub fn names(given: &BackendServer, server: &BackendServer) -> bool {
    given.server_id == server.server_id
        && given
            .server_ip
            .as_ref()
            .is_none_or(|ip| server.server_ip.as_ref() == Some(ip))
        && given.port.is_none_or(|port| server.port == Some(port))
}

/// Adds `new` to `servers`, replacing those with the same ID, IP and port.
pub fn add_to(
    servers: &mut Vec<BackendServer>,
    new: &[BackendServer],
    limit: usize,
) -> Result<(), ApiError> {
    for server in new {
        let same = |s: &BackendServer| {
            s.server_id == server.server_id
                && s.server_ip == server.server_ip
                && s.port == server.port
        };
        match servers.iter_mut().find(|s| same(s)) {
            Some(existing) => *existing = server.clone(),
            None => servers.push(server.clone()),
        }
    }
    if servers.len() > limit {
        return Err(ApiError::TooManyBackendServers(format!(
            "there would be {} backend servers; at most {limit} are allowed",
            servers.len()
        )));
    }
    Ok(())
}

/// Changes the weight (and description) of servers that are there already.
pub fn reweigh(servers: &mut [BackendServer], given: &[BackendServer]) -> Result<(), ApiError> {
    for change in given {
        let mut found = false;
        for server in servers.iter_mut().filter(|s| names(change, s)) {
            server.weight = change.weight;
            if !change.description.is_empty() {
                server.description = change.description.clone();
            }
            found = true;
        }
        if !found {
            return Err(ApiError::BackendServerNotFound(change.server_id.clone()));
        }
    }
    Ok(())
}

/// A backend server as every answer shows it (`Port` in VServer groups only).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ServerView<'a> {
    server_id: &'a str,
    weight: u8,
    #[serde(rename = "Type")]
    server_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
}

pub fn view(server: &BackendServer) -> ServerView<'_> {
    ServerView {
        server_id: &server.server_id,
        weight: server.weight,
        server_type: &server.server_type,
        port: server.port,
        server_ip: server.server_ip.as_deref(),
        description: &server.description,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Answer<'a> {
    load_balancer_id: &'a str,
    backend_servers: Listed<ServerView<'a>>,
}

fn answer(load_balancer_id: &str, servers: &[BackendServer]) -> Result<Fields, ApiError> {
    to_fields(Answer {
        load_balancer_id,
        backend_servers: listed("BackendServer", servers.iter().map(view).collect()),
    })
}

fn per_call(context: &Context<'_>) -> usize {
    context.limits.load_balancers.backend_servers_per_call
}

pub async fn add(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let new = without_ports(parse(context.params, true, false, per_call(context))?);
    refuse_denied(context, &new)?;
    let limit = context
        .limits
        .load_balancers
        .backend_servers_per_load_balancer;
    let (load_balancer, ()) = edit(context, Lookup::Id(id), |lb| {
        add_to(&mut lb.backend_servers, &new, limit)
    })
    .await?;
    answer(&load_balancer.id, &load_balancer.backend_servers)
}

pub async fn remove(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let gone = without_ports(parse(context.params, true, false, per_call(context))?);
    let (load_balancer, ()) = edit(context, Lookup::Id(id), |lb| {
        lb.backend_servers
            .retain(|server| !gone.iter().any(|g| names(g, server)));
        Ok(())
    })
    .await?;
    answer(&load_balancer.id, &load_balancer.backend_servers)
}

pub async fn set(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let given = without_ports(parse(context.params, false, false, per_call(context))?);
    refuse_denied(context, &given)?;
    let (load_balancer, ()) = edit(context, Lookup::Id(id), |lb| {
        reweigh(&mut lb.backend_servers, &given)
    })
    .await?;
    answer(&load_balancer.id, &load_balancer.backend_servers)
}

/// What DescribeHealthStatus says of a backend. A server without an address cannot be reached
/// (`abnormal`); a stopped listener, or one without health checks, checks nothing
/// (`unavailable`). Otherwise the data plane's last verdict, `unavailable` before its first;
/// without a data plane, `normal`.
fn health_of(
    server: &BackendServer,
    running: bool,
    checking: bool,
    verdict: impl FnOnce(SocketAddr) -> Option<Option<bool>>,
) -> &'static str {
    let Some(address) = server
        .server_ip
        .as_ref()
        .and_then(|ip| ip.parse::<IpAddr>().ok())
    else {
        return "abnormal";
    };
    if !(running && checking) {
        return "unavailable";
    }
    match verdict(SocketAddr::new(address, server.port.unwrap_or_default())) {
        None => "normal",
        Some(Some(true)) => "normal",
        Some(Some(false)) => "abnormal",
        Some(None) => "unavailable",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Health<'a> {
    listener_port: u16,
    server_id: &'a str,
    port: i64,
    protocol: &'static str,
    server_health_status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_ip: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct HealthAnswer<'a> {
    backend_servers: Listed<Health<'a>>,
}

pub async fn health(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let port = match params.non_empty("ListenerPort") {
        Some(_) => Some(listeners::port(params)?),
        None => None,
    };
    let protocol = listeners::protocol_filter(params)?;
    let load_balancer = find(context, Lookup::Id(id)).await?;
    let mut items = Vec::new();
    for listener in load_balancer
        .listeners
        .iter()
        .filter(|l| port.is_none_or(|p| p == l.port) && protocol.is_none_or(|p| p == l.protocol))
    {
        let group = settings::text(&listener.settings, "VServerGroupId");
        let servers: &[BackendServer] = match group {
            Some(group_id) => load_balancer
                .vserver_groups
                .iter()
                .find(|g| g.id == group_id)
                .map_or(&[], |g| g.servers.as_slice()),
            None => &load_balancer.backend_servers,
        };
        let backend_port = settings::int(&listener.settings, "BackendServerPort");
        let running = listener.status == ListenerStatus::Running;
        let checking = settings::text(&listener.settings, "HealthCheck") != Some("off");
        for server in servers {
            let port = server
                .port
                .map(i64::from)
                .or(backend_port)
                .unwrap_or_default();
            let verdict = |address: SocketAddr| {
                let table = context.health?;
                Some(table.checked(&HealthKey {
                    load_balancer_id: load_balancer.id.clone(),
                    listener_port: listener.port,
                    protocol: listener.protocol.as_str(),
                    backend: SocketAddr::new(address.ip(), port as u16),
                }))
            };
            items.push(Health {
                listener_port: listener.port,
                server_id: &server.server_id,
                port,
                protocol: listener.protocol.as_str(),
                server_health_status: health_of(server, running, checking, verdict),
                server_ip: server.server_ip.as_deref(),
            });
        }
    }
    to_fields(HealthAnswer {
        backend_servers: listed("BackendServer", items),
    })
}
