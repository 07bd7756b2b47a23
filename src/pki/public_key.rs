//! Public keys in a normal form, so that a certificate's key and a private key's derived public
//! key compare equal exactly when they are the same key.

use std::fmt;

use der::asn1::ObjectIdentifier as Oid;
use p256::elliptic_curve;

use super::oids;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    P521,
}

impl Curve {
    pub fn from_oid(oid: Oid) -> Option<Curve> {
        match oid {
            oids::SECP256R1 => Some(Curve::P256),
            oids::SECP384R1 => Some(Curve::P384),
            oids::SECP521R1 => Some(Curve::P521),
            _ => None,
        }
    }

    /// Normalises a SEC1 point (compressed or not) to its uncompressed encoding, checking that
    /// it lies on the curve.
    pub fn normalize_point(self, point: &[u8]) -> Option<Vec<u8>> {
        fn normal<C>(point: &[u8]) -> Option<Vec<u8>>
        where
            C: elliptic_curve::CurveArithmetic + elliptic_curve::point::PointCompression,
            elliptic_curve::AffinePoint<C>:
                elliptic_curve::sec1::FromSec1Point<C> + elliptic_curve::sec1::ToSec1Point<C>,
            elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
        {
            let key = elliptic_curve::PublicKey::<C>::from_sec1_bytes(point).ok()?;
            Some(key.to_sec1_bytes().into_vec())
        }
        match self {
            Curve::P256 => normal::<p256::NistP256>(point),
            Curve::P384 => normal::<p384::NistP384>(point),
            Curve::P521 => normal::<p521::NistP521>(point),
        }
    }

    /// The uncompressed public point of a private scalar, if the scalar is valid.
    pub fn public_point_of(self, scalar: &[u8]) -> Option<Vec<u8>> {
        fn derive<C>(scalar: &[u8]) -> Option<Vec<u8>>
        where
            C: elliptic_curve::CurveArithmetic + elliptic_curve::point::PointCompression,
            elliptic_curve::AffinePoint<C>:
                elliptic_curve::sec1::FromSec1Point<C> + elliptic_curve::sec1::ToSec1Point<C>,
            elliptic_curve::FieldBytesSize<C>: elliptic_curve::sec1::ModulusSize,
        {
            let secret = elliptic_curve::SecretKey::<C>::from_slice(scalar).ok()?;
            Some(secret.public_key().to_sec1_bytes().into_vec())
        }
        match self {
            Curve::P256 => derive::<p256::NistP256>(scalar),
            Curve::P384 => derive::<p384::NistP384>(scalar),
            Curve::P521 => derive::<p521::NistP521>(scalar),
        }
    }
}

impl fmt::Display for Curve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// Big-endian modulus and exponent without leading zero bytes.
    Rsa { modulus: Vec<u8>, exponent: Vec<u8> },
    /// Uncompressed SEC1 point.
    Ec { curve: Curve, point: Vec<u8> },
    /// A key of an algorithm we do not accept, by name (e.g. "Ed25519").
    Unsupported(String),
}

pub const MIN_RSA_BITS: usize = 1024;
pub const MAX_RSA_BITS: usize = 4096;

impl PublicKey {
    pub fn rsa(modulus: &[u8], exponent: &[u8]) -> PublicKey {
        PublicKey::Rsa {
            modulus: strip_leading_zeros(modulus).to_vec(),
            exponent: strip_leading_zeros(exponent).to_vec(),
        }
    }

    /// Why this key's algorithm or size is refused, if it is.
    pub fn refusal(&self) -> Option<String> {
        match self {
            PublicKey::Rsa { modulus, .. } => {
                let bits = rsa_bits(modulus);
                (!(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits)).then(|| format!("RSA {bits}"))
            }
            PublicKey::Ec { .. } => None,
            PublicKey::Unsupported(name) => Some(name.clone()),
        }
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublicKey::Rsa { modulus, .. } => write!(f, "RSA {}", rsa_bits(modulus)),
            PublicKey::Ec { curve, .. } => write!(f, "ECDSA {curve}"),
            PublicKey::Unsupported(name) => f.write_str(name),
        }
    }
}

/// The size of an RSA key: the bit length of its modulus.
impl PublicKey {
    /// How Describe names the key: `RSA` or `ECC`, and its size in bits (`("", 0)` otherwise).
    pub fn encryption(&self) -> (&'static str, u32) {
        match self {
            PublicKey::Rsa { modulus, .. } => ("RSA", rsa_bits(modulus) as u32),
            PublicKey::Ec { curve, .. } => (
                "ECC",
                match curve {
                    Curve::P256 => 256,
                    Curve::P384 => 384,
                    Curve::P521 => 521,
                },
            ),
            PublicKey::Unsupported(_) => ("", 0),
        }
    }
}

pub fn rsa_bits(modulus: &[u8]) -> usize {
    let modulus = strip_leading_zeros(modulus);
    match modulus.first() {
        None => 0,
        Some(first) => modulus.len() * 8 - first.leading_zeros() as usize,
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The key of a parsed `SubjectPublicKeyInfo` (a certificate's, a CSR's).
pub fn of_spki(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> Option<PublicKey> {
    let algorithm = Oid::from_bytes(spki.algorithm.algorithm.as_bytes()).ok()?;
    let parameter = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|any| Oid::from_bytes(any.data).ok());
    from_spki(algorithm, parameter, &spki.subject_public_key.data)
}

/// Reads a `SubjectPublicKeyInfo`'s algorithm and key bits (as found in certificates).
pub fn from_spki(algorithm: Oid, parameter: Option<Oid>, key_bits: &[u8]) -> Option<PublicKey> {
    match algorithm {
        oids::RSA_ENCRYPTION | oids::RSASSA_PSS => {
            let key = pkcs1::RsaPublicKey::<der::asn1::UintRef<'_>>::try_from(key_bits).ok()?;
            Some(PublicKey::rsa(
                key.modulus.as_bytes(),
                key.public_exponent.as_bytes(),
            ))
        }
        oids::EC_PUBLIC_KEY => match parameter.and_then(Curve::from_oid) {
            Some(curve) => Some(PublicKey::Ec {
                curve,
                point: curve.normalize_point(key_bits)?,
            }),
            None => Some(PublicKey::Unsupported(oids::key_algorithm_name(
                algorithm, parameter,
            ))),
        },
        other => Some(PublicKey::Unsupported(oids::key_algorithm_name(
            other, parameter,
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_bits_counts_the_modulus_bit_length() {
        assert_eq!(rsa_bits(&[0x00, 0x80, 0, 0]), 24);
        assert_eq!(rsa_bits(&[0x01, 0xff]), 9);
        assert_eq!(rsa_bits(&[]), 0);
    }

    #[test]
    fn refusals_name_the_algorithm() {
        let small = PublicKey::rsa(&[0xff; 64], &[1, 0, 1]);
        assert_eq!(small.refusal().as_deref(), Some("RSA 512"));
        let fine = PublicKey::rsa(&[0xff; 256], &[1, 0, 1]);
        assert_eq!(fine.refusal(), None);
        assert_eq!(fine.to_string(), "RSA 2048");
        assert_eq!(
            PublicKey::Unsupported("Ed25519".into())
                .refusal()
                .as_deref(),
            Some("Ed25519")
        );
    }
}
