//! Secrets at rest and in memory.
//!
//! Private keys reach the store only as a [`SealedPrivateKey`], made here and opened here, so
//! that encryption at rest (a later issue) changes this module and nothing else. Until then the
//! sealed form is the format-0 envelope: a version byte followed by the PEM, not encrypted.

mod secret;

use zeroize::Zeroizing;

pub use secret::Secret;

/// Envelope format 0: plaintext PEM behind a version byte.
const FORMAT_PLAINTEXT: u8 = 0;

/// A private key as stored. Opaque outside this module.
pub struct SealedPrivateKey(Vec<u8>);

impl SealedPrivateKey {
    pub fn seal(pem: &str) -> SealedPrivateKey {
        let mut bytes = Vec::with_capacity(pem.len() + 1);
        bytes.push(FORMAT_PLAINTEXT);
        bytes.extend_from_slice(pem.as_bytes());
        SealedPrivateKey(bytes)
    }

    pub fn from_stored(bytes: Vec<u8>) -> SealedPrivateKey {
        SealedPrivateKey(bytes)
    }

    pub fn as_stored(&self) -> &[u8] {
        &self.0
    }

    /// The PEM again; `None` if the stored bytes are not an envelope this build can open.
    pub fn open(&self) -> Option<Zeroizing<String>> {
        match self.0.split_first() {
            Some((&FORMAT_PLAINTEXT, pem)) => std::str::from_utf8(pem)
                .ok()
                .map(|pem| Zeroizing::new(pem.to_owned())),
            _ => None,
        }
    }
}

impl Drop for SealedPrivateKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl std::fmt::Debug for SealedPrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedPrivateKey([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_open_round_trips_and_debug_redacts() {
        let sealed = SealedPrivateKey::seal("-----BEGIN PRIVATE KEY-----\n");
        assert_eq!(
            sealed.open().unwrap().as_str(),
            "-----BEGIN PRIVATE KEY-----\n"
        );
        assert_eq!(format!("{sealed:?}"), "SealedPrivateKey([REDACTED])");
        assert!(SealedPrivateKey::from_stored(vec![9, 1]).open().is_none());
    }
}
