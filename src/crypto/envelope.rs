//! The at-rest format of secrets: envelope encryption with AES-256-GCM.
//!
//! Each value has its own random data key (DEK); the DEK is wrapped by a key-encryption key
//! (KEK) of a numbered version. The stored bytes say how to open them:
//!
//! ```text
//! [1 format = 1][4 KEK version, BE][12 nonce][48 wrapped DEK + tag][12 nonce][ciphertext + tag]
//! ```
//!
//! Both layers authenticate the caller's associated data (which names the record the value
//! belongs to), so a ciphertext copied onto another record fails to open; the DEK layer also
//! authenticates the KEK version, so the header cannot be relabelled.

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

pub const FORMAT: u8 = 1;
const NONCE: usize = 12;
const TAG: usize = 16;
const KEY: usize = 32;
const WRAPPED_DEK: usize = KEY + TAG;
const HEADER: usize = 1 + 4 + NONCE + WRAPPED_DEK + NONCE;

/// A key-encryption key of one version. Never printed.
pub struct Kek {
    pub version: u32,
    key: Zeroizing<[u8; KEY]>,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kek {{ version: {}, key: [REDACTED] }}", self.version)
    }
}

impl Kek {
    pub fn generate(version: u32) -> Kek {
        Kek {
            version,
            key: random_key(),
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the sealed value is truncated or malformed")]
    Malformed,
    #[error("the sealed value has format {0}, which this build does not know")]
    UnknownFormat(u8),
    #[error("the sealed value does not open: it was altered, or belongs to another record")]
    Integrity,
}

fn random_key() -> Zeroizing<[u8; KEY]> {
    let mut key = Zeroizing::new([0u8; KEY]);
    getrandom::fill(key.as_mut()).expect("the operating system's random source is available");
    key
}

fn random_nonce() -> [u8; NONCE] {
    let mut nonce = [0u8; NONCE];
    getrandom::fill(&mut nonce).expect("the operating system's random source is available");
    nonce
}

fn cipher(key: &[u8; KEY]) -> Aes256Gcm {
    Aes256Gcm::new_from_slice(key).expect("AES-256 takes 32-byte keys")
}

/// `nonce || AES-256-GCM(key, plaintext, aad)`.
fn encrypt(key: &[u8; KEY], plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let nonce = random_nonce();
    let mut buffer = plaintext.to_vec();
    cipher(key)
        .encrypt_in_place(&Nonce::from(nonce), aad, &mut buffer)
        .expect("AES-GCM encrypts messages of this size");
    let mut out = Vec::with_capacity(NONCE + buffer.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buffer);
    out
}

/// The inverse of [`encrypt`]; the plaintext is zeroized when dropped.
fn decrypt(
    key: &[u8; KEY],
    sealed: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    if sealed.len() < NONCE + TAG {
        return Err(EnvelopeError::Malformed);
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE);
    let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| EnvelopeError::Malformed)?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    cipher(key)
        .decrypt_in_place(&Nonce::from(nonce), aad, &mut *buffer)
        .map_err(|_| EnvelopeError::Integrity)?;
    Ok(buffer)
}

fn dek_aad(version: u32, aad: &[u8]) -> Vec<u8> {
    [b"slbcert/dek/v1\0".as_slice(), &version.to_be_bytes(), aad].concat()
}

fn data_aad(aad: &[u8]) -> Vec<u8> {
    [b"slbcert/data/v1\0".as_slice(), aad].concat()
}

/// The KEK version a sealed value was wrapped under.
pub fn kek_version(sealed: &[u8]) -> Result<u32, EnvelopeError> {
    match sealed.first() {
        None => Err(EnvelopeError::Malformed),
        Some(&FORMAT) if sealed.len() >= HEADER + TAG => Ok(u32::from_be_bytes(
            sealed[1..5].try_into().expect("4 bytes"),
        )),
        Some(&FORMAT) => Err(EnvelopeError::Malformed),
        Some(&other) => Err(EnvelopeError::UnknownFormat(other)),
    }
}

pub fn seal(kek: &Kek, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let dek = random_key();
    let mut out = Vec::with_capacity(HEADER + plaintext.len() + TAG);
    out.push(FORMAT);
    out.extend_from_slice(&kek.version.to_be_bytes());
    out.extend_from_slice(&encrypt(&kek.key, dek.as_ref(), &dek_aad(kek.version, aad)));
    out.extend_from_slice(&encrypt(&dek, plaintext, &data_aad(aad)));
    out
}

fn unwrap_dek(kek: &Kek, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<[u8; KEY]>, EnvelopeError> {
    if kek_version(sealed)? != kek.version {
        return Err(EnvelopeError::Integrity);
    }
    let wrapped = &sealed[5..5 + NONCE + WRAPPED_DEK];
    let dek = decrypt(&kek.key, wrapped, &dek_aad(kek.version, aad))?;
    let mut key = Zeroizing::new([0u8; KEY]);
    key.copy_from_slice(&dek);
    Ok(key)
}

pub fn open(kek: &Kek, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let dek = unwrap_dek(kek, sealed, aad)?;
    decrypt(&dek, &sealed[5 + NONCE + WRAPPED_DEK..], &data_aad(aad))
}

/// Re-wraps the data key under `new`; the data ciphertext is kept as it is.
pub fn rewrap(old: &Kek, new: &Kek, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    let dek = unwrap_dek(old, sealed, aad)?;
    // Check the data layer too, so that a damaged value is never re-labelled as good.
    let data = &sealed[5 + NONCE + WRAPPED_DEK..];
    decrypt(&dek, data, &data_aad(aad))?;
    let mut out = Vec::with_capacity(sealed.len());
    out.push(FORMAT);
    out.extend_from_slice(&new.version.to_be_bytes());
    out.extend_from_slice(&encrypt(&new.key, dek.as_ref(), &dek_aad(new.version, aad)));
    out.extend_from_slice(data);
    Ok(out)
}

/// A KEK wrapped by the master key, as the keyring table stores it.
pub fn wrap_kek(master: &[u8; KEY], kek: &Kek) -> Vec<u8> {
    encrypt(master, kek.key.as_ref(), &kek_aad(kek.version))
}

pub fn unwrap_kek(master: &[u8; KEY], version: u32, wrapped: &[u8]) -> Result<Kek, EnvelopeError> {
    let bytes = decrypt(master, wrapped, &kek_aad(version))?;
    let mut key = Zeroizing::new([0u8; KEY]);
    if bytes.len() != KEY {
        return Err(EnvelopeError::Malformed);
    }
    key.copy_from_slice(&bytes);
    Ok(Kek { version, key })
}

fn kek_aad(version: u32) -> Vec<u8> {
    [b"slbcert/kek/v1\0".as_slice(), &version.to_be_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEG\n";

    #[test]
    fn seals_and_opens_with_the_same_record() {
        let kek = Kek::generate(3);
        let sealed = seal(&kek, SECRET, b"row-1");
        assert_eq!(kek_version(&sealed).unwrap(), 3);
        assert_eq!(open(&kek, &sealed, b"row-1").unwrap().as_slice(), SECRET);
    }

    #[test]
    fn the_ciphertext_reveals_nothing_and_two_seals_differ() {
        let kek = Kek::generate(1);
        let first = seal(&kek, SECRET, b"row");
        let second = seal(&kek, SECRET, b"row");
        assert_ne!(first, second);
        assert!(!first.windows(8).any(|w| SECRET.windows(8).any(|s| s == w)));
    }

    #[test]
    fn every_flipped_byte_is_a_clean_error() {
        let kek = Kek::generate(1);
        let sealed = seal(&kek, SECRET, b"row");
        for index in 0..sealed.len() {
            let mut damaged = sealed.clone();
            damaged[index] ^= 0x01;
            assert!(open(&kek, &damaged, b"row").is_err(), "byte {index}");
        }
        for length in 0..sealed.len() {
            assert!(
                open(&kek, &sealed[..length], b"row").is_err(),
                "length {length}"
            );
        }
    }

    #[test]
    fn a_value_moved_to_another_record_or_key_does_not_open() {
        let kek = Kek::generate(1);
        let sealed = seal(&kek, SECRET, b"account-a/region/cert-1");
        assert_eq!(
            open(&kek, &sealed, b"account-b/region/cert-1").unwrap_err(),
            EnvelopeError::Integrity
        );
        assert!(open(&Kek::generate(1), &sealed, b"account-a/region/cert-1").is_err());
    }

    #[test]
    fn rewrap_changes_the_kek_and_keeps_the_value() {
        let (old, new) = (Kek::generate(1), Kek::generate(2));
        let sealed = seal(&old, SECRET, b"row");
        let rewrapped = rewrap(&old, &new, &sealed, b"row").unwrap();
        assert_eq!(kek_version(&rewrapped).unwrap(), 2);
        assert_eq!(open(&new, &rewrapped, b"row").unwrap().as_slice(), SECRET);
        assert!(open(&old, &rewrapped, b"row").is_err());
        // A relabelled header does not open either.
        let mut relabelled = rewrapped.clone();
        relabelled[1..5].copy_from_slice(&1u32.to_be_bytes());
        assert!(open(&old, &relabelled, b"row").is_err());
    }

    #[test]
    fn keks_wrap_under_the_master_key() {
        let master = [7u8; KEY];
        let kek = Kek::generate(5);
        let wrapped = wrap_kek(&master, &kek);
        let unwrapped = unwrap_kek(&master, 5, &wrapped).unwrap();
        let sealed = seal(&kek, SECRET, b"row");
        assert_eq!(
            open(&unwrapped, &sealed, b"row").unwrap().as_slice(),
            SECRET
        );
        assert!(unwrap_kek(&[8u8; KEY], 5, &wrapped).is_err());
        assert!(unwrap_kek(&master, 6, &wrapped).is_err());
        assert_eq!(format!("{kek:?}"), "Kek { version: 5, key: [REDACTED] }");
    }
}
