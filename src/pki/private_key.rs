//! Private keys: PKCS#1, SEC1 (with or without an `EC PARAMETERS` block) and unencrypted PKCS#8,
//! parsed structurally; the public key is derived so it can be matched to a certificate.

use std::fmt;

use der::Decode;
use der::asn1::ObjectIdentifier as Oid;
use der::asn1::UintRef;
use zeroize::Zeroizing;

use super::oids;
use super::pem::{self, PemError};
use super::public_key::{Curve, PublicKey};

/// A parsed private key. Its key material never leaves this type except through
/// [`PrivateKey::pem`], which the store seals; `Debug` shows only the public half.
pub struct PrivateKey {
    public_key: PublicKey,
    pem: Zeroizing<String>,
}

impl PrivateKey {
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The key as normalised PEM (its blocks re-encoded with 64-character lines).
    pub fn pem(&self) -> &Zeroizing<String> {
        &self.pem
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("public_key", &self.public_key.to_string())
            .field("pem", &"[REDACTED]")
            .finish()
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the private key is empty")]
    Empty,
    #[error("{0}")]
    Format(String),
    #[error("{0}")]
    Encrypted(String),
}

pub fn parse(text: &str) -> Result<PrivateKey, KeyError> {
    let blocks = pem::parse(text).map_err(|error| match error {
        PemError::Empty => KeyError::Empty,
        other => KeyError::Format(other.to_string()),
    })?;
    // Encryption is named first: an encrypted key is otherwise unreadable and looks malformed.
    for block in &blocks {
        if block.label == "ENCRYPTED PRIVATE KEY" {
            return Err(KeyError::Encrypted(
                "the private key is an encrypted PKCS#8 key (ENCRYPTED PRIVATE KEY)".into(),
            ));
        }
        if block.is_legacy_encrypted() {
            return Err(KeyError::Encrypted(format!(
                "the private key \"{}\" is encrypted (Proc-Type: 4,ENCRYPTED)",
                block.label
            )));
        }
    }

    let mut named_curve = None;
    let mut key_block = None;
    let mut stored = Zeroizing::new(String::new());
    for (index, block) in blocks.iter().enumerate() {
        match block.label.as_str() {
            "EC PARAMETERS" => {
                let curve = Oid::from_der(&block.der).map_err(|_| {
                    KeyError::Format("the EC PARAMETERS block does not name a curve".into())
                })?;
                named_curve = Some(curve);
            }
            "RSA PRIVATE KEY"
            | "EC PRIVATE KEY"
            | "PRIVATE KEY"
            | "DSA PRIVATE KEY"
            | "OPENSSH PRIVATE KEY" => {
                if key_block.is_some() {
                    return Err(KeyError::Format(
                        "the PrivateKey contains more than one private key".into(),
                    ));
                }
                key_block = Some(block);
            }
            other => {
                return Err(KeyError::Format(format!(
                    "PEM block {} is a \"{other}\", not a private key",
                    index + 1
                )));
            }
        }
        stored.push_str(&pem::encode(&block.label, &block.der));
    }
    let Some(block) = key_block else {
        return Err(KeyError::Format(
            "the PrivateKey contains no private key block".into(),
        ));
    };
    let public_key = match block.label.as_str() {
        "RSA PRIVATE KEY" => rsa_public_key(&block.der)?,
        "EC PRIVATE KEY" => ec_public_key(&block.der, named_curve)?,
        "PRIVATE KEY" => pkcs8_public_key(&block.der)?,
        "DSA PRIVATE KEY" => PublicKey::Unsupported("DSA".into()),
        _ => {
            return Err(KeyError::Format(
                "OpenSSH private keys are not supported: convert it to PEM with `ssh-keygen -p -m PEM`"
                    .into(),
            ));
        }
    };
    Ok(PrivateKey {
        public_key,
        pem: stored,
    })
}

fn rsa_public_key(der: &[u8]) -> Result<PublicKey, KeyError> {
    let key = pkcs1::RsaPrivateKey::<UintRef<'_>>::try_from(der).map_err(|_| {
        KeyError::Format("the RSA private key is not a valid PKCS#1 RSAPrivateKey".into())
    })?;
    let public_key = PublicKey::rsa(key.modulus.as_bytes(), key.public_exponent.as_bytes());
    // Sizes we refuse anyway are not worth the arithmetic (and could be made expensive).
    if public_key.refusal().is_none() {
        check_rsa_consistency(key)?;
    }
    Ok(public_key)
}

/// The private parts must belong to the public ones, including the CRT values the key carries
/// (which OpenSSL and ring sign with): p·q = n with p, q > 1; dP = d mod (p−1) and
/// e·dP ≡ 1 mod (p−1), the same for q; and qInv·q ≡ 1 mod p. Matching (n, e) with the
/// certificate is not enough: a key with the right (n, e) and any other d would pass, and then
/// fail every TLS handshake. Only multiplications and remainders, in constant time: checking
/// the carried values costs a fraction of deriving them (a modular inversion).
fn check_rsa_consistency(key: pkcs1::RsaPrivateKey<UintRef<'_>>) -> Result<(), KeyError> {
    use crypto_bigint::{BoxedUint, ConcatenatingMul, NonZero};
    let inconsistent = || {
        KeyError::Format(
            "the RSA private key is inconsistent: its private parts (p, q, d, dP, dQ, qInv) do not belong to its modulus and exponent".into(),
        )
    };
    let modulus = strip_leading_zeros(key.modulus.as_bytes());
    if modulus.len() > 64 * 1024 {
        return Err(inconsistent());
    }
    // Each part at its own width (the primes and CRT values are half the modulus): the cost of
    // a remainder grows with the widths of both operands.
    let number = |part: UintRef<'_>| {
        let bytes = strip_leading_zeros(part.as_bytes());
        let bits = (bytes.len() as u32 * 8).div_ceil(64).max(1) * 64;
        BoxedUint::from_be_slice(bytes, bits).map_err(|_| inconsistent())
    };
    let [e, d, p, q, dp, dq, qinv] = [
        key.public_exponent,
        key.private_exponent,
        key.prime1,
        key.prime2,
        key.exponent1,
        key.exponent2,
        key.coefficient,
    ]
    .map(number);
    let (e, d, p, q, dp, dq, qinv) = (e?, d?, p?, q?, dp?, dq?, qinv?);
    let non_zero = |value: BoxedUint| NonZero::new(value).into_option().ok_or_else(inconsistent);
    let one = |like: &BoxedUint| BoxedUint::one_with_precision(like.bits_precision());
    if p <= one(&p) || q <= one(&q) {
        return Err(inconsistent());
    }
    // The product of the primes is public once it equals n: compare it in plain bytes.
    if strip_leading_zeros(&p.concatenating_mul(&q).to_be_bytes()) != modulus {
        return Err(inconsistent());
    }
    let p_minus_one = non_zero(p.wrapping_sub(one(&p)))?;
    let q_minus_one = non_zero(q.wrapping_sub(one(&q)))?;
    let p = non_zero(p)?;
    let consistent = equal(&d.rem(&p_minus_one), &dp)
        & equal(&d.rem(&q_minus_one), &dq)
        & equal(&e.concatenating_mul(&dp).rem(&p_minus_one), &one(&dp))
        & equal(&e.concatenating_mul(&dq).rem(&q_minus_one), &one(&dq))
        & equal(&qinv.concatenating_mul(&q).rem(&p), &one(&qinv));
    if consistent {
        Ok(())
    } else {
        Err(inconsistent())
    }
}

/// `a == b` in constant time, whatever their widths.
fn equal(a: &crypto_bigint::BoxedUint, b: &crypto_bigint::BoxedUint) -> bool {
    use crypto_bigint::Resize;
    // Widening only: nothing is cut.
    let bits = a.bits_precision().max(b.bits_precision());
    a.resize_unchecked(bits) == b.resize_unchecked(bits)
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// A SEC1 `ECPrivateKey`; `outer_curve` comes from an `EC PARAMETERS` block or PKCS#8.
fn ec_public_key(der: &[u8], outer_curve: Option<Oid>) -> Result<PublicKey, KeyError> {
    let key = sec1::EcPrivateKey::try_from(der).map_err(|_| {
        KeyError::Format("the EC private key is not a valid SEC1 ECPrivateKey".into())
    })?;
    let inner_curve = key.parameters.and_then(|p| p.named_curve());
    let curve_oid = match (inner_curve, outer_curve) {
        (Some(inner), Some(outer)) if inner != outer => {
            return Err(KeyError::Format(format!(
                "the EC key names curve {inner} but its parameters name curve {outer}"
            )));
        }
        (Some(curve), _) | (None, Some(curve)) => curve,
        (None, None) => {
            return Err(KeyError::Format(
                "the EC private key does not name its curve".into(),
            ));
        }
    };
    let Some(curve) = Curve::from_oid(curve_oid) else {
        return Ok(PublicKey::Unsupported(oids::key_algorithm_name(
            oids::EC_PUBLIC_KEY,
            Some(curve_oid),
        )));
    };
    let point = curve.public_point_of(key.private_key).ok_or_else(|| {
        KeyError::Format(format!("the EC private key is not a valid {curve} scalar"))
    })?;
    if let Some(embedded) = key.public_key
        && curve.normalize_point(embedded).as_ref() != Some(&point)
    {
        return Err(KeyError::Format(
            "the EC private key's embedded public key does not belong to it".into(),
        ));
    }
    Ok(PublicKey::Ec { curve, point })
}

fn pkcs8_public_key(der: &[u8]) -> Result<PublicKey, KeyError> {
    let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|_| {
        KeyError::Format("the PRIVATE KEY is not a valid PKCS#8 PrivateKeyInfo".into())
    })?;
    let algorithm = info.algorithm.oid;
    let inner = info.private_key.as_bytes();
    match algorithm {
        oids::RSA_ENCRYPTION | oids::RSASSA_PSS => rsa_public_key(inner),
        oids::EC_PUBLIC_KEY => ec_public_key(inner, info.algorithm.parameters_oid().ok()),
        other => Ok(PublicKey::Unsupported(oids::key_algorithm_name(
            other,
            info.algorithm.parameters_oid().ok(),
        ))),
    }
}
