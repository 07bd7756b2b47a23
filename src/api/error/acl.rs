//! Errors of access control lists, with the codes SLB's error list and Terraform's provider
//! use (slb-families.md §9); all answer 400 except a missing list, which answers 404 like the
//! other missing SLB resources.

use http::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    #[error("access control list {0:?} not found")]
    NotExist(String),
    #[error("access control list {0:?} is in use")]
    InUse(String),
    #[error("access control list name {0:?} is taken")]
    NameExist(String),
    #[error("too many access control lists: {0}")]
    NumberOverLimit(String),
    #[error("entry not valid: {0}")]
    EntryIllegal(String),
    #[error("entry of the other IP version: {0}")]
    EntryOtherVersion(String),
    #[error("too many entries: {0}")]
    EntryExceedLimit(String),
    #[error("entry exists: {0}")]
    EntryExists(String),
    /// An entry that two lists of one listener would both hold.
    #[error("entry in two lists of a listener: {0}")]
    EntryInTwoLists(String),
    /// A list bound to as many listeners as one may be (the code is ours: SLB's is unknown).
    #[error("too many listeners: {0}")]
    ListenerOverLimit(String),
}

impl AclError {
    pub fn code(&self) -> &'static str {
        match self {
            AclError::NotExist(_) => "AclNotExist",
            AclError::InUse(_) => "AclInUsed",
            AclError::NameExist(_) => "AclNameExist",
            AclError::NumberOverLimit(_) => "AclNumberOverLimit",
            AclError::EntryIllegal(_) => "AclEntryIllegal",
            AclError::EntryOtherVersion(_) => "IllegalEntry",
            AclError::EntryExceedLimit(_) => "AclEntryExceedLimit",
            AclError::EntryExists(_) | AclError::EntryInTwoLists(_) => {
                "InvalidParam.AclEntryExists"
            }
            AclError::ListenerOverLimit(_) => "AclListenerOverLimit",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AclError::NotExist(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn message(&self) -> String {
        match self {
            AclError::NotExist(id) => format!("The specified AclId {id:?} does not exist."),
            AclError::InUse(id) => format!(
                "The specified access control list {id:?} is used by listeners; unbind it from them first."
            ),
            AclError::NameExist(name) => {
                format!("An access control list named {name:?} already exists in this region.")
            }
            AclError::NumberOverLimit(detail) => {
                format!("The number of access control lists exceeds the limit: {detail}.")
            }
            AclError::EntryIllegal(detail) => format!("The AclEntrys are not valid: {detail}."),
            AclError::EntryOtherVersion(detail) => format!(
                "The entry's IP version differs from the access control list's AddressIPVersion: {detail}."
            ),
            AclError::EntryExceedLimit(detail) => {
                format!("The number of entries exceeds the limit: {detail}.")
            }
            AclError::EntryExists(entry) => {
                format!("The entry {entry} is already in the access control list.")
            }
            AclError::EntryInTwoLists(entry) => format!(
                "The entry {entry} would be in two access control lists of one listener; a listener's lists may not share entries."
            ),
            AclError::ListenerOverLimit(detail) => {
                format!("The access control list is bound to too many listeners: {detail}.")
            }
        }
    }
}
