//! What a first start makes: the first account and its credentials file, the seed file's
//! items, and the one-line announcement `--ephemeral` prints.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::{CREDENTIALS_FILE, ServeError};
use crate::accounts::FixedIdentity;
use crate::audit::AuditRecord;
use crate::data_dir::DataDir;
use crate::ids;
use crate::state::AppState;
use crate::vault::VaultError;

/// Makes what the seed file describes on a store this start made (`fresh`); on a refusal, empties
/// the store again but for the first account, so that the failed start leaves nothing of it.
pub(super) async fn plant(
    state: &AppState,
    seed: &crate::seed::Loaded,
    fresh: bool,
) -> Result<(), ServeError> {
    if !fresh {
        tracing::info!(
            "--seed: the store already has accounts; the seed file was checked, not applied"
        );
        return Ok(());
    }
    let store_error = |error: crate::store::StoreError| ServeError::Seed(error.to_string());
    let mut first = state.store.accounts(None, 1).await.map_err(store_error)?;
    let Some(first) = first.pop() else {
        return Err(ServeError::Seed("the store has no first account".into()));
    };
    if let Err(why) = crate::seed::apply(state, seed, &first).await {
        let mut record = AuditRecord::new(&ids::request_id(), "Reset", "seed");
        record.account_id = first.account_id.clone();
        let line = record.success(&first.account_id, None);
        if let Err(error) = state.store.reset(&first.account_id, line).await {
            tracing::error!(%error, "--seed: cannot undo the items made before the refusal");
        }
        return Err(ServeError::Seed(why));
    }
    tracing::info!(accounts = seed.seed.accounts.len(), "--seed: made");
    Ok(())
}

/// `{"AccountId", "AccessKeyId", "AccessKeySecret", "Endpoint", "DataDir"}` on stdout, one line,
/// for the shell script or CI job that started this server.
pub(super) fn announce(data_dir: &Path, address: SocketAddr) -> Result<(), ServeError> {
    let path = data_dir.join(CREDENTIALS_FILE);
    let unreadable = |source| ServeError::Credentials {
        path: path.clone(),
        source,
    };
    let text = std::fs::read_to_string(&path).map_err(unreadable)?;
    let mut line: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|error| unreadable(std::io::Error::other(error)))?;
    line.insert("Endpoint".into(), address.to_string().into());
    line.insert("DataDir".into(), data_dir.display().to_string().into());
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::Value::Object(line))
        .and_then(|()| stdout.flush())
        .map_err(unreadable)
}

/// On an empty store, creates a first account (with what `fixed` fixes of its identity) and
/// writes its key pair to `DATA_DIR/credentials` (mode 0600), so that `serve` alone is enough
/// to try the API. On a store that has accounts, a fixed identity must be among them. Whether
/// this start made the first account.
pub(super) async fn bootstrap_first_account(
    data: &DataDir,
    data_dir: &Path,
    fixed: &FixedIdentity,
) -> Result<bool, ServeError> {
    let (store, vault) = (data.store.as_ref(), data.vault.as_ref());
    if store.count_accounts().await.map_err(VaultError::from)? > 0 {
        return match crate::accounts::check_fixed(store, vault, fixed).await? {
            Ok(()) => Ok(false),
            Err(why) => Err(ServeError::FixedIdentity(why)),
        };
    }
    let audit = AuditRecord::new(&ids::request_id(), "CreateAccount", "serve");
    let Some(credentials) =
        crate::accounts::create_first(store, vault, "default", &audit, fixed).await?
    else {
        // Another node sharing the database made it first: its data directory has the file.
        return Ok(false);
    };
    let path = data_dir.join(CREDENTIALS_FILE);
    let line = serde_json::to_string(&credentials).expect("credentials serialize");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut file| {
            file.write_all(line.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()
        })
        .map_err(|source| ServeError::Credentials {
            path: path.clone(),
            source,
        })?;
    tracing::info!(
        account_id = %credentials.account_id,
        access_key_id = %credentials.access_key_id,
        path = %path.display(),
        "created the first account; its AccessKey pair is in the credentials file"
    );
    Ok(true)
}
