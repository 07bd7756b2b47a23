//! Request signatures as the protocol defines them: what a V1 or V3 request claims (its
//! AccessKeyId, nonce, timestamp and the string its signature covers), whether a secret signed
//! it, and whether its timestamp is within the window. Which secret that is, and who holds it,
//! is [`crate::access::authenticate`]'s.

mod encode;
pub mod v1;
pub mod v3;

use http::{HeaderMap, Method};
use subtle::ConstantTimeEq;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::error::{AccessError, ApiError};
use super::params::RpcParams;
use crate::crypto::Secret;

pub use encode::percent_encode;

/// How far a request's time may be from ours, either way.
pub const TIMESTAMP_WINDOW: Duration = Duration::minutes(15);

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
    pub fn verify(&self, secret: &Secret) -> Result<(), ApiError> {
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

/// What a request claims: V3 if its headers say so, else V1.
pub fn claim(request: &SignedRequest<'_>) -> Result<Claim, ApiError> {
    if v3::is_v3(request.headers) {
        v3::claim(
            request.method,
            request.headers,
            request.params,
            request.body,
        )
    } else {
        v1::claim(request.method, request.params)
    }
}

pub struct SignedRequest<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    pub params: &'a RpcParams,
    pub body: &'a [u8],
}

/// The SecurityToken of a temporary key: V1 parameter or V3 header.
pub fn security_token<'a>(request: &'a SignedRequest<'_>) -> Result<&'a str, ApiError> {
    super::pick(
        request.headers,
        "x-acs-security-token",
        request.params,
        "SecurityToken",
    )?
    .ok_or_else(|| AccessError::MissingSecurityToken.into())
}

pub fn check_timestamp(text: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ApiError> {
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
