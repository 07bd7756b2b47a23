//! Domain extensions: extra certificates of an HTTPS listener, chosen by SNI.

use serde_json::{Value, json};

use super::listeners::port;
use super::{Lookup, certificate_refusal, edit, find};
use crate::api::error::ApiError;
use crate::ids;
use crate::products::{Context, Fields};
use crate::store::load_balancers::{DomainExtension, LoadBalancer, Protocol};

const MAX_DOMAIN_CHARS: usize = 80;

/// `Domain`: a host name (`www.example.com`) or a wildcard one (`*.example.com`).
fn domain(text: &str) -> Result<String, ApiError> {
    let name = text.strip_prefix("*.").unwrap_or(text);
    let labels_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !labels_ok || text.len() > MAX_DOMAIN_CHARS {
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
    let mut out = Fields::new();
    out.insert("ListenerPort".into(), json!(port));
    out.insert("DomainExtensionId".into(), extension_id.into());
    Ok(out)
}

fn view(extension: &DomainExtension) -> Value {
    json!({
        "DomainExtensionId": extension.id,
        "Domain": extension.domain,
        "ServerCertificateId": extension.server_certificate_id,
    })
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    let port = port(params)?;
    let wanted = params.non_empty("DomainExtensionId");
    let mut load_balancer = find(context, Lookup::Id(id)).await?;
    let listener = https_listener(&mut load_balancer, port)?;
    let items: Vec<Value> = listener
        .domain_extensions
        .iter()
        .filter(|e| wanted.is_none_or(|w| w == e.id))
        .map(view)
        .collect();
    let mut out = Fields::new();
    out.insert(
        "DomainExtensions".into(),
        json!({ "DomainExtension": items }),
    );
    Ok(out)
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
            let mut out = Fields::new();
            out.insert("DomainExtensionId".into(), extension.id.clone().into());
            out.insert("Domain".into(), extension.domain.clone().into());
            out.insert("LoadBalancerId".into(), load_balancer.id.clone().into());
            out.insert("ListenerPort".into(), json!(listener.port));
            out.insert(
                "ServerCertificateId".into(),
                extension.server_certificate_id.clone().into(),
            );
            return Ok(out);
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
