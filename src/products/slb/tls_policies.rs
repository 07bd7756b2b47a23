//! Custom TLS cipher policies (slb-families.md §5): CreateTLSCipherPolicy,
//! SetTLSCipherPolicyAttribute, DeleteTLSCipherPolicy and ListTLSCipherPolicies. An HTTPS
//! listener names one in `TLSCipherPolicy`; its handshakes then offer exactly the policy's
//! versions and ciphers. What rustls cannot offer (TLS 1.0 and 1.1, CBC, RSA key exchange,
//! CCM) is refused when the policy is made.

use serde::Serialize;

use super::region_or_default;
use crate::api::error::ApiError;
use crate::cipher_policies;
use crate::clock;
use crate::ids;
use crate::products::inputs;
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{Owner, text};
use crate::store::region_resources as resources;
use crate::store::tls_policies::TlsCipherPolicy;
use crate::store::{Scope, StoreError};

/// Custom policies per account per region (the real quota is not documented).
const PER_REGION: u64 = 50;
const MAX_CIPHERS: usize = 32;
const DEFAULT_PAGE: u64 = 20;
const MAX_EDIT_ATTEMPTS: usize = 16;

fn scope(context: &Context<'_>) -> Result<Scope, ApiError> {
    Ok(Scope {
        account_id: context.caller.account_id.clone(),
        region_id: region_or_default(context)?.id.to_owned(),
    })
}

/// `Name`: a letter first, then letters, digits, `.`, `_` and `-`; 2 to `longest` characters.
fn name(text: &str, longest: usize) -> Result<String, ApiError> {
    let mut chars = text.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && (2..=longest).contains(&text.len());
    if !valid {
        return Err(ApiError::InvalidParameter(format!(
            "The specified Name {text:?} is not valid: 2 to {longest} characters, a letter first, then letters, digits, '.', '_' and '-'."
        )));
    }
    Ok(text.to_owned())
}

/// `TLSVersions.N` and `Ciphers.N`, each once, that this server can offer.
fn offer(context: &Context<'_>) -> Result<(Vec<String>, Vec<String>), ApiError> {
    let list = |prefix: &str, most: usize| -> Result<Vec<String>, ApiError> {
        let mut items: Vec<String> = Vec::new();
        for item in inputs::repeated(context.params, prefix)? {
            if !items.iter().any(|i| i == item) {
                items.push(item.to_owned());
            }
        }
        if items.is_empty() || items.len() > most {
            return Err(ApiError::InvalidParameter(format!(
                "Give 1 to {most} {prefix}.N."
            )));
        }
        Ok(items)
    };
    let versions = list("TLSVersions", 4)?;
    let ciphers = list("Ciphers", MAX_CIPHERS)?;
    if let Some(problem) = cipher_policies::problem(&versions, &ciphers) {
        return Err(ApiError::InvalidParameter(format!(
            "The TLS cipher policy cannot be served: {problem}."
        )));
    }
    Ok((versions, ciphers))
}

fn refusal(error: StoreError, policy: &TlsCipherPolicy) -> ApiError {
    match error {
        StoreError::Conflict("name") => {
            ApiError::NameRepeat(format!("a TLS cipher policy is named {:?}", policy.name))
        }
        StoreError::OverQuota { used, limit } => ApiError::OverQuota(format!(
            "{used} of {limit} TLS cipher policies used in this region"
        )),
        StoreError::NotFound(id) => ApiError::TlsCipherPolicyNotFound(id),
        StoreError::InUse(id) => ApiError::OperationNotAllowed(format!(
            "The TLS cipher policy {id} is used by HTTPS listeners; give them another first."
        )),
        other => other.into(),
    }
}

async fn find(context: &Context<'_>, id: &str) -> Result<TlsCipherPolicy, ApiError> {
    resources::get::<TlsCipherPolicy>(context.store, &scope(context)?, id)
        .await?
        .ok_or_else(|| ApiError::TlsCipherPolicyNotFound(id.to_owned()))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    #[serde(rename = "TLSCipherPolicyId")]
    tls_cipher_policy_id: String,
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = name(context.params.required("Name")?, 200)?;
    let (versions, ciphers) = offer(context)?;
    let scope = scope(context)?;
    let policy = TlsCipherPolicy {
        id: ids::tls_policy_id(),
        account_id: scope.account_id,
        region_id: scope.region_id,
        name,
        versions,
        ciphers,
        created_ms: clock::unix_ms(context.now),
        revision: 0,
    };
    let line = context.audit.success(&policy.id, None);
    match resources::insert(context.store, policy.clone(), Some(PER_REGION), line).await {
        Ok(stored) => to_fields(Created {
            tls_cipher_policy_id: stored.id,
        }),
        Err(error) => Err(refusal(error, &policy)),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Task {
    task_id: String,
}

/// Listeners naming the policy offer the new versions and ciphers within a second.
pub async fn set(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("TLSCipherPolicyId")?;
    let name = name(context.params.required("Name")?, 128)?;
    let (versions, ciphers) = offer(context)?;
    let _turn = context.edit_locks.lock(id).await;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let mut policy = find(context, id).await?;
        policy.name = name.clone();
        policy.versions = versions.clone();
        policy.ciphers = ciphers.clone();
        let line = context.audit.success(id, None);
        match resources::replace(context.store, policy.clone(), line).await {
            Ok(_) => {
                return to_fields(Task {
                    task_id: format!("{id}-{}", policy.revision + 1),
                });
            }
            Err(StoreError::Stale) => continue,
            Err(other) => return Err(refusal(other, &policy)),
        }
    }
    Err(ApiError::OperationBusy)
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("TLSCipherPolicyId")?;
    let _turn = context.edit_locks.lock(id).await;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let policy = find(context, id).await?;
        let line = context.audit.success(id, None);
        match resources::delete(context.store, &policy, line).await {
            Ok(()) => return Ok(Fields::new()),
            Err(StoreError::Stale) => continue,
            Err(other) => return Err(refusal(other, &policy)),
        }
    }
    Err(ApiError::OperationBusy)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RelateListener {
    load_balancer_id: String,
    port: u16,
    protocol: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Item {
    instance_id: String,
    name: String,
    #[serde(rename = "TLSVersions")]
    tls_versions: Vec<String>,
    ciphers: Vec<String>,
    status: &'static str,
    create_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    relate_listeners: Option<Vec<RelateListener>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Listing {
    #[serde(rename = "TLSCipherPolicies")]
    tls_cipher_policies: Vec<Item>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
    is_truncated: bool,
    total_count: usize,
}

async fn related(
    context: &Context<'_>,
    policy: &TlsCipherPolicy,
) -> Result<Vec<RelateListener>, ApiError> {
    let owner = Owner {
        account_id: policy.account_id.clone(),
        region_id: Some(policy.region_id.clone()),
    };
    let mut related = Vec::new();
    for id in context.store.resource_users(&policy.id).await? {
        let Some(load_balancer) = context.store.load_balancer(&owner, &id).await? else {
            continue;
        };
        related.extend(
            load_balancer
                .listeners
                .iter()
                .filter(|l| text(&l.settings, "TLSCipherPolicy") == Some(&policy.id))
                .map(|l| RelateListener {
                    load_balancer_id: load_balancer.id.clone(),
                    port: l.port,
                    protocol: l.protocol.as_str(),
                }),
        );
    }
    Ok(related)
}

/// Paged by `NextToken` (the position of the next policy) and `MaxItems`; `IsTruncated` is
/// true when more pages follow.
pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.non_empty("TLSCipherPolicyId");
    let name = params.non_empty("Name");
    let include = params
        .get("IncludeListener")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let max = inputs::bounded_number(params, "MaxItems", DEFAULT_PAGE, (1, 100))? as usize;
    let start: usize = match params.non_empty("NextToken") {
        None => 0,
        Some(token) => token.parse().map_err(|_| {
            ApiError::InvalidParameter(format!("The specified NextToken {token:?} is not valid."))
        })?,
    };
    let matching: Vec<TlsCipherPolicy> =
        resources::list::<TlsCipherPolicy>(context.store, &scope(context)?)
            .await?
            .into_iter()
            .filter(|p| id.is_none_or(|id| p.id == id))
            .filter(|p| name.is_none_or(|name| p.name == name))
            .collect();
    let mut items = Vec::new();
    for policy in matching.iter().skip(start).take(max) {
        items.push(Item {
            instance_id: policy.id.clone(),
            name: policy.name.clone(),
            tls_versions: policy.versions.clone(),
            ciphers: policy.ciphers.clone(),
            status: "normal",
            create_time: policy.created_ms,
            relate_listeners: if include {
                Some(related(context, policy).await?)
            } else {
                None
            },
        });
    }
    let next = start + items.len();
    let truncated = next < matching.len();
    to_fields(Listing {
        tls_cipher_policies: items,
        next_token: truncated.then(|| next.to_string()),
        is_truncated: truncated,
        total_count: matching.len(),
    })
}
