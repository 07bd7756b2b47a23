//! Attaching policies, system or custom, to users, groups and roles; detaching them; listing
//! what each holds.

use super::model::{Attachment, MAX_ATTACHED, PolicyType, RamState};
use super::policies::policy_type;
use super::views::Attached;
use super::{change, date, exists, limit, not_found, read, wrapped};
use crate::access::system_policies;
use crate::api::error::{ApiError, Entity};
use crate::products::{Context, Fields};

/// Who a policy is attached to.
#[derive(Clone, Copy)]
enum Holder {
    User,
    Group,
    Role,
}

impl Holder {
    fn parameter(self) -> &'static str {
        match self {
            Holder::User => "UserName",
            Holder::Group => "GroupName",
            Holder::Role => "RoleName",
        }
    }

    fn entity(self) -> Entity {
        match self {
            Holder::User => Entity::User,
            Holder::Group => Entity::Group,
            Holder::Role => Entity::Role,
        }
    }

    fn attachment_entity(self) -> Entity {
        match self {
            Holder::User => Entity::UserPolicy,
            Holder::Group => Entity::GroupPolicy,
            Holder::Role => Entity::RolePolicy,
        }
    }

    fn policies<'a>(self, state: &'a mut RamState, name: &str) -> Option<&'a mut Vec<Attachment>> {
        match self {
            Holder::User => state.user_mut(name).map(|u| &mut u.policies),
            Holder::Group => state.group_mut(name).map(|g| &mut g.policies),
            Holder::Role => state.role_mut(name).map(|r| &mut r.policies),
        }
    }
}

async fn attach(context: &Context<'_>, holder: Holder) -> Result<Fields, ApiError> {
    let policy_type =
        policy_type(context, "PolicyType")?.ok_or(ApiError::MissingParameter("PolicyType"))?;
    let policy_name = context.params.required("PolicyName")?;
    let holder_name = context.params.required(holder.parameter())?;
    change(context, holder_name, |draft| {
        let known = match policy_type {
            PolicyType::System => system_policies::find(policy_name).is_some(),
            PolicyType::Custom => draft.state.policy(policy_name).is_some(),
        };
        if !known {
            return Err(not_found(Entity::Policy, policy_name));
        }
        let now = draft.now_ms;
        let policies = holder
            .policies(&mut draft.state, holder_name)
            .ok_or_else(|| not_found(holder.entity(), holder_name))?;
        if policies
            .iter()
            .any(|a| a.policy_type == policy_type && a.policy_name == policy_name)
        {
            return Err(exists(holder.attachment_entity(), policy_name));
        }
        if policies.len() >= MAX_ATTACHED {
            return Err(limit(
                "Policy.Attachment",
                format!(
                    "At most {MAX_ATTACHED} policies may be attached to one {}.",
                    holder.parameter()
                ),
            ));
        }
        policies.push(Attachment {
            policy_type,
            policy_name: policy_name.to_owned(),
            attached_ms: now,
        });
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

async fn detach(context: &Context<'_>, holder: Holder) -> Result<Fields, ApiError> {
    let policy_type =
        policy_type(context, "PolicyType")?.ok_or(ApiError::MissingParameter("PolicyType"))?;
    let policy_name = context.params.required("PolicyName")?;
    let holder_name = context.params.required(holder.parameter())?;
    change(context, holder_name, |draft| {
        let policies = holder
            .policies(&mut draft.state, holder_name)
            .ok_or_else(|| not_found(holder.entity(), holder_name))?;
        let before = policies.len();
        policies.retain(|a| !(a.policy_type == policy_type && a.policy_name == policy_name));
        if policies.len() == before {
            return Err(not_found(holder.attachment_entity(), policy_name));
        }
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

async fn list_for(context: &Context<'_>, holder: Holder) -> Result<Fields, ApiError> {
    let holder_name = context.params.required(holder.parameter())?;
    let mut state = read(context).await?;
    let attachments = holder
        .policies(&mut state, holder_name)
        .ok_or_else(|| not_found(holder.entity(), holder_name))?
        .clone();
    let items = attachments
        .iter()
        .map(|attachment| {
            let (description, default) = match attachment.policy_type {
                PolicyType::System => (
                    system_policies::find(&attachment.policy_name)
                        .map_or("", |p| p.description)
                        .to_owned(),
                    "v1".to_owned(),
                ),
                PolicyType::Custom => state
                    .policy(&attachment.policy_name)
                    .map_or((String::new(), String::new()), |p| {
                        (p.description.clone(), p.default_version.clone())
                    }),
            };
            Attached {
                policy_name: &attachment.policy_name,
                policy_type: attachment.policy_type.as_str(),
                description,
                default_version: default,
                attach_date: date(attachment.attached_ms),
            }
        })
        .collect();
    wrapped("Policies", "Policy", items)
}

pub async fn attach_to_user(context: &Context<'_>) -> Result<Fields, ApiError> {
    attach(context, Holder::User).await
}

pub async fn detach_from_user(context: &Context<'_>) -> Result<Fields, ApiError> {
    detach(context, Holder::User).await
}

pub async fn list_for_user(context: &Context<'_>) -> Result<Fields, ApiError> {
    list_for(context, Holder::User).await
}

pub async fn attach_to_group(context: &Context<'_>) -> Result<Fields, ApiError> {
    attach(context, Holder::Group).await
}

pub async fn detach_from_group(context: &Context<'_>) -> Result<Fields, ApiError> {
    detach(context, Holder::Group).await
}

pub async fn list_for_group(context: &Context<'_>) -> Result<Fields, ApiError> {
    list_for(context, Holder::Group).await
}

pub async fn attach_to_role(context: &Context<'_>) -> Result<Fields, ApiError> {
    attach(context, Holder::Role).await
}

pub async fn detach_from_role(context: &Context<'_>) -> Result<Fields, ApiError> {
    detach(context, Holder::Role).await
}

pub async fn list_for_role(context: &Context<'_>) -> Result<Fields, ApiError> {
    list_for(context, Holder::Role).await
}
