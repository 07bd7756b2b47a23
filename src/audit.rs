//! The audit trail: one JSON line per mutating call, appended to `DATA_DIR/audit.log` (or
//! `--audit-log`). Fail-closed: a success line is written, and synced, before its mutation
//! commits; if it cannot be, the mutation is rolled back and the caller gets 503.
//!
//! Lines carry who (account, AccessKeyId, source address), what (action, resource ID, the
//! certificate's fingerprint) and how it ended (outcome, error code), never a secret value.
//!
//! What a client can put in the log is bounded: every field is cut to a fixed length, and the
//! refusals one source address can add are budgeted ([`refusals`]); refusals are not synced on
//! their own (the next committed write syncs them). A line is either whole or absent: a write
//! that fails is cut off again, and a torn tail left by a crash is cut at the next open.

mod refusals;

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
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

/// The append-only file, shared by every writer of this process; other processes (the CLI)
/// append to the same file, each batch of lines in one `write`.
pub struct AuditLog {
    path: PathBuf,
    state: Mutex<State>,
}

struct State {
    file: File,
    refusals: refusals::Budget,
}

/// What became of a refusal handed to [`AuditLog::record_refusal`].
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    Written,
    /// Its source used up its budget: counted, and reported in a later line.
    Dropped,
}

impl AuditLog {
    pub fn open(path: &Path) -> io::Result<AuditLog> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)?;
        cut_torn_tail(&mut file)?;
        Ok(AuditLog {
            path: path.to_owned(),
            state: Mutex::new(State {
                file,
                refusals: refusals::Budget::default(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the log's path anew (after logrotate moved the file away, say): lines written from
    /// now on go to the new file. On failure the old file stays in use.
    pub fn reopen(&self) -> io::Result<()> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&self.path)?;
        cut_torn_tail(&mut file)?;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        // What the old file holds unsynced (refusals) goes to disk before it is let go.
        let _ = state.file.sync_data();
        state.file = file;
        Ok(())
    }

    /// Appends `lines` and syncs them to disk (and any refusals written before them).
    pub fn append(&self, lines: &[AuditLine]) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        write_lines(&mut state.file, lines)?;
        state.file.sync_data()
    }

    /// Appends the line of a refused request from `source` without syncing it, within the
    /// source's budget; past it the line is dropped and counted, and the count is written
    /// before the source's next line that fits the budget.
    pub fn record_refusal(&self, line: AuditLine, source: IpAddr) -> io::Result<Recorded> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let dropped_before = match state.refusals.admit(source, std::time::Instant::now()) {
            refusals::Admission::Dropped => return Ok(Recorded::Dropped),
            refusals::Admission::Admitted { dropped_before } => dropped_before,
        };
        let mut lines = Vec::with_capacity(2);
        if dropped_before > 0 {
            lines.push(dropped_line(source, dropped_before));
        }
        lines.push(line);
        if let Err(error) = write_lines(&mut state.file, &lines) {
            state.refusals.give_back(source, dropped_before);
            return Err(error);
        }
        Ok(Recorded::Written)
    }

    /// Refusals dropped so far, by all sources, not yet reported in the log.
    pub fn refusals_dropped(&self) -> u64 {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.refusals.unreported()
    }
}

/// After a fault, the audit log counts as writable again with at least this much room.
const MIN_ROOM_BYTES: u64 = 64 * 1024;

/// Bytes an unprivileged writer can still add to the file system holding `file`.
fn free_bytes(file: &File) -> io::Result<u64> {
    use std::os::fd::AsRawFd;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: fstatvfs fills the struct it is given for a valid descriptor, which `file` owns.
    if unsafe { libc::fstatvfs(file.as_raw_fd(), stats.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: initialised by the successful call above.
    let stats = unsafe { stats.assume_init() };
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// Writes `lines` in one `write`; if that fails part-way, cuts the file back to where it was,
/// so that no partial line stays for the next one to be glued onto.
fn write_lines(file: &mut File, lines: &[AuditLine]) -> io::Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    let before = file.metadata()?.len();
    if let Err(error) = file.write_all(text.as_bytes()) {
        if let Err(cut) = file.set_len(before) {
            tracing::error!(error = %cut, "cannot cut a partly written audit line");
        }
        return Err(error);
    }
    Ok(())
}

/// Cuts an unterminated last line: a write that failed or was interrupted by a crash, whose
/// mutation therefore never committed.
fn cut_torn_tail(file: &mut File) -> io::Result<()> {
    let length = file.metadata()?.len();
    if length == 0 {
        return Ok(());
    }
    const WINDOW: u64 = 64 * 1024;
    let mut end = length;
    loop {
        let start = end.saturating_sub(WINDOW);
        let mut chunk = vec![0; (end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk)?;
        if end == length && chunk.last() == Some(&b'\n') {
            return Ok(());
        }
        if let Some(newline) = chunk.iter().rposition(|b| *b == b'\n') {
            let keep = start + newline as u64 + 1;
            tracing::warn!(
                cut = length - keep,
                "cutting a torn last line off the audit log"
            );
            file.set_len(keep)?;
            return file.sync_data();
        }
        if start == 0 {
            tracing::warn!(
                cut = length,
                "the audit log holds only a torn line: cutting it"
            );
            file.set_len(0)?;
            return file.sync_data();
        }
        end = start;
    }
}

fn dropped_line(source: IpAddr, dropped: u64) -> AuditLine {
    #[derive(Serialize)]
    struct Dropped {
        time: String,
        action: &'static str,
        source: String,
        outcome: &'static str,
        dropped: u64,
    }
    serde_json::to_string(&Dropped {
        time: clock::now().format(&Rfc3339).unwrap_or_default(),
        action: "AuditRefusalsDropped",
        source: source.to_string(),
        outcome: "failure",
        dropped,
    })
    .expect("an audit record serializes")
}

impl CommitLog for AuditLog {
    fn append(&self, lines: &[AuditLine]) -> io::Result<()> {
        AuditLog::append(self, lines)
    }

    fn has_room(&self) -> io::Result<()> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let free = free_bytes(&state.file)?;
        if free < MIN_ROOM_BYTES {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                format!("{free} bytes left on the audit log's file system"),
            ));
        }
        Ok(())
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

    #[test]
    fn a_torn_tail_is_cut_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        std::fs::write(&path, "{\"a\":1}\n{\"b\":").unwrap();
        let log = AuditLog::open(&path).unwrap();
        AuditLog::append(&log, &["{\"c\":3}".to_string()]).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"a\":1}\n{\"c\":3}\n"
        );
        std::fs::write(&path, "torn").unwrap();
        AuditLog::open(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }

    #[test]
    fn refusals_past_a_sources_budget_are_counted_then_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        let log = AuditLog::open(&path).unwrap();
        let noisy: IpAddr = "10.0.0.1".parse().unwrap();
        let quiet: IpAddr = "10.0.0.2".parse().unwrap();
        let record = AuditRecord::new("R", "A", "x");
        let outcomes: Vec<Recorded> = (0..refusals::BURST + 5)
            .map(|_| log.record_refusal(record.failure("", "E"), noisy).unwrap())
            .collect();
        assert!(
            outcomes[..refusals::BURST as usize]
                .iter()
                .all(|o| *o == Recorded::Written)
        );
        assert!(
            outcomes[refusals::BURST as usize..]
                .iter()
                .all(|o| *o == Recorded::Dropped)
        );
        assert_eq!(log.refusals_dropped(), 5);
        // Another source is not held back by the noisy one.
        assert_eq!(
            log.record_refusal(record.failure("", "E"), quiet).unwrap(),
            Recorded::Written
        );
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert_eq!(lines as u64, refusals::BURST + 1);
    }
}
