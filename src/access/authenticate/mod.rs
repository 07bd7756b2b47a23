//! Who is calling: checks a request's signature (its form is [`crate::api::signature`]'s) with
//! the secret of its AccessKey, and its nonce, and resolves the key to its account and principal
//! (the account itself, a RAM user, or an STS role session with its SecurityToken). Runs before
//! any action; what the caller may do is decided next ([`super::authorize`]), and what it may
//! see by scoping every store query to its account.

mod key_cache;

use time::OffsetDateTime;

use super::ram_state::KeyStatus;
use super::tokens::{TokenError, TokenKey};
use super::{Directory, Principal};
use crate::api::error::{AccessError, ApiError};
use crate::api::nonce::{NonceCache, Remembered};
use crate::api::signature::{self, SignedRequest};
use crate::crypto::{Binding, Secret};
use crate::store::write_nonce::PendingNonce;
use crate::store::{Store, UsedNonce};
use crate::vault::Vault;
use key_cache::{KeyCache, KnownKey};

/// What verifying signatures remembers between requests (used nonces, opened AccessKeys), and
/// the key STS tokens are checked with.
pub struct Verifier {
    nonces: NonceCache,
    keys: KeyCache,
    pub tokens: TokenKey,
}

/// The purpose the STS token key is derived from the master key for.
pub const TOKEN_KEY_PURPOSE: &str = "sts-token-v1";

/// Temporary AccessKeyIds of STS start so.
pub const TEMPORARY_KEY_PREFIX: &str = "STS.";

impl Verifier {
    /// The nonces remembered in memory now, and how many found no room since start.
    pub fn nonce_cache(&self) -> (usize, u64) {
        (self.nonces.len(), self.nonces.full_count())
    }

    /// Forgets the keys opened lately: the next request of each reads its key from the store.
    pub fn forget_keys(&self) {
        self.keys.clear();
    }

    pub fn new(vault: &Vault) -> Verifier {
        Verifier {
            nonces: NonceCache::default(),
            keys: KeyCache::default(),
            tokens: TokenKey::new(vault.derived_key(TOKEN_KEY_PURPOSE)),
        }
    }
}

/// The verified identity behind a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub account_id: String,
    pub access_key_id: String,
    pub default_resource_group_id: String,
    /// The account's name, which `OwnerAccount` may name.
    pub account_name: String,
    pub principal: Principal,
}

/// What authenticating needs besides the request.
pub struct Authority<'a> {
    pub store: &'a dyn Store,
    pub vault: &'a Vault,
    pub verifier: &'a Verifier,
    pub directory: &'a Directory,
}

/// The caller who signed `request`. Its nonce is claimed here, or, with `defer_nonce` (a write
/// on a store that claims nonces in its commits), answered to be claimed by the write
/// ([`crate::store::write_nonce`]); this process's own nonces are checked here either way.
pub async fn authenticate(
    request: &SignedRequest<'_>,
    authority: &Authority<'_>,
    now: OffsetDateTime,
    defer_nonce: bool,
) -> Result<(Caller, Option<PendingNonce>), ApiError> {
    let Authority {
        store,
        vault,
        verifier,
        directory,
    } = *authority;
    let claim = signature::claim(request)?;
    let issued = signature::check_timestamp(&claim.timestamp, now)?;
    let (key, opened) = if claim.access_key_id.starts_with(TEMPORARY_KEY_PREFIX) {
        let token = signature::security_token(request)?;
        // A session's key was verified with this very token lately: its claims still hold
        // but for its expiry, which is checked again.
        match verifier.keys.get(&claim.access_key_id) {
            Some(key)
                if key.token.as_deref() == Some(token)
                    && key
                        .session
                        .as_ref()
                        .is_some_and(|session| session.expires_ms > crate::clock::unix_ms(now)) =>
            {
                (key, false)
            }
            _ => (
                session_key(&claim.access_key_id, token, &verifier.tokens, now)?,
                true,
            ),
        }
    } else {
        match verifier.keys.get(&claim.access_key_id) {
            Some(key) => (key, false),
            None => (open_key(&claim.access_key_id, store, vault).await?, true),
        }
    };
    // Before the signature, as the real gateway does: a disabled key says so.
    let principal = principal(&key, &claim.access_key_id, store, directory).await?;
    claim.verify(&key.secret)?;
    // Kept from when it was opened, not from when it was last used: a key that leaves the store
    // stops working within the cache's time to live however busy it is.
    if opened {
        verifier.keys.insert(&claim.access_key_id, key.clone());
    }
    let nonces = &verifier.nonces;
    // Only after the signature verified, so that nobody else can burn a caller's nonces.
    // The memory cache answers at once within this process; the store remembers across
    // restarts (and, with a shared store, across nodes).
    let expires = issued + signature::TIMESTAMP_WINDOW;
    let used = UsedNonce {
        access_key_id: claim.access_key_id.clone(),
        nonce: claim.nonce.clone(),
        expires_ms: crate::clock::unix_ms(expires),
    };
    match nonces.remember(&claim.access_key_id, &claim.nonce, expires, now) {
        Remembered::Fresh => {}
        Remembered::Replayed => return Err(ApiError::SignatureNonceUsed),
        // The store's claim alone guards it where the store holds every process's nonces.
        Remembered::Full if store.remembers_every_nonce() => {}
        // Else a replay could not be told: the request is turned away until nonces expire.
        Remembered::Full => {
            tracing::warn!("the nonce cache is full: a signed request is turned away");
            return Err(AccessError::Throttled {
                retry_after_ms: 1000,
            }
            .into());
        }
    }
    let pending = PendingNonce {
        nonce: used,
        now_ms: crate::clock::unix_ms(now),
    };
    let pending = if defer_nonce {
        Some(pending)
    } else {
        claim_now(store, pending).await?;
        None
    };
    let caller = Caller {
        account_id: key.account_id,
        access_key_id: claim.access_key_id,
        default_resource_group_id: key.default_resource_group_id,
        account_name: key.account_name,
        principal,
    };
    Ok((caller, pending))
}

/// Claims `pending` in the store on its own: a replay (another process or node used it) fails.
pub async fn claim_now(store: &dyn Store, pending: PendingNonce) -> Result<(), ApiError> {
    if store.claim_nonce(pending.nonce, pending.now_ms).await? {
        Ok(())
    } else {
        Err(ApiError::SignatureNonceUsed)
    }
}

/// The temporary key of a role session: its SecurityToken must be one we made, for this
/// AccessKeyId, and unexpired.
fn session_key(
    access_key_id: &str,
    token: &str,
    tokens: &TokenKey,
    now: OffsetDateTime,
) -> Result<KnownKey, ApiError> {
    let claims = tokens
        .verify(token, crate::clock::unix_ms(now))
        .map_err(|error| match error {
            TokenError::Malformed => AccessError::SecurityTokenMalformed,
            TokenError::Expired => AccessError::SecurityTokenExpired,
        })?;
    if claims.access_key_id != access_key_id {
        return Err(AccessError::SecurityTokenMismatch.into());
    }
    Ok(KnownKey {
        secret: tokens.secret_for(access_key_id),
        account_id: claims.account_id,
        default_resource_group_id: claims.default_resource_group_id,
        account_name: claims.account_name,
        user_id: None,
        session: Some(Box::new(claims.session)),
        token: Some(token.to_owned()),
    })
}

/// Who holds `key`: a user's key, or a root key once the account manages its own, must still
/// be there and active in the account's RAM state (read fresh: disabling or deleting a key
/// takes effect at once on every node, whatever their key caches hold).
async fn principal(
    key: &KnownKey,
    access_key_id: &str,
    store: &dyn Store,
    directory: &Directory,
) -> Result<Principal, ApiError> {
    if let Some(session) = &key.session {
        return Ok(Principal::RoleSession(session.clone()));
    }
    let ram = directory.account(store, &key.account_id).await?;
    let Some(user_id) = &key.user_id else {
        if let Some(root_keys) = &ram.state.root_keys {
            let root_key = root_keys
                .iter()
                .find(|k| k.id == access_key_id)
                .ok_or(ApiError::InvalidAccessKeyId)?;
            if root_key.status != KeyStatus::Active {
                return Err(AccessError::AccessKeyInactive.into());
            }
        }
        return Ok(Principal::Root);
    };
    let user = ram
        .state
        .user_by_id(user_id)
        .ok_or(ApiError::InvalidAccessKeyId)?;
    let user_key = user
        .keys
        .iter()
        .find(|k| k.id == access_key_id)
        .ok_or(ApiError::InvalidAccessKeyId)?;
    if user_key.status != KeyStatus::Active {
        return Err(AccessError::AccessKeyInactive.into());
    }
    Ok(Principal::User {
        id: user.id.clone(),
        name: user.name.clone(),
    })
}

async fn open_key(
    access_key_id: &str,
    store: &dyn Store,
    vault: &Vault,
) -> Result<KnownKey, ApiError> {
    let owner = store
        .find_access_key(access_key_id)
        .await?
        .ok_or(ApiError::InvalidAccessKeyId)?;
    let binding = Binding::AccessKeySecret {
        access_key_id: access_key_id.to_owned(),
    };
    let mut secret = vault.open_text(&owner.sealed_secret, &binding).await?;
    Ok(KnownKey {
        account_id: owner.account_id,
        default_resource_group_id: owner.default_resource_group_id,
        account_name: owner.account_name,
        secret: Secret::new(std::mem::take(&mut *secret)),
        user_id: owner.user_id,
        session: None,
        token: None,
    })
}
