//! The account's own AccessKeys, managed as on Alibaba Cloud by RAM's AccessKey actions called
//! with the account's own key and no UserName: at most two, so that one can be rotated while
//! the other serves. Their list and statuses live in the account's RAM state, which every node
//! reads fresh, so that disabling or deleting one takes effect at once everywhere.
//!
//! A store made before this holds root keys that the RAM state does not list: the first
//! change takes the store's list as it is, every key active.

use super::access_keys::{NewKey, listed, remove, set_status};
use super::model::{KeyStatus, UserKey};
use super::{Draft, change, conflict, limit, read};
use crate::api::error::ApiError;
use crate::products::{Context, Fields};
use crate::store::AccessKey;

/// Root AccessKeys an account may have.
pub const MAX_ROOT_KEYS: usize = 2;

/// The account's keys as the store holds them, each active.
async fn stored(context: &Context<'_>) -> Result<Vec<UserKey>, ApiError> {
    let keys = context
        .store
        .root_access_keys(&context.caller.account_id)
        .await?;
    Ok(keys
        .into_iter()
        .map(|(id, created_ms)| UserKey {
            id,
            status: KeyStatus::Active,
            created_ms,
        })
        .collect())
}

/// The draft's list of the account's keys, the store's the first time.
fn keys<'d>(draft: &'d mut Draft, stored: &[UserKey]) -> &'d mut Vec<UserKey> {
    draft.state.root_keys.get_or_insert_with(|| stored.to_vec())
}

/// The key that signed this request may not disable or delete itself: the account would lock
/// itself out with it (an operator's `account keys` has no such key).
fn refuse_own(context: &Context<'_>, id: &str) -> Result<(), ApiError> {
    if context.caller.access_key_id == id {
        return Err(conflict(
            "AccessKey.InUse",
            "The AccessKey that signs this request cannot disable or delete itself; use the account's other AccessKey.".into(),
        ));
    }
    Ok(())
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let stored = stored(context).await?;
    let new = NewKey::make(context).await?;
    let key = change(context, &new.id, |draft| {
        let now = draft.now_ms;
        let keys = keys(draft, &stored);
        if keys.len() >= MAX_ROOT_KEYS {
            return Err(limit(
                "AccessKey",
                format!(
                    "An account may have at most {MAX_ROOT_KEYS} AccessKeys: delete one first."
                ),
            ));
        }
        let key = UserKey {
            id: new.id.clone(),
            status: KeyStatus::Active,
            created_ms: now,
        };
        keys.push(key.clone());
        draft.added_keys.push(AccessKey {
            access_key_id: new.id.clone(),
            account_id: context.caller.account_id.clone(),
            sealed_secret: new.sealed.clone(),
            created_ms: now,
            user_id: None,
        });
        Ok(key)
    })
    .await?;
    new.shown(&key)
}

pub async fn list(context: &Context<'_>) -> Result<Fields, ApiError> {
    let keys = match read(context).await?.root_keys {
        Some(keys) => keys,
        None => stored(context).await?,
    };
    listed(&keys)
}

pub async fn update(
    context: &Context<'_>,
    id: &str,
    status: KeyStatus,
) -> Result<Fields, ApiError> {
    if status == KeyStatus::Inactive {
        refuse_own(context, id)?;
    }
    let stored = stored(context).await?;
    change(context, id, |draft| {
        set_status(keys(draft, &stored), id, status)
    })
    .await?;
    Ok(Fields::new())
}

pub async fn delete(context: &Context<'_>, id: &str) -> Result<Fields, ApiError> {
    refuse_own(context, id)?;
    let stored = stored(context).await?;
    change(context, id, |draft| {
        remove(keys(draft, &stored), id)?;
        draft.removed_keys.push(id.to_owned());
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}
