//! Security Token Service (product version 2015-04-01): AssumeRole makes temporary credentials
//! of a role (see [`crate::access::tokens`]); GetCallerIdentity says who the caller is.

use serde::Serialize;
use time::Duration;

use crate::access::policy::{MAX_SESSION_POLICY_CHARS, Policy};
use crate::access::tokens::Claims;
use crate::access::{NOT_AUTHORIZED, Principal, Session, role_arn};
use crate::api::error::{AccessError, ApiError, Entity};
use crate::clock;
use crate::ids;
use crate::products::{Context, Fields, ram, to_fields};

/// Shortest session, and the default, in seconds.
const MIN_DURATION: i64 = 900;
const DEFAULT_DURATION: i64 = 3600;

fn invalid(parameter: &'static str, message: String) -> ApiError {
    AccessError::InvalidParameter {
        code: parameter.into(),
        message,
    }
    .into()
}

/// `acs:ram::ACCOUNT:role/NAME`: the account and the role name.
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("acs:ram::")?;
    let (account, name) = rest.split_once(":role/")?;
    (!account.is_empty() && !name.is_empty() && !name.contains('/')).then_some((account, name))
}

fn session_name(context: &Context<'_>) -> Result<String, ApiError> {
    let name = context.params.required("RoleSessionName")?;
    let length = name.chars().count();
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._@-=,".contains(c);
    if !(2..=64).contains(&length) || !name.chars().all(allowed) {
        return Err(invalid(
            "RoleSessionName",
            format!(
                "The parameter RoleSessionName is wrongly formed: {name:?} (2 to 64 of letters, digits and ._@-=,)."
            ),
        ));
    }
    Ok(name.to_owned())
}

pub async fn assume_role(context: &Context<'_>) -> Result<Fields, ApiError> {
    let caller = context.caller;
    if caller.principal == Principal::Root {
        return Err(AccessError::NoPermission("Roles may not be assumed by root accounts.").into());
    }
    let arn = context.params.required("RoleArn")?;
    let (account_id, role_name) = parse_role_arn(arn).ok_or_else(|| {
        invalid(
            "RoleArn",
            format!(
                "The parameter RoleArn is wrongly formed: {arn:?} (acs:ram::ACCOUNT:role/NAME)."
            ),
        )
    })?;
    let session_name = session_name(context)?;
    let policy = match context.params.non_empty("Policy") {
        Some(text) => {
            Policy::permission(text, MAX_SESSION_POLICY_CHARS)
                .map_err(|error| AccessError::PolicyGrammar(error.0))?;
            Some(text.to_owned())
        }
        None => None,
    };
    let requested = match context.params.non_empty("DurationSeconds") {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            invalid(
                "DurationSeconds",
                format!("The parameter DurationSeconds is not a number: {text:?}."),
            )
        })?),
    };
    // Roles of other accounts are not served here: they look like missing ones.
    let ram = context
        .directory
        .account(context.store, &caller.account_id)
        .await?;
    let role = Some(&ram.state)
        .filter(|_| account_id == caller.account_id)
        .and_then(|state| state.role(role_name))
        .ok_or_else(|| ram::not_found(Entity::Role, arn))?;
    let maximum = i64::from(role.max_session_duration);
    let duration = requested.unwrap_or(DEFAULT_DURATION.min(maximum));
    if !(MIN_DURATION..=maximum).contains(&duration) {
        return Err(invalid(
            "DurationSeconds",
            format!(
                "The Min/Max value of DurationSeconds is 15min/{}hr: {duration} seconds asked.",
                maximum / 3600
            ),
        ));
    }
    let trust =
        Policy::trust(&role.trust_policy).map_err(|_| AccessError::NoPermission(NOT_AUTHORIZED))?;
    let callers = [
        caller.principal.arn(&caller.account_id),
        format!("acs:ram::{}:root", caller.account_id),
    ];
    if !trust.trusts(&callers, context.facts) {
        return Err(AccessError::NoPermission(NOT_AUTHORIZED).into());
    }
    let expires = context.now + Duration::seconds(duration);
    let access_key_id = ids::temporary_access_key_id();
    let claims = Claims {
        access_key_id: access_key_id.clone(),
        account_id: caller.account_id.clone(),
        default_resource_group_id: caller.default_resource_group_id.clone(),
        account_name: caller.account_name.clone(),
        session: Session {
            role_id: role.id.clone(),
            role_name: role.name.clone(),
            session_name: session_name.clone(),
            policy,
            expires_ms: clock::unix_ms(expires),
        },
        assumed_by: caller.principal.label(),
    };
    let tokens = &context.verifier.tokens;
    let token = tokens.mint(&claims);
    let secret = tokens.secret_for(&access_key_id);
    // Nothing is stored, but making credentials is recorded.
    let line = context
        .audit
        .success(&format!("{arn}/{session_name}"), None);
    context.store.record(line).await?;
    to_fields(Assumed {
        credentials: Credentials {
            access_key_id: &access_key_id,
            access_key_secret: secret.expose(),
            security_token: &token,
            expiration: clock::iso8601(expires),
        },
        assumed_role_user: AssumedRoleUser {
            arn: format!(
                "{}/{session_name}",
                role_arn(&caller.account_id, &role.name)
            ),
            assumed_role_id: format!("{}:{session_name}", role.id),
        },
    })
}

pub async fn caller_identity(context: &Context<'_>) -> Result<Fields, ApiError> {
    let caller = context.caller;
    let account = &caller.account_id;
    let (kind, user_id, role_id, principal_id) = match &caller.principal {
        Principal::Root => ("Account", account.clone(), String::new(), account.clone()),
        Principal::User { id, .. } => ("RAMUser", id.clone(), String::new(), id.clone()),
        Principal::RoleSession(session) => (
            "AssumedRoleUser",
            String::new(),
            session.role_id.clone(),
            format!("{}:{}", session.role_id, session.session_name),
        ),
    };
    to_fields(Identity {
        account_id: account,
        arn: caller.principal.arn(account),
        identity_type: kind,
        user_id,
        role_id,
        principal_id,
    })
}

/// AssumeRole's answer. The secret is derived, not stored: the answer is its only copy out.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Assumed<'a> {
    credentials: Credentials<'a>,
    assumed_role_user: AssumedRoleUser,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Credentials<'a> {
    access_key_id: &'a str,
    access_key_secret: &'a str,
    security_token: &'a str,
    expiration: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumedRoleUser {
    arn: String,
    assumed_role_id: String,
}

/// GetCallerIdentity's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Identity<'a> {
    account_id: &'a str,
    arn: String,
    identity_type: &'static str,
    user_id: String,
    role_id: String,
    principal_id: String,
}
