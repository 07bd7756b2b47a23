//! `audit.log`: an ordered, crash-safe export of the audit records the database holds.
//!
//! A round takes an exclusive lock on the file (CLI commands export too), learns how far the
//! file already goes (the `seq` of its last line, else the database's durable cursor), appends
//! the records after that in one `write` per chunk, syncs once, and then moves the cursor on.
//! A crash between the sync and the cursor leaves the file ahead of the cursor; the file's own
//! last `seq` then wins, so no line is written twice. A write that fails is cut back, and a torn
//! tail left by a crash is cut at open, so every line is whole.

mod exporter;

pub use exporter::Exporter;

/// The export's file name in the data directory.
pub const DEFAULT_FILE: &str = "audit.log";

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::audit::AuditLine;
use crate::store::{AuditEntry, AuditStore, StoreError};

/// Records read from the database per chunk (each chunk is one `write`).
const CHUNK: usize = 1000;

pub struct AuditExport {
    path: PathBuf,
    file: Mutex<File>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("audit log {path}: {source}")]
    File { path: PathBuf, source: io::Error },
    #[error("reading the audit records: {0}")]
    Store(#[from] StoreError),
}

impl AuditExport {
    pub fn open(path: &Path) -> io::Result<AuditExport> {
        Ok(AuditExport {
            path: path.to_owned(),
            file: Mutex::new(open_whole(path)?),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the path anew (after logrotate moved the file away, say): later rounds write the
    /// new file. On failure the old file stays in use.
    pub fn reopen(&self) -> io::Result<()> {
        let file = open_whole(&self.path)?;
        *self.file.lock().unwrap_or_else(|p| p.into_inner()) = file;
        Ok(())
    }

    /// Appends every record the store holds beyond what the file holds; returns how many.
    /// Blocking (file locks, writes, a sync): run it off the async workers.
    pub fn export_round(
        &self,
        store: &dyn AuditStore,
        runtime: &tokio::runtime::Handle,
    ) -> Result<u64, ExportError> {
        let file_error = |source| self.file_error(source);
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        // An exclusive flock: CLI commands export to the same file.
        file.lock().map_err(file_error)?;
        let exported = self.export_locked(&mut file, store, runtime);
        if let Err(error) = file.unlock() {
            // Closing the descriptor (at the next reopen or exit) releases it anyway.
            tracing::warn!(%error, "cannot unlock the audit log");
        }
        exported
    }

    fn file_error(&self, source: io::Error) -> ExportError {
        ExportError::File {
            path: self.path.clone(),
            source,
        }
    }

    fn export_locked(
        &self,
        file: &mut File,
        store: &dyn AuditStore,
        runtime: &tokio::runtime::Handle,
    ) -> Result<u64, ExportError> {
        let file_error = |source| self.file_error(source);
        let cursor = runtime.block_on(store.audit_export_cursor())?;
        let mut last = last_seq(file).map_err(file_error)?.unwrap_or(0).max(cursor);
        let mut exported = 0;
        loop {
            let entries = runtime.block_on(store.audit_records_after(last, CHUNK))?;
            let Some(newest) = entries.last().map(|entry| entry.seq) else {
                break;
            };
            write_entries(file, &entries).map_err(file_error)?;
            exported += entries.len() as u64;
            last = newest;
        }
        if exported > 0 {
            file.sync_data().map_err(file_error)?;
        }
        if last > cursor {
            store.advance_audit_export_cursor(last);
        }
        Ok(exported)
    }
}

/// One line per entry, its `seq` first, in one `write`; if that fails part-way, the file is
/// cut back to where it was, so that no partial line stays.
fn write_entries(file: &mut File, entries: &[AuditEntry]) -> io::Result<()> {
    let mut text = String::with_capacity(entries.iter().map(|e| e.line.len() + 24).sum());
    for entry in entries {
        text.push_str(&numbered(entry.seq, &entry.line));
        text.push('\n');
    }
    let before = file.metadata()?.len();
    if let Err(error) = file.write_all(text.as_bytes()) {
        if let Err(cut) = file.set_len(before) {
            tracing::error!(error = %cut, "cannot cut a partly written audit line");
        }
        return Err(error);
    }
    Ok(())
}

/// `line` (a JSON object) with `"seq":N` as its first field.
fn numbered(seq: i64, line: &AuditLine) -> String {
    match line.strip_prefix('{') {
        Some("}") => format!("{{\"seq\":{seq}}}"),
        Some(rest) => format!("{{\"seq\":{seq},{rest}"),
        None => format!("{{\"seq\":{seq}}}"),
    }
}

/// The `seq` of the file's last line, if it has one (lines from before the export have none).
fn last_seq(file: &mut File) -> io::Result<Option<i64>> {
    let length = file.metadata()?.len();
    // Lines are bounded (every field is), far below this.
    let start = length.saturating_sub(16 * 1024);
    let mut tail = Vec::with_capacity((length - start) as usize);
    file.seek(SeekFrom::Start(start))?;
    file.take(length - start).read_to_end(&mut tail)?;
    let text = String::from_utf8_lossy(&tail);
    let Some(line) = text.trim_end_matches('\n').rsplit('\n').next() else {
        return Ok(None);
    };
    let seq = line
        .strip_prefix("{\"seq\":")
        .and_then(|rest| rest.split([',', '}']).next())
        .and_then(|number| number.parse().ok());
    Ok(seq)
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

/// Cuts an unterminated last line: a write that failed or was interrupted by a crash (its
/// records are still in the database, and the next round writes them again, whole).
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

#[cfg(test)]
mod tests {
    use super::DEFAULT_FILE;
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn entries(range: std::ops::RangeInclusive<i64>) -> Vec<AuditEntry> {
        range
            .map(|seq| AuditEntry {
                seq,
                line: format!("{{\"n\":{seq}}}"),
            })
            .collect()
    }

    #[test]
    fn lines_carry_their_seq_and_the_last_one_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        std::fs::write(&path, "{\"old\":\"no seq\"}\n").unwrap();
        let export = AuditExport::open(&path).unwrap();
        let mut file = export.file.lock().unwrap();
        assert_eq!(last_seq(&mut file).unwrap(), None);
        write_entries(&mut file, &entries(1..=3)).unwrap();
        assert_eq!(last_seq(&mut file).unwrap(), Some(3));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("{\"seq\":3,\"n\":3}\n"), "{text}");
        let created = dir.path().join("new.log");
        AuditExport::open(&created).unwrap();
        let mode = std::fs::metadata(&created).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_full_disk_is_an_error_and_leaves_nothing() {
        let export = AuditExport::open(Path::new("/dev/full")).unwrap();
        let mut file = export.file.lock().unwrap();
        assert!(write_entries(&mut file, &entries(1..=1)).is_err());
    }

    #[test]
    fn a_torn_tail_is_cut_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DEFAULT_FILE);
        std::fs::write(&path, "{\"seq\":1}\n{\"seq\":2,\"b\":").unwrap();
        let export = AuditExport::open(&path).unwrap();
        assert_eq!(last_seq(&mut export.file.lock().unwrap()).unwrap(), Some(1));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"seq\":1}\n");
        std::fs::write(&path, "torn").unwrap();
        AuditExport::open(&path).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }
}
