//! The header names the proxy removes and adds, built once (statics, as a name given as a
//! string is parsed again on every lookup: 4 % of a keep-alive request's profile).

use http::header::{self, HeaderMap, HeaderName};

pub static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
pub static X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
pub static SLB_ID: HeaderName = HeaderName::from_static("slb-id");
pub static SLB_IP: HeaderName = HeaderName::from_static("slb-ip");
pub static X_FORWARDED_PORT: HeaderName = HeaderName::from_static("x-forwarded-port");
pub static X_FORWARDED_CLIENT_SRCPORT: HeaderName =
    HeaderName::from_static("x-forwarded-client-srcport");
pub static CLIENT_CERT_SUBJECT: HeaderName =
    HeaderName::from_static("x-forwarded-clientcert-subjectdn");
pub static CLIENT_CERT_ISSUER: HeaderName =
    HeaderName::from_static("x-forwarded-clientcert-issuerdn");
pub static CLIENT_CERT_FINGERPRINT: HeaderName =
    HeaderName::from_static("x-forwarded-clientcert-fingerprint");
pub static CLIENT_CERT_VERIFY: HeaderName =
    HeaderName::from_static("x-forwarded-clientcert-clientverify");

/// Headers of one connection, not to be forwarded (RFC 9110 §7.6.1).
static HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

/// Headers a listener may add: a client's own copies are always removed, so that a backend
/// can trust what it finds (X-Forwarded-For is appended to, as SLB does).
static ADDED: [&HeaderName; 9] = [
    &X_FORWARDED_PROTO,
    &SLB_ID,
    &SLB_IP,
    &X_FORWARDED_PORT,
    &X_FORWARDED_CLIENT_SRCPORT,
    &CLIENT_CERT_SUBJECT,
    &CLIENT_CERT_ISSUER,
    &CLIENT_CERT_FINGERPRINT,
    &CLIENT_CERT_VERIFY,
];

/// Removes the connection's own headers, and those its `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    if headers.contains_key(header::CONNECTION) {
        let named: Vec<HeaderName> = headers
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
            .collect();
        for name in named {
            headers.remove(name);
        }
    }
    for name in &HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Removes what a client sent under the names a listener adds.
pub fn strip_added(headers: &mut HeaderMap) {
    for name in ADDED {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_and_named_headers_go_and_others_stay() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("connection", "close, x-private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("te", "trailers"),
            ("upgrade", "h2c"),
            ("accept", "*/*"),
            ("slb-id", "forged"),
            ("x-forwarded-for", "192.0.2.1"),
        ] {
            headers.append(
                HeaderName::from_static(name),
                value.parse().expect("a value"),
            );
        }
        strip_hop_by_hop(&mut headers);
        strip_added(&mut headers);
        let left: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(left, ["accept", "x-forwarded-for"]);
    }
}
