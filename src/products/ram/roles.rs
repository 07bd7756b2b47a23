//! CreateRole (with its trust policy), GetRole, ListRoles, DeleteRole.

use super::model::{MAX_ROLES, Role};
use super::views::RoleView;
use super::{Page, change, conflict, exists, limit, name, not_found, one, read, text};
use crate::access::policy::Policy;
use crate::api::error::{AccessError, ApiError, Entity};
use crate::ids;
use crate::products::{Context, Fields};

const NAME_CHARS: &str = ".-";
const MAX_NAME: usize = 64;
/// What a role's sessions may last, in seconds: RAM's bounds and default.
pub const MIN_SESSION_SECONDS: u32 = 3600;
pub const MAX_SESSION_SECONDS: u32 = 43200;

fn view<'a>(role: &'a Role, account_id: &str, with_trust: bool) -> RoleView<'a> {
    RoleView::of(role, account_id, with_trust)
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = name(context, "RoleName", MAX_NAME, NAME_CHARS)?;
    let description = text(context, "Description", 1024)?.unwrap_or_default();
    let trust = context.params.required("AssumeRolePolicyDocument")?;
    Policy::trust(trust).map_err(|error| AccessError::MalformedPolicyDocument(error.0))?;
    let max_session = match context.params.non_empty("MaxSessionDuration") {
        None => MIN_SESSION_SECONDS,
        Some(text) => match text.parse::<u32>() {
            Ok(seconds @ MIN_SESSION_SECONDS..=MAX_SESSION_SECONDS) => seconds,
            _ => {
                return Err(AccessError::InvalidParameter {
                    code: "MaxSessionDuration.InvalidValue".into(),
                    message: format!(
                        "The parameter MaxSessionDuration must be {MIN_SESSION_SECONDS} to {MAX_SESSION_SECONDS} seconds: {text:?}."
                    ),
                }
                .into());
            }
        },
    };
    let id = ids::ram_principal_id(19);
    let role = change(context, name, |draft| {
        if draft.state.role(name).is_some() {
            return Err(exists(Entity::Role, name));
        }
        if draft.state.roles.len() >= MAX_ROLES {
            return Err(limit(
                "Role",
                format!("An account may have at most {MAX_ROLES} roles."),
            ));
        }
        let role = Role {
            id: id.clone(),
            name: name.to_owned(),
            description: description.to_owned(),
            trust_policy: trust.to_owned(),
            max_session_duration: max_session,
            created_ms: draft.now_ms,
            updated_ms: draft.now_ms,
            policies: Vec::new(),
        };
        draft.state.roles.push(role.clone());
        Ok(role)
    })
    .await?;
    let mut view = view(&role, &context.caller.account_id, true);
    view.update_date = None;
    one("Role", view)
}

pub async fn get(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("RoleName")?;
    let state = read(context).await?;
    let role = state
        .role(name)
        .ok_or_else(|| not_found(Entity::Role, name))?;
    let mut view = view(role, &context.caller.account_id, true);
    view.is_service_linked_role = Some(false);
    one("Role", view)
}

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let page = Page::parse(context)?;
    let state = read(context).await?;
    let roles = state
        .roles
        .iter()
        .map(|role| view(role, &context.caller.account_id, false))
        .collect();
    page.render(roles, "Roles", "Role")
}

/// Refused while policies are attached, as RAM does. Sessions already made stop working: their
/// role is gone, so nothing allows them anything.
pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("RoleName")?;
    change(context, name, |draft| {
        let role = draft
            .state
            .role(name)
            .ok_or_else(|| not_found(Entity::Role, name))?;
        if !role.policies.is_empty() {
            return Err(conflict(
                "Role.Policy",
                "You should detach all policies from the role before deleting the role.".into(),
            ));
        }
        let id = role.id.clone();
        draft.state.roles.retain(|r| r.id != id);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}
