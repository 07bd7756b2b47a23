//! The RPC protocol as a library: parameters, signatures, errors and rendering. What runs an
//! action sits above it, in [`crate::dispatch`].

pub mod error;
pub mod nonce;
pub mod params;
pub mod response;
pub mod signature;

use http::{HeaderMap, StatusCode};

use crate::http::{Request, Response};
use crate::ids;
use error::ApiError;
use params::RpcParams;
use response::Format;

/// How `Recommend` names the products.
pub const PRODUCT_SLB: &str = "Slb";
pub const PRODUCT_CAS: &str = "cas";
pub const PRODUCT_RAM: &str = "Ram";
pub const PRODUCT_STS: &str = "Sts";

/// `HostId` of error envelopes when the request names no host.
const DEFAULT_HOST_ID: &str = "slb.aliyuncs.com";

/// The AccessKeyId a request claims (V3 `Credential=`, else V1 `AccessKeyId`).
pub fn claimed_access_key(headers: &HeaderMap, params: &RpcParams) -> String {
    signature::v3::credential(headers)
        .or_else(|| params.non_empty("AccessKeyId"))
        .unwrap_or_default()
        .to_owned()
}

/// Action and Version come from the `x-acs-*` headers (V3) or the parameters (V1). V1 does
/// not sign headers, so when both are present they must agree.
pub fn action_and_version<'a>(
    headers: &'a HeaderMap,
    params: &'a RpcParams,
) -> Result<(&'a str, &'a str), ApiError> {
    let name = pick(headers, "x-acs-action", params, "Action")?
        .ok_or(ApiError::MissingParameter("Action"))?;
    let version = pick(headers, "x-acs-version", params, "Version")?
        .ok_or(ApiError::MissingParameter("Version"))?;
    Ok((name, version))
}

pub fn pick<'a>(
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

pub fn host_id(headers: &HeaderMap) -> &str {
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
