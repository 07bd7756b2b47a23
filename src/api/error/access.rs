//! Errors of who may do what: security tokens, disabled keys, policy refusals, throttling,
//! and the RAM and STS actions. Mapped once to RAM's and STS's codes, statuses and messages.

use http::StatusCode;

/// A kind of RAM entity, as error codes name it (`EntityNotExist.User.AccessKey`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entity {
    User,
    Group,
    Policy,
    PolicyVersion,
    Role,
    UserAccessKey,
    UserPolicy,
    GroupPolicy,
    RolePolicy,
    UserGroup,
}

impl Entity {
    fn code(self) -> &'static str {
        match self {
            Entity::User => "User",
            Entity::Group => "Group",
            Entity::Policy => "Policy",
            Entity::PolicyVersion => "Policy.Version",
            Entity::Role => "Role",
            Entity::UserAccessKey => "User.AccessKey",
            Entity::UserPolicy => "User.Policy",
            Entity::GroupPolicy => "Group.Policy",
            Entity::RolePolicy => "Role.Policy",
            Entity::UserGroup => "User.Group",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Entity::User => "user",
            Entity::Group => "group",
            Entity::Policy => "policy",
            Entity::PolicyVersion => "policy version",
            Entity::Role => "role",
            Entity::UserAccessKey => "access key",
            Entity::UserPolicy => "policy attachment of the user",
            Entity::GroupPolicy => "policy attachment of the group",
            Entity::RolePolicy => "policy attachment of the role",
            Entity::UserGroup => "membership of the user in the group",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    #[error("missing security token")]
    MissingSecurityToken,
    #[error("malformed security token")]
    SecurityTokenMalformed,
    #[error("expired security token")]
    SecurityTokenExpired,
    #[error("security token of another key")]
    SecurityTokenMismatch,
    #[error("disabled access key")]
    AccessKeyInactive,
    /// A policy refused the request (or none allowed it).
    #[error("not authorized")]
    Forbidden,
    /// STS refuses to make a session; the message says why.
    #[error("no permission: {0}")]
    NoPermission(&'static str),
    #[error("throttled")]
    Throttled { retry_after_ms: u64 },
    /// OwnerId and its kin naming another account.
    #[error("{parameter} names another account")]
    OwnerMismatch { parameter: &'static str },
    #[error("no such {kind:?}: {name}")]
    EntityNotExist { kind: Entity, name: String },
    #[error("{kind:?} exists: {name}")]
    EntityAlreadyExists { kind: Entity, name: String },
    /// `code` after `DeleteConflict.`.
    #[error("delete conflict: {message}")]
    DeleteConflict { code: &'static str, message: String },
    /// `code` after `LimitExceeded.`.
    #[error("limit exceeded: {message}")]
    LimitExceeded { code: &'static str, message: String },
    /// `code` after `InvalidParameter.` (`UserName.Length`, ...).
    #[error("invalid parameter: {message}")]
    InvalidParameter { code: String, message: String },
    #[error("malformed policy document: {0}")]
    MalformedPolicyDocument(String),
    /// AssumeRole's inline policy.
    #[error("policy grammar: {0}")]
    PolicyGrammar(String),
}

impl AccessError {
    pub fn code(&self) -> String {
        match self {
            AccessError::MissingSecurityToken => "MissingSecurityToken".into(),
            AccessError::SecurityTokenMalformed => "InvalidSecurityToken.Malformed".into(),
            AccessError::SecurityTokenExpired => "InvalidSecurityToken.Expired".into(),
            AccessError::SecurityTokenMismatch => {
                "InvalidSecurityToken.MismatchWithAccessKey".into()
            }
            AccessError::AccessKeyInactive => "InvalidAccessKeyId.Inactive".into(),
            AccessError::Forbidden => "Forbidden.RAM".into(),
            AccessError::NoPermission(_) => "NoPermission".into(),
            AccessError::Throttled { .. } => "Throttling.User".into(),
            AccessError::OwnerMismatch { parameter } => format!("Invalid{parameter}"),
            AccessError::EntityNotExist { kind, .. } => format!("EntityNotExist.{}", kind.code()),
            AccessError::EntityAlreadyExists { kind, .. } => {
                format!("EntityAlreadyExists.{}", kind.code())
            }
            AccessError::DeleteConflict { code, .. } => format!("DeleteConflict.{code}"),
            AccessError::LimitExceeded { code, .. } => format!("LimitExceeded.{code}"),
            AccessError::InvalidParameter { code, .. } => format!("InvalidParameter.{code}"),
            AccessError::MalformedPolicyDocument(_) => "MalformedPolicyDocument".into(),
            AccessError::PolicyGrammar(_) => "InvalidParameter.PolicyGrammar".into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AccessError::Forbidden | AccessError::NoPermission(_) => StatusCode::FORBIDDEN,
            AccessError::EntityNotExist { .. } => StatusCode::NOT_FOUND,
            AccessError::EntityAlreadyExists { .. }
            | AccessError::DeleteConflict { .. }
            | AccessError::LimitExceeded { .. } => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AccessError::MissingSecurityToken => "SecurityToken is mandatory for this action.".into(),
            AccessError::SecurityTokenMalformed => "Specified SecurityToken is malformed.".into(),
            AccessError::SecurityTokenExpired => "Specified SecurityToken is expired.".into(),
            AccessError::SecurityTokenMismatch => {
                "Specified SecurityToken mismatch with the AccessKey.".into()
            }
            AccessError::AccessKeyInactive => "Specified access key is disabled.".into(),
            AccessError::Forbidden => "User not authorized to operate on the specified resource, or this API doesn't support RAM.".into(),
            AccessError::NoPermission(why) => (*why).into(),
            AccessError::Throttled { .. } => "Request was denied due to user flow control.".into(),
            AccessError::OwnerMismatch { parameter } => format!(
                "The specified {parameter} is not valid: it must name the account of the AccessKey."
            ),
            AccessError::EntityNotExist { kind, name } => {
                format!("The {} does not exist: {name}.", kind.noun())
            }
            AccessError::EntityAlreadyExists { kind, name } => {
                format!("The {} already exists: {name}.", kind.noun())
            }
            AccessError::DeleteConflict { message, .. }
            | AccessError::LimitExceeded { message, .. }
            | AccessError::InvalidParameter { message, .. } => message.clone(),
            AccessError::MalformedPolicyDocument(detail) => {
                format!("The policy document is malformed: {detail}.")
            }
            AccessError::PolicyGrammar(detail) => {
                format!("The parameter Policy has not passed grammar check: {detail}.")
            }
        }
    }

    /// The `x-acs-retry-after` header (milliseconds) that tells the tea clients when to retry.
    pub fn retry_after_ms(&self) -> Option<u64> {
        match self {
            AccessError::Throttled { retry_after_ms } => Some(*retry_after_ms),
            _ => None,
        }
    }
}
