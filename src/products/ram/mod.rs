//! Resource Access Management (product version 2015-05-01) on the same endpoint, told apart by
//! version: users and their AccessKeys, groups, custom policies and their versions, roles, and
//! which policies each has. Shapes follow what `alibabacloud-ram20150501` and
//! `aliyun-python-sdk-ram` parse.
//!
//! An account's RAM state is one document ([`model::RamState`]): each action reads it, edits a
//! copy, and stores it if nobody changed it meanwhile (else reads again).

pub mod access_keys;
pub mod attachments;
pub mod groups;
pub mod policies;
pub mod roles;
mod root_keys;
pub mod users;
mod views;

use serde::Serialize;
use serde_json::Value;

/// The RAM state these actions edit lives with the rest of who may do what.
pub use crate::access::ram_state as model;
use crate::api::error::{AccessError, ApiError, Entity};
use crate::clock;
use crate::products::views::{listed, value};
use crate::products::{Context, Fields};
use crate::store::ram::RamChange;
use crate::store::{AccessKey, StoreError};
use model::RamState;

/// Tries of an edit that keeps finding the document changed by another request.
const MAX_EDIT_ATTEMPTS: usize = 8;

/// An edit of the account's RAM state, with the AccessKeys it adds and removes.
pub struct Draft {
    pub state: RamState,
    pub added_keys: Vec<AccessKey>,
    pub removed_keys: Vec<String>,
    pub now_ms: i64,
}

/// The account's RAM state as stored now.
pub async fn read(context: &Context<'_>) -> Result<RamState, ApiError> {
    let document = context
        .store
        .ram_document(&context.caller.account_id)
        .await?;
    parse(document.text.as_deref())
}

fn parse(text: Option<&str>) -> Result<RamState, ApiError> {
    RamState::from_document(text).map_err(|error| {
        tracing::error!(%error, "a stored RAM document does not parse");
        ApiError::Internal
    })
}

/// Applies `edit` to the account's RAM state and stores it, with this request's audit line
/// naming `resource`; again from a fresh read if another request changed it meanwhile.
pub async fn change<T>(
    context: &Context<'_>,
    resource: &str,
    edit: impl Fn(&mut Draft) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let account_id = &context.caller.account_id;
    // This process's edits of one account queue; other nodes' are caught by the generation.
    let _turn = context.edit_locks.lock(&format!("ram:{account_id}")).await;
    for _ in 0..MAX_EDIT_ATTEMPTS {
        let document = context.store.ram_document(account_id).await?;
        let mut draft = Draft {
            state: parse(document.text.as_deref())?,
            added_keys: Vec::new(),
            removed_keys: Vec::new(),
            now_ms: clock::unix_ms(context.now),
        };
        let value = edit(&mut draft)?;
        let change = RamChange {
            account_id: account_id.clone(),
            generation: document.generation,
            text: draft.state.to_document(),
            added_keys: draft.added_keys,
            removed_keys: draft.removed_keys,
        };
        match context
            .store
            .replace_ram_document(change, context.audit.success(resource, None))
            .await
        {
            Ok(()) => return Ok(value),
            Err(StoreError::Stale) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::OperationBusy)
}

/// `2015-01-23T12:33:18Z`.
pub fn date(ms: i64) -> String {
    clock::iso8601(clock::from_unix_ms(ms))
}

/// A name parameter: required, at most `max` characters, each of `allowed` (or alphanumeric).
pub fn name<'a>(
    context: &'a Context<'_>,
    parameter: &'static str,
    max: usize,
    allowed: &str,
) -> Result<&'a str, ApiError> {
    let value = context.params.required(parameter)?;
    check_name(value, parameter, max, allowed)?;
    Ok(value)
}

/// `value` of `parameter` is at most `max` characters, each alphanumeric or of `allowed`.
pub fn check_name(value: &str, parameter: &str, max: usize, allowed: &str) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(too_long(parameter, max));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !c.is_ascii_alphanumeric() && !allowed.contains(*c))
    {
        return Err(invalid_chars(
            parameter,
            &format!("{bad:?}; letters, digits and {allowed} are allowed"),
        ));
    }
    Ok(())
}

/// RAM's `InvalidParameter.<Name>.Length`, in RAM's words.
fn too_long(parameter: &str, max: usize) -> ApiError {
    AccessError::InvalidParameter {
        code: format!("{parameter}.Length"),
        message: format!(
            "The parameter - \"{parameter}\" beyond the length limit (at most {max} characters)."
        ),
    }
    .into()
}

/// RAM's `InvalidParameter.<Name>.InvalidChars`, in RAM's words, and which.
fn invalid_chars(parameter: &str, which: &str) -> ApiError {
    AccessError::InvalidParameter {
        code: format!("{parameter}.InvalidChars"),
        message: format!("The parameter - \"{parameter}\" contains invalid chars ({which})."),
    }
    .into()
}

/// An optional free-text parameter of at most `max` characters, without control characters.
pub fn text<'a>(
    context: &'a Context<'_>,
    parameter: &'static str,
    max: usize,
) -> Result<Option<&'a str>, ApiError> {
    let Some(value) = context.params.get(parameter) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(too_long(parameter, max));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid_chars(parameter, "a control character"));
    }
    Ok(Some(value))
}

pub fn not_found(kind: Entity, name: &str) -> ApiError {
    AccessError::EntityNotExist {
        kind,
        name: name.to_owned(),
    }
    .into()
}

pub fn exists(kind: Entity, name: &str) -> ApiError {
    AccessError::EntityAlreadyExists {
        kind,
        name: name.to_owned(),
    }
    .into()
}

pub fn limit(code: &'static str, message: String) -> ApiError {
    AccessError::LimitExceeded { code, message }.into()
}

pub fn conflict(code: &'static str, message: String) -> ApiError {
    AccessError::DeleteConflict { code, message }.into()
}

/// A page of a listing: `MaxItems` (1 to 1000, 100 by default) after `Marker`.
pub struct Page {
    start: usize,
    size: usize,
}

impl Page {
    pub fn parse(context: &Context<'_>) -> Result<Page, ApiError> {
        let size = match context.params.non_empty("MaxItems") {
            None => 100,
            Some(text) => match text.parse::<usize>() {
                Ok(size @ 1..=1000) => size,
                _ => {
                    return Err(AccessError::InvalidParameter {
                        code: "MaxItems".into(),
                        message: format!(
                            "The parameter MaxItems must be between 1 and 1000: {text:?}."
                        ),
                    }
                    .into());
                }
            },
        };
        let start = match context.params.non_empty("Marker") {
            None => 0,
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| AccessError::InvalidParameter {
                    code: "Marker".into(),
                    message: format!(
                        "The parameter Marker is not one this service gave: {text:?}."
                    ),
                })?,
        };
        Ok(Page { start, size })
    }

    /// The page of `items`, with `IsTruncated` and `Marker`, under `wrapper` / `element`.
    pub fn render<T: Serialize>(
        &self,
        items: Vec<T>,
        wrapper: &str,
        element: &'static str,
    ) -> Result<Fields, ApiError> {
        let total = items.len();
        let end = self.start.saturating_add(self.size).min(total);
        let page: Vec<T> = items
            .into_iter()
            .skip(self.start)
            .take(end.saturating_sub(self.start))
            .collect();
        let truncated = end < total;
        let mut fields = Fields::new();
        fields.insert("IsTruncated".into(), Value::Bool(truncated));
        if truncated {
            fields.insert("Marker".into(), Value::String(end.to_string()));
        }
        fields.insert(wrapper.into(), value(listed(element, page))?);
        Ok(fields)
    }
}

/// `{wrapper: {element: items}}`, the shape of every list.
pub fn wrapped<T: Serialize>(
    wrapper: &str,
    element: &'static str,
    items: Vec<T>,
) -> Result<Fields, ApiError> {
    one(wrapper, listed(element, items))
}

/// `{name: object}`.
pub fn one(name: &str, object: impl Serialize) -> Result<Fields, ApiError> {
    Ok(Fields::from_iter([(name.to_owned(), value(object)?)]))
}
