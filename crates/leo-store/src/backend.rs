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

/// A log row to insert (the event id borrowed from its event).
#[derive(Clone, Copy, Debug)]
pub(crate) struct LogRow<'a> {
    pub seq: u64,
    pub event_id: &'a str,
    pub kind: RecordKind,
    pub actor: Role,
    pub action: Action,
    pub recorded_at: i64,
    pub leaf_hash: Hash,
    pub chain_hash: Hash,
}

/// A log row and its record's columns, ready to insert.
pub(crate) type PendingRow<'a> = (LogRow<'a>, &'a [Value]);

/// Consecutive rows on their way to the database: log rows and, in the same order, their
/// records' columns.
#[derive(Debug)]
pub(crate) struct Window<'a> {
    pub log: Vec<LogRow<'a>>,
    pub columns: Vec<Vec<Value>>,
}

impl Window<'_> {
    /// The rows as [`Backend::insert_rows`] takes them.
    pub fn rows(&self) -> Vec<PendingRow<'_>> {
        self.log
            .iter()
            .zip(&self.columns)
            .map(|(l, c)| (*l, c.as_slice()))
            .collect()
    }
}

/// The loop of [`Backend::insert_windows`], inserting each window's rows with `insert`.
pub(crate) fn insert_each<'a>(
    windows: &mut dyn Iterator<Item = Result<Window<'a>>>,
    done: &mut dyn FnMut(Window<'a>),
    mut insert: impl FnMut(&[PendingRow<'_>]) -> Result<Inserted>,
) -> Result<Inserted> {
    for window in windows {
        let window = window?;
        if insert(&window.rows())? == Inserted::DuplicateEventId {
            return Ok(Inserted::DuplicateEventId);
        }
        done(window);
    }
    Ok(Inserted::All)
}

/// What [`Backend::insert_rows`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inserted {
    /// Every row was inserted.
    All,
    /// An event id was already recorded (or appears twice in the rows): the caller must
    /// roll back, since some rows may have been written, and append with
    /// [`Backend::existing`] look-ups instead.
    DuplicateEventId,
}

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
    /// What is wrong with the stored row that reading it found (a log column of the wrong
    /// type, or a `seq` another table also holds); decoding such a row fails with it, so
    /// `verify` reports it in `seq` order.
    pub defect: Option<String>,
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

/// A stored log row by reference, for decoding without copying its text first.
pub(crate) struct LogRef<'a> {
    pub seq: u64,
    pub event_id: &'a str,
    pub kind: RecordKind,
    pub actor: &'a str,
    pub action: &'a str,
    pub recorded_at: i64,
    pub leaf_hash: &'a [u8],
    pub chain_hash: &'a [u8],
}

impl LogRef<'_> {
    /// Decodes into a typed entry; any failure is reported as an invalid field.
    pub(crate) fn decode(&self, columns: Option<Vec<Value>>) -> Result<Entry> {
        let columns = columns
            .ok_or_else(|| Error::field("record", format!("no row in {}", self.kind.table())))?;
        Ok(Entry {
            seq: self.seq,
            actor: self.actor.parse()?,
            event: Event {
                id: self.event_id.parse()?,
                action: self.action.parse()?,
                recorded_at: Timestamp::from_unix_micros(self.recorded_at),
                record: from_columns(self.kind, columns)?,
            },
            leaf_hash: hash32("leaf_hash", self.leaf_hash)?,
            chain_hash: hash32("chain_hash", self.chain_hash)?,
        })
    }
}

impl RawEntry {
    /// Decodes into a typed entry; any failure is reported as an invalid field.
    pub fn decode(self) -> Result<Entry> {
        if let Some(defect) = self.defect {
            return Err(Error::field("row", defect));
        }
        LogRef {
            seq: self.seq,
            event_id: &self.event_id,
            kind: RecordKind::parse(&self.kind)?,
            actor: &self.actor,
            action: &self.action,
            recorded_at: self.recorded_at,
            leaf_hash: &self.leaf_hash,
            chain_hash: &self.chain_hash,
        }
        .decode(self.columns)
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
    /// Inserts log rows and their records, in order (backends batch round trips). Only a
    /// backend whose [`Backend::detects_duplicate_ids`] is true may answer
    /// [`Inserted::DuplicateEventId`]; the others are called with rows whose event ids
    /// [`Backend::existing`] found new.
    fn insert_rows(&mut self, rows: &[PendingRow<'_>]) -> Result<Inserted>;
    /// [`Backend::insert_rows`] for each window `windows` yields, in order, as they arrive
    /// (a window still being hashed on another thread is waited for), handing each to
    /// `done` once inserted; stops at the first error or [`Inserted::DuplicateEventId`]. A
    /// backend may keep statements prepared from one window to the next.
    fn insert_windows<'a>(
        &mut self,
        windows: &mut dyn Iterator<Item = Result<Window<'a>>>,
        done: &mut dyn FnMut(Window<'a>),
    ) -> Result<Inserted> {
        insert_each(windows, done, |rows| self.insert_rows(rows))
    }
    /// Whether [`Backend::insert_rows`] itself detects an event id that is already
    /// recorded (a UNIQUE key answered as [`Inserted::DuplicateEventId`]), so an append may
    /// skip the [`Backend::existing`] look-up and fall back to it only on a retry.
    fn detects_duplicate_ids(&self) -> bool {
        false
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
    /// Where the event-id index and the log disagree: the first log row whose event id the
    /// index does not map to that row (lost, or a second row with the same id), else an
    /// index entry without its log row, as `(seq, what)`; `None` when they agree. Only a
    /// backend whose index is a table of its own (SQLite's `leo_event_ids`) can disagree.
    fn event_ids_disagree(&mut self) -> Result<Option<(u64, String)>> {
        Ok(None)
    }
    /// Inserts a checkpoint row.
    fn insert_checkpoint(&mut self, row: &CheckpointRow) -> Result<()>;
    /// Log rows `[from, to)` with their records, in order.
    fn entries(&mut self, from: u64, to: u64) -> Result<Vec<RawEntry>>;
    /// The seq of an event id.
    fn seq_of(&mut self, id: &EventId) -> Result<Option<u64>>;
    /// Every checkpoint, by tree size.
    fn checkpoints(&mut self) -> Result<Vec<CheckpointRow>>;
    /// Streams the log rows of `kind` with `from <= recorded_at < to`, with their records,
    /// decoded, in `(recorded_at, seq)` order, until `f` breaks (a row that does not decode
    /// ends the scan with its error).
    fn scan_kind(&mut self, kind: RecordKind, from: i64, to: i64, f: ScanFn<'_>) -> Result<()>;
    /// Counts the log rows of `kind` with `from <= recorded_at < to`.
    fn count_kind(&mut self, kind: RecordKind, from: i64, to: i64) -> Result<u64>;
    /// Like [`Backend::scan_kind`], but streams only the projected columns
    /// ([`crate::projection`]). The default projects fully decoded entries; the database
    /// backends select and parse only those columns.
    fn project_kind(
        &mut self,
        kind: RecordKind,
        from: i64,
        to: i64,
        f: crate::projection::ProjectFn<'_>,
    ) -> Result<()> {
        self.scan_kind(kind, from, to, &mut |e: Entry| {
            f(&crate::projection::ProjectedRow {
                seq: e.seq,
                recorded_at: e.event.recorded_at,
                record: crate::projection::Projected::of_event(&e.event),
            })
        })
    }
}

/// The callback of [`Backend::scan_kind`]: receives each decoded entry.
pub(crate) type ScanFn<'a> = &'a mut dyn FnMut(Entry) -> std::ops::ControlFlow<()>;

/// The `SELECT` of [`Backend::scan_kind`] for `kind` on PostgreSQL's layout (schema
/// version 2), with `$n` placeholders for kind, from and to: the log columns, `r.seq` (NULL
/// when the record row is missing), then the record's columns.
#[cfg(feature = "postgres")]
pub(crate) fn scan_sql(kind: RecordKind) -> String {
    let cols: Vec<String> = crate::codec::column_names(kind)
        .iter()
        .map(|c| format!("r.{c}"))
        .collect();
    format!(
        "SELECT l.seq, l.event_id, l.kind, l.actor, l.action, l.recorded_at, l.leaf_hash, \
         l.chain_hash, r.seq, {} FROM leo_log AS l LEFT JOIN {} AS r ON r.seq = l.seq \
         WHERE l.kind = $1 AND l.recorded_at >= $2 AND l.recorded_at < $3 \
         ORDER BY l.recorded_at, l.seq",
        cols.join(", "),
        kind.table()
    )
}

/// The `SELECT count(*)` of [`Backend::count_kind`] on PostgreSQL's layout.
#[cfg(feature = "postgres")]
pub(crate) const COUNT_SQL: &str =
    "SELECT count(*) FROM leo_log WHERE kind = $1 AND recorded_at >= $2 AND recorded_at < $3";
