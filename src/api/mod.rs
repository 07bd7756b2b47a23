//! The RPC protocol: parameters, action resolution, signature, dispatch, audit, rendering.

pub mod error;
pub mod nonce;
pub mod params;
pub mod response;
pub mod signature;

use std::sync::Arc;
use std::time::Instant;

use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

use crate::actions::{self, Action, Context, Limits};
use crate::audit::{AuditLog, AuditRecord};
use crate::clock;
use crate::crypto::Vault;
use crate::http::{Request, Response};
use crate::ids;
use crate::store::Store;
use error::ApiError;
use nonce::NonceCache;
use params::RpcParams;
use response::Format;
use signature::SignedRequest;

/// How `Recommend` names the products.
const PRODUCT_SLB: &str = "Slb";
const PRODUCT_CAS: &str = "cas";

/// `HostId` of error envelopes when the request names no host.
const DEFAULT_HOST_ID: &str = "slb.aliyuncs.com";

/// Parameters that name the resource a mutation acts on, for its audit record.
const TARGET_PARAMETERS: [&str; 4] = [
    "ServerCertificateId",
    "CACertificateId",
    "CertId",
    "ResourceId.1",
];

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub vault: Arc<Vault>,
    pub audit: Arc<AuditLog>,
    pub nonces: NonceCache,
    pub limits: Limits,
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
    let mut outcome = process(&state, &request, &request_id).await;
    if let (Some(action), Some(audit), Err(error)) =
        (outcome.action, &outcome.audit, &outcome.result)
        && action.is_mutating()
    {
        outcome.result = Err(audit_refusal(&state.audit, audit, error, request.peer.ip()));
    }
    let code = outcome.result.as_ref().err().map(ApiError::code);
    let action = outcome.action;
    let response = match outcome.result {
        Ok(fields) => {
            let root = format!("{}Response", action.map_or("", Action::name));
            response::success(outcome.format, &root, &request_id, fields)
        }
        Err(error) => response::error(
            outcome.format,
            &error,
            &request_id,
            host_id(&request.headers),
            outcome.product,
        ),
    };
    // Never the query or body: they carry private keys.
    tracing::info!(
        request_id,
        peer = %request.peer,
        action = action.map_or("-", Action::name),
        status = response.status.as_u16(),
        code = code.unwrap_or_default(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Records a refused mutation (a successful one is recorded by the store, before it commits),
/// within the budget of its source address and without a sync of its own. If it cannot be
/// written, the caller learns the service is unavailable: fail-closed.
fn audit_refusal(
    log: &AuditLog,
    audit: &AuditRecord,
    error: &ApiError,
    source: std::net::IpAddr,
) -> ApiError {
    if error.is_unavailable() {
        return error.clone();
    }
    match log.record_refusal(audit.failure(&audit.resource_id, &error.code()), source) {
        Ok(_) => error.clone(),
        Err(failure) => {
            tracing::error!(error = %failure, "cannot write the audit log; refusing the request");
            ApiError::StorageUnavailable("the audit log cannot be written".into())
        }
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
    if let Ok(Some(actions::CAS_VERSION)) =
        pick(&request.headers, "x-acs-version", &params, "Version")
    {
        outcome.product = PRODUCT_CAS;
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
    let action = match resolve_action(&request.headers, &params) {
        Ok(action) => action,
        Err(error) => {
            return Outcome {
                result: Err(error),
                ..outcome
            };
        }
    };
    let mut audit = AuditRecord::new(request_id, action.name(), &request.peer.to_string());
    audit.access_key_id = claimed_access_key(&request.headers, &params);
    audit.resource_id = TARGET_PARAMETERS
        .iter()
        .find_map(|name| params.non_empty(name))
        .unwrap_or_default()
        .to_owned();
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
    let caller = signature::authenticate(
        &signed,
        state.store.as_ref(),
        &state.vault,
        &state.nonces,
        now,
    )
    .await?;
    audit.account_id = caller.account_id.clone();
    let context = Context {
        store: state.store.as_ref(),
        vault: &state.vault,
        caller: &caller,
        params,
        limits: &state.limits,
        audit,
        audit_log: &state.audit,
        now,
    };
    actions::run(action, &context).await
}

/// The AccessKeyId a request claims (V3 `Credential=`, else V1 `AccessKeyId`).
fn claimed_access_key(headers: &HeaderMap, params: &RpcParams) -> String {
    signature::v3::credential(headers)
        .or_else(|| params.non_empty("AccessKeyId"))
        .unwrap_or_default()
        .to_owned()
}

/// Action and Version come from the `x-acs-*` headers (V3) or the parameters (V1). V1 does
/// not sign headers, so when both are present they must agree.
fn resolve_action(headers: &HeaderMap, params: &RpcParams) -> Result<Action, ApiError> {
    let name = pick(headers, "x-acs-action", params, "Action")?
        .ok_or(ApiError::MissingParameter("Action"))?;
    let version = pick(headers, "x-acs-version", params, "Version")?
        .ok_or(ApiError::MissingParameter("Version"))?;
    Action::resolve(version, name)
}

fn pick<'a>(
    headers: &'a HeaderMap,
    header: &str,
    params: &'a RpcParams,
    param: &str,
) -> Result<Option<&'a str>, ApiError> {
    let from_header = headers
        .get(header)
        .and_then(|value| value.to_str().ok())
        .filter(|value| !value.is_empty());
    let from_param = params.non_empty(param);
    match (from_header, from_param) {
        (Some(h), Some(p)) if h != p => Err(ApiError::InvalidParameter(format!(
            "The {header} header ({h:?}) and the {param} parameter ({p:?}) disagree."
        ))),
        (h, p) => Ok(h.or(p)),
    }
}

fn host_id(headers: &HeaderMap) -> &str {
    headers
        .get(http::header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| !host.is_empty())
        .unwrap_or(DEFAULT_HOST_ID)
}

/// The envelope for requests the HTTP layer refuses before they reach [`handle`].
pub fn protocol_error(status: StatusCode, message: &str) -> Response {
    let error = ApiError::Protocol(status, message.to_owned());
    response::error(
        Format::Json,
        &error,
        &ids::request_id(),
        DEFAULT_HOST_ID,
        PRODUCT_SLB,
    )
}

/// The envelope for a path or method this endpoint does not serve.
pub fn not_found(request: &Request) -> Response {
    let error = ApiError::InvalidAction(format!("{} {}", request.method, request.path));
    response::error(
        Format::Json,
        &error,
        &ids::request_id(),
        host_id(&request.headers),
        PRODUCT_SLB,
    )
}
