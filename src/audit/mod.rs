//! The audit trail: one JSON record per mutating call (and per refused one, within a budget),
//! with who (account, AccessKeyId, source address), what (action, resource ID, the
//! certificate's fingerprint) and how it ended (outcome, error code), never a secret value.
//!
//! The database is the trail of record: the writer stores each record in the same transaction
//! as the change it records, so both commit or neither (fail-closed: a change whose record
//! cannot be stored is not acknowledged), with one sync for the whole batch. Refusals are queued
//! ([`refusals`]) and ride along with the next batch. `DATA_DIR/audit.log` (or `--audit-log`) is
//! an ordered export of the records ([`crate::audit_export`]).
//!
//! What a client can put in the trail is bounded: every field is cut to a fixed length, and the
//! refusals one source address can add are budgeted.

mod record;
mod refusals;

pub use record::{AuditLine, AuditRecord};
pub use refusals::{FLUSH_AFTER as REFUSALS_FLUSH_AFTER, Recorded, RefusalQueue};
