//! Entry points for fuzzers: each takes arbitrary bytes, runs a parser that sees client bytes,
//! and panics only on a real defect (a parser panic, or an answer that breaks an invariant).
//! `fuzz/` drives them with libFuzzer (`cargo fuzz`); `tests/fuzz_corpus.rs` replays their
//! corpora on every test run. See FUZZING.md.

use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{Map, Value};
use time::macros::datetime;

use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::api::response::{self, Format};
use crate::api::signature::{v1, v3};
use crate::http::{self as web, Response};
use crate::pki::{self, pem, private_key};

/// A fuzz target: arbitrary bytes in, a panic only on a defect.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/` and the corpus folders name them.
pub const TARGETS: [(&str, Target); 6] = [
    ("http_connection", http_connection),
    ("api_request", api_request),
    ("pem", pem_text),
    ("certificate_der", certificate_der),
    ("private_key_der", private_key_der),
    ("upload", upload),
];

/// The whole HTTP layer over one connection: heads, bodies (chunked or not), trailers,
/// pipelining and refusals. Every byte the server writes back must belong to a response.
pub fn http_connection(data: &[u8]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let limits = web::Limits {
        max_head_bytes: 8 * 1024,
        max_body_bytes: 16 * 1024,
        request_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let output = runtime.block_on(web::serve_bytes(
        data,
        |request| async move {
            let body = format!("{} {} {}", request.method, request.path, request.body.len());
            Response::new(StatusCode::OK, "text/plain", body)
        },
        limits,
    ));
    assert!(
        output.is_empty() || output.starts_with(b"HTTP/1.1 "),
        "the server wrote something that is not a response"
    );
}

/// One API request as the RPC layer sees it: the head, the parameters (query and form body),
/// the V1 or V3 claim, and an error envelope echoing what the client sent, in XML and JSON.
pub fn api_request(data: &[u8]) {
    let Ok(Some((head, consumed))) = web::request::parse_head(data, 64, 64 * 1024) else {
        return;
    };
    let body = &data[consumed..];
    let content_type = head
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    let params = match RpcParams::parse(&head.query, body, content_type) {
        Ok(params) => params,
        Err(error) => return check_envelopes(&error),
    };
    let claim = if v3::is_v3(&head.headers) {
        v3::claim(&head.method, &head.headers, &params, body)
    } else {
        v1::claim(&Method::POST, &params)
    };
    if let Err(error) = claim {
        check_envelopes(&error);
    }
    // Whatever was sent comes back in a message: the envelope must stay well-formed.
    let echoed = params
        .all()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    check_envelopes(&ApiError::InvalidAction(echoed));
    let mut fields = Map::new();
    for (name, value) in params.all().take(8) {
        fields.insert(
            "Echo".to_owned() + &name.len().to_string(),
            Value::String(value.clone()),
        );
    }
    check_xml(&response::success(Format::Xml, "EchoResponse", "ID", fields).body);
}

fn check_envelopes(error: &ApiError) {
    let xml = response::error(Format::Xml, error, "ID", "host", "Slb");
    check_xml(&xml.body);
    let json = response::error(Format::Json, error, "ID", "host", "Slb");
    serde_json::from_slice::<Value>(&json.body).expect("a JSON error envelope parses");
}

/// XML 1.0 cannot carry control characters other than tab, LF and CR, nor U+FFFE/U+FFFF; and
/// markup characters in text must have been escaped (only our own elements use `<`).
fn check_xml(body: &[u8]) {
    let text = std::str::from_utf8(body).expect("XML answers are UTF-8");
    for ch in text.chars() {
        assert!(
            !matches!(ch, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}'),
            "XML carries {ch:?}"
        );
    }
    let opened = text.matches('<').count();
    let closed = text.matches('>').count();
    assert_eq!(opened, closed, "unbalanced markup in {text:?}");
}

/// PEM framing, from any text.
pub fn pem_text(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(blocks) = pem::parse(&text) {
        for block in blocks {
            // What parses re-encodes and parses again to the same DER.
            let again = pem::parse(&pem::encode(&block.label, &block.der)).expect("re-parses");
            assert_eq!(again[0].der, block.der);
        }
    }
}

/// X.509 chains and CA bundles from any DER (up to three certificates, split at 0xFF 0xFF).
pub fn certificate_der(data: &[u8]) {
    let mut text = String::new();
    let mut rest = data;
    for _ in 0..3 {
        let (der, after) = match rest.windows(2).position(|pair| pair == [0xFF, 0xFF]) {
            Some(at) => (&rest[..at], Some(&rest[at + 2..])),
            None => (rest, None),
        };
        text.push_str(&pem::encode("CERTIFICATE", der));
        match after {
            Some(after) => rest = after,
            None => break,
        }
    }
    let _ = pki::certificate::parse_chain(&text);
    let _ = pki::validate_ca_certificate(&text, datetime!(2026-11-27 0:00 UTC));
}

/// Private keys from any DER: the first byte picks PKCS#1, SEC1 or PKCS#8.
pub fn private_key_der(data: &[u8]) {
    let Some((choice, der)) = data.split_first() else {
        return;
    };
    let label = match choice % 3 {
        0 => "RSA PRIVATE KEY",
        1 => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    };
    let _ = private_key::parse(&pem::encode(label, der));
}

/// A whole upload's validation: certificate text, then key text after the first NUL byte.
pub fn upload(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (certificate, key) = text.split_once('\0').unwrap_or((&text, ""));
    let _ = pki::validate_server_certificate(certificate, key, datetime!(2026-11-27 0:00 UTC));
}
