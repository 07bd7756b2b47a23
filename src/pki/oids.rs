//! Object identifiers of the algorithms we recognise (by name, to refuse them precisely).

use der::asn1::ObjectIdentifier as Oid;

pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub const SHA224_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.14");

pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
pub const ECDSA_WITH_SHA224: Oid = Oid::new_unwrap("1.2.840.10045.4.3.1");
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");

pub const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
pub const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
pub const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");
pub const SM2_CURVE: Oid = Oid::new_unwrap("1.2.156.10197.1.301");
pub const SM2_WITH_SM3: Oid = Oid::new_unwrap("1.2.156.10197.1.501");

pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
pub const ED448: Oid = Oid::new_unwrap("1.3.101.113");
pub const X25519: Oid = Oid::new_unwrap("1.3.101.110");
pub const X448: Oid = Oid::new_unwrap("1.3.101.111");
pub const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");
pub const DSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10040.4.3");
pub const DSA_WITH_SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.2");

pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
pub const SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// A human name for a public-key algorithm that we do not accept.
pub fn key_algorithm_name(algorithm: Oid, curve: Option<Oid>) -> String {
    match (algorithm, curve) {
        (ED25519, _) => "Ed25519".into(),
        (ED448, _) => "Ed448".into(),
        (X25519, _) => "X25519".into(),
        (X448, _) => "X448".into(),
        (DSA, _) => "DSA".into(),
        (SM2_CURVE, _) | (EC_PUBLIC_KEY, Some(SM2_CURVE)) => "SM2".into(),
        (EC_PUBLIC_KEY, Some(SECP256K1)) => "ECDSA secp256k1".into(),
        (EC_PUBLIC_KEY, Some(curve)) => format!("EC on curve {curve}"),
        (EC_PUBLIC_KEY, None) => "EC with explicit curve parameters".into(),
        (other, _) => format!("public-key algorithm {other}"),
    }
}

/// A human name for a signature algorithm, for messages.
pub fn signature_algorithm_name(algorithm: Oid) -> String {
    match algorithm {
        SHA1_WITH_RSA => "sha1WithRSAEncryption".into(),
        SHA224_WITH_RSA => "sha224WithRSAEncryption".into(),
        SHA256_WITH_RSA => "sha256WithRSAEncryption".into(),
        SHA384_WITH_RSA => "sha384WithRSAEncryption".into(),
        SHA512_WITH_RSA => "sha512WithRSAEncryption".into(),
        RSASSA_PSS => "RSASSA-PSS".into(),
        ECDSA_WITH_SHA1 => "ecdsa-with-SHA1".into(),
        ECDSA_WITH_SHA224 => "ecdsa-with-SHA224".into(),
        ECDSA_WITH_SHA256 => "ecdsa-with-SHA256".into(),
        ECDSA_WITH_SHA384 => "ecdsa-with-SHA384".into(),
        ECDSA_WITH_SHA512 => "ecdsa-with-SHA512".into(),
        ED25519 => "Ed25519".into(),
        ED448 => "Ed448".into(),
        DSA_WITH_SHA1 | DSA_WITH_SHA256 => "DSA".into(),
        SM2_WITH_SM3 => "SM2-with-SM3".into(),
        other => format!("signature algorithm {other}"),
    }
}
