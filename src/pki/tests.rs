//! Validation against committed fixtures (tests/integration/make_fixtures.py made them).

use time::OffsetDateTime;
use time::macros::datetime;

use super::public_key::{Curve, PublicKey};
use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/pki/", $name))
    };
}

const NOW: OffsetDateTime = datetime!(2026-11-27 12:00 UTC);

fn validate(certificate: &str, key: &str) -> Result<ServerCertificateMaterial, ValidationError> {
    validate_server_certificate(certificate, key, NOW)
}

#[test]
fn rsa_leaf_reports_fingerprint_names_and_dates() {
    let material = validate(fixture!("rsa2048.crt"), fixture!("rsa2048.pkcs1.key")).unwrap();
    let leaf = &material.chain.leaf;
    assert_eq!(leaf.fingerprint, fixture!("rsa2048.fingerprint").trim());
    assert_eq!(leaf.common_name, "rsa.example.com");
    assert_eq!(
        leaf.subject_alternative_names,
        [
            "rsa.example.com",
            "*.rsa.example.com",
            "192.0.2.7",
            "2001:db8::1"
        ]
    );
    assert_eq!(leaf.not_after, datetime!(2120-01-01 0:00 UTC));
    assert_eq!(leaf.public_key.to_string(), "RSA 2048");
    assert_eq!(material.chain.length, 1);
}

#[test]
fn every_key_encoding_matches_its_certificate() {
    let cases = [
        (
            fixture!("rsa2048.crt"),
            fixture!("rsa2048.pkcs8.key"),
            "RSA 2048",
        ),
        (
            fixture!("p256.crt"),
            fixture!("p256.sec1.key"),
            "ECDSA P-256",
        ),
        (
            fixture!("p384.crt"),
            fixture!("p384.pkcs8.key"),
            "ECDSA P-384",
        ),
        (
            fixture!("p521.crt"),
            fixture!("p521.sec1.key"),
            "ECDSA P-521",
        ),
    ];
    for (certificate, key, algorithm) in cases {
        let material = validate(certificate, key).unwrap();
        assert_eq!(material.private_key.public_key().to_string(), algorithm);
    }
}

#[test]
fn sec1_keys_parse_without_their_ec_parameters_block() {
    let key = fixture!("p256.sec1.key");
    let without_parameters = &key[key.find("-----BEGIN EC PRIVATE KEY").unwrap()..];
    let parsed = private_key::parse(without_parameters).unwrap();
    assert!(matches!(
        parsed.public_key(),
        PublicKey::Ec {
            curve: Curve::P256,
            ..
        }
    ));
}

#[test]
fn chains_verify_across_algorithms_ring_does_not_support() {
    // RSA-1024 root signs a P-521 intermediate, which signs a P-384 leaf.
    let material = validate(fixture!("chain.crt"), fixture!("chain.key")).unwrap();
    assert_eq!(material.chain.length, 3);
    assert_eq!(material.chain.leaf.common_name, "chain.example.com");
    assert_eq!(material.chain.pem.matches("BEGIN CERTIFICATE").count(), 3);
}

#[test]
fn a_chain_out_of_order_names_the_position() {
    let error = validate(fixture!("chain-wrong-order.crt"), fixture!("chain.key")).unwrap_err();
    match error {
        ValidationError::Certificate(CertificateError::Chain {
            position, signed, ..
        }) => assert_eq!((position, signed), (2, 1)),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn encrypted_keys_are_named_as_such() {
    for key in [
        fixture!("rsa2048.encrypted-pkcs8.key"),
        fixture!("rsa2048.encrypted-legacy.key"),
    ] {
        let error = validate(fixture!("rsa2048.crt"), key).unwrap_err();
        assert!(
            matches!(error, ValidationError::Key(KeyError::Encrypted(_))),
            "{error:?}"
        );
    }
}

#[test]
fn unsupported_algorithms_are_named() {
    let cases = [
        (fixture!("ed25519.crt"), fixture!("ed25519.key"), "Ed25519"),
        (fixture!("sm2.crt"), fixture!("sm2.key"), "SM2"),
        (fixture!("rsa512.crt"), fixture!("rsa512.key"), "RSA 512"),
    ];
    for (certificate, key, name) in cases {
        match validate(certificate, key).unwrap_err() {
            ValidationError::UnsupportedAlgorithm { name: got, .. } => assert_eq!(got, name),
            other => panic!("{name}: unexpected {other:?}"),
        }
    }
}

#[test]
fn a_foreign_key_does_not_match() {
    let error = validate(fixture!("rsa2048.crt"), fixture!("rsa2048-other.pkcs1.key")).unwrap_err();
    assert!(matches!(error, ValidationError::KeyMismatch { .. }));
    let error = validate(fixture!("p256.crt"), fixture!("p384.pkcs8.key")).unwrap_err();
    match error {
        ValidationError::KeyMismatch { certificate, key } => {
            assert_eq!(
                (certificate.as_str(), key.as_str()),
                ("ECDSA P-256", "ECDSA P-384")
            )
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn an_expired_leaf_is_refused_with_its_not_after() {
    let error = validate(fixture!("expired.crt"), fixture!("rsa2048.pkcs1.key")).unwrap_err();
    match error {
        ValidationError::Expired { not_after } => {
            assert_eq!(not_after, datetime!(2001-01-01 0:00 UTC))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_leaf_not_yet_valid_is_accepted() {
    let before = datetime!(2019-06-01 0:00 UTC);
    assert!(
        validate_server_certificate(
            fixture!("rsa2048.crt"),
            fixture!("rsa2048.pkcs1.key"),
            before
        )
        .is_ok()
    );
}

#[test]
fn checks_run_in_the_documented_order() {
    // A broken certificate is reported before a broken key.
    let error = validate("garbage", "garbage").unwrap_err();
    assert!(matches!(error, ValidationError::Certificate(_)));
    // A broken key before an unsupported certificate algorithm.
    let error = validate(fixture!("ed25519.crt"), "garbage").unwrap_err();
    assert!(matches!(error, ValidationError::Key(_)));
    // An unsupported algorithm before a mismatch, a mismatch before expiry.
    let error = validate(fixture!("ed25519.crt"), fixture!("rsa2048.pkcs1.key")).unwrap_err();
    assert!(matches!(
        error,
        ValidationError::UnsupportedAlgorithm { .. }
    ));
    let error = validate(fixture!("expired.crt"), fixture!("p256.sec1.key")).unwrap_err();
    assert!(matches!(error, ValidationError::KeyMismatch { .. }));
}

#[test]
fn a_certificate_where_the_key_belongs_is_named() {
    let error = private_key::parse(fixture!("rsa2048.crt")).unwrap_err();
    assert_eq!(
        error,
        KeyError::Format("PEM block 1 is a \"CERTIFICATE\", not a private key".into())
    );
    assert_eq!(private_key::parse("").unwrap_err(), KeyError::Empty);
}

#[test]
fn debug_output_never_shows_key_material() {
    let key = private_key::parse(fixture!("rsa2048.pkcs1.key")).unwrap();
    let shown = format!("{key:?}");
    let body_line = fixture!("rsa2048.pkcs1.key").lines().nth(1).unwrap();
    assert!(!shown.contains(body_line));
    assert!(shown.contains("[REDACTED]"));
}

#[test]
fn framing_outside_the_signed_part_must_be_canonical_der() {
    // x509-parser alone accepts these; the issuer's signature does not cover them.
    let blocks = pem::parse(fixture!("chain.crt")).unwrap();
    let der = blocks[0].der.to_vec();
    for (index, mask) in [(0usize, 0x20u8), (0, 0x40)] {
        let mut damaged = der.clone();
        damaged[index] ^= mask;
        let mut text = pem::encode("CERTIFICATE", &damaged).to_string();
        for block in &blocks[1..] {
            text.push_str(&pem::encode("CERTIFICATE", &block.der));
        }
        let error = validate(&text, fixture!("chain.key")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("is not a valid X.509 certificate (its DER framing"),
            "byte {index} ^ {mask:#x}: {error}"
        );
    }
}

/// The certificate's (n, e) with a d, p or q that does not belong to them: it matched before,
/// and would have failed every TLS handshake.
#[test]
fn an_rsa_key_whose_private_parts_do_not_belong_is_refused() {
    use der::{Decode, Encode};
    let blocks = pem::parse(fixture!("rsa2048.pkcs1.key")).unwrap();
    let der = blocks[0].der.to_vec();
    let key = pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(&der).unwrap();
    let other_blocks = pem::parse(fixture!("rsa2048-other.pkcs1.key")).unwrap();
    let other =
        pkcs1::RsaPrivateKey::<der::asn1::UintRef<'_>>::from_der(&other_blocks[0].der).unwrap();
    let mut flipped_d = key.private_exponent.as_bytes().to_vec();
    let last = flipped_d.len() - 1;
    flipped_d[last] ^= 0x02;
    let flipped_d = der::asn1::UintRef::new(&flipped_d).unwrap();
    let forged = [
        pkcs1::RsaPrivateKey {
            private_exponent: flipped_d,
            ..key.clone()
        },
        pkcs1::RsaPrivateKey {
            prime1: other.prime1,
            prime2: other.prime2,
            ..key.clone()
        },
        pkcs1::RsaPrivateKey {
            private_exponent: other.private_exponent,
            ..key.clone()
        },
        // p, q and d right, but CRT values that OpenSSL would sign with wrong.
        pkcs1::RsaPrivateKey {
            exponent1: other.exponent1,
            ..key.clone()
        },
        pkcs1::RsaPrivateKey {
            coefficient: other.coefficient,
            ..key.clone()
        },
    ];
    for forged in forged {
        let text = pem::encode("RSA PRIVATE KEY", &forged.to_der().unwrap()).to_string();
        let error = validate(fixture!("rsa2048.crt"), &text).unwrap_err();
        assert!(
            matches!(&error, ValidationError::Key(KeyError::Format(why)) if why.contains("inconsistent")),
            "{error:?}"
        );
    }
    // The genuine key still passes.
    assert!(validate(fixture!("rsa2048.crt"), fixture!("rsa2048.pkcs1.key")).is_ok());
}
