//! The audit log file: synced appends of committed writes, budgeted unsynced refusals, whole
//! lines only.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::IpAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;

use super::AuditLine;
use super::refusals;
use crate::clock;
use crate::store::CommitLog;

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
        let file = open_whole(path)?;
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
        let file = open_whole(&self.path)?;
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

/// Opens (creating, owner-only) the log at `path` for appending, its torn tail cut.
fn open_whole(path: &Path) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .mode(0o600)
        .open(path)?;
    cut_torn_tail(&mut file)?;
    Ok(file)
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
    use crate::audit::{AuditRecord, DEFAULT_FILE};
    use std::os::unix::fs::PermissionsExt;

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
