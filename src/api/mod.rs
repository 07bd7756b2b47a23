//! The RPC protocol: parameters, action resolution, signature, dispatch, rendering.

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
use crate::clock;
use crate::http::{Request, Response};
use crate::ids;
use crate::store::Store;
use error::ApiError;
use nonce::NonceCache;
use params::RpcParams;
use response::Format;
use signature::SignedRequest;

/// `HostId` of error envelopes when the request names no host.
const DEFAULT_HOST_ID: &str = "slb.aliyuncs.com";

pub struct AppState {
    pub store: Arc<dyn Store>,
    pub nonces: NonceCache,
    pub limits: Limits,
}

/// Answers one RPC request on `/`.
pub async fn handle(state: Arc<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = ids::request_id();
    let (format, action, outcome) = process(&state, &request).await;
    let code = outcome.as_ref().err().map(ApiError::code);
    let response = match outcome {
        Ok(fields) => {
            let root = format!("{}Response", action.map_or("", Action::name));
            response::success(format, &root, &request_id, fields)
        }
        Err(error) => response::error(format, &error, &request_id, host_id(&request.headers)),
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

/// The response format, the action if it resolved, and the action's fields or the error.
async fn process(
    state: &AppState,
    request: &Request,
) -> (Format, Option<Action>, Result<Map<String, Value>, ApiError>) {
    let content_type = request
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let params = match RpcParams::parse(&request.query, &request.body, content_type) {
        Ok(params) => params,
        Err(error) => return (Format::Json, None, Err(error)),
    };
    let format = match Format::from_param(params.get("Format")) {
        Ok(format) => format,
        Err(error) => return (Format::Json, None, Err(error)),
    };
    let action = match resolve_action(&request.headers, &params) {
        Ok(action) => action,
        Err(error) => return (format, None, Err(error)),
    };
    let result = authenticated_run(state, request, &params, action).await;
    (format, Some(action), result)
}

async fn authenticated_run(
    state: &AppState,
    request: &Request,
    params: &RpcParams,
    action: Action,
) -> Result<Map<String, Value>, ApiError> {
    let now = clock::now();
    let signed = SignedRequest {
        method: &request.method,
        headers: &request.headers,
        params,
        body: &request.body,
    };
    let caller = signature::authenticate(&signed, state.store.as_ref(), &state.nonces, now).await?;
    let context = Context {
        store: state.store.as_ref(),
        caller: &caller,
        params,
        limits: &state.limits,
        now,
    };
    actions::run(action, &context).await
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
    response::error(Format::Json, &error, &ids::request_id(), DEFAULT_HOST_ID)
}

/// The envelope for a path or method this endpoint does not serve.
pub fn not_found(request: &Request) -> Response {
    let error = ApiError::InvalidAction(format!("{} {}", request.method, request.path));
    response::error(
        Format::Json,
        &error,
        &ids::request_id(),
        host_id(&request.headers),
    )
}
