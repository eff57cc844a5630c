//! The small synchronous interface both databases implement. Everything above it (append
//! logic, chain, tree, checkpoints, verification) is shared, so both backends run one test
//! suite.

use std::collections::HashMap;

use crate::codec::{Entry, Event, Value, from_columns};
use crate::error::{Error, Result};
use crate::merkle::Hash;
use crate::record::{EventId, RecordKind, Timestamp};
use crate::role::{Action, Role};

/// How many log rows one page read fetches.
pub const PAGE: u64 = 10_000;

/// A log row to insert.
#[derive(Debug)]
pub(crate) struct LogRow {
    pub seq: u64,
    pub event_id: String,
    pub kind: RecordKind,
    pub actor: Role,
    pub action: Action,
    pub recorded_at: i64,
    pub leaf_hash: Hash,
    pub chain_hash: Hash,
}

/// A log row and its record's columns, ready to insert.
pub(crate) type PendingRow = (LogRow, Vec<Value>);

/// A log row as stored, with its record's columns (`None` when the record row is missing).
#[derive(Clone, Debug)]
pub struct RawEntry {
    /// `leo_log.seq`.
    pub seq: u64,
    /// `leo_log.event_id`.
    pub event_id: String,
    /// `leo_log.kind`.
    pub kind: String,
    /// `leo_log.actor`.
    pub actor: String,
    /// `leo_log.action`.
    pub action: String,
    /// `leo_log.recorded_at`.
    pub recorded_at: i64,
    /// `leo_log.leaf_hash`.
    pub leaf_hash: Vec<u8>,
    /// `leo_log.chain_hash`.
    pub chain_hash: Vec<u8>,
    /// The record table's columns after `seq`.
    pub columns: Option<Vec<Value>>,
}

/// A stored checkpoint row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointRow {
    /// Tree size.
    pub tree_size: u64,
    /// Root hash as stored.
    pub root_hash: Vec<u8>,
    /// The signed note.
    pub note: String,
    /// Who wrote it.
    pub actor: String,
    /// When.
    pub created_at: i64,
}

fn hash32(field: &'static str, v: &[u8]) -> Result<Hash> {
    v.try_into()
        .map_err(|_| Error::field(field, format!("{} bytes, expected 32", v.len())))
}

impl RawEntry {
    /// Decodes into a typed entry; any failure is reported as an invalid field.
    pub fn decode(self) -> Result<Entry> {
        let kind = RecordKind::parse(&self.kind)?;
        let columns = self
            .columns
            .ok_or_else(|| Error::field("record", format!("no row in {}", kind.table())))?;
        Ok(Entry {
            seq: self.seq,
            actor: self.actor.parse()?,
            event: Event {
                id: self.event_id.parse()?,
                action: self.action.parse()?,
                recorded_at: Timestamp::from_unix_micros(self.recorded_at),
                record: from_columns(kind, columns)?,
            },
            leaf_hash: hash32("leaf_hash", &self.leaf_hash)?,
            chain_hash: hash32("chain_hash", &self.chain_hash)?,
        })
    }
}

/// One database connection seen through what the audit log needs.
pub(crate) trait Backend: Send {
    /// Starts a transaction holding the log's append lock.
    fn begin_append(&mut self) -> Result<()>;
    /// Commits durably. Errors are fatal to the handle.
    fn commit(&mut self) -> Result<()>;
    /// Rolls back (best effort: used on the error path).
    fn rollback(&mut self);
    /// Number of log rows and the last chain hash (zeros when empty).
    fn tail(&mut self) -> Result<(u64, Hash)>;
    /// Stored leaf hashes of `[from, to)`, in order.
    fn leaf_hashes(&mut self, from: u64, to: u64) -> Result<Vec<Hash>>;
    /// Inserts a log row.
    fn insert_log(&mut self, row: &LogRow) -> Result<()>;
    /// Inserts a record row.
    fn insert_record(&mut self, kind: RecordKind, seq: u64, columns: &[Value]) -> Result<()>;
    /// Inserts log rows and their records, in order (backends may batch round trips).
    fn insert_rows(&mut self, rows: &[PendingRow]) -> Result<()> {
        for (log, columns) in rows {
            self.insert_log(log)?;
            self.insert_record(log.kind, log.seq, columns)?;
        }
        Ok(())
    }
    /// Which of these event ids are already recorded, and where.
    fn existing(&mut self, ids: &[&str]) -> Result<HashMap<String, u64>> {
        let mut out = HashMap::new();
        for id in ids {
            if let Some(seq) = self.seq_of(&id.parse()?)? {
                out.insert((*id).to_owned(), seq);
            }
        }
        Ok(out)
    }
    /// Inserts a checkpoint row.
    fn insert_checkpoint(&mut self, row: &CheckpointRow) -> Result<()>;
    /// Log rows `[from, to)` with their records, in order.
    fn entries(&mut self, from: u64, to: u64) -> Result<Vec<RawEntry>>;
    /// The seq of an event id.
    fn seq_of(&mut self, id: &EventId) -> Result<Option<u64>>;
    /// Every checkpoint, by tree size.
    fn checkpoints(&mut self) -> Result<Vec<CheckpointRow>>;
}
