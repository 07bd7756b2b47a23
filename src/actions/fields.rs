//! Parameters shared by several actions, parsed into types.

use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::regions::{self, Region};

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

fn is_name_char(c: char) -> bool {
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
    let Some(group) = params.non_empty("ResourceGroupId") else {
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
            "The specified ResourceGroupId {group:?} is not valid; it looks like rg-acfmxazb4ph6aiy."
        )));
    }
    Ok(Some(group.to_owned()))
}

/// Refuses parameters of features this server does not implement yet, instead of ignoring
/// them silently: a client that sends them expects them to take effect.
pub fn refuse_unsupported(params: &RpcParams, prefixes: &[(&str, &str)]) -> Result<(), ApiError> {
    for (prefix, feature) in prefixes {
        if let Some(name) = params.first_with_prefix(prefix) {
            return Err(ApiError::InvalidParameter(format!(
                "The parameter {name} ({feature}) is not supported by this server yet."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let ok = RpcParams::parse("ResourceGroupId=rg-acfmxazb4ph6aiy", b"", None).unwrap();
        assert_eq!(
            resource_group(&ok).unwrap().as_deref(),
            Some("rg-acfmxazb4ph6aiy")
        );
        let bad = RpcParams::parse("ResourceGroupId=RG-1", b"", None).unwrap();
        assert!(resource_group(&bad).is_err());
        let none = RpcParams::parse("", b"", None).unwrap();
        assert_eq!(resource_group(&none).unwrap(), None);
    }
}
