//! Pieces of responses that many actions share, as serde types: JSON and XML are both rendered
//! from them, and a response is built of them instead of `json!` maps.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use crate::api::error::ApiError;
use crate::store::Tag;

/// `{"TagKey": ..., "TagValue": ...}`.
#[derive(Clone, Debug, Serialize)]
pub struct TagView {
    #[serde(rename = "TagKey")]
    pub key: String,
    #[serde(rename = "TagValue")]
    pub value: String,
}

impl TagView {
    pub fn all(tags: &[Tag]) -> Vec<TagView> {
        tags.iter()
            .map(|tag| TagView {
                key: tag.key.clone(),
                value: tag.value.clone(),
            })
            .collect()
    }
}

/// `{"Tag": [...]}`, always a list.
#[derive(Debug, Serialize)]
pub struct TagsView {
    #[serde(rename = "Tag")]
    tag: Vec<TagView>,
}

impl TagsView {
    pub fn of(tags: &[Tag]) -> TagsView {
        TagsView {
            tag: TagView::all(tags),
        }
    }
}

/// A listener named by what it uses (a server group, an ACL): `{"Port": ..., "Protocol": ...}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListenerRef {
    pub port: u16,
    pub protocol: &'static str,
}

/// A forwarding rule named by the server group it sends to.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleRef<'a> {
    pub rule_id: &'a str,
    pub rule_name: &'a str,
    pub domain: &'a str,
    pub url: &'a str,
}

/// A list named in a group's `AssociatedObjects` when the caller asked for it (Include*).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Associated<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listeners: Option<Listed<ListenerRef>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<Listed<RuleRef<'a>>>,
}

/// `{"<Element>": [...]}`: how every list of the API is wrapped (`BackendServers` holds
/// `{"BackendServer": [...]}`), always a list, even of one or none.
#[derive(Debug)]
pub struct Listed<T> {
    element: &'static str,
    items: Vec<T>,
}

pub fn listed<T: Serialize>(element: &'static str, items: Vec<T>) -> Listed<T> {
    Listed { element, items }
}

impl<T: Serialize> Serialize for Listed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(self.element, &self.items)?;
        map.end()
    }
}

/// A view as one value of a response's fields; a view that does not serialize is a bug: a 500
/// with the cause logged, never a success with the value missing.
pub fn value(view: impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(view).map_err(|error| {
        tracing::error!(%error, "a response view does not serialize");
        ApiError::Internal
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_wrapped_in_their_element_and_tags_are_pairs() {
        let tags = [Tag {
            key: "env".into(),
            value: "ci".into(),
        }];
        let rendered = value(TagsView::of(&tags)).unwrap();
        assert_eq!(
            rendered.to_string(),
            r#"{"Tag":[{"TagKey":"env","TagValue":"ci"}]}"#
        );
        let none: Vec<u16> = Vec::new();
        assert_eq!(
            value(listed("Port", none)).unwrap().to_string(),
            r#"{"Port":[]}"#
        );
        let broken = std::collections::BTreeMap::from([((1, 2), 3)]);
        assert_eq!(value(broken).unwrap_err().code(), "InternalError");
    }
}
