//! Each account's RAM state as requests need it: parsed once, with its custom policies
//! compiled, and kept until the store's RAM epoch moves (a change here, or one another node
//! announced) or for at most [`TIME_TO_LIVE`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Principal;
use super::policy::{self, Decision, MAX_DOCUMENT_CHARS, MAX_SESSION_POLICY_CHARS, Policy};
use super::system_policies;
use crate::products::ram::model::{Attachment, PolicyType, RamState};
use crate::store::{Store, StoreError};

/// A bound on staleness even if a change was never heard of.
const TIME_TO_LIVE: Duration = Duration::from_secs(10);
/// Accounts kept at once; past it the cache starts over (cheap to refill).
const MAX_ACCOUNTS: usize = 10_000;

/// One account's RAM state, parsed, with its custom policies' default versions compiled.
#[derive(Debug)]
pub struct AccountRam {
    pub generation: i64,
    pub state: RamState,
    custom: HashMap<String, Arc<Policy>>,
}

impl AccountRam {
    fn new(generation: i64, state: RamState) -> AccountRam {
        let custom = state
            .policies
            .iter()
            .filter_map(|policy| {
                // Stored documents were checked when written; one that no longer parses
                // grants nothing.
                let compiled =
                    Policy::permission(policy.default_document(), MAX_DOCUMENT_CHARS).ok()?;
                Some((policy.name.clone(), Arc::new(compiled)))
            })
            .collect();
        AccountRam {
            generation,
            state,
            custom,
        }
    }

    fn attached<'a>(
        &'a self,
        attachments: &'a [Attachment],
    ) -> impl Iterator<Item = &'a Policy> + 'a {
        attachments
            .iter()
            .filter_map(|attachment| match attachment.policy_type {
                PolicyType::System => {
                    system_policies::find(&attachment.policy_name).map(|p| &p.policy)
                }
                PolicyType::Custom => self.custom.get(&attachment.policy_name).map(Arc::as_ref),
            })
    }

    /// What the policies of `principal` say about `request`.
    pub fn decide(&self, principal: &Principal, request: &policy::Request<'_>) -> Decision {
        match principal {
            Principal::Root => Decision::Allow,
            Principal::User { id, .. } => {
                let Some(user) = self.state.user_by_id(id) else {
                    return Decision::Unmatched;
                };
                let groups = self
                    .state
                    .groups_of(id)
                    .flat_map(|group| group.policies.iter());
                let own = user.policies.iter();
                let attachments: Vec<Attachment> = own.chain(groups).cloned().collect();
                policy::decide(self.attached(&attachments), request)
            }
            Principal::RoleSession(session) => {
                let Some(role) = self.state.role_by_id(&session.role_id) else {
                    return Decision::Unmatched;
                };
                let granted = policy::decide(self.attached(&role.policies), request);
                let Some(text) = &session.policy else {
                    return granted;
                };
                // The inline policy narrows: both must allow, and a Deny in either wins.
                let narrowed = Policy::permission(text, MAX_SESSION_POLICY_CHARS)
                    .map_or(Decision::Unmatched, |inline| inline.decide(request));
                match (granted, narrowed) {
                    (Decision::Deny, _) | (_, Decision::Deny) => Decision::Deny,
                    (Decision::Allow, Decision::Allow) => Decision::Allow,
                    _ => Decision::Unmatched,
                }
            }
        }
    }
}

struct Cached {
    ram: Arc<AccountRam>,
    epoch: u64,
    at: Instant,
}

#[derive(Default)]
pub struct Directory {
    accounts: Mutex<HashMap<String, Cached>>,
}

impl Directory {
    /// The account's RAM state, as fresh as the store's epoch says.
    pub async fn account(
        &self,
        store: &dyn Store,
        account_id: &str,
    ) -> Result<Arc<AccountRam>, StoreError> {
        let epoch = store.ram_epoch();
        {
            let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(cached) = accounts.get(account_id)
                && cached.epoch == epoch
                && cached.at.elapsed() < TIME_TO_LIVE
            {
                return Ok(cached.ram.clone());
            }
        }
        let document = store.ram_document(account_id).await?;
        let state = RamState::from_document(document.text.as_deref()).map_err(|error| {
            StoreError::Database(format!("RAM document of {account_id}: {error}"))
        })?;
        let ram = Arc::new(AccountRam::new(document.generation, state));
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        if accounts.len() >= MAX_ACCOUNTS && !accounts.contains_key(account_id) {
            accounts.clear();
        }
        accounts.insert(
            account_id.to_owned(),
            Cached {
                ram: ram.clone(),
                epoch,
                at: Instant::now(),
            },
        );
        Ok(ram)
    }
}
