//! The checks every request passes after its signature and before its action: ownership
//! parameters name the caller's own account, and the caller's policies allow the action on
//! every resource it names.

use super::Caller;
use super::policy::{Decision, Request};
use super::resources::{self, Ref, Subject};
use super::{AccountRam, Facts, Principal};
use crate::api::error::{AccessError, ApiError};
use crate::api::params::RpcParams;

/// What a request asks to do, as policies name it.
pub struct Operation<'a> {
    /// `slb`, `yundun-cert`, `ram`, `sts`.
    pub service: &'a str,
    pub action: &'a str,
    /// The parameters naming what it acts on (the action table's row).
    pub refs: &'a [Ref],
}

/// What resolving a request's resources may read.
pub struct Lookup<'a> {
    pub store: &'a dyn crate::store::Store,
    pub params: &'a RpcParams,
    pub host: &'a str,
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

/// Whether the caller may do `operation` on every resource it acts on, as
/// [`resources::resolve`] finds them. The account's own key may do everything (`ram` is `None`
/// for it: nothing was read), and anyone may ask who they are.
pub async fn authorize(
    ram: Option<&AccountRam>,
    operation: &Operation<'_>,
    lookup: &Lookup<'_>,
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
    let subject = Subject {
        store: lookup.store,
        params: lookup.params,
        account_id: &caller.account_id,
        host: lookup.host,
        ram: &ram.state,
    };
    let needs = resources::resolve(
        &subject,
        operation.service,
        operation.action,
        operation.refs,
    )
    .await?;
    for need in &needs {
        let request = Request {
            action: &need.action,
            resource: &need.resource,
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
