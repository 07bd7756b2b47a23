//! The audit trail: one JSON line per mutating call, appended to `DATA_DIR/audit.log` (or
//! `--audit-log`). Fail-closed: a success line is written, and synced, before its mutation
//! commits; if it cannot be, the mutation is rolled back and the caller gets 503.
//!
//! Lines carry who (account, AccessKeyId, source address), what (action, resource ID, the
//! certificate's fingerprint) and how it ended (outcome, error code), never a secret value.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

use crate::clock;
use crate::store::CommitLog;

pub const DEFAULT_FILE: &str = "audit.log";

/// A rendered audit line (JSON, no newline).
pub type AuditLine = String;

/// One event. `outcome` is `success` or `failure`.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRecord {
    pub time: String,
    pub request_id: String,
    pub account_id: String,
    pub access_key_id: String,
    pub action: String,
    pub resource_id: String,
    pub source: String,
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl AuditRecord {
    /// A record of `action`, by `source` (an address, or `cli`); its lines are timed when made.
    pub fn new(request_id: &str, action: &str, source: &str) -> AuditRecord {
        AuditRecord {
            time: String::new(),
            request_id: request_id.to_owned(),
            account_id: String::new(),
            access_key_id: String::new(),
            action: action.to_owned(),
            resource_id: String::new(),
            source: source.to_owned(),
            outcome: "success",
            error_code: None,
            fingerprint: None,
        }
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
        serde_json::to_string(&self).expect("an audit record serializes")
    }
}

/// The append-only file, shared by every writer of this process; other processes (the CLI)
/// append to the same file, each line in one `write`.
pub struct AuditLog {
    path: PathBuf,
    file: Mutex<File>,
}

impl AuditLog {
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)?;
        Ok(AuditLog {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `lines` and syncs them to disk.
    pub fn append(&self, lines: &[AuditLine]) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut text = lines.join("\n");
        text.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.write_all(text.as_bytes())?;
        file.sync_data()
    }
}

impl CommitLog for AuditLog {
    fn append(&self, lines: &[AuditLine]) -> io::Result<()> {
        AuditLog::append(self, lines)
    }

    /// The lines' mutations did not commit after all (a failed COMMIT): say so.
    fn retract(&self, lines: &[AuditLine]) {
        let retractions: Vec<AuditLine> = lines
            .iter()
            .filter_map(|line| {
                let mut value: Value = serde_json::from_str(line).ok()?;
                value["outcome"] = "failure".into();
                value["error_code"] = "InternalError".into();
                Some(value.to_string())
            })
            .collect();
        if let Err(error) = AuditLog::append(self, &retractions) {
            tracing::error!(%error, "cannot record rolled-back mutations in the audit log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

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
    fn appends_owner_only_and_retracts_what_did_not_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        let log = AuditLog::open(&path).unwrap();
        let line = AuditRecord::new("R", "A", "cli").success("x", None);
        AuditLog::append(&log, std::slice::from_ref(&line)).unwrap();
        CommitLog::retract(&log, &[line]);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["outcome"], "failure");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_full_disk_is_an_error() {
        let log = AuditLog::open(Path::new("/dev/full")).unwrap();
        assert!(AuditLog::append(&log, &["{}".to_string()]).is_err());
    }
}
