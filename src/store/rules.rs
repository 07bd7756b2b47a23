//! Rules both engines follow alike: how lists and tags are kept in a column, the quota rule,
//! and what a write that changed no row means. (Addresses are [`super::load_balancers`]';
//! filter SQL is [`super::filters`]'.)

use super::{Quota, StoreError, Tag};

/// Lists of names (subject alternative names) are stored as JSON text, by either backend.
pub(crate) fn json_list(items: &[String]) -> String {
    serde_json::Value::from(items).to_string()
}

/// Tags as either backend stores them in one column: `[[key, value], ...]`.
pub(crate) fn tags_json(tags: &[Tag]) -> String {
    let pairs: Vec<(&str, &str)> = tags
        .iter()
        .map(|tag| (tag.key.as_str(), tag.value.as_str()))
        .collect();
    serde_json::to_string(&pairs).expect("tags serialize")
}

/// The tags of [`tags_json`]; a column that does not decode reads as no tags.
pub(crate) fn tags_from_json(text: &str) -> Vec<Tag> {
    let pairs: Vec<(String, String)> = serde_json::from_str(text).unwrap_or_default();
    pairs
        .into_iter()
        .map(|(key, value)| Tag { key, value })
        .collect()
}

/// `OverQuota` if `used` already reaches `quota`: the rule of every quota, in either backend.
pub(crate) fn check_quota(quota: Quota, used: i64) -> Result<(), StoreError> {
    match quota {
        Some(limit) if used as u64 >= limit => Err(StoreError::OverQuota {
            used: used as u64,
            limit,
        }),
        _ => Ok(()),
    }
}

/// A write that changed no row found nothing of the caller's to change: `NotFound`.
pub(crate) fn changed_some(rows: u64, id: impl std::fmt::Display) -> Result<(), StoreError> {
    if rows == 0 {
        return Err(StoreError::NotFound(id.to_string()));
    }
    Ok(())
}
