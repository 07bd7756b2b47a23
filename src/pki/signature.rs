//! Verification of a certificate's signature by its issuer's key.
//!
//! RustCrypto rather than x509-parser's ring-backed `verify`: ring refuses P-521 and RSA keys
//! under 2048 bits, and both are algorithms SLB accepts, so they may sign a chain.

use der::asn1::ObjectIdentifier as Oid;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::signature::Verifier;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};
use x509_parser::certificate::X509Certificate;
use x509_parser::signature_algorithm::SignatureAlgorithm;

use super::oids;
use super::public_key::{Curve, PublicKey};

#[derive(Clone, Copy)]
enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: Oid) -> Option<Hash> {
        match oid {
            oids::SHA1 => Some(Hash::Sha1),
            oids::SHA224 => Some(Hash::Sha224),
            oids::SHA256 => Some(Hash::Sha256),
            oids::SHA384 => Some(Hash::Sha384),
            oids::SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(message).to_vec(),
            Hash::Sha224 => Sha224::digest(message).to_vec(),
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }
}

enum Scheme {
    RsaPkcs1(Hash),
    RsaPss { hash: Hash, salt_length: usize },
    Ecdsa(Hash),
}

/// Checks that `issuer` signed `child`. The error says why not, for the client.
pub fn verify(
    child: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    issuer_key: &PublicKey,
) -> Result<(), String> {
    let algorithm = to_oid(child.signature_algorithm.algorithm.as_bytes())?;
    let scheme = scheme_of(child, algorithm)?;
    let message = child.tbs_certificate.as_ref();
    let signature = child.signature_value.data.as_ref();
    let valid = match (scheme, issuer_key) {
        (Scheme::RsaPkcs1(hash), PublicKey::Rsa { .. }) => {
            let key = rsa_key(issuer)?;
            verify_rsa_pkcs1(hash, key, message, signature)
        }
        (Scheme::RsaPss { hash, salt_length }, PublicKey::Rsa { .. }) => {
            let key = rsa_key(issuer)?;
            verify_rsa_pss(hash, salt_length, key, message, signature)
        }
        (Scheme::Ecdsa(hash), PublicKey::Ec { curve, point }) => {
            verify_ecdsa(*curve, point, &hash.digest(message), signature)
        }
        (_, key) => {
            return Err(format!(
                "it is signed with {} but the next certificate's key is {key}",
                oids::signature_algorithm_name(algorithm)
            ));
        }
    };
    if valid {
        Ok(())
    } else {
        Err("its signature does not verify with the next certificate's public key".into())
    }
}

fn scheme_of(child: &X509Certificate<'_>, algorithm: Oid) -> Result<Scheme, String> {
    let unsupported = || {
        format!(
            "its signature algorithm {} is not supported",
            oids::signature_algorithm_name(algorithm)
        )
    };
    Ok(match algorithm {
        oids::SHA1_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha1),
        oids::SHA224_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha224),
        oids::SHA256_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha256),
        oids::SHA384_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha384),
        oids::SHA512_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha512),
        oids::ECDSA_WITH_SHA1 => Scheme::Ecdsa(Hash::Sha1),
        oids::ECDSA_WITH_SHA224 => Scheme::Ecdsa(Hash::Sha224),
        oids::ECDSA_WITH_SHA256 => Scheme::Ecdsa(Hash::Sha256),
        oids::ECDSA_WITH_SHA384 => Scheme::Ecdsa(Hash::Sha384),
        oids::ECDSA_WITH_SHA512 => Scheme::Ecdsa(Hash::Sha512),
        oids::RSASSA_PSS => {
            let Ok(SignatureAlgorithm::RSASSA_PSS(params)) =
                SignatureAlgorithm::try_from(&child.signature_algorithm)
            else {
                return Err("its RSASSA-PSS parameters cannot be read".into());
            };
            let hash = Hash::from_oid(to_oid(params.hash_algorithm_oid().as_bytes())?)
                .ok_or_else(unsupported)?;
            Scheme::RsaPss {
                hash,
                salt_length: params.salt_length() as usize,
            }
        }
        _ => return Err(unsupported()),
    })
}

fn to_oid(bytes: &[u8]) -> Result<Oid, String> {
    Oid::from_bytes(bytes).map_err(|_| "its signature algorithm cannot be read".to_string())
}

fn rsa_key(issuer: &X509Certificate<'_>) -> Result<rsa::PublicKey, String> {
    rsa::PublicKey::from_pkcs1_der(&issuer.public_key().subject_public_key.data)
        .map_err(|_| "the next certificate's RSA key cannot be used to verify it".to_string())
}

fn verify_rsa_pkcs1(hash: Hash, key: rsa::PublicKey, message: &[u8], signature: &[u8]) -> bool {
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    let Ok(signature) = Signature::try_from(signature) else {
        return false;
    };
    match hash {
        Hash::Sha1 => VerifyingKey::<Sha1>::new(key).verify(message, &signature),
        Hash::Sha224 => VerifyingKey::<Sha224>::new(key).verify(message, &signature),
        Hash::Sha256 => VerifyingKey::<Sha256>::new(key).verify(message, &signature),
        Hash::Sha384 => VerifyingKey::<Sha384>::new(key).verify(message, &signature),
        Hash::Sha512 => VerifyingKey::<Sha512>::new(key).verify(message, &signature),
    }
    .is_ok()
}

fn verify_rsa_pss(
    hash: Hash,
    salt_length: usize,
    key: rsa::PublicKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    use rsa::pss::{Signature, VerifyingKey};
    let Ok(signature) = Signature::try_from(signature) else {
        return false;
    };
    match hash {
        Hash::Sha1 => {
            VerifyingKey::<Sha1>::new_with_salt_len(key, salt_length).verify(message, &signature)
        }
        Hash::Sha224 => {
            VerifyingKey::<Sha224>::new_with_salt_len(key, salt_length).verify(message, &signature)
        }
        Hash::Sha256 => {
            VerifyingKey::<Sha256>::new_with_salt_len(key, salt_length).verify(message, &signature)
        }
        Hash::Sha384 => {
            VerifyingKey::<Sha384>::new_with_salt_len(key, salt_length).verify(message, &signature)
        }
        Hash::Sha512 => {
            VerifyingKey::<Sha512>::new_with_salt_len(key, salt_length).verify(message, &signature)
        }
    }
    .is_ok()
}

fn verify_ecdsa(curve: Curve, point: &[u8], prehash: &[u8], signature: &[u8]) -> bool {
    use rsa::signature::hazmat::PrehashVerifier;
    macro_rules! check {
        ($krate:ident) => {{
            let Ok(key) = $krate::ecdsa::VerifyingKey::from_sec1_bytes(point) else {
                return false;
            };
            let Ok(signature) = $krate::ecdsa::DerSignature::try_from(signature) else {
                return false;
            };
            key.verify_prehash(prehash, &signature).is_ok()
        }};
    }
    match curve {
        Curve::P256 => check!(p256),
        Curve::P384 => check!(p384),
        Curve::P521 => check!(p521),
    }
}
