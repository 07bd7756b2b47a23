//! Accounts and their AccessKey pairs.

use serde::Serialize;

use crate::audit::AuditRecord;
use crate::clock;
use crate::crypto::{Binding, Secret};
use crate::ids;
use crate::store::{AccessKey, Account, Store, StoreError};
use crate::vault::{Vault, VaultError};

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

/// Parts of the first account's identity fixed by the operator (`serve --account-id …`), so
/// that CI configuration can hard-code them; the rest is drawn at random.
#[derive(Clone, Debug, Default)]
pub struct FixedIdentity {
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<Secret>,
}

impl FixedIdentity {
    pub fn is_empty(&self) -> bool {
        self.account_id.is_none()
            && self.access_key_id.is_none()
            && self.access_key_secret.is_none()
    }
}

/// An AccountId as Alibaba Cloud's: 16 digits, the first not 0.
pub fn parse_account_id(text: &str) -> Result<String, String> {
    let digits = text.len() == 16 && text.bytes().all(|b| b.is_ascii_digit());
    if digits && !text.starts_with('0') {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not an AccountId: 16 digits, the first not 0"
        ))
    }
}

/// What an AccessKeyId or AccessKeySecret given by the operator may be: 16 to 64 letters and
/// digits (so never an `STS.` key, which are STS's own).
fn is_key_text(text: &str) -> bool {
    (16..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// An AccessKeyId: 16 to 64 letters and digits.
pub fn parse_access_key_id(text: &str) -> Result<String, String> {
    if is_key_text(text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not an AccessKeyId: 16 to 64 letters and digits"
        ))
    }
}

/// An AccessKeySecret: 16 to 64 letters and digits. The refusal does not repeat it.
pub fn parse_access_key_secret(text: &str) -> Result<Secret, String> {
    if is_key_text(text) {
        Ok(Secret::new(text.to_owned()))
    } else {
        Err("the AccessKeySecret must be 16 to 64 letters and digits".into())
    }
}

/// Creates an account with its default resource group and one AccessKey pair, whose secret is
/// stored sealed; `audit` is the record of this administration (by the CLI or at first start).
pub async fn create(
    store: &dyn Store,
    vault: &Vault,
    name: &str,
    audit: &AuditRecord,
) -> Result<Credentials, VaultError> {
    create_with(store, vault, name, audit, &FixedIdentity::default()).await
}

/// `create`, with what `fixed` fixes of the new account's identity.
pub async fn create_with(
    store: &dyn Store,
    vault: &Vault,
    name: &str,
    audit: &AuditRecord,
    fixed: &FixedIdentity,
) -> Result<Credentials, VaultError> {
    let created = insert(store, vault, name, audit, fixed, false).await?;
    Ok(created.expect("an account is made unless the first one was asked for"))
}

/// Creates the store's first account, with what `fixed` fixes of its identity, unless it has
/// one (made meanwhile by another node).
pub async fn create_first(
    store: &dyn Store,
    vault: &Vault,
    name: &str,
    audit: &AuditRecord,
    fixed: &FixedIdentity,
) -> Result<Option<Credentials>, VaultError> {
    insert(store, vault, name, audit, fixed, true).await
}

/// Whether the store's first account is the one `fixed` describes: its key exists, belongs to
/// the fixed account and has the fixed secret. Why not, if it is not.
pub async fn check_fixed(
    store: &dyn Store,
    vault: &Vault,
    fixed: &FixedIdentity,
) -> Result<Result<(), String>, VaultError> {
    let Some(access_key_id) = &fixed.access_key_id else {
        return Ok(match &fixed.account_id {
            Some(id) if store.accounts(Some(id), 1).await?.is_empty() => Err(format!(
                "the store already holds accounts, and {id} is not one of them"
            )),
            _ => Ok(()),
        });
    };
    let Some(owner) = store.find_access_key(access_key_id).await? else {
        return Ok(Err(format!(
            "the store already holds accounts, and the AccessKeyId {access_key_id} is not theirs"
        )));
    };
    if fixed
        .account_id
        .as_ref()
        .is_some_and(|id| *id != owner.account_id)
    {
        return Ok(Err(format!(
            "the AccessKeyId {access_key_id} belongs to account {}, not the one given",
            owner.account_id
        )));
    }
    if let Some(secret) = &fixed.access_key_secret {
        let binding = Binding::AccessKeySecret {
            access_key_id: access_key_id.clone(),
        };
        let stored = vault.open_text(&owner.sealed_secret, &binding).await?;
        if stored.as_bytes() != secret.expose().as_bytes() {
            return Ok(Err(format!(
                "the stored secret of {access_key_id} is not the --access-key-secret given"
            )));
        }
    }
    Ok(Ok(()))
}

/// `only_first`: only as the store's first account.
async fn insert(
    store: &dyn Store,
    vault: &Vault,
    name: &str,
    audit: &AuditRecord,
    fixed: &FixedIdentity,
    only_first: bool,
) -> Result<Option<Credentials>, VaultError> {
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        let created_ms = clock::unix_ms(clock::now());
        let account = Account {
            account_id: fixed.account_id.clone().unwrap_or_else(ids::account_id),
            name: name.to_owned(),
            default_resource_group_id: ids::resource_group_id(),
            created_ms,
        };
        let access_key_id = fixed
            .access_key_id
            .clone()
            .unwrap_or_else(ids::access_key_id);
        let secret = match &fixed.access_key_secret {
            Some(secret) => Secret::new(secret.expose().to_owned()),
            None => Secret::new(ids::access_key_secret()),
        };
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
