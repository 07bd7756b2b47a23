//! RAM's answers, as serde types.

use serde::Serialize;

use super::date;
use super::model::{CustomPolicy, Group, PolicyVersion, Role, User, UserKey};
use crate::access::role_arn;

/// RAM's own system policies are dated so in every answer.
const SYSTEM_DATE: &str = "2015-04-28T00:00:00Z";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserView<'a> {
    user_id: &'a str,
    user_name: &'a str,
    display_name: &'a str,
    mobile_phone: &'a str,
    email: &'a str,
    comments: &'a str,
    create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_date: Option<String>,
    /// GetUser's (never logged in to a console here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login_date: Option<&'static str>,
}

impl<'a> UserView<'a> {
    pub fn of(user: &'a User, with_update: bool) -> UserView<'a> {
        UserView {
            user_id: &user.id,
            user_name: &user.name,
            display_name: &user.display_name,
            mobile_phone: &user.mobile_phone,
            email: &user.email,
            comments: &user.comments,
            create_date: date(user.created_ms),
            update_date: with_update.then(|| date(user.updated_ms)),
            last_login_date: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleView<'a> {
    role_id: &'a str,
    role_name: &'a str,
    arn: String,
    description: &'a str,
    max_session_duration: u32,
    create_date: String,
    /// Not in CreateRole's model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assume_role_policy_document: Option<&'a str>,
    /// GetRole's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_service_linked_role: Option<bool>,
}

impl<'a> RoleView<'a> {
    pub fn of(role: &'a Role, account_id: &str, with_trust: bool) -> RoleView<'a> {
        RoleView {
            role_id: &role.id,
            role_name: &role.name,
            arn: role_arn(account_id, &role.name),
            description: &role.description,
            max_session_duration: role.max_session_duration,
            create_date: date(role.created_ms),
            update_date: Some(date(role.updated_ms)),
            assume_role_policy_document: with_trust.then_some(role.trust_policy.as_str()),
            is_service_linked_role: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupView<'a> {
    group_id: &'a str,
    group_name: &'a str,
    comments: &'a str,
    create_date: String,
    /// Not in CreateGroup's model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_date: Option<String>,
}

impl<'a> GroupView<'a> {
    pub fn of(group: &'a Group) -> GroupView<'a> {
        GroupView {
            group_id: &group.id,
            group_name: &group.name,
            comments: &group.comments,
            create_date: date(group.created_ms),
            update_date: Some(date(group.updated_ms)),
        }
    }
}

/// A group a user is in (ListGroupsForUser).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Membership<'a> {
    pub group_name: &'a str,
    pub comments: &'a str,
    pub join_date: String,
}

/// A user in a group (ListUsersForGroup).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Member<'a> {
    pub user_name: &'a str,
    pub display_name: &'a str,
    pub join_date: String,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionView<'a> {
    version_id: &'a str,
    is_default_version: bool,
    policy_document: &'a str,
    create_date: String,
}

impl<'a> VersionView<'a> {
    pub fn of(version: &'a PolicyVersion, default: &str) -> VersionView<'a> {
        VersionView {
            version_id: &version.id,
            is_default_version: version.id == default,
            policy_document: &version.document,
            create_date: date(version.created_ms),
        }
    }

    /// A system policy's one version.
    pub fn system(document: &'a str) -> VersionView<'a> {
        VersionView {
            version_id: "v1",
            is_default_version: true,
            policy_document: document,
            create_date: SYSTEM_DATE.into(),
        }
    }

    pub fn document(&self) -> &'a str {
        self.policy_document
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyView<'a> {
    policy_name: &'a str,
    policy_type: &'static str,
    description: &'a str,
    default_version: &'a str,
    create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment_count: Option<usize>,
    /// GetPolicy's: the default version's document (null if it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<Option<&'a str>>,
}

impl<'a> PolicyView<'a> {
    /// `attachments` where the action's model shows the update date and attachment count.
    pub fn custom(policy: &'a CustomPolicy, attachments: Option<usize>) -> PolicyView<'a> {
        PolicyView {
            policy_name: &policy.name,
            policy_type: "Custom",
            description: &policy.description,
            default_version: &policy.default_version,
            create_date: date(policy.created_ms),
            update_date: attachments.map(|_| date(policy.updated_ms)),
            attachment_count: attachments,
            policy_document: None,
        }
    }

    pub fn system(
        policy: &'a crate::access::system_policies::SystemPolicy,
        attachments: usize,
    ) -> PolicyView<'a> {
        PolicyView {
            policy_name: policy.name,
            policy_type: "System",
            description: policy.description,
            default_version: "v1",
            create_date: SYSTEM_DATE.into(),
            update_date: Some(SYSTEM_DATE.into()),
            attachment_count: Some(attachments),
            policy_document: None,
        }
    }
}

/// A policy attached to a user, group or role.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Attached<'a> {
    pub policy_name: &'a str,
    pub policy_type: &'static str,
    pub description: String,
    pub default_version: String,
    pub attach_date: String,
}

/// An AccessKey: with its secret only in CreateAccessKey's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyView<'a> {
    access_key_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_secret: Option<&'a str>,
    status: &'static str,
    create_date: String,
}

impl<'a> KeyView<'a> {
    pub fn of(key: &'a UserKey, secret: Option<&'a str>) -> KeyView<'a> {
        KeyView {
            access_key_id: &key.id,
            access_key_secret: secret,
            status: key.status.as_str(),
            create_date: date(key.created_ms),
        }
    }
}
