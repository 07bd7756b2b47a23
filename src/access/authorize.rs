//! The checks every request passes after its signature and before its action: ownership
//! parameters name the caller's own account, and the caller's policies allow the action on
//! every resource it names.

use super::policy::{Decision, Request};
use super::{AccountRam, Facts, Principal, resources};
use crate::api::error::{AccessError, ApiError};
use crate::api::params::RpcParams;
use crate::api::signature::Caller;

/// What a request asks to do, as policies name it.
pub struct Operation<'a> {
    /// `slb`, `yundun-cert`, `ram`, `sts`.
    pub service: &'a str,
    pub action: &'a str,
    /// The parameter naming what it acts on (the action table's target).
    pub target: &'a str,
}

/// `OwnerId`, `ResourceOwnerId`, `OwnerAccount` and `ResourceOwnerAccount`, which every
/// action accepts, must name the caller's own account (by ID, or by name for the accounts):
/// another account's resources are never reachable through them.
pub fn check_owner(params: &RpcParams, caller: &Caller) -> Result<(), ApiError> {
    for parameter in [
        "OwnerId",
        "ResourceOwnerId",
        "OwnerAccount",
        "ResourceOwnerAccount",
    ] {
        let Some(value) = params.non_empty(parameter) else {
            continue;
        };
        let by_name = parameter.ends_with("Account") && value == caller.account_name;
        if value != caller.account_id && !by_name {
            return Err(AccessError::OwnerMismatch { parameter }.into());
        }
    }
    Ok(())
}

/// Whether the caller may do `operation` on every resource it names. The account's own key
/// may do everything (`ram` is `None` for it: nothing was read), and anyone may ask who they
/// are.
pub fn authorize(
    ram: Option<&AccountRam>,
    operation: &Operation<'_>,
    params: &RpcParams,
    caller: &Caller,
    facts: &Facts,
) -> Result<(), ApiError> {
    if caller.principal == Principal::Root || operation.action == "GetCallerIdentity" {
        return Ok(());
    }
    // Fail closed: anyone but the account itself is decided from its RAM state.
    let Some(ram) = ram else {
        return Err(AccessError::Forbidden.into());
    };
    let qualified = format!("{}:{}", operation.service, operation.action);
    for resource in resources::arns(
        operation.service,
        operation.target,
        params,
        &caller.account_id,
    ) {
        let request = Request {
            action: &qualified,
            resource: &resource,
            facts,
        };
        if ram.decide(&caller.principal, &request) != Decision::Allow {
            // STS words the same refusal its own way.
            return Err(match operation.service {
                "sts" => AccessError::NoPermission(super::NOT_AUTHORIZED),
                _ => AccessError::Forbidden,
            }
            .into());
        }
    }
    Ok(())
}
