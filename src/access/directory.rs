//! Each account's RAM state as requests need it: parsed once, with its custom policies
//! compiled, and kept until the store's RAM epoch moves (a change here, or one another node
//! announced) or for at most [`TIME_TO_LIVE`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::Principal;
use super::policy::{self, Decision, MAX_DOCUMENT_CHARS, MAX_SESSION_POLICY_CHARS, Policy};
use super::system_policies;
use crate::access::ram_state::{Attachment, PolicyType, RamState};
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
                let narrowed = inline_policy(text)
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

/// Sessions' inline policies, compiled once (they were checked when the session was made).
static INLINE_POLICIES: std::sync::LazyLock<Mutex<HashMap<String, Arc<Policy>>>> =
    std::sync::LazyLock::new(Default::default);
/// Inline policies kept compiled at once; past it the map starts over.
const MAX_INLINE_POLICIES: usize = 1_000;

fn inline_policy(text: &str) -> Option<Arc<Policy>> {
    let mut compiled = INLINE_POLICIES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(policy) = compiled.get(text) {
        return Some(policy.clone());
    }
    let policy = Arc::new(Policy::permission(text, MAX_SESSION_POLICY_CHARS).ok()?);
    if compiled.len() >= MAX_INLINE_POLICIES {
        compiled.clear();
    }
    compiled.insert(text.to_owned(), policy.clone());
    Some(policy)
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
    /// What the policies of `caller` are decided from: `None` for the account's own key, which
    /// needs nothing read.
    pub async fn for_caller(
        &self,
        store: &dyn Store,
        caller: &super::Caller,
    ) -> Result<Option<Arc<AccountRam>>, StoreError> {
        if caller.principal == Principal::Root {
            return Ok(None);
        }
        self.account(store, &caller.account_id).await.map(Some)
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::ram_state::{CustomPolicy, Group, PolicyVersion, Role, User};
    use crate::access::{Facts, Session};

    fn attachment(policy_type: PolicyType, name: &str) -> Attachment {
        Attachment {
            policy_type,
            policy_name: name.into(),
            attached_ms: 0,
        }
    }

    fn account() -> AccountRam {
        let deny_one = r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"slb:DeleteServerCertificate","Resource":"acs:slb:*:*:certificate/keep"}]}"#;
        let state = RamState {
            users: vec![User {
                id: "u1".into(),
                name: "alice".into(),
                policies: vec![attachment(PolicyType::Custom, "protect")],
                ..User::default()
            }],
            groups: vec![Group {
                id: "g1".into(),
                name: "ops".into(),
                members: vec!["u1".into()],
                policies: vec![attachment(PolicyType::System, "AliyunSLBFullAccess")],
                ..Group::default()
            }],
            policies: vec![CustomPolicy {
                name: "protect".into(),
                default_version: "v1".into(),
                versions: vec![PolicyVersion {
                    id: "v1".into(),
                    document: deny_one.into(),
                    created_ms: 0,
                }],
                next_version: 2,
                ..CustomPolicy::default()
            }],
            roles: vec![Role {
                id: "r1".into(),
                name: "renewer".into(),
                policies: vec![attachment(PolicyType::System, "AliyunSLBFullAccess")],
                ..Role::default()
            }],
            root_keys: None,
        };
        AccountRam::new(1, state)
    }

    fn decide(principal: &Principal, action: &str, resource: &str) -> Decision {
        let facts = Facts {
            source_ip: "127.0.0.1".parse().unwrap(),
            current_time: time::OffsetDateTime::UNIX_EPOCH,
            secure_transport: false,
        };
        let request = policy::Request {
            action,
            resource,
            facts: &facts,
        };
        account().decide(principal, &request)
    }

    fn session(policy: Option<&str>) -> Principal {
        Principal::RoleSession(Box::new(Session {
            role_id: "r1".into(),
            role_name: "renewer".into(),
            session_name: "ci".into(),
            policy: policy.map(str::to_owned),
            expires_ms: i64::MAX,
        }))
    }

    #[test]
    fn users_get_their_own_and_their_groups_policies() {
        let alice = Principal::User {
            id: "u1".into(),
            name: "alice".into(),
        };
        let keep = "acs:slb:cn-hangzhou:1:certificate/keep";
        let other = "acs:slb:cn-hangzhou:1:certificate/other";
        assert_eq!(
            decide(&alice, "slb:DeleteServerCertificate", other),
            Decision::Allow
        );
        assert_eq!(
            decide(&alice, "slb:DeleteServerCertificate", keep),
            Decision::Deny
        );
        assert_eq!(decide(&alice, "ram:CreateUser", "*"), Decision::Unmatched);
        let stranger = Principal::User {
            id: "gone".into(),
            name: "bob".into(),
        };
        assert_eq!(
            decide(&stranger, "slb:DescribeLoadBalancers", "*"),
            Decision::Unmatched
        );
        assert_eq!(
            decide(&Principal::Root, "ram:CreateUser", "*"),
            Decision::Allow
        );
    }

    #[test]
    fn a_session_gets_the_intersection_of_its_role_and_its_inline_policy() {
        let read_only = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["slb:Describe*","ram:*"],"Resource":"*"}]}"#;
        let lb = "acs:slb:cn-hangzhou:1:loadbalancer/lb-1";
        // The role alone.
        assert_eq!(
            decide(&session(None), "slb:DeleteLoadBalancer", lb),
            Decision::Allow
        );
        // Narrowed: what both allow...
        assert_eq!(
            decide(&session(Some(read_only)), "slb:DescribeLoadBalancers", lb),
            Decision::Allow
        );
        // ...not what only the role allows, nor what only the inline policy does.
        assert_eq!(
            decide(&session(Some(read_only)), "slb:DeleteLoadBalancer", lb),
            Decision::Unmatched
        );
        assert_eq!(
            decide(&session(Some(read_only)), "ram:CreateUser", "*"),
            Decision::Unmatched
        );
        // A Deny in the inline policy wins.
        let deny = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"slb:Describe*","Resource":"*"}]}"#;
        assert_eq!(
            decide(&session(Some(deny)), "slb:DescribeLoadBalancers", lb),
            Decision::Deny
        );
    }
}
