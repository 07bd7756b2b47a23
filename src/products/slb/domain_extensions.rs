//! Domain extensions: extra certificates of an HTTPS listener, chosen by SNI.

use serde::Serialize;

use super::listeners::port;
use super::{Lookup, certificate_refusal, edit, find};
use crate::api::error::ApiError;
use crate::ids;
use crate::products::views::{Listed, listed};
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{DomainExtension, LoadBalancer, Protocol};

const MAX_DOMAIN_CHARS: usize = 80;

/// `Domain`: a host name (`www.example.com`) or a wildcard one (`*.example.com`).
fn domain(text: &str) -> Result<String, ApiError> {
    let name = text.strip_prefix("*.").unwrap_or(text);
    if !crate::products::inputs::is_host_name(name) || text.len() > MAX_DOMAIN_CHARS {
        return Err(ApiError::InvalidParameter(format!(
            "The specified Domain {text:?} is not valid: use a host name like www.example.com or a wildcard like *.example.com, at most {MAX_DOMAIN_CHARS} characters."
        )));
    }
    Ok(text.to_ascii_lowercase())
}

/// The HTTPS listener on `port`, or the error the real service gives for a missing one.
fn https_listener(
    load_balancer: &mut LoadBalancer,
    port: u16,
) -> Result<&mut crate::store::load_balancers::Listener, ApiError> {
    load_balancer
        .listeners
        .iter_mut()
        .find(|l| l.port == port && l.protocol == Protocol::Https)
        .ok_or(ApiError::ListenerResourceNotFound)
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let port = port(params)?;
    let domain = domain(params.required("Domain")?)?;
    let certificate = params.required("ServerCertificateId")?.to_owned();
    let limit = context.limits.load_balancers.domain_extensions_per_listener;
    let extension_id = ids::domain_extension_id();
    let result = edit(context, Lookup::Id(id), |load_balancer| {
        let listener = https_listener(load_balancer, port)?;
        if listener
            .domain_extensions
            .iter()
            .any(|e| e.domain == domain)
        {
            return Err(ApiError::InvalidParameter(format!(
                "The specified Domain {domain:?} already has a domain extension on this listener."
            )));
        }
        if listener.domain_extensions.len() >= limit {
            return Err(ApiError::DomainExtensionNumberOverLimit(format!(
                "the listener on port {port} has {limit} already"
            )));
        }
        listener.domain_extensions.push(DomainExtension {
            id: extension_id.clone(),
            domain: domain.clone(),
            server_certificate_id: certificate.clone(),
        });
        Ok(())
    })
    .await;
    result.map_err(certificate_refusal)?;
    to_fields(Created {
        listener_port: port,
        domain_extension_id: &extension_id,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created<'a> {
    listener_port: u16,
    domain_extension_id: &'a str,
}

/// A domain extension as DescribeDomainExtensions and a listener's Describe show it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExtensionView<'a> {
    domain_extension_id: &'a str,
    domain: &'a str,
    server_certificate_id: &'a str,
}

pub fn view(extension: &DomainExtension) -> ExtensionView<'_> {
    ExtensionView {
        domain_extension_id: &extension.id,
        domain: &extension.domain,
        server_certificate_id: &extension.server_certificate_id,
    }
}

/// DescribeDomainExtensionAttribute.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Attribute<'a> {
    domain_extension_id: &'a str,
    domain: &'a str,
    load_balancer_id: &'a str,
    listener_port: u16,
    server_certificate_id: &'a str,
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let port = port(params)?;
    let wanted = params.non_empty("DomainExtensionId");
    let mut load_balancer = find(context, Lookup::Id(id)).await?;
    let listener = https_listener(&mut load_balancer, port)?;
    let items = listener
        .domain_extensions
        .iter()
        .filter(|e| wanted.is_none_or(|w| w == e.id))
        .map(view);
    #[derive(Serialize)]
    struct Listing<'a> {
        #[serde(rename = "DomainExtensions")]
        domain_extensions: Listed<ExtensionView<'a>>,
    }
    to_fields(Listing {
        domain_extensions: listed("DomainExtension", items.collect()),
    })
}

fn extension_id<'a>(context: &'a Context<'_>) -> Result<&'a str, ApiError> {
    context.params.required("DomainExtensionId")
}

fn holder(id: &str) -> Lookup<'_> {
    Lookup::Child(id, ApiError::DomainExtensionNotFound)
}

pub async fn attribute(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = extension_id(context)?;
    let load_balancer = find(context, holder(id)).await?;
    for listener in &load_balancer.listeners {
        if let Some(extension) = listener.domain_extensions.iter().find(|e| e.id == id) {
            return to_fields(Attribute {
                domain_extension_id: &extension.id,
                domain: &extension.domain,
                load_balancer_id: &load_balancer.id,
                listener_port: listener.port,
                server_certificate_id: &extension.server_certificate_id,
            });
        }
    }
    Err(ApiError::DomainExtensionNotFound(id.to_owned()))
}

/// Runs `change` on the domain extension `id` wherever it is.
fn with_extension(
    load_balancer: &mut LoadBalancer,
    id: &str,
    change: impl FnOnce(&mut Vec<DomainExtension>, usize),
) -> Result<(), ApiError> {
    for listener in &mut load_balancer.listeners {
        if let Some(index) = listener.domain_extensions.iter().position(|e| e.id == id) {
            change(&mut listener.domain_extensions, index);
            return Ok(());
        }
    }
    Err(ApiError::DomainExtensionNotFound(id.to_owned()))
}

pub async fn set(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = extension_id(context)?;
    let certificate = context.params.required("ServerCertificateId")?;
    let result = edit(context, holder(id), |load_balancer| {
        with_extension(load_balancer, id, |extensions, index| {
            extensions[index].server_certificate_id = certificate.to_owned();
        })
    })
    .await;
    result.map_err(certificate_refusal)?;
    Ok(Fields::new())
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = extension_id(context)?;
    edit(context, holder(id), |load_balancer| {
        with_extension(load_balancer, id, |extensions, index| {
            extensions.remove(index);
        })
    })
    .await?;
    Ok(Fields::new())
}
