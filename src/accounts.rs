//! Accounts and their AccessKey pairs.

use serde::Serialize;

use crate::audit::AuditRecord;
use crate::clock;
use crate::crypto::{Binding, Secret, Vault, VaultError};
use crate::ids;
use crate::store::{AccessKey, Account, Store, StoreError};

/// What `account create --json` prints and what `serve` writes to `DATA_DIR/credentials`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Credentials {
    pub account_id: String,
    pub access_key_id: String,
    #[serde(serialize_with = "expose")]
    pub access_key_secret: Secret,
}

fn expose<S: serde::Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

/// Random IDs can collide (1 in 10^15 for accounts): draw again a few times.
const ATTEMPTS: usize = 5;

/// Creates an account with its default resource group and one AccessKey pair, whose secret is
/// stored sealed; `audit` is the record of this administration (by the CLI or at first start).
pub async fn create(
    store: &dyn Store,
    vault: &Vault,
    name: &str,
    audit: &AuditRecord,
) -> Result<Credentials, VaultError> {
    let created = insert(store, vault, name, audit, false).await?;
    Ok(created.expect("an account is made unless the first one was asked for"))
}

/// Creates the store's first account, unless it has one (made meanwhile by another node).
pub async fn create_first(
    store: &dyn Store,
    vault: &Vault,
    name: &str,
    audit: &AuditRecord,
) -> Result<Option<Credentials>, VaultError> {
    insert(store, vault, name, audit, true).await
}

async fn insert(
    store: &dyn Store,
    vault: &Vault,
    name: &str,
    audit: &AuditRecord,
    only_first: bool,
) -> Result<Option<Credentials>, VaultError> {
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let created_ms = clock::unix_ms(clock::now());
        let account = Account {
            account_id: ids::account_id(),
            name: name.to_owned(),
            default_resource_group_id: ids::resource_group_id(),
            created_ms,
        };
        let access_key_id = ids::access_key_id();
        let secret = Secret::new(ids::access_key_secret());
        let binding = Binding::AccessKeySecret {
            access_key_id: access_key_id.clone(),
        };
        let key = AccessKey {
            sealed_secret: vault.seal(secret.expose().as_bytes(), &binding).await?,
            access_key_id,
            account_id: account.account_id.clone(),
            created_ms,
            user_id: None,
        };
        let credentials = Credentials {
            account_id: account.account_id.clone(),
            access_key_id: key.access_key_id.clone(),
            access_key_secret: secret,
        };
        let mut record = audit.clone();
        record.account_id = credentials.account_id.clone();
        record.access_key_id = credentials.access_key_id.clone();
        let line = record.success(&credentials.account_id, None);
        let inserted = if only_first {
            store.insert_first_account(account, key, line).await
        } else {
            store
                .insert_account(account, key, line)
                .await
                .map(|()| true)
        };
        match inserted {
            Ok(true) => return Ok(Some(credentials)),
            Ok(false) => return Ok(None),
            Err(StoreError::Conflict(what)) => last_error = Some(StoreError::Conflict(what)),
            Err(other) => return Err(other.into()),
        }
    }
    Err(last_error.unwrap_or(StoreError::Conflict("account")).into())
}
