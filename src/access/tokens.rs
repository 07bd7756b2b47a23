//! STS temporary credentials. Nothing about a session is stored: its SecurityToken carries the
//! session (account, role, session name, inline policy, expiry) signed with a key derived from
//! the master key, and its AccessKeySecret is derived from its AccessKeyId with the same key.
//! Every node holding the master key verifies them, across restarts, and nobody without it
//! can forge one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::Session;
use crate::crypto::Secret;

/// Real tokens start so; clients treat tokens as opaque.
const PREFIX: &str = "CAIS";
/// Longest token we read: anything longer is not one of ours.
const MAX_TOKEN_BYTES: usize = 8192;

/// The key tokens and temporary secrets are made with.
pub struct TokenKey(Zeroizing<[u8; 32]>);

impl TokenKey {
    pub fn new(key: Zeroizing<[u8; 32]>) -> TokenKey {
        TokenKey(key)
    }

    fn mac(&self, purpose: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.0.as_ref())
            .expect("HMAC takes any key length");
        mac.update(purpose);
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// The AccessKeySecret of a temporary AccessKeyId.
    pub fn secret_for(&self, access_key_id: &str) -> Secret {
        Secret::new(URL_SAFE_NO_PAD.encode(self.mac(b"sts-secret", access_key_id.as_bytes())))
    }

    pub fn mint(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).expect("claims serialize");
        let tag = self.mac(b"sts-token", &payload);
        format!(
            "{PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The claims of a token this key made, if it is one and has not expired at `now_ms`.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let body = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let (payload, tag) = body.split_once('.').ok_or(TokenError::Malformed)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| TokenError::Malformed)?;
        if !bool::from(self.mac(b"sts-token", &payload).as_slice().ct_eq(&tag)) {
            return Err(TokenError::Malformed);
        }
        let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
        if claims.session.expires_ms <= now_ms {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// What a SecurityToken says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub access_key_id: String,
    pub account_id: String,
    pub default_resource_group_id: String,
    pub account_name: String,
    pub session: Session,
    /// Who assumed the role (an audit label).
    pub assumed_by: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// Not a token we made (or altered).
    Malformed,
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(expires_ms: i64) -> Claims {
        Claims {
            access_key_id: "STS.abc".into(),
            account_id: "1".into(),
            default_resource_group_id: "rg".into(),
            account_name: "acme".into(),
            session: Session {
                role_id: "3".into(),
                role_name: "bot".into(),
                session_name: "ci".into(),
                policy: None,
                expires_ms,
            },
            assumed_by: "user/alice".into(),
        }
    }

    #[test]
    fn tokens_verify_only_unaltered_unexpired_and_under_their_key() {
        let key = TokenKey::new(Zeroizing::new([7; 32]));
        let token = key.mint(&claims(2_000));
        assert_eq!(key.verify(&token, 1_000).unwrap(), claims(2_000));
        assert_eq!(key.verify(&token, 2_000), Err(TokenError::Expired));
        let other = TokenKey::new(Zeroizing::new([8; 32]));
        assert_eq!(other.verify(&token, 1_000), Err(TokenError::Malformed));
        // Any altered payload fails its tag.
        let forged = key
            .mint(&claims(9_000))
            .split_once('.')
            .map(|(payload, _)| payload.to_owned())
            .unwrap()
            + "."
            + token.split_once('.').unwrap().1;
        assert_eq!(key.verify(&forged, 1_000), Err(TokenError::Malformed));
        for junk in ["", "CAIS", "CAIS.x", "garbage", "CAIS!!.!!"] {
            assert_eq!(
                key.verify(junk, 1_000),
                Err(TokenError::Malformed),
                "{junk}"
            );
        }
        assert_ne!(
            key.secret_for("STS.a").expose(),
            key.secret_for("STS.b").expose()
        );
    }
}
