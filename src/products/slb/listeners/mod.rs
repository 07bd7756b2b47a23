//! Listeners of every protocol: Create, Set and Describe…Attribute per protocol;
//! Start, Stop and Delete. DescribeLoadBalancerListeners, with token paging, is in [`list`].

mod list;
mod views;
pub mod whitelist;

pub use list::list;

use super::acls::binding;
use super::settings::{self, LISTENER_FIELDS};
use super::{Lookup, certificate_refusal, edit, find};
use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::products::inputs;
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{Listener, ListenerStatus, LoadBalancer, Protocol, Setting};

/// `ListenerPort`: 1 to 65535.
pub fn port(params: &RpcParams) -> Result<u16, ApiError> {
    let text = params.required("ListenerPort")?;
    match text.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(ApiError::InvalidParameter(format!(
            "The specified port is not valid: {text:?} (use 1 to 65535)."
        ))),
    }
}

/// `ListenerProtocol`, when a port has listeners of two protocols (TCP and UDP).
pub(crate) fn protocol_filter(params: &RpcParams) -> Result<Option<Protocol>, ApiError> {
    match params.non_empty("ListenerProtocol") {
        None => Ok(None),
        Some(text) => Protocol::parse(text).map(Some).ok_or_else(|| {
            ApiError::InvalidParameter(format!(
                "The specified ListenerProtocol {text:?} is not valid: use http, https, tcp or udp."
            ))
        }),
    }
}

/// Whether two listeners would take the same port: all but UDP share TCP's port space.
fn same_transport(a: Protocol, b: Protocol) -> bool {
    (a == Protocol::Udp) == (b == Protocol::Udp)
}

/// What Create and Set take besides the plain settings.
struct Bindings {
    server_certificate_id: Option<String>,
    /// `Some(None)`: `CACertificateId=` given empty, which removes the CA certificate.
    ca_certificate_id: Option<Option<String>>,
    /// `Some(None)`: `VServerGroup=off`.
    vserver_group_id: Option<Option<String>>,
}

impl Bindings {
    fn parse(params: &RpcParams, protocol: Protocol) -> Result<Bindings, ApiError> {
        let https = protocol == Protocol::Https;
        let vserver_group_id = match (
            params.non_empty("VServerGroupId"),
            params.non_empty("VServerGroup"),
        ) {
            (_, Some(off)) if off.eq_ignore_ascii_case("off") => Some(None),
            (Some(id), _) => Some(Some(id.to_owned())),
            (None, _) => None,
        };
        Ok(Bindings {
            server_certificate_id: params
                .non_empty("ServerCertificateId")
                .filter(|_| https)
                .map(str::to_owned),
            ca_certificate_id: params
                .get("CACertificateId")
                .filter(|_| https)
                .map(|id| Some(id.to_owned()).filter(|id| !id.is_empty())),
            vserver_group_id,
        })
    }

    fn apply(self, load_balancer: &LoadBalancer, listener: &mut Listener) -> Result<(), ApiError> {
        if let Some(id) = self.server_certificate_id {
            listener.server_certificate_id = Some(id);
        }
        if let Some(id) = self.ca_certificate_id {
            listener.ca_certificate_id = id;
        }
        if let Some(group) = self.vserver_group_id {
            if let Some(id) = &group
                && !load_balancer.vserver_groups.iter().any(|g| &g.id == id)
            {
                return Err(ApiError::VServerGroupNotFound(id.clone()));
            }
            match group {
                Some(id) => listener
                    .settings
                    .insert("VServerGroupId".into(), Setting::Text(id)),
                None => listener.settings.remove("VServerGroupId"),
            };
        }
        Ok(())
    }
}

const MAX_ACLS_PER_LISTENER: usize = 3;

/// The lists `AclId` names, read to be judged with the listener (acls::binding).
async fn named_acls(
    context: &Context<'_>,
    load_balancer_id: &str,
    protocol: Protocol,
    port: u16,
) -> Result<binding::Named, ApiError> {
    let place = binding::Place {
        load_balancer_id,
        protocol,
        port,
    };
    binding::Named::load(context, place, context.params.non_empty("AclId")).await
}

/// `AclStatus=off` unbinds the lists, so that they can be deleted (Terraform turns access
/// control off, then deletes the list).
fn release_acls_when_off(listener: &mut Listener) {
    if settings::text(&listener.settings, "AclStatus") != Some("on") {
        listener.settings.remove("AclId");
        listener.settings.remove("AclType");
    }
}

/// Cross-field rules of a listener's settings, after Create or Set applied them.
fn check(load_balancer: &LoadBalancer, listener: &Listener) -> Result<(), ApiError> {
    let settings = &listener.settings;
    // A listener that redirects to HTTPS has no backends of its own.
    let forwarding = settings::text(settings, "ListenerForward") == Some("on");
    let master_slave = settings::text(settings, "MasterSlaveServerGroupId");
    if !forwarding
        && !settings.contains_key("BackendServerPort")
        && !settings.contains_key("VServerGroupId")
        && master_slave.is_none()
    {
        return Err(ApiError::MissingParameter("BackendServerPort"));
    }
    if let Some(group) = master_slave {
        if settings.contains_key("VServerGroupId") {
            return Err(ApiError::ServerGroupMissMatch);
        }
        if !load_balancer
            .master_slave_groups
            .iter()
            .any(|g| g.id == group)
        {
            return Err(ApiError::InvalidParameter(format!(
                "The specified MasterSlaveGroupId does not exist: {group:?}."
            )));
        }
    }
    if settings::text(settings, "StickySession") == Some("on") {
        match settings::text(settings, "StickySessionType") {
            None => return Err(ApiError::MissingParameter("StickySessionType")),
            Some("insert") if !settings.contains_key("CookieTimeout") => {
                return Err(ApiError::MissingParameter("CookieTimeout"));
            }
            Some("server") if !settings.contains_key("Cookie") => {
                return Err(ApiError::MissingParameter("Cookie"));
            }
            _ => {}
        }
    }
    if settings::text(settings, "AclStatus") == Some("on") {
        for needed in ["AclId", "AclType"] {
            if !settings.contains_key(needed) {
                return Err(ApiError::MissingParameter(needed));
            }
        }
    }
    // The store refuses an ID that is not a list of this account and region (AclNotExist).
    let acls = acl_ids(listener).len();
    if acls > MAX_ACLS_PER_LISTENER {
        return Err(ApiError::InvalidParameter(format!(
            "The specified AclId names {acls} access control lists; a listener takes at most {MAX_ACLS_PER_LISTENER}."
        )));
    }
    if listener.protocol == Protocol::Https && listener.server_certificate_id.is_none() {
        return Err(ApiError::InvalidParameter(
            "The specified parameter ServerCertificateId is empty.".into(),
        ));
    }
    if settings::text(settings, "ListenerForward") == Some("on") {
        let forward = settings::int(settings, "ForwardPort")
            .ok_or(ApiError::MissingParameter("ForwardPort"))?;
        let target = load_balancer
            .listeners
            .iter()
            .any(|l| l.protocol == Protocol::Https && i64::from(l.port) == forward);
        if !target {
            return Err(ApiError::InvalidParameter(format!(
                "The specified ForwardPort {forward} is not the port of an HTTPS listener of this load balancer."
            )));
        }
    }
    Ok(())
}

async fn create(context: &Context<'_>, protocol: Protocol) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let port = port(params)?;
    let mut settings = settings::defaults(LISTENER_FIELDS, protocol);
    settings.extend(settings::parse_given(LISTENER_FIELDS, protocol, params)?);
    if matches!(protocol, Protocol::Http | Protocol::Https)
        && params.non_empty("HealthCheck").is_none()
    {
        return Err(ApiError::MissingParameter("HealthCheck"));
    }
    let tags = inputs::tags(params)?;
    let limit = context.limits.load_balancers.listeners_per_load_balancer;
    let named = named_acls(context, id, protocol, port).await?;
    let result = edit(context, Lookup::Id(id), |load_balancer| {
        if load_balancer.listeners.len() >= limit {
            return Err(ApiError::ListenerNumberOverLimit(format!(
                "{} has {limit} listeners already",
                load_balancer.id
            )));
        }
        let taken = load_balancer
            .listeners
            .iter()
            .any(|l| l.port == port && same_transport(l.protocol, protocol));
        if taken {
            return Err(ApiError::ListenerAlreadyExists(port));
        }
        let mut listener = Listener {
            port,
            protocol,
            status: ListenerStatus::Stopped,
            server_certificate_id: None,
            ca_certificate_id: None,
            settings: settings.clone(),
            domain_extensions: Vec::new(),
            tags: tags.clone(),
            rules: Vec::new(),
        };
        Bindings::parse(params, protocol)?.apply(load_balancer, &mut listener)?;
        release_acls_when_off(&mut listener);
        named.check(load_balancer, &listener)?;
        check(load_balancer, &listener)?;
        load_balancer.listeners.push(listener);
        Ok(())
    })
    .await;
    result.map_err(certificate_refusal)?;
    Ok(Fields::new())
}

/// The index of the listener of `protocol` on `port`, or the error Describe and Set give.
fn position(
    load_balancer: &LoadBalancer,
    port: u16,
    protocol: Protocol,
) -> Result<usize, ApiError> {
    load_balancer
        .listeners
        .iter()
        .position(|l| l.port == port && l.protocol == protocol)
        .ok_or(ApiError::ListenerResourceNotFound)
}

async fn set(context: &Context<'_>, protocol: Protocol) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let port = port(params)?;
    let given = settings::parse_given(LISTENER_FIELDS, protocol, params)?;
    let named = named_acls(context, id, protocol, port).await?;
    let result = edit(context, Lookup::Id(id), |load_balancer| {
        let index = position(load_balancer, port, protocol)?;
        let mut listener = load_balancer.listeners[index].clone();
        if settings::text(&listener.settings, "ListenerForward") == Some("on") {
            return Err(ApiError::OperationNotAllowed(
                "The HTTP listener doesn't support this action: it forwards to HTTPS.".into(),
            ));
        }
        listener.settings.extend(given.clone());
        if params
            .non_empty("MasterSlaveServerGroup")
            .is_some_and(|v| v.eq_ignore_ascii_case("off"))
        {
            listener.settings.remove("MasterSlaveServerGroupId");
        }
        Bindings::parse(params, protocol)?.apply(load_balancer, &mut listener)?;
        release_acls_when_off(&mut listener);
        named.check(load_balancer, &listener)?;
        check(load_balancer, &listener)?;
        load_balancer.listeners[index] = listener;
        Ok(())
    })
    .await;
    match result {
        Ok(_) => Ok(Fields::new()),
        Err(ApiError::LoadBalancerNotFound(_)) => Err(ApiError::ListenerResourceNotFound),
        Err(other) => Err(certificate_refusal(other)),
    }
}

pub(super) use views::acl_ids;

async fn describe(context: &Context<'_>, protocol: Protocol) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    let port = port(context.params)?;
    let load_balancer = match find(context, Lookup::Id(id)).await {
        Err(ApiError::LoadBalancerNotFound(_)) => return Err(ApiError::ListenerResourceNotFound),
        other => other?,
    };
    let listener = &load_balancer.listeners[position(&load_balancer, port, protocol)?];
    to_fields(views::Described::of(&load_balancer, listener))
}

/// The one listener on `ListenerPort` (of `ListenerProtocol`, if given).
pub(super) fn the_listener(
    load_balancer: &LoadBalancer,
    params: &RpcParams,
) -> Result<usize, ApiError> {
    let port = port(params)?;
    let protocol = protocol_filter(params)?;
    let matching: Vec<usize> = load_balancer
        .listeners
        .iter()
        .enumerate()
        .filter(|(_, l)| l.port == port && protocol.is_none_or(|p| p == l.protocol))
        .map(|(index, _)| index)
        .collect();
    match matching.as_slice() {
        [] => Err(ApiError::ListenerNotFound(port)),
        [one] => Ok(*one),
        _ => Err(ApiError::TooManyListeners(port)),
    }
}

async fn set_status(context: &Context<'_>, status: ListenerStatus) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    port(context.params)?;
    edit(context, Lookup::Id(id), |load_balancer| {
        let index = the_listener(load_balancer, context.params)?;
        load_balancer.listeners[index].status = status;
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn start(context: &Context<'_>) -> Result<Fields, ApiError> {
    set_status(context, ListenerStatus::Running).await
}

pub async fn stop(context: &Context<'_>) -> Result<Fields, ApiError> {
    set_status(context, ListenerStatus::Stopped).await
}

/// Its domain extensions go with it.
pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("LoadBalancerId")?;
    port(context.params)?;
    edit(context, Lookup::Id(id), |load_balancer| {
        let index = the_listener(load_balancer, context.params)?;
        let removed = load_balancer.listeners.remove(index);
        let forwarded_to = |l: &Listener| {
            settings::text(&l.settings, "ListenerForward") == Some("on")
                && settings::int(&l.settings, "ForwardPort") == Some(i64::from(removed.port))
        };
        if removed.protocol == Protocol::Https && load_balancer.listeners.iter().any(forwarded_to) {
            return Err(ApiError::OperationNotAllowed(format!(
                "The HTTPS listener on port {} is the target of an HTTP listener's forwarding.",
                removed.port
            )));
        }
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

macro_rules! per_protocol {
    ($($create:ident, $set:ident, $describe:ident => $protocol:expr;)*) => {$(
        pub async fn $create(context: &Context<'_>) -> Result<Fields, ApiError> {
            create(context, $protocol).await
        }
        pub async fn $set(context: &Context<'_>) -> Result<Fields, ApiError> {
            set(context, $protocol).await
        }
        pub async fn $describe(context: &Context<'_>) -> Result<Fields, ApiError> {
            describe(context, $protocol).await
        }
    )*};
}

per_protocol! {
    create_https, set_https, describe_https => Protocol::Https;
    create_http, set_http, describe_http => Protocol::Http;
    create_tcp, set_tcp, describe_tcp => Protocol::Tcp;
    create_udp, set_udp, describe_udp => Protocol::Udp;
}
