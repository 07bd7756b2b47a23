//! Parameters shared by several actions, parsed into typed inputs (what an answer holds is
//! [`super::Fields`] and [`super::views`]).

use std::collections::BTreeMap;

use crate::api::error::ApiError;
use crate::api::params::{RpcParams, list_index};
use crate::regions::{self, Region};
use crate::store::{Tag, TagFilter};

/// At most this many tags per resource, tags per call and resources per call.
pub const MAX_TAGS: usize = 20;
pub const MAX_RESOURCES: usize = 20;
const MAX_TAG_KEY_CHARS: usize = 64;
const MAX_TAG_VALUE_CHARS: usize = 128;

/// `RegionId`: mandatory, and one of the regions we know.
pub fn region(params: &RpcParams) -> Result<&'static Region, ApiError> {
    let id = params.required("RegionId")?;
    regions::find(id).ok_or_else(|| ApiError::InvalidRegionId(id.to_owned()))
}

/// A certificate name: 1 to 80 characters of letters, digits, CJK and `. _ - / * :`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateName(String);

pub const MAX_NAME_CHARS: usize = 80;

impl CertificateName {
    /// An absent or empty name is the empty name (what Describe then shows).
    pub fn parse_optional(parameter: &str, value: Option<&str>) -> Result<Self, ApiError> {
        match value {
            None | Some("") => Ok(CertificateName(String::new())),
            Some(name) => Self::parse(parameter, name),
        }
    }

    pub fn parse(parameter: &str, name: &str) -> Result<Self, ApiError> {
        let length = name.chars().count();
        if length > MAX_NAME_CHARS {
            return Err(ApiError::InvalidParameter(format!(
                "The specified {parameter} is {length} characters long; at most {MAX_NAME_CHARS} are allowed."
            )));
        }
        if let Some(bad) = name.chars().find(|c| !is_name_char(*c)) {
            return Err(ApiError::InvalidParameter(format!(
                "The specified {parameter} contains {bad:?}; use letters, digits, Chinese characters and . _ - / * :"
            )));
        }
        Ok(CertificateName(name.to_owned()))
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A DNS host name: dot-separated labels of letters, digits and inner hyphens, each 1 to 63
/// long, 253 in all.
pub fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

pub fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | '*' | ':') || is_cjk(c)
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}')
}

/// `ResourceGroupId`: `rg-` followed by lower-case letters and digits.
pub fn resource_group(params: &RpcParams) -> Result<Option<String>, ApiError> {
    resource_group_named(params, "ResourceGroupId")
}

/// A resource group ID in `parameter`, checked as [`resource_group`] checks `ResourceGroupId`.
pub fn resource_group_named(
    params: &RpcParams,
    parameter: &str,
) -> Result<Option<String>, ApiError> {
    let Some(group) = params.non_empty(parameter) else {
        return Ok(None);
    };
    let valid = group.len() <= 64
        && group.strip_prefix("rg-").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !valid {
        return Err(ApiError::InvalidParameter(format!(
            "The specified {parameter} {group:?} is not valid; it looks like rg-acfmxazb4ph6aiy."
        )));
    }
    Ok(Some(group.to_owned()))
}

/// A list of IDs in any of its forms ([`RpcParams::ids`]), at most `max` of them.
pub fn id_list(params: &RpcParams, parameter: &str, max: usize) -> Result<Vec<String>, ApiError> {
    let ids = params.ids(parameter)?;
    if ids.len() > max {
        return Err(ApiError::InvalidParameter(format!(
            "The specified {parameter} lists {} IDs; at most {max} are allowed.",
            ids.len()
        )));
    }
    Ok(ids.into_iter().map(str::to_owned).collect())
}

/// A whole number `parameter` in `min..=max`: anything else (not a number, or out of range) is
/// refused rather than clamped or wrapped.
pub fn bounded_number(
    params: &RpcParams,
    parameter: &str,
    default: u64,
    (min, max): (u64, u64),
) -> Result<u64, ApiError> {
    let Some(text) = params.non_empty(parameter) else {
        return Ok(default);
    };
    match text.parse::<u64>() {
        Ok(number) if (min..=max).contains(&number) => Ok(number),
        _ => Err(ApiError::InvalidParameter(format!(
            "The specified {parameter} {text:?} is not valid: use a whole number from {min} to {max}."
        ))),
    }
}

/// `Prefix.N` in index order ([`RpcParams::indexed`]), e.g. `ResourceId.N` or `TagKey.N`.
pub fn repeated<'a>(params: &'a RpcParams, prefix: &str) -> Result<Vec<&'a str>, ApiError> {
    params.indexed(prefix)
}

/// One `Tag.N.Key` and `Tag.N.Value`, either possibly absent.
type TagPair<'a> = (Option<&'a str>, Option<&'a str>);

/// `Tag.N.Key` / `Tag.N.Value` pairs in index order; a value may be absent (go-sdk drops empty
/// parameters).
fn tag_pairs(params: &RpcParams) -> Result<Vec<TagPair<'_>>, ApiError> {
    prefixed_tag_pairs(params, "Tag.")
}

/// `<prefix>N.Key` / `<prefix>N.Value` pairs in index order.
fn prefixed_tag_pairs<'a>(
    params: &'a RpcParams,
    prefix: &str,
) -> Result<Vec<TagPair<'a>>, ApiError> {
    let mut pairs: BTreeMap<usize, TagPair<'_>> = BTreeMap::new();
    for (name, value) in params.all() {
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
        let index = list_index(name, index)?;
        let pair = pairs.entry(index).or_default();
        match field {
            "Key" => pair.0 = Some(value.as_str()).filter(|v| !v.is_empty()),
            "Value" => pair.1 = Some(value.as_str()),
            _ => {
                return Err(ApiError::InvalidParameter(format!(
                    "The parameter name {name} is not valid: use {prefix}N.Key and {prefix}N.Value."
                )));
            }
        }
    }
    if pairs.len() > MAX_TAGS {
        return Err(ApiError::TagCountLimit(format!(
            "{} tags are given; at most {MAX_TAGS} are allowed",
            pairs.len()
        )));
    }
    Ok(pairs.into_values().collect())
}

/// Tags to set (`Tag.N.Key`, `Tag.N.Value`): keys are checked, a missing value is empty, and
/// a key given twice keeps its last value.
pub fn tags(params: &RpcParams) -> Result<Vec<Tag>, ApiError> {
    tags_at(params, "Tag.")
}

/// Tags to set from `<prefix>N.Key` and `<prefix>N.Value` (the SSL Certificates Service uses
/// `Tags.`).
pub fn tags_at(params: &RpcParams, prefix: &str) -> Result<Vec<Tag>, ApiError> {
    let mut tags: Vec<Tag> = Vec::new();
    for (key, value) in prefixed_tag_pairs(params, prefix)? {
        let key = key.ok_or_else(|| {
            ApiError::InvalidTagKey(format!(
                "{prefix}N.Key is mandatory when {prefix}N.Value is given"
            ))
        })?;
        check_tag_key(key)?;
        let value = value.unwrap_or_default();
        check_tag_value(value)?;
        tags.retain(|tag| tag.key != key);
        tags.push(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(tags)
}

/// Tags to set from `Tag.N.*` and the legacy JSON `Tags` together (a key in both keeps the
/// `Tag.N` value), at most [`MAX_TAGS`] in all.
pub fn tags_with_legacy(params: &RpcParams) -> Result<Vec<Tag>, ApiError> {
    let mut tags = tags(params)?;
    for (key, value) in legacy_tags(params.non_empty("Tags"))? {
        check_tag_key(&key)?;
        let value = value.unwrap_or_default();
        check_tag_value(&value)?;
        if !tags.iter().any(|tag| tag.key == key) {
            tags.push(Tag { key, value });
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(ApiError::TagCountLimit(format!(
            "{} tags are given (Tag.N and Tags together); at most {MAX_TAGS} are allowed",
            tags.len()
        )));
    }
    Ok(tags)
}

/// The legacy JSON `Tags` (`[{"TagKey":"k","TagValue":"v"}]`): at most [`MAX_TAGS`] pairs.
pub fn legacy_tags(json: Option<&str>) -> Result<Vec<(String, Option<String>)>, ApiError> {
    #[derive(serde::Deserialize)]
    struct LegacyTag {
        #[serde(rename = "TagKey")]
        key: String,
        #[serde(rename = "TagValue", default)]
        value: Option<String>,
    }
    let Some(json) = json else {
        return Ok(Vec::new());
    };
    let tags: Vec<LegacyTag> = serde_json::from_str(json).map_err(|_| {
        ApiError::InvalidParameter(
            "The parameter Tags must be a JSON list like [{\"TagKey\":\"k\",\"TagValue\":\"v\"}]."
                .into(),
        )
    })?;
    if tags.len() > MAX_TAGS {
        return Err(ApiError::TagCountLimit(format!(
            "the parameter Tags lists {} tags; at most {MAX_TAGS} are allowed",
            tags.len()
        )));
    }
    Ok(tags.into_iter().map(|tag| (tag.key, tag.value)).collect())
}

/// Tags to filter by: a certificate must carry every one; a tag without a value matches any
/// value of its key.
pub fn tag_filters(params: &RpcParams) -> Result<Vec<TagFilter>, ApiError> {
    tag_pairs(params)?
        .into_iter()
        .map(|(key, value)| {
            let key = key.ok_or_else(|| {
                ApiError::InvalidTagKey("Tag.N.Key is mandatory when Tag.N.Value is given".into())
            })?;
            Ok(TagFilter {
                key: key.to_owned(),
                value: value.filter(|v| !v.is_empty()).map(str::to_owned),
            })
        })
        .collect()
}

pub fn check_tag_key(key: &str) -> Result<(), ApiError> {
    match tag_text_problem(key, MAX_TAG_KEY_CHARS, true) {
        None => Ok(()),
        Some(problem) => Err(ApiError::InvalidTagKey(format!(
            "The tag key {key:?} is not valid: {problem}"
        ))),
    }
}

pub fn check_tag_value(value: &str) -> Result<(), ApiError> {
    match tag_text_problem(value, MAX_TAG_VALUE_CHARS, false) {
        None => Ok(()),
        Some(problem) => Err(ApiError::InvalidTagValue(format!(
            "The tag value {value:?} is not valid: {problem}"
        ))),
    }
}

/// What is wrong with a tag key or value: too long, a control character, a URL, or (keys) a
/// reserved prefix.
fn tag_text_problem(text: &str, max_chars: usize, reserved_prefixes: bool) -> Option<String> {
    let length = text.chars().count();
    let lower = text.to_ascii_lowercase();
    if let Some(control) = text.chars().find(|c| c.is_control()) {
        Some(format!("it contains the control character {control:?}"))
    } else if length > max_chars {
        Some(format!(
            "it is {length} characters long; at most {max_chars} are allowed"
        ))
    } else if reserved_prefixes && (lower.starts_with("aliyun") || lower.starts_with("acs:")) {
        Some("it must not start with aliyun or acs:".into())
    } else if lower.contains("http://") || lower.contains("https://") {
        Some("it must not contain http:// or https://".into())
    } else {
        None
    }
}

/// Refuses parameters of features this server does not implement, instead of ignoring them
/// silently: a client that sends them expects them to take effect.
pub fn refuse_unsupported(params: &RpcParams, prefixes: &[(&str, &str)]) -> Result<(), ApiError> {
    for (prefix, feature) in prefixes {
        if let Some(name) = params.first_with_prefix(prefix) {
            return Err(ApiError::InvalidParameter(format!(
                "The parameter {name} ({feature}) is not supported by this server."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(query: &str) -> RpcParams {
        RpcParams::parse(query, b"", None).unwrap()
    }

    #[test]
    fn names_allow_the_documented_characters() {
        for good in [
            "mycert01",
            "*.example.com",
            "证书-2024_a/b:c",
            &"a".repeat(80),
        ] {
            assert!(CertificateName::parse("N", good).is_ok(), "{good}");
        }
        for bad in ["my cert", "a~b", "a&b", &"a".repeat(81)] {
            assert_eq!(
                CertificateName::parse("N", bad).unwrap_err().code(),
                "InvalidParameter",
                "{bad}"
            );
        }
        assert_eq!(
            CertificateName::parse_optional("N", None)
                .unwrap()
                .into_string(),
            ""
        );
    }

    #[test]
    fn resource_groups_are_checked_for_shape() {
        let ok = params("ResourceGroupId=rg-acfmxazb4ph6aiy");
        assert_eq!(
            resource_group(&ok).unwrap().as_deref(),
            Some("rg-acfmxazb4ph6aiy")
        );
        assert!(resource_group(&params("ResourceGroupId=RG-1")).is_err());
        assert_eq!(resource_group(&params("")).unwrap(), None);
    }

    #[test]
    fn tags_parse_in_index_order_with_missing_values_empty() {
        let parsed = tags(&params(
            "Tag.2.Key=b&Tag.1.Key=a&Tag.1.Value=1&Tag.10.Key=c",
        ))
        .unwrap();
        let pairs: Vec<(&str, &str)> = parsed
            .iter()
            .map(|t| (t.key.as_str(), t.value.as_str()))
            .collect();
        assert_eq!(pairs, [("a", "1"), ("b", ""), ("c", "")]);
        let filters = tag_filters(&params("Tag.1.Key=a&Tag.2.Key=b&Tag.2.Value=2")).unwrap();
        assert_eq!(filters[0].value, None);
        assert_eq!(filters[1].value.as_deref(), Some("2"));
    }

    #[test]
    fn tag_rules_are_enforced() {
        let cases = [
            ("Tag.1.Key=aliyun-x", "InvalidTagKey.Malformed"),
            ("Tag.1.Key=ACS:x", "InvalidTagKey.Malformed"),
            ("Tag.1.Key=see-https://x", "InvalidTagKey.Malformed"),
            ("Tag.1.Value=v", "InvalidTagKey.Malformed"),
            (
                "Tag.1.Key=k&Tag.1.Value=http://x",
                "InvalidTagValue.Malformed",
            ),
            ("Tag.0.Key=k", "InvalidParameter"),
            ("Tag.1.Key=a%01b", "InvalidTagKey.Malformed"),
            ("Tag.1.Key=k&Tag.1.Value=v%0Bw", "InvalidTagValue.Malformed"),
            ("Tag.1.Name=k", "InvalidParameter"),
        ];
        for (query, code) in cases {
            assert_eq!(tags(&params(query)).unwrap_err().code(), code, "{query}");
        }
        let long_key = format!("Tag.1.Key={}", "k".repeat(65));
        assert!(tags(&params(&long_key)).is_err());
        let long_value = format!("Tag.1.Key=k&Tag.1.Value={}", "v".repeat(129));
        assert!(tags(&params(&long_value)).is_err());
        let too_many: Vec<String> = (1..=21).map(|n| format!("Tag.{n}.Key=k{n}")).collect();
        assert_eq!(
            tags(&params(&too_many.join("&"))).unwrap_err().code(),
            "TagCountLimit"
        );
    }

    #[test]
    fn repeated_parameters_come_in_index_order() {
        let list = params("ResourceId.2=b&ResourceId.1=a&ResourceId.3=");
        assert_eq!(repeated(&list, "ResourceId").unwrap(), ["a", "b"]);
        assert!(repeated(&params("ResourceId.x=a"), "ResourceId").is_err());
    }
}
