//! Who is calling: verifies the request signature (V1 or V3), its timestamp and its nonce, and
//! resolves the AccessKey to its account. Runs before any action; what the caller may see is
//! decided later, by scoping every store query to the caller's account.

mod encode;
mod key_cache;
pub mod v1;
pub mod v3;

use http::{HeaderMap, Method};
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::error::ApiError;
use super::nonce::NonceCache;
use super::params::RpcParams;
use crate::crypto::{Binding, Secret, Vault};
use crate::store::{Store, UsedNonce};

pub use encode::percent_encode;
use key_cache::{KeyCache, KnownKey};

/// What verifying signatures remembers between requests: used nonces and opened AccessKeys.
#[derive(Default)]
pub struct Verifier {
    nonces: NonceCache,
    keys: KeyCache,
}

/// How far a request's time may be from ours, either way.
pub const TIMESTAMP_WINDOW: Duration = Duration::minutes(15);

/// The verified identity behind a request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub account_id: String,
    pub access_key_id: String,
    pub default_resource_group_id: String,
}

/// What a request claims, and the string its signature must cover.
pub struct Claim {
    pub access_key_id: String,
    pub nonce: String,
    pub timestamp: String,
    pub string_to_sign: String,
    signature: String,
    sign: fn(&str, &str) -> String,
}

impl Claim {
    fn verify(&self, secret: &Secret) -> Result<(), ApiError> {
        let expected = (self.sign)(secret.expose(), &self.string_to_sign);
        if bool::from(expected.as_bytes().ct_eq(self.signature.as_bytes())) {
            Ok(())
        } else {
            Err(ApiError::SignatureDoesNotMatch {
                string_to_sign: self.string_to_sign.clone(),
            })
        }
    }
}

pub struct SignedRequest<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    pub params: &'a RpcParams,
    pub body: &'a [u8],
}

pub async fn authenticate(
    request: &SignedRequest<'_>,
    store: &dyn Store,
    vault: &Vault,
    verifier: &Verifier,
    now: OffsetDateTime,
) -> Result<Caller, ApiError> {
    let claim = if v3::is_v3(request.headers) {
        v3::claim(
            request.method,
            request.headers,
            request.params,
            request.body,
        )?
    } else {
        v1::claim(request.method, request.params)?
    };
    let issued = check_timestamp(&claim.timestamp, now)?;
    let (key, opened) = match verifier.keys.get(&claim.access_key_id) {
        Some(key) => (key, false),
        None => (open_key(&claim.access_key_id, store, vault).await?, true),
    };
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
    let expires = issued + TIMESTAMP_WINDOW;
    let used = UsedNonce {
        access_key_id: claim.access_key_id.clone(),
        nonce: claim.nonce.clone(),
        expires_ms: crate::clock::unix_ms(expires),
    };
    if !nonces.remember(&claim.access_key_id, &claim.nonce, expires, now)
        || !store.claim_nonce(used, crate::clock::unix_ms(now)).await?
    {
        return Err(ApiError::SignatureNonceUsed);
    }
    Ok(Caller {
        account_id: key.account_id,
        access_key_id: claim.access_key_id,
        default_resource_group_id: key.default_resource_group_id,
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
        secret: Secret::new(std::mem::take(&mut *secret)),
    })
}

fn check_timestamp(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ApiError> {
    let issued = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        ApiError::InvalidTimestampFormat(format!(
            "{text:?} is not a UTC time like 2024-01-01T00:00:00Z"
        ))
    })?;
    if (now - issued).abs() > TIMESTAMP_WINDOW {
        return Err(ApiError::InvalidTimestampExpired(format!(
            "{text} is more than 15 minutes away from the server's time {}",
            crate::clock::iso8601(now)
        )));
    }
    Ok(issued)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_must_parse_and_be_within_the_window() {
        let now = datetime!(2024-01-01 12:00 UTC);
        assert!(check_timestamp("2024-01-01T12:14:59Z", now).is_ok());
        assert!(check_timestamp("2024-01-01T11:45:01Z", now).is_ok());
        assert_eq!(
            check_timestamp("2024-01-01T12:15:01Z", now)
                .unwrap_err()
                .code(),
            "InvalidTimeStamp.Expired"
        );
        assert_eq!(
            check_timestamp("2024-01-01 12:00:00", now)
                .unwrap_err()
                .code(),
            "InvalidTimeStamp.Format"
        );
    }
}
