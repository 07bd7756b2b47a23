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

mod log;
mod record;
mod refusals;

pub use log::{AuditLog, Recorded};
pub use record::{AuditLine, AuditRecord};

pub const DEFAULT_FILE: &str = "audit.log";
