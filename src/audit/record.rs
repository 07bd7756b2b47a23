//! One audit event and its JSON line, every field cut to a bound.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;

use crate::clock;

/// A rendered audit line (JSON, no newline).
pub type AuditLine = String;

/// One event. `outcome` is `success` or `failure`.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRecord {
    pub time: String,
    pub request_id: String,
    pub account_id: String,
    pub access_key_id: String,
    /// Who used the key: `root`, `user/NAME`, `assumed-role/ROLE/SESSION`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub principal: String,
    pub action: String,
    pub resource_id: String,
    pub source: String,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// A read that handed a private key to its owner.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub key_revealed: bool,
}

impl AuditRecord {
    /// A record of `action`, by `source` (an address, or `cli`); its lines are timed when made.
    pub fn new(request_id: &str, action: &str, source: &str) -> AuditRecord {
        AuditRecord {
            time: String::new(),
            request_id: request_id.to_owned(),
            account_id: String::new(),
            access_key_id: String::new(),
            principal: String::new(),
            action: action.to_owned(),
            resource_id: String::new(),
            source: source.to_owned(),
            outcome: "success",
            error_code: None,
            fingerprint: None,
            key_revealed: false,
        }
    }

    /// The line recording that the private key of `resource_id` was handed to its owner.
    pub fn key_revealed(&self, resource_id: &str, fingerprint: &str) -> AuditLine {
        let mut record = self.clone();
        record.resource_id = resource_id.to_owned();
        record.fingerprint = Some(fingerprint.to_owned());
        record.key_revealed = true;
        record.line()
    }

    /// The line recording this event's success on `resource_id`.
    pub fn success(&self, resource_id: &str, fingerprint: Option<&str>) -> AuditLine {
        let mut record = self.clone();
        record.resource_id = resource_id.to_owned();
        record.fingerprint = fingerprint.map(str::to_owned);
        record.line()
    }

    /// The line recording this event's failure with `code`.
    pub fn failure(&self, resource_id: &str, code: &str) -> AuditLine {
        let mut record = self.clone();
        record.resource_id = resource_id.to_owned();
        record.outcome = "failure";
        record.error_code = Some(code.to_owned());
        record.line()
    }

    fn line(mut self) -> AuditLine {
        self.time = clock::now().format(&Rfc3339).unwrap_or_default();
        for (field, max) in [
            (&mut self.request_id, MAX_ID_BYTES),
            (&mut self.account_id, MAX_ID_BYTES),
            (&mut self.access_key_id, MAX_ID_BYTES),
            (&mut self.principal, MAX_RESOURCE_BYTES),
            (&mut self.action, MAX_ID_BYTES),
            (&mut self.resource_id, MAX_RESOURCE_BYTES),
            (&mut self.source, MAX_ID_BYTES),
        ] {
            bound(field, max);
        }
        for field in [&mut self.error_code, &mut self.fingerprint]
            .into_iter()
            .flatten()
        {
            bound(field, MAX_RESOURCE_BYTES);
        }
        serde_json::to_string(&self).expect("an audit record serializes")
    }
}

/// Longest identifier-like field (IDs, action, source), in bytes.
const MAX_ID_BYTES: usize = 128;
/// Longest resource ID, error code or fingerprint, in bytes.
const MAX_RESOURCE_BYTES: usize = 256;
const CUT_MARK: &str = "…";

/// Cuts `text` to at most `max` bytes (on a character boundary), marking the cut.
fn bound(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max - CUT_MARK.len();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push_str(CUT_MARK);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn lines_are_json_with_every_field() {
        let mut record = AuditRecord::new("REQ", "UploadServerCertificate", "127.0.0.1:5000");
        record.account_id = "1231579085529123".into();
        record.access_key_id = "LTAIabc".into();
        let success: Value =
            serde_json::from_str(&record.success("cert-1", Some("aa:bb"))).unwrap();
        assert_eq!(success["outcome"], "success");
        assert_eq!(success["resource_id"], "cert-1");
        assert_eq!(success["fingerprint"], "aa:bb");
        assert!(success.get("error_code").is_none());
        let failure: Value = serde_json::from_str(&record.failure("", "KeyFormatError")).unwrap();
        assert_eq!(failure["outcome"], "failure");
        assert_eq!(failure["error_code"], "KeyFormatError");
        for field in [
            "time",
            "request_id",
            "account_id",
            "access_key_id",
            "action",
            "source",
        ] {
            assert!(failure.get(field).is_some(), "{field}");
        }
    }

    #[test]
    fn every_field_is_bounded() {
        let mut record = AuditRecord::new("R", "A", "1.2.3.4:5");
        record.access_key_id = "k".repeat(500_000);
        record.resource_id = "证".repeat(100_000);
        let line = record.failure(&"r".repeat(300_000), &"C".repeat(9_000));
        assert!(line.len() < 2_000, "{} bytes", line.len());
        let value: Value = serde_json::from_str(&line).unwrap();
        assert!(value["access_key_id"].as_str().unwrap().ends_with(CUT_MARK));
        assert!(value["resource_id"].as_str().unwrap().len() <= MAX_RESOURCE_BYTES);
    }
}
