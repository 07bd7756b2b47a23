//! CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey of RAM users, and of the
//! account itself when its own key calls them without UserName ([`super::root_keys`]). The
//! secret is shown once, by CreateAccessKey, and stored sealed as every AccessKeySecret is.

use super::model::{KeyStatus, MAX_KEYS_PER_USER, UserKey};
use super::views::KeyView;
use super::{change, limit, not_found, one, read, root_keys, wrapped};
use crate::access::Principal;
use crate::api::error::{AccessError, ApiError, Entity};
use crate::crypto::{Binding, Sealed, Secret};
use crate::ids;
use crate::products::{Context, Fields};
use crate::store::AccessKey;

/// Whose keys an action manages.
enum Holder<'a> {
    User(&'a str),
    /// The account's own keys: its own key called without UserName.
    Account,
}

/// The user named by `UserName`; RAM takes the caller's own user when it is missing, and the
/// account's own keys when the account's key calls.
fn holder<'a>(context: &'a Context<'_>) -> Result<Holder<'a>, ApiError> {
    match context.params.non_empty("UserName") {
        Some(name) => Ok(Holder::User(name)),
        None => match &context.caller.principal {
            Principal::User { name, .. } => Ok(Holder::User(name)),
            Principal::Root => Ok(Holder::Account),
            Principal::RoleSession(_) => Err(ApiError::MissingParameter("UserName")),
        },
    }
}

/// A new AccessKey pair, its secret sealed for the store.
pub(super) struct NewKey {
    pub id: String,
    pub secret: Secret,
    pub sealed: Sealed,
}

impl NewKey {
    pub async fn make(context: &Context<'_>) -> Result<NewKey, ApiError> {
        let id = ids::access_key_id();
        let secret = Secret::new(ids::access_key_secret());
        let binding = Binding::AccessKeySecret {
            access_key_id: id.clone(),
        };
        let sealed = context
            .vault
            .seal(secret.expose().as_bytes(), &binding)
            .await?;
        Ok(NewKey { id, secret, sealed })
    }

    /// What CreateAccessKey answers: the only time the secret is shown.
    pub fn shown(&self, key: &UserKey) -> Result<Fields, ApiError> {
        one("AccessKey", KeyView::of(key, Some(self.secret.expose())))
    }
}

/// A listing of keys, as ListAccessKeys answers it.
pub(super) fn listed(keys: &[UserKey]) -> Result<Fields, ApiError> {
    let keys = keys.iter().map(|key| KeyView::of(key, None));
    wrapped("AccessKeys", "AccessKey", keys.collect())
}

/// Sets the status of key `id` of `keys`.
pub(super) fn set_status(
    keys: &mut [UserKey],
    id: &str,
    status: KeyStatus,
) -> Result<(), ApiError> {
    let key = keys
        .iter_mut()
        .find(|key| key.id == id)
        .ok_or_else(|| not_found(Entity::UserAccessKey, id))?;
    key.status = status;
    Ok(())
}

/// Takes key `id` out of `keys`.
pub(super) fn remove(keys: &mut Vec<UserKey>, id: &str) -> Result<(), ApiError> {
    let before = keys.len();
    keys.retain(|key| key.id != id);
    if keys.len() == before {
        return Err(not_found(Entity::UserAccessKey, id));
    }
    Ok(())
}

/// `Status`: Active or Inactive.
fn status(context: &Context<'_>) -> Result<KeyStatus, ApiError> {
    match context.params.required("Status")? {
        "Active" => Ok(KeyStatus::Active),
        "Inactive" => Ok(KeyStatus::Inactive),
        other => Err(AccessError::InvalidParameter {
            code: "Status.InvalidValue".into(),
            message: format!("The parameter Status must be Active or Inactive: {other:?}."),
        }
        .into()),
    }
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = match holder(context)? {
        Holder::User(name) => name,
        Holder::Account => return root_keys::create(context).await,
    };
    let new = NewKey::make(context).await?;
    let (access_key_id, sealed) = (&new.id, &new.sealed);
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
            sealed_secret: (*sealed).clone(),
            created_ms: now,
            user_id: Some(user_id),
        });
        Ok(key)
    })
    .await?;
    new.shown(&key)
}

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let name = match holder(context)? {
        Holder::User(name) => name,
        Holder::Account => return root_keys::list(context).await,
    };
    let state = read(context).await?;
    let user = state
        .user(name)
        .ok_or_else(|| not_found(Entity::User, name))?;
    listed(&user.keys)
}

pub async fn update(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("UserAccessKeyId")?;
    let status = status(context)?;
    let name = match holder(context)? {
        Holder::User(name) => name,
        Holder::Account => return root_keys::update(context, id, status).await,
    };
    change(context, name, |draft| {
        let user = draft
            .state
            .user_mut(name)
            .ok_or_else(|| not_found(Entity::User, name))?;
        set_status(&mut user.keys, id, status)
    })
    .await?;
    Ok(Fields::new())
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("UserAccessKeyId")?;
    let name = match holder(context)? {
        Holder::User(name) => name,
        Holder::Account => return root_keys::delete(context, id).await,
    };
    change(context, name, |draft| {
        let user = draft
            .state
            .user_mut(name)
            .ok_or_else(|| not_found(Entity::User, name))?;
        remove(&mut user.keys, id)?;
        draft.removed_keys.push(id.to_owned());
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}
