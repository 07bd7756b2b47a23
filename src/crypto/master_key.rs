//! The root key: it wraps the keyring of KEKs, which wrap every stored secret.
//!
//! It comes from a file (`--master-key-file`), from the environment (`SLBCERT_MASTER_KEY`), or
//! from `DATA_DIR/master.key`, made on the first start. A file readable by group or others is
//! refused, as Garage refuses its secret files.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

pub const DEFAULT_FILE: &str = "master.key";
pub const ENVIRONMENT_VARIABLE: &str = "SLBCERT_MASTER_KEY";

pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    pub fn generate() -> MasterKey {
        let mut key = Zeroizing::new([0u8; 32]);
        getrandom::fill(key.as_mut()).expect("the operating system's random source is available");
        MasterKey(key)
    }

    /// The vault derives and wraps with it; nothing outside the crate sees it.
    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The base64 text a key file holds.
    fn encoded(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(self.0.as_ref()))
    }

    fn decode(text: &str, origin: &str) -> Result<MasterKey, MasterKeyError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| MasterKeyError::Malformed(origin.to_owned()))?,
        );
        let array: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| MasterKeyError::Malformed(origin.to_owned()))?;
        Ok(MasterKey(Zeroizing::new(array)))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error(
        "the master key file {path} is readable by group or others (mode {mode:o}); \
         make it private with: chmod 600 {path}"
    )]
    TooOpen { path: String, mode: u32 },
    #[error("cannot read the master key file {path}: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the master key file {path}: {source}")]
    Uncreatable {
        path: String,
        source: std::io::Error,
    },
    #[error("the master key in {0} is not 32 bytes of base64")]
    Malformed(String),
    #[error(
        "no master key: {0} does not exist, but the store already holds secrets sealed under one; \
         restore the key file, or point --master-key-file or SLBCERT_MASTER_KEY at it"
    )]
    Missing(String),
}

/// Where the master key was found.
#[derive(Debug, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Environment,
    /// Generated now, at this path (the first start).
    Created(PathBuf),
}

/// Loads the master key: `file` if given, else the environment's value if given, else
/// `DATA_DIR/master.key`, which is created only when `may_create` (nothing is sealed yet).
pub fn load(
    file: Option<&Path>,
    environment: Option<Zeroizing<String>>,
    data_dir: &Path,
    may_create: bool,
) -> Result<(MasterKey, Origin), MasterKeyError> {
    if let Some(path) = file {
        return Ok((read_file(path)?, Origin::File(path.to_owned())));
    }
    if let Some(value) = environment {
        return Ok((
            MasterKey::decode(&value, ENVIRONMENT_VARIABLE)?,
            Origin::Environment,
        ));
    }
    let path = data_dir.join(DEFAULT_FILE);
    if path.exists() {
        return Ok((read_file(&path)?, Origin::File(path)));
    }
    if !may_create {
        return Err(MasterKeyError::Missing(path.display().to_string()));
    }
    let key = MasterKey::generate();
    write_new(&path, &key)?;
    Ok((key, Origin::Created(path)))
}

fn read_file(path: &Path) -> Result<MasterKey, MasterKeyError> {
    let shown = path.display().to_string();
    let unreadable = |source| MasterKeyError::Unreadable {
        path: shown.clone(),
        source,
    };
    let mode = std::fs::metadata(path)
        .map_err(unreadable)?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(MasterKeyError::TooOpen {
            path: shown,
            mode: mode & 0o777,
        });
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(unreadable)?);
    MasterKey::decode(&text, &shown)
}

fn write_new(path: &Path, key: &MasterKey) -> Result<(), MasterKeyError> {
    let uncreatable = |source| MasterKeyError::Uncreatable {
        path: path.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(uncreatable)?;
    file.write_all(key.encoded().as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(uncreatable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_once_owner_only_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let (created, origin) = load(None, None, dir.path(), true).unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        assert_eq!(origin, Origin::Created(path.clone()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (again, origin) = load(None, None, dir.path(), true).unwrap();
        assert_eq!(origin, Origin::File(path));
        assert_eq!(created.bytes(), again.bytes());
        assert_eq!(format!("{again:?}"), "MasterKey([REDACTED])");
    }

    #[test]
    fn a_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        load(None, None, dir.path(), true).unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        for mode in [0o644, 0o640, 0o604] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let error = load(None, None, dir.path(), true).unwrap_err();
            assert!(matches!(error, MasterKeyError::TooOpen { .. }), "{mode:o}");
            assert!(error.to_string().contains("chmod 600"));
        }
    }

    #[test]
    fn never_made_again_once_secrets_exist() {
        let dir = tempfile::tempdir().unwrap();
        let error = load(None, None, dir.path(), false).unwrap_err();
        assert!(matches!(error, MasterKeyError::Missing(_)));
        assert!(!dir.path().join(DEFAULT_FILE).exists());
    }

    #[test]
    fn the_environment_and_explicit_files_win() {
        let dir = tempfile::tempdir().unwrap();
        let key = MasterKey::generate();
        let (loaded, origin) = load(None, Some(key.encoded()), dir.path(), true).unwrap();
        assert_eq!((loaded.bytes(), origin), (key.bytes(), Origin::Environment));
        assert!(!dir.path().join(DEFAULT_FILE).exists());
        let bad = load(None, Some(Zeroizing::new("short".into())), dir.path(), true);
        assert!(matches!(bad, Err(MasterKeyError::Malformed(_))));

        let file = dir.path().join("elsewhere.key");
        write_new(&file, &key).unwrap();
        let (loaded, origin) = load(Some(&file), None, dir.path(), true).unwrap();
        assert_eq!((loaded.bytes(), origin), (key.bytes(), Origin::File(file)));
    }
}
