//! An account's RAM state: users with their AccessKeys, groups, custom policies with their
//! versions, roles, and the policies attached to each. Stored as one JSON document per account
//! (see [`crate::store::ram`]); listed in the order things were made. The RAM actions
//! ([`crate::products::ram`]) edit it; requests are decided from it ([`super::directory`]).

use serde::{Deserialize, Serialize};

/// What an account may hold, as RAM's quotas do (custom policies fewer than RAM's 1,500, so
/// that the account's document stays small: at most 100 × 5 versions × 6 KiB).
pub const MAX_USERS: usize = 1000;
pub const MAX_GROUPS: usize = 300;
pub const MAX_ROLES: usize = 1000;
pub const MAX_CUSTOM_POLICIES: usize = 100;
pub const MAX_POLICY_VERSIONS: usize = 5;
pub const MAX_KEYS_PER_USER: usize = 2;
pub const MAX_GROUPS_PER_USER: usize = 10;
/// Policies attached to one user, group or role.
pub const MAX_ATTACHED: usize = 25;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyType {
    System,
    Custom,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::System => "System",
            PolicyType::Custom => "Custom",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub policy_type: PolicyType,
    pub policy_name: String,
    pub attached_ms: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserKey {
    pub id: String,
    pub status: KeyStatus,
    pub created_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub name: String,
    pub display_name: String,
    pub mobile_phone: String,
    pub email: String,
    pub comments: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub keys: Vec<UserKey>,
    pub policies: Vec<Attachment>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub comments: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// User IDs (stable across renames).
    pub members: Vec<String>,
    pub policies: Vec<Attachment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub id: String,
    pub document: String,
    pub created_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomPolicy {
    pub name: String,
    pub description: String,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub default_version: String,
    pub versions: Vec<PolicyVersion>,
    /// The number of the next version.
    pub next_version: u32,
}

impl CustomPolicy {
    pub fn default_document(&self) -> &str {
        self.versions
            .iter()
            .find(|version| version.id == self.default_version)
            .map_or("", |version| version.document.as_str())
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub description: String,
    pub trust_policy: String,
    /// Seconds a session of this role may last at most.
    pub max_session_duration: u32,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub policies: Vec<Attachment>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RamState {
    #[serde(default)]
    pub users: Vec<User>,
    #[serde(default)]
    pub groups: Vec<Group>,
    #[serde(default)]
    pub policies: Vec<CustomPolicy>,
    #[serde(default)]
    pub roles: Vec<Role>,
    /// The account's own AccessKeys, once the account manages them (RAM's AccessKey actions
    /// without UserName): then only these authenticate as the account, and only while
    /// active. `None`: every root key the store holds is active, as `account create` made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_keys: Option<Vec<UserKey>>,
}

impl RamState {
    pub fn from_document(text: Option<&str>) -> Result<RamState, serde_json::Error> {
        match text {
            Some(text) => serde_json::from_str(text),
            None => Ok(RamState::default()),
        }
    }

    pub fn to_document(&self) -> String {
        serde_json::to_string(self).expect("RAM state serializes")
    }

    pub fn user(&self, name: &str) -> Option<&User> {
        self.users.iter().find(|user| user.name == name)
    }

    pub fn user_mut(&mut self, name: &str) -> Option<&mut User> {
        self.users.iter_mut().find(|user| user.name == name)
    }

    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|user| user.id == id)
    }

    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|group| group.name == name)
    }

    pub fn group_mut(&mut self, name: &str) -> Option<&mut Group> {
        self.groups.iter_mut().find(|group| group.name == name)
    }

    pub fn policy(&self, name: &str) -> Option<&CustomPolicy> {
        self.policies.iter().find(|policy| policy.name == name)
    }

    pub fn policy_mut(&mut self, name: &str) -> Option<&mut CustomPolicy> {
        self.policies.iter_mut().find(|policy| policy.name == name)
    }

    /// Role names are matched ignoring case, as RAM does (so they are unique ignoring case).
    pub fn role(&self, name: &str) -> Option<&Role> {
        self.roles
            .iter()
            .find(|role| role.name.eq_ignore_ascii_case(name))
    }

    pub fn role_mut(&mut self, name: &str) -> Option<&mut Role> {
        self.roles
            .iter_mut()
            .find(|role| role.name.eq_ignore_ascii_case(name))
    }

    pub fn role_by_id(&self, id: &str) -> Option<&Role> {
        self.roles.iter().find(|role| role.id == id)
    }

    /// The groups `user_id` belongs to.
    pub fn groups_of<'a>(&'a self, user_id: &'a str) -> impl Iterator<Item = &'a Group> + 'a {
        self.groups
            .iter()
            .filter(move |group| group.members.iter().any(|member| member == user_id))
    }

    /// Every attachment of a policy, to users, groups and roles.
    pub fn attachments(&self, policy_type: PolicyType, name: &str) -> usize {
        let counts = |policies: &[Attachment]| {
            policies
                .iter()
                .filter(|a| a.policy_type == policy_type && a.policy_name == name)
                .count()
        };
        self.users
            .iter()
            .map(|u| counts(&u.policies))
            .sum::<usize>()
            + self
                .groups
                .iter()
                .map(|g| counts(&g.policies))
                .sum::<usize>()
            + self
                .roles
                .iter()
                .map(|r| counts(&r.policies))
                .sum::<usize>()
    }
}
