//! The vault: seals and opens secrets with the keyring of KEKs, which lives in the store wrapped
//! by the master key. A KEK added by `slbcert keys rotate` in another process is picked up by
//! the next seal (which always uses the newest version) and by any open that meets it.
//! It sits above the store (whose keyring it reads) and below the actions that seal; what is
//! sealed and how is [`crate::crypto`]'s. Rotation and re-wrapping are in [`rotation`].

pub mod rotation;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use zeroize::Zeroizing;

use crate::audit::AuditLine;
use crate::crypto::envelope::{self, EnvelopeError, Kek};
use crate::crypto::{Binding, MasterKey, Sealed};
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
    #[error("the keyring has no KEK version {0}")]
    UnknownKek(u32),
    #[error(
        "the master key does not open KEK version {0}: it is not the key this store was sealed with"
    )]
    WrongMasterKey(u32),
}

/// How long the newest KEK version, once read from the store, is used for new seals before it
/// is read again: rotation (by another process) reaches every seal within this time.
pub const NEWEST_KEK_FOR: std::time::Duration = std::time::Duration::from_secs(1);

pub struct Vault {
    master: MasterKey,
    store: Arc<dyn Store>,
    keyring: RwLock<BTreeMap<u32, Arc<Kek>>>,
    /// The newest version, when it was read, and the store's keyring epoch then.
    newest: std::sync::Mutex<Option<(u32, std::time::Instant, u64)>>,
}

impl Vault {
    /// Opens the keyring, creating KEK version 1 if the store has none (`audit` records that).
    /// Fails if the master key does not open every stored KEK.
    pub async fn open(
        master: MasterKey,
        store: Arc<dyn Store>,
        audit: impl FnOnce(u32) -> AuditLine,
    ) -> Result<Vault, VaultError> {
        let vault = Vault {
            master,
            store,
            keyring: RwLock::new(BTreeMap::new()),
            newest: std::sync::Mutex::new(None),
        };
        if vault.store.newest_key_encryption_key().await?.is_none() {
            let kek = Kek::generate(1);
            let wrapped = envelope::wrap_kek(vault.master.bytes(), &kek);
            match vault
                .store
                .insert_key_encryption_key(1, wrapped, audit(1))
                .await
            {
                Ok(()) | Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        vault.reload().await?;
        Ok(vault)
    }

    async fn reload(&self) -> Result<(), VaultError> {
        let mut keyring = BTreeMap::new();
        for (version, wrapped) in self.store.key_encryption_keys().await? {
            let kek = envelope::unwrap_kek(self.master.bytes(), version, &wrapped)
                .map_err(|_| VaultError::WrongMasterKey(version))?;
            keyring.insert(version, Arc::new(kek));
        }
        *self.keyring.write().unwrap_or_else(|p| p.into_inner()) = keyring;
        Ok(())
    }

    fn cached(&self, version: u32) -> Option<Arc<Kek>> {
        let keyring = self.keyring.read().unwrap_or_else(|p| p.into_inner());
        keyring.get(&version).cloned()
    }

    async fn kek(&self, version: u32) -> Result<Arc<Kek>, VaultError> {
        if let Some(kek) = self.cached(version) {
            return Ok(kek);
        }
        self.reload().await?;
        self.cached(version).ok_or(VaultError::UnknownKek(version))
    }

    /// The newest KEK, as the store knew it at most [`NEWEST_KEK_FOR`] ago (rotation may
    /// happen in another process), or at once when the store heard of a rotation.
    pub async fn newest(&self) -> Result<Arc<Kek>, VaultError> {
        let known = *self.newest.lock().unwrap_or_else(|p| p.into_inner());
        let epoch = self.store.keyring_epoch();
        let version = match known {
            Some((version, read, seen)) if read.elapsed() < NEWEST_KEK_FOR && seen == epoch => {
                version
            }
            _ => {
                let version = self
                    .store
                    .newest_key_encryption_key()
                    .await?
                    .ok_or(VaultError::UnknownKek(1))?;
                *self.newest.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((version, std::time::Instant::now(), epoch));
                version
            }
        };
        self.kek(version).await
    }

    /// A key for `purpose`, derived from the master key: the same on every node that holds it,
    /// and across restarts (HMAC-SHA256 of the purpose under the master key).
    pub fn derived_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(self.master.bytes())
            .expect("HMAC takes any key length");
        mac.update(b"slbcert derived key\0");
        mac.update(purpose.as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    pub async fn seal(&self, plaintext: &[u8], binding: &Binding) -> Result<Sealed, VaultError> {
        let kek = self.newest().await?;
        Ok(Sealed(envelope::seal(
            &kek,
            plaintext,
            &binding.associated_data(),
        )))
    }

    pub async fn open_sealed(
        &self,
        sealed: &Sealed,
        binding: &Binding,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let kek = self.kek(envelope::kek_version(&sealed.0)?).await?;
        Ok(envelope::open(&kek, &sealed.0, &binding.associated_data())?)
    }

    /// A sealed text (a PEM key, an AccessKeySecret), opened.
    pub async fn open_text(
        &self,
        sealed: &Sealed,
        binding: &Binding,
    ) -> Result<Zeroizing<String>, VaultError> {
        let mut bytes = self.open_sealed(sealed, binding).await?;
        // Moved, not copied, into the String; wiped as the Vec if it is not UTF-8.
        String::from_utf8(std::mem::take(&mut *bytes))
            .map(Zeroizing::new)
            .map_err(|error| {
                drop(Zeroizing::new(error.into_bytes()));
                VaultError::Envelope(EnvelopeError::Malformed)
            })
    }

    /// The value re-wrapped under `newest`; its data ciphertext stays as it is.
    pub async fn rewrap(
        &self,
        sealed: &Sealed,
        binding: &Binding,
        newest: &Kek,
    ) -> Result<Sealed, VaultError> {
        let old = self.kek(envelope::kek_version(&sealed.0)?).await?;
        let data = binding.associated_data();
        Ok(Sealed(envelope::rewrap(&old, newest, &sealed.0, &data)?))
    }

    /// Adds a new KEK version, used by every seal from now on, here and in running servers.
    pub async fn rotate(&self, audit: impl Fn(u32) -> AuditLine) -> Result<u32, VaultError> {
        loop {
            let version = self.store.newest_key_encryption_key().await?.unwrap_or(0) + 1;
            let kek = Kek::generate(version);
            let wrapped = envelope::wrap_kek(self.master.bytes(), &kek);
            match self
                .store
                .insert_key_encryption_key(version, wrapped, audit(version))
                .await
            {
                Ok(()) => {
                    self.reload().await?;
                    // This process's own seals use it at once.
                    *self.newest.lock().unwrap_or_else(|p| p.into_inner()) = Some((
                        version,
                        std::time::Instant::now(),
                        self.store.keyring_epoch(),
                    ));
                    return Ok(version);
                }
                // Another rotation took this version first: take the next.
                Err(StoreError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
    }
}
