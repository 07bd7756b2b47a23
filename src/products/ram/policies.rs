//! Custom policies and their versions, the system policies, and attaching either to users,
//! groups and roles. A policy document is checked by the same parser that evaluates it.

use serde::Serialize;

use super::model::{
    Attachment, CustomPolicy, MAX_CUSTOM_POLICIES, MAX_POLICY_VERSIONS, PolicyType, PolicyVersion,
    RamState,
};
use super::views::{PolicyView, VersionView};
use super::{Page, change, conflict, exists, limit, name, not_found, one, read, text, wrapped};
use crate::access::policy::{MAX_DOCUMENT_CHARS, Policy};
use crate::access::system_policies::{self, SYSTEM_POLICIES};
use crate::api::error::{AccessError, ApiError, Entity};
use crate::products::{Context, Fields, to_fields};

const NAME_CHARS: &str = "-";
const MAX_NAME: usize = 128;

fn document(context: &Context<'_>) -> Result<String, ApiError> {
    let text = context.params.required("PolicyDocument")?;
    Policy::permission(text, MAX_DOCUMENT_CHARS)
        .map_err(|error| AccessError::MalformedPolicyDocument(error.0))?;
    Ok(text.to_owned())
}

pub(super) fn policy_type(
    context: &Context<'_>,
    parameter: &str,
) -> Result<Option<PolicyType>, ApiError> {
    match context.params.non_empty(parameter) {
        None => Ok(None),
        Some("System") => Ok(Some(PolicyType::System)),
        Some("Custom") => Ok(Some(PolicyType::Custom)),
        Some(other) => Err(AccessError::InvalidParameter {
            code: "PolicyType.InvalidValue".into(),
            message: format!("The parameter {parameter} must be System or Custom: {other:?}."),
        }
        .into()),
    }
}

fn version_view<'a>(version: &'a PolicyVersion, default: &str) -> VersionView<'a> {
    VersionView::of(version, default)
}

fn custom_view<'a>(policy: &'a CustomPolicy, state: &RamState) -> PolicyView<'a> {
    let attachments = state.attachments(PolicyType::Custom, &policy.name);
    PolicyView::custom(policy, Some(attachments))
}

fn system_view<'a>(policy: &'a system_policies::SystemPolicy, state: &RamState) -> PolicyView<'a> {
    PolicyView::system(policy, state.attachments(PolicyType::System, policy.name))
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = name(context, "PolicyName", MAX_NAME, NAME_CHARS)?;
    let description = text(context, "Description", 1024)?.unwrap_or_default();
    let document = document(context)?;
    let policy = change(context, name, |draft| {
        if draft.state.policy(name).is_some() || system_policies::find(name).is_some() {
            return Err(exists(Entity::Policy, name));
        }
        if draft.state.policies.len() >= MAX_CUSTOM_POLICIES {
            return Err(limit(
                "Policy",
                format!("An account may have at most {MAX_CUSTOM_POLICIES} custom policies."),
            ));
        }
        let policy = CustomPolicy {
            name: name.to_owned(),
            description: description.to_owned(),
            created_ms: draft.now_ms,
            updated_ms: draft.now_ms,
            default_version: "v1".into(),
            versions: vec![PolicyVersion {
                id: "v1".into(),
                document: document.clone(),
                created_ms: draft.now_ms,
            }],
            next_version: 2,
        };
        draft.state.policies.push(policy.clone());
        Ok(policy)
    })
    .await?;
    // CreatePolicy's model shows neither the update date nor the attachment count.
    one("Policy", PolicyView::custom(&policy, None))
}

pub async fn get(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("PolicyName")?;
    let wanted = policy_type(context, "PolicyType")?;
    let state = read(context).await?;
    let (mut view, default) = match (wanted, state.policy(name), system_policies::find(name)) {
        (None | Some(PolicyType::Custom), Some(policy), _) => {
            let default = policy
                .versions
                .iter()
                .find(|v| v.id == policy.default_version)
                .map(|v| version_view(v, &policy.default_version));
            (custom_view(policy, &state), default)
        }
        (None | Some(PolicyType::System), _, Some(policy)) => (
            system_view(policy, &state),
            Some(VersionView::system(policy.document)),
        ),
        _ => return Err(not_found(Entity::Policy, name)),
    };
    view.policy_document = Some(default.as_ref().map(VersionView::document));
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct Got<'a> {
        policy: PolicyView<'a>,
        default_policy_version: Option<VersionView<'a>>,
    }
    to_fields(Got {
        policy: view,
        default_policy_version: default,
    })
}

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let page = Page::parse(context)?;
    let wanted = policy_type(context, "PolicyType")?;
    let state = read(context).await?;
    let mut items = Vec::new();
    if wanted != Some(PolicyType::Custom) {
        items.extend(SYSTEM_POLICIES.iter().map(|p| system_view(p, &state)));
    }
    if wanted != Some(PolicyType::System) {
        items.extend(state.policies.iter().map(|p| custom_view(p, &state)));
    }
    page.render(items, "Policies", "Policy")
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("PolicyName")?;
    change(context, name, |draft| {
        let policy = draft
            .state
            .policy(name)
            .ok_or_else(|| not_found(Entity::Policy, name))?;
        if policy.versions.len() > 1 {
            return Err(conflict(
                "Policy.Version",
                "You must delete all non-default versions before you delete the policy.".into(),
            ));
        }
        let attached = |list: &[Attachment]| {
            list.iter()
                .any(|a| a.policy_type == PolicyType::Custom && a.policy_name == name)
        };
        let state = &draft.state;
        if state.users.iter().any(|u| attached(&u.policies)) {
            return Err(conflict(
                "Policy.User",
                "Before deleting the policy, it may not be attached to any user.".into(),
            ));
        }
        if state.groups.iter().any(|g| attached(&g.policies)) {
            return Err(conflict(
                "Policy.Group",
                "The policy cannot be attached to any group when you delete it.".into(),
            ));
        }
        if state.roles.iter().any(|r| attached(&r.policies)) {
            return Err(conflict(
                "Policy.Role",
                "The policy cannot be attached to any role when you delete it.".into(),
            ));
        }
        draft.state.policies.retain(|p| p.name != name);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn create_version(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("PolicyName")?;
    let document = document(context)?;
    let set_as_default = context
        .params
        .non_empty("SetAsDefault")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    // RAM's RotateStrategy: `DeleteOldestNonDefaultVersionWhenLimitExceeded` makes room.
    let rotate = context.params.non_empty("RotateStrategy")
        == Some("DeleteOldestNonDefaultVersionWhenLimitExceeded");
    let (version, default) = change(context, name, |draft| {
        let now = draft.now_ms;
        let policy = draft
            .state
            .policy_mut(name)
            .ok_or_else(|| not_found(Entity::Policy, name))?;
        if policy.versions.len() >= MAX_POLICY_VERSIONS {
            let oldest = policy
                .versions
                .iter()
                .position(|v| v.id != policy.default_version);
            match (rotate, oldest) {
                (true, Some(index)) => {
                    policy.versions.remove(index);
                }
                _ => {
                    return Err(limit(
                        "Policy.Version",
                        format!("A policy may have at most {MAX_POLICY_VERSIONS} versions."),
                    ));
                }
            }
        }
        let version = PolicyVersion {
            id: format!("v{}", policy.next_version),
            document: document.clone(),
            created_ms: now,
        };
        policy.next_version += 1;
        policy.versions.push(version.clone());
        if set_as_default {
            policy.default_version = version.id.clone();
        }
        policy.updated_ms = now;
        Ok((version, policy.default_version.clone()))
    })
    .await?;
    one("PolicyVersion", version_view(&version, &default))
}

fn find_version<'a>(policy: &'a CustomPolicy, id: &str) -> Result<&'a PolicyVersion, ApiError> {
    policy
        .versions
        .iter()
        .find(|v| v.id == id)
        .ok_or_else(|| not_found(Entity::PolicyVersion, id))
}

pub async fn get_version(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("PolicyName")?;
    let id = context.params.required("VersionId")?;
    let state = read(context).await?;
    if let Some(system) = system_policies::find(name)
        && policy_type(context, "PolicyType")? != Some(PolicyType::Custom)
        && state.policy(name).is_none()
    {
        if id != "v1" {
            return Err(not_found(Entity::PolicyVersion, id));
        }
        let version = PolicyVersion {
            id: "v1".into(),
            document: system.document.into(),
            created_ms: 0,
        };
        return one("PolicyVersion", version_view(&version, "v1"));
    }
    let policy = state
        .policy(name)
        .ok_or_else(|| not_found(Entity::Policy, name))?;
    let version = find_version(policy, id)?;
    one(
        "PolicyVersion",
        version_view(version, &policy.default_version),
    )
}

pub async fn list_versions(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("PolicyName")?;
    let state = read(context).await?;
    let policy = state
        .policy(name)
        .ok_or_else(|| not_found(Entity::Policy, name))?;
    let versions = policy
        .versions
        .iter()
        .map(|v| version_view(v, &policy.default_version))
        .collect();
    wrapped("PolicyVersions", "PolicyVersion", versions)
}

pub async fn delete_version(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("PolicyName")?;
    let id = context.params.required("VersionId")?;
    change(context, name, |draft| {
        let policy = draft
            .state
            .policy_mut(name)
            .ok_or_else(|| not_found(Entity::Policy, name))?;
        find_version(policy, id)?;
        if policy.default_version == id {
            return Err(conflict(
                "Policy.Version.Default",
                "You cannot delete the default policy version.".into(),
            ));
        }
        policy.versions.retain(|v| v.id != id);
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn set_default_version(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = context.params.required("PolicyName")?;
    let id = context.params.required("VersionId")?;
    change(context, name, |draft| {
        let now = draft.now_ms;
        let policy = draft
            .state
            .policy_mut(name)
            .ok_or_else(|| not_found(Entity::Policy, name))?;
        find_version(policy, id)?;
        policy.default_version = id.to_owned();
        policy.updated_ms = now;
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}
