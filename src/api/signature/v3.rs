//! Signature V3 (`ACS3-HMAC-SHA256` in the `Authorization` header): the query, the headers the
//! client chose to sign, and the SHA-256 of the body.

use hmac::{Hmac, KeyInit, Mac};
use http::{HeaderMap, Method};
use sha2::{Digest, Sha256};

use super::Claim;
use super::encode::percent_encode;
use crate::api::error::ApiError;
use crate::api::params::{RpcParams, max_value_bytes};

pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Headers that must be signed when present: they carry what the request does and when.
const MUST_SIGN: [&str; 6] = [
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

pub fn is_v3(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("ACS3-"))
}

struct Authorization<'a> {
    credential: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ApiError> {
    let incomplete = |what: &str| ApiError::IncompleteSignature(what.to_owned());
    let (algorithm, rest) = value
        .split_once(' ')
        .ok_or_else(|| incomplete("the Authorization header has no credentials"))?;
    if algorithm != ALGORITHM {
        return Err(ApiError::IncompleteSignature(format!(
            "the signature algorithm {algorithm} is not supported; use {ALGORITHM}"
        )));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", value)) => credential = Some(value),
            Some(("SignedHeaders", value)) => signed_headers = Some(value),
            Some(("Signature", value)) => signature = Some(value),
            _ => return Err(incomplete("the Authorization header is malformed")),
        }
    }
    let credential = credential
        .filter(|c| !c.is_empty())
        .ok_or_else(|| incomplete("the Authorization header lacks Credential"))?;
    let signed_headers = signed_headers
        .filter(|h| !h.is_empty())
        .ok_or_else(|| incomplete("the Authorization header lacks SignedHeaders"))?;
    let signature = signature
        .filter(|s| !s.is_empty())
        .ok_or_else(|| incomplete("the Authorization header lacks Signature"))?;
    Ok(Authorization {
        credential,
        signed_headers: signed_headers.split(';').collect(),
        signature,
    })
}

/// The AccessKeyId a V3 request claims, if its Authorization header parses.
pub fn credential(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    parse_authorization(value)
        .ok()
        .map(|authorization| authorization.credential)
}

pub fn claim(
    method: &Method,
    headers: &HeaderMap,
    params: &RpcParams,
    body: &[u8],
) -> Result<Claim, ApiError> {
    let authorization = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            ApiError::IncompleteSignature("the Authorization header is not text".into())
        })?;
    let authorization = parse_authorization(authorization)?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.is_empty())
            .ok_or_else(|| ApiError::IncompleteSignature(format!("the {name} header is missing")))
    };
    let timestamp = header("x-acs-date")?.to_owned();
    let nonce = header("x-acs-signature-nonce")?.to_owned();
    let max_nonce = max_value_bytes("SignatureNonce");
    if nonce.len() > max_nonce {
        return Err(ApiError::InvalidParameter(format!(
            "The x-acs-signature-nonce header is {} bytes long; at most {max_nonce} are allowed.",
            nonce.len()
        )));
    }
    let max_key = max_value_bytes("AccessKeyId");
    if authorization.credential.len() > max_key {
        return Err(ApiError::IncompleteSignature(format!(
            "the Credential is {} bytes long; at most {max_key} are allowed",
            authorization.credential.len()
        )));
    }
    for name in MUST_SIGN {
        if headers.contains_key(name) && !authorization.signed_headers.contains(&name) {
            return Err(ApiError::IncompleteSignature(format!(
                "the {name} header must be among SignedHeaders"
            )));
        }
    }
    let canonical =
        canonical_request(method, headers, params, &authorization.signed_headers, body)?;
    Ok(Claim {
        access_key_id: authorization.credential.to_owned(),
        nonce,
        timestamp,
        string_to_sign: format!("{ALGORITHM}\n{}", hex::encode(Sha256::digest(&canonical))),
        signature: authorization.signature.to_ascii_lowercase(),
        sign,
    })
}

fn canonical_request(
    method: &Method,
    headers: &HeaderMap,
    params: &RpcParams,
    signed_headers: &[&str],
    body: &[u8],
) -> Result<String, ApiError> {
    let mut query: Vec<(&str, &str)> = params
        .query()
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    query.sort_unstable();
    // Names are encoded too: otherwise `a=1&b` and `a=1%26b` would sign alike, and a parameter
    // could be smuggled into another's value without breaking the signature.
    let canonical_query = query
        .iter()
        .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&");

    let mut canonical_headers = String::new();
    for name in signed_headers {
        let mut values = headers
            .get_all(*name)
            .iter()
            .map(|value| value.to_str().map(str::trim))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ApiError::IncompleteSignature(format!("the {name} header is not text")))?;
        if values.is_empty() {
            return Err(ApiError::IncompleteSignature(format!(
                "the signed header {name} is missing"
            )));
        }
        values.sort_unstable();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    // The body is covered by its hash, computed here: a body other than the one the client
    // hashed cannot verify.
    let payload_hash = hex::encode(Sha256::digest(body));
    Ok(format!(
        "{method}\n/\n{canonical_query}\n{canonical_headers}\n{}\n{payload_hash}",
        signed_headers.join(";")
    ))
}

/// `hex(HMAC-SHA256(secret, string_to_sign))`.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// The vector of slb-api.md §4, computed with alibabacloud-tea-openapi's own signer.
    #[test]
    fn reproduces_the_reference_vector() {
        let query = "RegionId=cn-hangzhou\
            &ServerCertificateId=1231579085529123_166f8204689_1714763408_709981430\
            &ServerCertificateName=my%20cert%2A~%2F%E8%AF%81%E4%B9%A6";
        let params = RpcParams::parse(query, b"", None).unwrap();
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "127.0.0.1:18080"),
            ("x-acs-action", "SetServerCertificateName"),
            ("x-acs-version", "2014-05-15"),
            ("x-acs-date", "2024-01-01T00:00:00Z"),
            ("x-acs-signature-nonce", "3ee8c1b883d344afa94f4e0ad82fd6cf"),
            ("x-acs-content-sha256", EMPTY_SHA256),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "ACS3-HMAC-SHA256 Credential=testak,SignedHeaders=host;x-acs-action;\
                 x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,\
                 Signature=08cbb9562ff6d35989539102f3fe6f8fcc0e64bb1e39a5771b5f125380ab3aaa",
            ),
        );
        let claim = claim(&Method::POST, &headers, &params, b"").unwrap();
        assert_eq!(
            claim.string_to_sign,
            "ACS3-HMAC-SHA256\n92fafa33ff906ac7d7066d284f98219d9f0562bb7a6808035fc43ea29ec06c64"
        );
        assert_eq!(claim.access_key_id, "testak");
        assert_eq!(sign("testsecret", &claim.string_to_sign), claim.signature);
    }

    /// Two queries that differ only in where `&` and `=` sit must not canonicalise alike.
    #[test]
    fn parameter_names_are_encoded_in_the_canonical_query() {
        let headers = HeaderMap::new();
        let canonical = |query: &str| {
            let params = RpcParams::parse(query, b"", None).unwrap();
            canonical_request(&Method::POST, &headers, &params, &[], b"").unwrap()
        };
        let merged = canonical("a=1%26b%3D2");
        let split = canonical("a%3D1%26b=2");
        assert_ne!(merged, split);
        assert!(split.contains("\na%3D1%26b=2\n"), "{split}");
        assert!(canonical("Tag.1.Key=k").contains("\nTag.1.Key=k\n"));
    }

    #[test]
    fn malformed_authorization_is_incomplete() {
        for value in [
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SHA256 Credential=a,Signature=b",
            "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=b",
            "ACS3-HMAC-SHA256 Credential=a;SignedHeaders=host",
        ] {
            assert_eq!(
                parse_authorization(value)
                    .err()
                    .map(|e| e.code())
                    .as_deref(),
                Some("IncompleteSignature"),
                "{value}"
            );
        }
    }

    #[test]
    fn the_date_and_nonce_headers_must_be_signed() {
        let params = RpcParams::default();
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("h"));
        headers.insert(
            "x-acs-date",
            HeaderValue::from_static("2024-01-01T00:00:00Z"),
        );
        headers.insert("x-acs-signature-nonce", HeaderValue::from_static("n"));
        headers.insert(
            "authorization",
            HeaderValue::from_static(
                "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=b",
            ),
        );
        let error = claim(&Method::POST, &headers, &params, b"").err().unwrap();
        assert!(
            error
                .message()
                .contains("x-acs-date header must be among SignedHeaders")
        );
    }
}
