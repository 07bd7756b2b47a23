//! Helpers shared by the Rust integration tests.

use std::sync::Mutex;

use slbcert::store::CommitLog;

/// An audit log in memory: keeps the lines the store's writer appends, or refuses them.
#[derive(Default)]
pub struct MemoryLog {
    pub lines: Mutex<Vec<String>>,
    pub broken: bool,
}

impl CommitLog for MemoryLog {
    fn append(&self, lines: &[String]) -> std::io::Result<()> {
        if self.broken {
            return Err(std::io::Error::other("disk full"));
        }
        self.lines.lock().unwrap().extend_from_slice(lines);
        Ok(())
    }

    fn retract(&self, _: &[String]) {}
}
