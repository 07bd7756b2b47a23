//! CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey of RAM users. The secret
//! is shown once, by CreateAccessKey, and stored sealed as every AccessKeySecret is.

use serde_json::json;

use super::model::{KeyStatus, MAX_KEYS_PER_USER, UserKey};
use super::{change, date, limit, not_found, one, read, wrapped};
use crate::api::error::{AccessError, ApiError, Entity};
use crate::crypto::{Binding, Secret};
use crate::ids;
use crate::products::{Context, Fields};
use crate::store::AccessKey;

/// The user named by `UserName`; RAM takes the caller's own user when it is missing.
fn user_name<'a>(context: &'a Context<'_>) -> Result<&'a str, ApiError> {
    match context.params.non_empty("UserName") {
        Some(name) => Ok(name),
        None => match &context.caller.principal {
            crate::access::Principal::User { name, .. } => Ok(name),
            _ => Err(ApiError::MissingParameter("UserName")),
        },
    }
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = user_name(context)?;
    let access_key_id = ids::access_key_id();
    let secret = Secret::new(ids::access_key_secret());
    let binding = Binding::AccessKeySecret {
        access_key_id: access_key_id.clone(),
    };
    let sealed = context
        .vault
        .seal(secret.expose().as_bytes(), &binding)
        .await?;
    let key = change(context, name, |draft| {
        let now = draft.now_ms;
        let user = draft
            .state
            .user_mut(name)
            .ok_or_else(|| not_found(Entity::User, name))?;
        if user.keys.len() >= MAX_KEYS_PER_USER {
            return Err(limit(
                "User.AccessKey",
                format!("A user may have at most {MAX_KEYS_PER_USER} access keys."),
            ));
        }
        let key = UserKey {
            id: access_key_id.clone(),
            status: KeyStatus::Active,
            created_ms: now,
        };
        user.keys.push(key.clone());
        let user_id = user.id.clone();
        draft.added_keys.push(AccessKey {
            access_key_id: access_key_id.clone(),
            account_id: context.caller.account_id.clone(),
            sealed_secret: sealed.clone(),
            created_ms: now,
            user_id: Some(user_id),
        });
        Ok(key)
    })
    .await?;
    Ok(one(
        "AccessKey",
        json!({
            "AccessKeyId": key.id,
            "AccessKeySecret": secret.expose(),
            "Status": key.status.as_str(),
            "CreateDate": date(key.created_ms),
        }),
    ))
}

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = user_name(context)?;
    let state = read(context).await?;
    let user = state
        .user(name)
        .ok_or_else(|| not_found(Entity::User, name))?;
    let keys = user
        .keys
        .iter()
        .map(|key| {
            json!({
                "AccessKeyId": key.id,
                "Status": key.status.as_str(),
                "CreateDate": date(key.created_ms),
            })
        })
        .collect();
    Ok(wrapped("AccessKeys", "AccessKey", keys))
}

pub async fn update(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = user_name(context)?;
    let id = context.params.required("UserAccessKeyId")?;
    let status = match context.params.required("Status")? {
        "Active" => KeyStatus::Active,
        "Inactive" => KeyStatus::Inactive,
        other => {
            return Err(AccessError::InvalidParameter {
                code: "Status.InvalidValue".into(),
                message: format!("The parameter Status must be Active or Inactive: {other:?}."),
            }
            .into());
        }
    };
    change(context, name, |draft| {
        let user = draft
            .state
            .user_mut(name)
            .ok_or_else(|| not_found(Entity::User, name))?;
        let key = user
            .keys
            .iter_mut()
            .find(|key| key.id == id)
            .ok_or_else(|| not_found(Entity::UserAccessKey, id))?;
        key.status = status;
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = user_name(context)?;
    let id = context.params.required("UserAccessKeyId")?;
    change(context, name, |draft| {
        let user = draft
            .state
            .user_mut(name)
            .ok_or_else(|| not_found(Entity::User, name))?;
        let before = user.keys.len();
        user.keys.retain(|key| key.id != id);
        if user.keys.len() == before {
            return Err(not_found(Entity::UserAccessKey, id));
        }
        draft.removed_keys.push(id.to_owned());
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}
