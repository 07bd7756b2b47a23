//! RPC parameters: the query string and an `application/x-www-form-urlencoded` body, merged.

use super::error::ApiError;

/// At most this many parameters in one request (the longest legitimate call, TagResources
/// with 20 resources and 20 tags plus the common parameters, has under 80).
pub const MAX_PARAMETERS: usize = 256;
/// Longest parameter name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;
/// Longest value of a parameter that carries a PEM certificate, chain or key.
pub const MAX_PEM_BYTES: usize = 256 * 1024;
/// Longest value of any other parameter: ID lists of 100 IDs and the legacy `Tags` JSON of 20
/// tags fit well within it.
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Parameters bounded tighter than [`MAX_VALUE_BYTES`]: they are stored (nonces) or echoed.
const TIGHT_LIMITS: [(&str, usize); 9] = [
    ("SignatureNonce", 128),
    ("AccessKeyId", 128),
    ("Signature", 256),
    ("Timestamp", 64),
    ("Action", 128),
    ("Version", 32),
    ("Format", 16),
    ("RegionId", 64),
    ("ResourceGroupId", 64),
];
/// Parameters that carry PEM.
const PEM_PARAMETERS: [&str; 9] = [
    "ServerCertificate",
    "PrivateKey",
    "CACertificate",
    "Cert",
    "Key",
    "EncryptCert",
    "EncryptPrivateKey",
    "SignCert",
    "SignPrivateKey",
];

/// The longest value `name` may have, in bytes.
pub fn max_value_bytes(name: &str) -> usize {
    if PEM_PARAMETERS.contains(&name) {
        return MAX_PEM_BYTES;
    }
    TIGHT_LIMITS
        .iter()
        .find(|(tight, _)| *tight == name)
        .map_or(MAX_VALUE_BYTES, |(_, max)| *max)
}

/// `application/x-www-form-urlencoded` pairs, decoded exactly as `form_urlencoded::parse`
/// does (empty pieces skipped, `+` a space, a `%` without two hex digits kept, invalid UTF-8
/// replaced), with one allocation per name and value: uploads carry kilobytes of PEM.
pub fn decode_form(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|byte| *byte == b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = match piece.iter().position(|byte| *byte == b'=') {
                Some(at) => (&piece[..at], &piece[at + 1..]),
                None => (piece, &piece[piece.len()..]),
            };
            (decode_component(name), decode_component(value))
        })
        .collect()
}

fn decode_component(input: &[u8]) -> String {
    fn hex(byte: u8) -> Option<u8> {
        match byte {
            b'0'..=b'9' => Some(byte - b'0'),
            b'a'..=b'f' => Some(byte - b'a' + 10),
            b'A'..=b'F' => Some(byte - b'A' + 10),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(input.len());
    let mut index = 0;
    while index < input.len() {
        let byte = input[index];
        index += 1;
        match byte {
            b'+' => out.push(b' '),
            b'%' => match (
                input.get(index).copied().and_then(hex),
                input.get(index + 1).copied().and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    index += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
    }
    match String::from_utf8(out) {
        Ok(text) => text,
        Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
    }
}

/// Decoded parameters, kept apart by origin: V1 signs all of them, V3 only the query.
#[derive(Debug, Default)]
pub struct RpcParams {
    query: Vec<(String, String)>,
    form: Vec<(String, String)>,
}

impl RpcParams {
    /// Decodes with form semantics (`+` is a space, `%XX` is UTF-8), as every SDK encodes.
    pub fn parse(query: &str, body: &[u8], content_type: Option<&str>) -> Result<Self, ApiError> {
        let query = decode_form(query.as_bytes());
        let form = if body.is_empty() {
            Vec::new()
        } else if content_type.is_none_or(is_form) {
            decode_form(body)
        } else {
            return Err(ApiError::InvalidParameter(format!(
                "The request body must be application/x-www-form-urlencoded, not {}.",
                content_type.unwrap_or_default()
            )));
        };
        let params = RpcParams { query, form };
        params.refuse_oversized()?;
        params.refuse_duplicates()?;
        Ok(params)
    }

    /// Every name and value within its bound, and not too many of them.
    fn refuse_oversized(&self) -> Result<(), ApiError> {
        let count = self.query.len() + self.form.len();
        if count > MAX_PARAMETERS {
            return Err(ApiError::InvalidParameter(format!(
                "The request has {count} parameters; at most {MAX_PARAMETERS} are allowed."
            )));
        }
        for (name, value) in self.all() {
            if name.len() > MAX_NAME_BYTES {
                return Err(ApiError::InvalidParameter(format!(
                    "A parameter name is {} bytes long; at most {MAX_NAME_BYTES} are allowed.",
                    name.len()
                )));
            }
            let max = max_value_bytes(name);
            if value.len() > max {
                return Err(ApiError::InvalidParameter(format!(
                    "The specified parameter {name} is {} bytes long; at most {max} are allowed.",
                    value.len()
                )));
            }
        }
        Ok(())
    }

    fn refuse_duplicates(&self) -> Result<(), ApiError> {
        let mut names: Vec<&str> = self.all().map(|(name, _)| name.as_str()).collect();
        names.sort_unstable();
        match names.windows(2).find(|pair| pair[0] == pair[1]) {
            Some(pair) => Err(ApiError::InvalidParameter(format!(
                "The parameter {} is given more than once.",
                pair[0]
            ))),
            None => Ok(()),
        }
    }

    /// Every parameter received, query first.
    pub fn all(&self) -> impl Iterator<Item = &(String, String)> {
        self.query.iter().chain(self.form.iter())
    }

    /// The query-string parameters only.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.all()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A parameter's value, treating an empty one as absent (go-sdk drops empty parameters, so
    /// the two must mean the same).
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// A mandatory parameter: absent or empty answers `Missing<Name>`.
    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.non_empty(name).ok_or(ApiError::MissingParameter(name))
    }

    /// `Prefix.N` (N = 1, 2, ...) in index order, gaps allowed (`ResourceId.1`, `ResourceId.3`);
    /// empty values are skipped (some SDKs send them). `Prefix.01` is index 1, so it and
    /// `Prefix.1` together are refused: one of them would otherwise go unseen by a check.
    pub fn indexed(&self, prefix: &str) -> Result<Vec<&str>, ApiError> {
        let mut items = std::collections::BTreeMap::new();
        for (name, value) in self.all() {
            let Some(index) = name
                .strip_prefix(prefix)
                .and_then(|rest| rest.strip_prefix('.'))
            else {
                continue;
            };
            let index = list_index(name, index)?;
            if items.insert(index, value.as_str()).is_some() {
                return Err(ApiError::InvalidParameter(format!(
                    "The parameter {prefix}.{index} is given more than once (as {name} too)."
                )));
            }
        }
        Ok(items
            .into_values()
            .filter(|value| !value.is_empty())
            .collect())
    }

    /// Every ID a list parameter names, in each form clients send: `Name.N` (indexed, see
    /// [`Self::indexed`]), and `Name` as a JSON array (certd) or a comma-separated list. The
    /// handlers and the authorization of a request read a list through this one function, so
    /// that both see the same IDs.
    pub fn ids(&self, name: &str) -> Result<Vec<&str>, ApiError> {
        let mut ids = self.indexed(name)?;
        let Some(plain) = self.non_empty(name) else {
            return Ok(ids);
        };
        if plain.trim_start().starts_with('[') {
            // Old Terraform quotes with ' (`['rule-a']`): read as ", the IDs are the same.
            let list: Vec<String> = serde_json::from_str(plain)
                .or_else(|_| serde_json::from_str(&plain.replace('\'', "\"")))
                .map_err(|_| {
                    ApiError::InvalidParameter(format!(
                        "The specified {name} is not a JSON array of strings."
                    ))
                })?;
            // Each ID is a slice of the parameter: IDs hold no quote or escape to unescape.
            for id in list.iter().map(|id| id.trim()).filter(|id| !id.is_empty()) {
                match plain.find(id) {
                    Some(at) => ids.push(&plain[at..at + id.len()]),
                    None => {
                        return Err(ApiError::InvalidParameter(format!(
                            "The specified {name} holds an ID with escapes."
                        )));
                    }
                }
            }
        } else {
            ids.extend(plain.split(',').map(str::trim).filter(|id| !id.is_empty()));
        }
        Ok(ids)
    }

    /// The first non-empty parameter whose name starts with `prefix` (e.g. `Tag.`).
    pub fn first_with_prefix(&self, prefix: &str) -> Option<&str> {
        self.all()
            .find(|(key, value)| key.starts_with(prefix) && !value.is_empty())
            .map(|(key, _)| key.as_str())
    }
}

impl Drop for RpcParams {
    /// Parameters carry private keys (PEM in the URL or body): wipe them once handled.
    fn drop(&mut self) {
        for (_, value) in self.query.iter_mut().chain(self.form.iter_mut()) {
            zeroize::Zeroize::zeroize(value);
        }
    }
}

/// A JSON parameter, or old Terraform's single-quoted pseudo-JSON (`[{'RuleName':'a'}]`) read
/// with `"` for `'`: the handlers and the authorization of a request decode JSON lists (RuleList,
/// AclEntrys) through this one function.
pub fn lenient_json<T: serde::de::DeserializeOwned>(text: &str) -> Option<T> {
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&text.replace('\'', "\"")))
        .ok()
}

/// The N of a `Prefix.N` parameter: a whole number from 1.
pub fn list_index(name: &str, index: &str) -> Result<usize, ApiError> {
    index
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= 1 && index.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            ApiError::InvalidParameter(format!(
                "The parameter name {name} is not valid: N must be 1 or more."
            ))
        })
}

fn is_form(content_type: &str) -> bool {
    content_type.split(';').next().is_some_and(|media| {
        media
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_query_and_form_with_form_semantics() {
        let params = RpcParams::parse(
            "Action=X&Name=a+b%2Bc",
            b"RegionId=cn-hangzhou&Key=%E8%AF%81",
            Some("application/x-www-form-urlencoded; charset=utf-8"),
        )
        .unwrap();
        assert_eq!(params.get("Name"), Some("a b+c"));
        assert_eq!(params.get("RegionId"), Some("cn-hangzhou"));
        assert_eq!(params.get("Key"), Some("证"));
        assert_eq!(params.query().len(), 2);
        assert_eq!(params.all().count(), 4);
    }

    #[test]
    fn empty_values_count_as_absent_where_mandatory() {
        let params = RpcParams::parse("SignatureType=&RegionId=", b"", None).unwrap();
        assert_eq!(params.get("SignatureType"), Some(""));
        assert_eq!(
            params.required("RegionId").unwrap_err(),
            ApiError::MissingParameter("RegionId")
        );
    }

    #[test]
    fn refuses_duplicates_and_foreign_bodies() {
        let error = RpcParams::parse("A=1", b"A=2", None).unwrap_err();
        assert!(error.message().contains("A is given more than once"));
        let error = RpcParams::parse("", b"{}", Some("application/json")).unwrap_err();
        assert_eq!(error.code(), "InvalidParameter");
    }

    #[test]
    fn names_values_and_counts_are_bounded() {
        let nonce = format!("SignatureNonce={}", "n".repeat(129));
        let error = RpcParams::parse(&nonce, b"", None).unwrap_err();
        assert_eq!(error.code(), "InvalidParameter");
        assert!(error.message().contains("SignatureNonce is 129 bytes long"));
        let ok = format!("SignatureNonce={}", "n".repeat(128));
        assert!(RpcParams::parse(&ok, b"", None).is_ok());
        let pem = format!("ServerCertificate={}", "A".repeat(200_000));
        assert!(RpcParams::parse(&pem, b"", None).is_ok());
        let name = format!("{}=1", "N".repeat(129));
        assert!(RpcParams::parse(&name, b"", None).is_err());
        let many: Vec<String> = (0..=MAX_PARAMETERS).map(|n| format!("P{n}=1")).collect();
        assert!(RpcParams::parse(&many.join("&"), b"", None).is_err());
    }

    #[test]
    fn lists_are_read_in_every_form() {
        let ids = |query: &str| {
            RpcParams::parse(query, b"", None)
                .unwrap()
                .ids("LoadBalancerId")
                .map(|ids| ids.join(" "))
        };
        assert_eq!(ids("LoadBalancerId.3=c&LoadBalancerId.1=a").unwrap(), "a c");
        assert_eq!(
            ids("LoadBalancerId.02=b&LoadBalancerId.1=a").unwrap(),
            "a b"
        );
        assert_eq!(ids("LoadBalancerId=a,%20b,,c").unwrap(), "a b c");
        assert_eq!(ids("LoadBalancerId=%5B%22a%22,%22b%22%5D").unwrap(), "a b");
        assert_eq!(ids("LoadBalancerId.1=a&LoadBalancerId=b").unwrap(), "a b");
        assert_eq!(ids("LoadBalancerId.1=").unwrap(), "");
        for refused in [
            "LoadBalancerId.1=a&LoadBalancerId.01=b",
            "LoadBalancerId.0=a",
            "LoadBalancerId.x=a",
            "LoadBalancerId.%2B1=a",
            "LoadBalancerId=%5B1%5D",
        ] {
            assert_eq!(
                ids(refused).unwrap_err().code(),
                "InvalidParameter",
                "{refused}"
            );
        }
    }

    #[test]
    fn finds_list_parameters_by_prefix() {
        let params = RpcParams::parse("Tag.1.Key=k&Tag.1.Value=v", b"", None).unwrap();
        assert_eq!(params.first_with_prefix("Tag."), Some("Tag.1.Key"));
        assert_eq!(params.first_with_prefix("ResourceId."), None);
    }
}
