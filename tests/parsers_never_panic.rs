//! Property tests: whatever a client sends, the parsers answer with a value or an error, never a
//! panic (the bar: client input never causes a 500).

use proptest::prelude::*;
use slbcert::api::params::RpcParams;
use slbcert::pki::{self, pem};
use time::macros::datetime;

const CERTIFICATE: &str = include_str!("fixtures/pki/chain.crt");
const KEY: &str = include_str!("fixtures/pki/p256.sec1.key");

/// PEM framing around arbitrary DER, so the X.509 and key parsers see more than base64 errors.
fn pem_around(label: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<u8>(), 0..600)
        .prop_map(move |der| pem::encode(label, &der).to_string())
}

/// A real PEM with some bytes of its DER flipped.
fn damaged(text: &'static str) -> impl Strategy<Value = String> {
    (any::<usize>(), any::<u8>(), 1..4usize).prop_map(move |(at, byte, blocks)| {
        let parsed = pem::parse(text).unwrap();
        parsed
            .iter()
            .take(blocks)
            .map(|block| {
                let mut der = block.der.to_vec();
                let index = at % der.len();
                der[index] ^= byte | 1;
                pem::encode(&block.label, &der).to_string()
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn pem_parsing_never_panics(text in ".{0,400}") {
        let _ = pem::parse(&text);
    }

    #[test]
    fn certificate_and_key_validation_never_panics(
        certificate in prop_oneof![pem_around("CERTIFICATE"), damaged(CERTIFICATE), ".{0,200}"],
        key in prop_oneof![
            pem_around("PRIVATE KEY"), pem_around("EC PRIVATE KEY"),
            pem_around("RSA PRIVATE KEY"), damaged(KEY), ".{0,200}"
        ],
    ) {
        let _ = pki::validate_server_certificate(&certificate, &key, datetime!(2026-11-27 0:00 UTC));
    }

    #[test]
    fn a_leaf_with_any_flipped_byte_never_validates(at in any::<usize>(), mask in 1..=255u8) {
        // Every byte of the leaf is covered by its issuer's signature or by DER framing.
        let blocks = pem::parse(CERTIFICATE).unwrap();
        let mut leaf = blocks[0].der.to_vec();
        let index = at % leaf.len();
        leaf[index] ^= mask;
        let mut chain = pem::encode("CERTIFICATE", &leaf).to_string();
        for block in &blocks[1..] {
            chain.push_str(&pem::encode("CERTIFICATE", &block.der));
        }
        let key = include_str!("fixtures/pki/chain.key");
        let result = pki::validate_server_certificate(&chain, key, datetime!(2026-11-27 0:00 UTC));
        prop_assert!(result.is_err(), "byte {index} flipped with {mask:#04x} still validated");
    }

    #[test]
    fn parameter_decoding_never_panics(query in ".{0,300}", body in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = RpcParams::parse(&query, &body, None);
        // Our decoder gives what the url crate's form_urlencoded gives, byte for byte.
        let expected: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
        prop_assert_eq!(slbcert::api::params::decode_form(&body), expected);

    }
}

/// Form bodies built from the pieces that decoding must get right.
fn form_pieces() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("%"),
        Just("+"),
        Just("="),
        Just("&"),
        Just("&&"),
        Just("%4"),
        Just("%e8%af%81"),
        Just("%E8%AF"),
        Just("%zz"),
        Just("%2B"),
        Just("%ff"),
        Just("a"),
        Just("~*"),
        Just("证"),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn form_decoding_matches_form_urlencoded(body in form_pieces()) {
        let expected: Vec<(String, String)> =
            form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        prop_assert_eq!(slbcert::api::params::decode_form(body.as_bytes()), expected);
    }
}

/// JSON-ish `BackendServers`: arrays of objects with the fields the parser reads, values of any
/// JSON type, and plain garbage.
fn backend_servers() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("null".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| format!("{n:?}")),
        ".{0,12}".prop_map(|s| serde_json::Value::String(s).to_string()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
    ];
    let field = prop_oneof![
        Just("ServerId"),
        Just("Weight"),
        Just("Type"),
        Just("ServerIp"),
        Just("Port"),
        Just("Description"),
    ];
    let entry = proptest::collection::vec((field, value), 0..6).prop_map(|fields| {
        let body: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", body.join(","))
    });
    prop_oneof![
        proptest::collection::vec(entry, 0..25)
            .prop_map(|entries| format!("[{}]", entries.join(","))),
        ".{0,80}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn backend_servers_parsing_never_panics(json in backend_servers(), port_required in any::<bool>()) {
        let query = format!(
            "BackendServers={}",
            percent_encoding::utf8_percent_encode(&json, percent_encoding::NON_ALPHANUMERIC)
        );
        let params = RpcParams::parse(&query, b"", None).unwrap();
        let _ = slbcert::products::slb::backends::parse(&params, true, port_required, 20);
    }
}
