//! What policy documents and their conditions share: their error, lists of strings, and
//! wildcard patterns.

use serde_json::Value;

/// Why a document is not a policy; said to the client.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

pub(super) fn malformed(detail: impl Into<String>) -> PolicyError {
    PolicyError(detail.into())
}

/// A string or a non-empty list of strings.
pub(super) fn strings(value: &Value, element: &str) -> Result<Vec<String>, PolicyError> {
    let list = match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed(format!("\"{element}\" must list strings")))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(malformed(format!(
                "\"{element}\" must be a string or a non-empty list of strings"
            )));
        }
    };
    if list.iter().any(String::is_empty) {
        return Err(malformed(format!("\"{element}\" has an empty entry")));
    }
    Ok(list)
}

/// `*` matches any run of characters, `?` any one character.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    let (pattern, value): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), value.chars().collect());
    let (mut p, mut v) = (0, 0);
    // Where the last `*` was, and the value position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == value[v]) {
            p += 1;
            v += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, v));
            p += 1;
        } else if let Some((star_p, star_v)) = star {
            p = star_p + 1;
            v = star_v + 1;
            star = Some((star_p, star_v + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}
