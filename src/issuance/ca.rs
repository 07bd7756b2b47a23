//! The CA's side of an order, through instant-acme: each slbcert account's ACME account (made
//! once, its key sealed in the store), placing an order, and reading where one stands.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use instant_acme::{
    Account, AccountBuilder, AccountCredentials, AuthorizationStatus, ChallengeType,
    ExternalAccountKey, Identifier, NewAccount, NewOrder, Order, Problem,
};
use zeroize::Zeroizing;

use super::{IssuanceError, Options};
use crate::crypto::Binding;
use crate::store::certificate_orders::{ChallengeRecord, ValidateType};
use crate::store::{Store, StoreError};
use crate::vault::Vault;

/// Past this, a call to the CA counts as unanswered (instant-acme sets no timeout of its own).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

pub struct Client {
    directory: String,
    ca_file: Option<PathBuf>,
    contact: Option<String>,
    external_account: Option<(String, Vec<u8>)>,
    /// Each slbcert account's ACME account, once opened.
    accounts: tokio::sync::Mutex<HashMap<String, Account>>,
}

/// An order just placed with the CA.
pub struct Placed {
    pub url: String,
    pub challenge: ChallengeRecord,
    /// The CA holds the domain proved already (an authorization it reuses).
    pub proved: bool,
}

impl Client {
    pub fn new(options: &Options) -> Result<Client, String> {
        let external_account = match &options.external_account {
            Some(eab) => {
                let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(eab.hmac_key.expose().trim_end_matches('='))
                    .map_err(|_| "--acme-eab-hmac is not base64url".to_owned())?;
                Some((eab.key_id.clone(), key))
            }
            None => None,
        };
        if let Some(path) = &options.ca_file {
            let pem = std::fs::read(path)
                .map_err(|error| format!("--acme-ca-file {}: {error}", path.display()))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(format!(
                    "--acme-ca-file {}: no PEM certificate in it",
                    path.display()
                ));
            }
        }
        Ok(Client {
            directory: options.directory.clone(),
            ca_file: options.ca_file.clone(),
            contact: options
                .email
                .as_ref()
                .map(|email| format!("mailto:{email}")),
            external_account,
            accounts: Default::default(),
        })
    }

    pub fn directory(&self) -> &str {
        &self.directory
    }

    fn builder(&self) -> Result<AccountBuilder, IssuanceError> {
        match &self.ca_file {
            Some(path) => Account::builder_with_root(path),
            None => Account::builder(),
        }
        .map_err(classify)
    }

    /// The account's ACME account: opened from the store, or made with the CA and stored.
    pub async fn account(
        &self,
        store: &dyn Store,
        vault: &Vault,
        account_id: &str,
        now_ms: i64,
    ) -> Result<Account, IssuanceError> {
        // Held while opening, so that one process makes one ACME account per slbcert account.
        let mut accounts = self.accounts.lock().await;
        if let Some(account) = accounts.get(account_id) {
            return Ok(account.clone());
        }
        let binding = Binding::AcmeAccount {
            account_id: account_id.to_owned(),
            directory_url: self.directory.clone(),
        };
        let account = match store.acme_account(account_id, &self.directory).await? {
            Some(sealed) => self.open(vault, &sealed, &binding).await?,
            None => {
                let (account, credentials) = self.create().await?;
                let json = Zeroizing::new(
                    serde_json::to_vec(&credentials)
                        .map_err(|error| IssuanceError::Unavailable(error.to_string()))?,
                );
                let sealed = vault.seal(&json, &binding).await?;
                match store
                    .insert_acme_account(account_id, &self.directory, sealed, now_ms)
                    .await
                {
                    Ok(()) => account,
                    // Another node made one first: every node uses the one stored.
                    Err(StoreError::Conflict(_)) => {
                        let theirs = store.acme_account(account_id, &self.directory).await?;
                        let theirs = theirs.ok_or(StoreError::NotFound(account_id.to_owned()))?;
                        self.open(vault, &theirs, &binding).await?
                    }
                    Err(error) => return Err(error.into()),
                }
            }
        };
        accounts.insert(account_id.to_owned(), account.clone());
        Ok(account)
    }

    async fn open(
        &self,
        vault: &Vault,
        sealed: &crate::crypto::Sealed,
        binding: &Binding,
    ) -> Result<Account, IssuanceError> {
        let json = vault.open_sealed(sealed, binding).await?;
        let credentials: AccountCredentials = serde_json::from_slice(&json)
            .map_err(|error| IssuanceError::Unavailable(format!("stored ACME account: {error}")))?;
        timed(self.builder()?.from_credentials(credentials)).await
    }

    async fn create(&self) -> Result<(Account, AccountCredentials), IssuanceError> {
        let contact: Vec<&str> = self.contact.iter().map(String::as_str).collect();
        let new = NewAccount {
            contact: &contact,
            terms_of_service_agreed: true,
            only_return_existing: false,
        };
        let external = self
            .external_account
            .as_ref()
            .map(|(id, key)| ExternalAccountKey::new(id.clone(), key));
        timed(
            self.builder()?
                .create(&new, self.directory.clone(), external.as_ref()),
        )
        .await
    }

    /// Places an order for `domain` and reads the challenge that `validate` proves it with.
    pub async fn place(
        &self,
        account: &Account,
        domain: &str,
        validate: ValidateType,
    ) -> Result<Placed, IssuanceError> {
        let identifiers = [Identifier::Dns(domain.to_owned())];
        let mut order = timed(account.new_order(&NewOrder::new(&identifiers))).await?;
        let url = order.url().to_owned();
        let proved = order.state().status != instant_acme::OrderStatus::Pending;
        let mut authorizations = order.authorizations();
        let mut authorization = timed(async {
            match authorizations.next().await {
                Some(result) => result,
                None => Err(instant_acme::Error::Str("the order has no authorization")),
            }
        })
        .await?;
        let proved = proved || authorization.status == AuthorizationStatus::Valid;
        let kind = match validate {
            ValidateType::Dns => ChallengeType::Dns01,
            ValidateType::File => ChallengeType::Http01,
        };
        let challenge = authorization.challenge(kind.clone()).ok_or_else(|| {
            IssuanceError::Refused(format!(
                "the certificate authority offers no {kind:?} challenge for {domain}"
            ))
        })?;
        let key_authorization = challenge.key_authorization();
        Ok(Placed {
            url,
            challenge: ChallengeRecord {
                url: challenge.url.clone(),
                token: challenge.token.clone(),
                key_authorization: key_authorization.as_str().to_owned(),
                dns_value: key_authorization.dns_value(),
            },
            proved,
        })
    }

    /// The order at `url`, as the CA has it now.
    pub async fn order(&self, account: &Account, url: &str) -> Result<Order, IssuanceError> {
        timed(account.order(url.to_owned())).await
    }
}

impl Client {
    /// Deactivates the pending authorizations of the order at `url` (its proofs stop counting).
    pub async fn deactivate(
        &self,
        store: &dyn Store,
        vault: &Vault,
        account_id: &str,
        url: &str,
        now_ms: i64,
    ) -> Result<(), IssuanceError> {
        let account = self.account(store, vault, account_id, now_ms).await?;
        let mut order = self.order(&account, url).await?;
        let mut authorizations = order.authorizations();
        while let Some(authorization) =
            timed(async { Ok::<_, instant_acme::Error>(authorizations.next().await) }).await?
        {
            let mut authorization = authorization.map_err(classify)?;
            if authorization.status == AuthorizationStatus::Pending {
                timed(authorization.deactivate()).await?;
            }
        }
        Ok(())
    }
}

/// Runs a call to the CA within [`CALL_TIMEOUT`], its error classified.
pub async fn timed<T>(
    call: impl Future<Output = Result<T, instant_acme::Error>>,
) -> Result<T, IssuanceError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(result) => result.map_err(classify),
        Err(_) => Err(IssuanceError::Unavailable(format!(
            "no answer within {} s",
            CALL_TIMEOUT.as_secs()
        ))),
    }
}

/// A problem of the order's (refused) or of the CA's and the network's (try again later).
pub fn classify(error: instant_acme::Error) -> IssuanceError {
    match error {
        instant_acme::Error::Api(problem) if !transient(&problem) => {
            IssuanceError::Refused(describe(&problem))
        }
        instant_acme::Error::Api(problem) => IssuanceError::Unavailable(describe(&problem)),
        other => IssuanceError::Unavailable(other.to_string()),
    }
}

fn transient(problem: &Problem) -> bool {
    let kind = problem.r#type.as_deref().unwrap_or_default();
    let status = problem.status.unwrap_or(500);
    status >= 500
        || status == 429
        || kind.ends_with(":rateLimited")
        || kind.ends_with(":badNonce")
        || kind.ends_with(":serverInternal")
}

/// A problem document in a line: its detail, then its type (`urn:ietf:params:acme:error:…`).
pub fn describe(problem: &Problem) -> String {
    let detail = problem.detail.as_deref().unwrap_or("no detail");
    match problem.r#type.as_deref() {
        Some(kind) => format!("{detail} ({kind})"),
        None => detail.to_owned(),
    }
}
