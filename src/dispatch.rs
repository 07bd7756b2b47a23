//! The action table, and the dispatcher that runs one request through it: parameters, the
//! action, its signature, the action itself, the audit record of a refusal, the rendering.
//!
//! Each action is one row ([`ActionSpec`]): its name, product version, whether it writes, the
//! parameters that name what it acts on and its handler. Dispatch, the list of mutations, the
//! resources its authorization judges and the audit target all come from that row.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::access::authenticate::{self, Authority};
use crate::access::authorize;
use crate::access::resources::Ref;
use crate::api::error::{AccessError, ApiError};
use crate::api::params::RpcParams;
use crate::api::response::{self, Format};
use crate::api::signature::SignedRequest;
use crate::api::{self, PRODUCT_SLB};
use crate::audit::{AuditRecord, RefusalQueue};
use crate::http::{Request, Response};
use crate::products::{Context, Fields, product};
use crate::state::AppState;
use crate::store::write_nonce;
use crate::{clock, ids};

pub type ActionFuture<'a> = Pin<Box<dyn Future<Output = Result<Fields, ApiError>> + Send + 'a>>;
pub type Handler = for<'a> fn(&'a Context<'a>) -> ActionFuture<'a>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Changes state, and so is audited (refusals too).
    Write,
}

pub struct ActionSpec {
    pub name: &'static str,
    pub version: &'static str,
    pub access: Access,
    /// The parameters naming what it acts on: authorization judges each resource they name
    /// (see [`crate::access::resources`]); the first names the audit record's target.
    pub refs: &'static [Ref],
    pub handler: Handler,
}

impl std::fmt::Debug for ActionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.version)
    }
}

impl ActionSpec {
    pub fn is_mutating(&self) -> bool {
        self.access == Access::Write
    }

    /// What the audit record names as acted on: the first ID the first reference names.
    pub fn audit_target(&self, params: &RpcParams) -> String {
        self.refs
            .first()
            .and_then(|first| first.first_id(params))
            .unwrap_or_default()
            .to_owned()
    }
}

mod table;

pub use table::ACTIONS;

pub type Action = &'static ActionSpec;

/// The action named `name` in product version `version`.
pub fn resolve(version: &str, name: &str) -> Result<Action, ApiError> {
    if product(version).is_none() {
        return Err(ApiError::InvalidVersion(version.to_owned()));
    }
    ACTIONS
        .iter()
        .find(|spec| spec.version == version && spec.name == name)
        .ok_or_else(|| ApiError::InvalidAction(name.to_owned()))
}

/// What one request turned out to be, as far as it got.
struct Outcome {
    format: Format,
    /// Names the product in error envelopes.
    product: &'static str,
    action: Option<Action>,
    /// Known once the action resolved; names the caller once authenticated.
    audit: Option<AuditRecord>,
    result: Result<Map<String, Value>, ApiError>,
}

/// Answers one RPC request on `/`.
pub async fn handle(state: Arc<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = ids::request_id();
    let outcome = process(&state, &request, &request_id).await;
    // Refused mutations are audited, and so is every call refused for who made it.
    if let (Some(action), Some(audit), Err(error)) =
        (outcome.action, &outcome.audit, &outcome.result)
        && (action.is_mutating()
            || matches!(
                error,
                ApiError::Access(AccessError::Forbidden | AccessError::Throttled { .. })
            ))
    {
        audit_refusal(&state.refusals, audit, error, request.peer.ip());
    }
    let retry_after = match &outcome.result {
        Err(ApiError::Access(error)) => error.retry_after_ms(),
        _ => None,
    };
    let code = outcome.result.as_ref().err().map(ApiError::code);
    let name = outcome.action.map_or("", |action| action.name);
    let mut response = match outcome.result {
        Ok(fields) => response::success(
            outcome.format,
            &format!("{name}Response"),
            &request_id,
            fields,
        ),
        Err(error) => response::error(
            outcome.format,
            &error,
            &request_id,
            api::host_id(&request.headers),
            outcome.product,
        ),
    };
    if let Some(ms) = retry_after {
        response.headers.push((
            http::HeaderName::from_static("x-acs-retry-after"),
            http::HeaderValue::from(ms),
        ));
    }
    state
        .metrics
        .observe(outcome.product, name, code.as_deref(), started.elapsed());
    // Never the query or body: they carry private keys.
    tracing::info!(
        request_id,
        peer = %request.peer,
        action = if name.is_empty() { "-" } else { name },
        status = response.status.as_u16(),
        code = code.unwrap_or_default(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Records a refused mutation (a successful one is recorded by the store, in the transaction
/// of its change), within the budget of its source address: queued for the writer's next
/// batch, with no sync of its own. Storage faults are not recorded: nothing was refused.
fn audit_refusal(
    refusals: &RefusalQueue,
    audit: &AuditRecord,
    error: &ApiError,
    source: std::net::IpAddr,
) {
    if !error.is_unavailable() {
        refusals.admit(audit.failure(&audit.resource_id, &error.code()), source);
    }
}

async fn process(state: &AppState, request: &Request, request_id: &str) -> Outcome {
    let mut outcome = Outcome {
        format: Format::Json,
        product: PRODUCT_SLB,
        action: None,
        audit: None,
        result: Ok(Map::new()),
    };
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let params = match RpcParams::parse(&request.query, &request.body, content_type) {
        Ok(params) => params,
        Err(error) => {
            return Outcome {
                result: Err(error),
                ..outcome
            };
        }
    };
    // Known before the action resolves, so that even its refusal names the right product.
    if let Ok(Some(version)) = api::pick(&request.headers, "x-acs-version", &params, "Version") {
        outcome.product = product(version).map_or(PRODUCT_SLB, |product| product.envelope);
    }
    match Format::from_param(params.get("Format")) {
        Ok(format) => outcome.format = format,
        Err(error) => {
            return Outcome {
                result: Err(error),
                ..outcome
            };
        }
    }
    let action = match api::action_and_version(&request.headers, &params)
        .and_then(|(name, version)| resolve(version, name))
    {
        Ok(action) => action,
        Err(error) => {
            return Outcome {
                result: Err(error),
                ..outcome
            };
        }
    };
    let mut audit = AuditRecord::new(request_id, action.name, &request.peer.to_string());
    audit.access_key_id = api::claimed_access_key(&request.headers, &params);
    audit.resource_id = action.audit_target(&params);
    outcome.action = Some(action);
    outcome.result = authenticated_run(state, request, &params, action, &mut audit).await;
    outcome.audit = Some(audit);
    outcome
}

async fn authenticated_run(
    state: &AppState,
    request: &Request,
    params: &RpcParams,
    action: Action,
    audit: &mut AuditRecord,
) -> Result<Map<String, Value>, ApiError> {
    let now = clock::now();
    let signed = SignedRequest {
        method: &request.method,
        headers: &request.headers,
        params,
        body: &request.body,
    };
    let authority = Authority {
        store: state.store.as_ref(),
        vault: &state.vault,
        verifier: &state.verifier,
        directory: &state.directory,
    };
    // A write's nonce is claimed by its commit where the store can: no round trip of its own.
    let defer_nonce = action.is_mutating() && state.store.claims_nonces_in_writes();
    let (caller, pending_nonce) =
        authenticate::authenticate(&signed, &authority, now, defer_nonce).await?;
    audit.account_id = caller.account_id.clone();
    audit.principal = caller.principal.label();
    authorize::check_owner(params, &caller)?;
    state
        .throttle
        .admit(&caller.access_key_id, &caller.account_id)
        .map_err(|retry_after_ms| AccessError::Throttled { retry_after_ms })?;
    let facts = crate::access::Facts {
        source_ip: request.peer.ip(),
        current_time: now,
        secure_transport: state.secure_transport,
    };
    let operation = authorize::Operation {
        // Every action's version is a product's (the table test checks it).
        service: product(action.version).map_or("slb", |product| product.service),
        action: action.name,
        refs: action.refs,
    };
    let ram = state
        .directory
        .for_caller(state.store.as_ref(), &caller)
        .await?;
    let lookup = authorize::Lookup {
        store: state.store.as_ref(),
        params,
        host: api::host_id(&request.headers),
    };
    authorize::authorize(ram.as_deref(), &operation, &lookup, &caller, &facts).await?;
    let context = Context {
        store: state.store.as_ref(),
        vault: &state.vault,
        verifier: &state.verifier,
        directory: &state.directory,
        facts: &facts,
        caller: &caller,
        params,
        limits: &state.limits,
        host: api::host_id(&request.headers),
        audit,
        edit_locks: &state.edit_locks,
        health: state.health.as_deref(),
        issuer: state.issuer.as_deref(),
        now,
    };
    let Some(pending_nonce) = pending_nonce else {
        return (action.handler)(&context).await;
    };
    let (result, unclaimed) = write_nonce::scope(pending_nonce, (action.handler)(&context)).await;
    // Nothing committed (a refusal, or nothing to change): the nonce is claimed on its own, and
    // a replay is answered as one whatever the handler said.
    if let Some(unclaimed) = unclaimed {
        authenticate::claim_now(state.store.as_ref(), unclaimed).await?;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::{CAS_VERSION as CAS, SLB_VERSION as SLB};

    #[test]
    fn resolves_actions_by_product_version() {
        assert_eq!(
            resolve(SLB, "UploadServerCertificate").unwrap().name,
            "UploadServerCertificate"
        );
        assert_eq!(resolve(CAS, "UploadUserCertificate").unwrap().version, CAS);
        // Each product has its own actions.
        let cases = [
            (CAS, "UploadServerCertificate", "InvalidAction.NotFound"),
            (
                SLB,
                "CreateLoadBalancerFTPListener",
                "InvalidAction.NotFound",
            ),
            ("2016-01-01", "UploadServerCertificate", "InvalidVersion"),
        ];
        for (version, name, code) in cases {
            assert_eq!(resolve(version, name).unwrap_err().code(), code, "{name}");
        }
    }

    #[test]
    fn rows_are_unique_and_reads_are_named_as_reads() {
        let mut seen = std::collections::HashSet::new();
        for spec in ACTIONS {
            assert!(seen.insert((spec.version, spec.name)), "{spec:?} twice");
            let reads = ["Describe", "List", "Get"]
                .iter()
                .any(|p| spec.name.starts_with(p));
            assert_eq!(spec.access == Access::Read, reads, "{spec:?}");
            assert!(product(spec.version).is_some(), "{spec:?}");
        }
    }
}
