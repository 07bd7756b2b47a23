//! Signature V1 (RPC, HMAC-SHA1): every received parameter but `Signature` is signed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use http::Method;
use sha1::Sha1;

use super::Claim;
use super::encode::encode_twice_into;
use crate::api::error::ApiError;
use crate::api::params::RpcParams;

pub fn claim(method: &Method, params: &RpcParams) -> Result<Claim, ApiError> {
    let access_key_id = params.required("AccessKeyId")?;
    let signature = params.required("Signature")?;
    let signature_method = params.required("SignatureMethod")?;
    if !signature_method.eq_ignore_ascii_case("HMAC-SHA1") {
        return Err(ApiError::IncompleteSignature(format!(
            "SignatureMethod {signature_method:?} is not supported; use HMAC-SHA1"
        )));
    }
    let signature_version = params.required("SignatureVersion")?;
    if signature_version != "1.0" {
        return Err(ApiError::IncompleteSignature(format!(
            "SignatureVersion {signature_version:?} is not supported; use 1.0"
        )));
    }
    Ok(Claim {
        access_key_id: access_key_id.to_owned(),
        nonce: params.required("SignatureNonce")?.to_owned(),
        timestamp: params.required("Timestamp")?.to_owned(),
        string_to_sign: string_to_sign(method.as_str(), params),
        signature: signature.to_owned(),
        sign,
    })
}

/// `METHOD&%2F&enc(sorted enc(k)=enc(v) joined by &)`.
pub fn string_to_sign(method: &str, params: &RpcParams) -> String {
    let mut pairs: Vec<(&str, &str)> = params
        .all()
        .filter(|(key, _)| key != "Signature")
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    pairs.sort_unstable();
    // enc(enc(k) "=" enc(v) "&" ...) is enc(enc(k)) "%3D" enc(enc(v)) "%26" ...: the separators
    // are encoded once, the names and values twice.
    let size: usize = pairs.iter().map(|(k, v)| 2 * (k.len() + v.len()) + 6).sum();
    let mut text = String::with_capacity(method.len() + 6 + size);
    text.push_str(method);
    text.push_str("&%2F&");
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            text.push_str("%26");
        }
        encode_twice_into(&mut text, key);
        text.push_str("%3D");
        encode_twice_into(&mut text, value);
    }
    text
}

/// `base64(HMAC-SHA1(secret + "&", string_to_sign))`.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    let key = zeroize::Zeroizing::new(format!("{secret}&"));
    let mut mac =
        Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector of slb-api.md §3, computed with aliyun-python-sdk-core's own composer.
    #[test]
    fn reproduces_the_reference_vector() {
        let query = "AccessKeyId=testak&Action=SetServerCertificateName&Format=JSON\
            &RegionId=cn-hangzhou\
            &ServerCertificateId=1231579085529123_166f8204689_1714763408_709981430\
            &ServerCertificateName=my%20cert%2A~%2F%E8%AF%81%E4%B9%A6\
            &SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
            &SignatureType=&SignatureVersion=1.0&Timestamp=2024-01-01T00%3A00%3A00Z\
            &Version=2014-05-15&Signature=ignored";
        let params = RpcParams::parse(query, b"", None).unwrap();
        let sts = string_to_sign("POST", &params);
        assert_eq!(
            sts,
            "POST&%2F&AccessKeyId%3Dtestak%26Action%3DSetServerCertificateName%26Format%3DJSON\
             %26RegionId%3Dcn-hangzhou%26ServerCertificateId%3D1231579085529123_166f8204689_\
             1714763408_709981430%26ServerCertificateName%3Dmy%2520cert%252A~%252F%25E8%25AF\
             %2581%25E4%25B9%25A6%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-\
             83d3-44af-a94f-4e0ad82fd6cf%26SignatureType%3D%26SignatureVersion%3D1.0%26\
             Timestamp%3D2024-01-01T00%253A00%253A00Z%26Version%3D2014-05-15"
        );
        assert_eq!(sign("testsecret", &sts), "fEjsr1mNEfHrFLs2wMzoieojMB8=");
    }

    #[test]
    fn form_body_parameters_are_signed_too() {
        let with_body = RpcParams::parse("Action=A", b"RegionId=cn-hangzhou", None).unwrap();
        let without = RpcParams::parse("Action=A", b"", None).unwrap();
        assert_ne!(
            string_to_sign("POST", &with_body),
            string_to_sign("POST", &without)
        );
        assert!(string_to_sign("POST", &with_body).contains("RegionId%3Dcn-hangzhou"));
    }
}
