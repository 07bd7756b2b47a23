//! Who may do what: the principals behind requests (an account's own key, RAM users, role
//! sessions of STS), RAM policy documents and their evaluation, STS tokens, and throttling.
//! The RAM and STS actions that manage all this are in [`crate::products::ram`] and
//! [`crate::products::sts`]; the dispatcher asks [`Directory::permits`] before every action.

pub mod authenticate;
pub mod authorize;
pub mod conditions;
mod directory;
pub mod policy;
pub mod ram_state;
pub mod resources;
mod syntax;
pub mod system_policies;
pub mod throttle;
pub mod tokens;

pub use authenticate::{Caller, Verifier};
pub use conditions::Facts;
pub use directory::{AccountRam, Directory};

use serde::{Deserialize, Serialize};

/// Who made a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The account's own AccessKey (what `account create` prints): may do everything.
    Root,
    /// A RAM user, by its key.
    User { id: String, name: String },
    /// Temporary credentials from STS AssumeRole.
    RoleSession(Box<Session>),
}

/// A role session, as its SecurityToken carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub role_id: String,
    pub role_name: String,
    pub session_name: String,
    /// The inline policy of the AssumeRole: the session may do only what both it and the
    /// role's policies allow.
    pub policy: Option<String>,
    pub expires_ms: i64,
}

impl Principal {
    /// How the audit trail names it: `root`, `user/NAME`, `assumed-role/ROLE/SESSION`.
    pub fn label(&self) -> String {
        match self {
            Principal::Root => "root".into(),
            Principal::User { name, .. } => format!("user/{name}"),
            Principal::RoleSession(session) => {
                format!(
                    "assumed-role/{}/{}",
                    session.role_name, session.session_name
                )
            }
        }
    }

    /// Its ARN, as GetCallerIdentity shows it and trust policies name it.
    pub fn arn(&self, account_id: &str) -> String {
        match self {
            Principal::Root => format!("acs:ram::{account_id}:root"),
            other => format!("acs:ram::{account_id}:{}", other.label()),
        }
    }
}

/// STS's refusal when policies or the trust policy do not let the caller assume the role.
pub const NOT_AUTHORIZED: &str =
    "You are not authorized to do this action. You should be authorized by RAM.";

/// The ARN of a role.
pub fn role_arn(account_id: &str, role_name: &str) -> String {
    format!("acs:ram::{account_id}:role/{role_name}")
}
