//! Handles: where role separation by type lives.
//!
//! [`BuilderHandle`] has no write method at all. A [`WriterHandle<R>`] can append only the
//! record types `R`'s role may file ([`AppendableBy`]), only under actions the §5 matrix gives
//! that role (checked again at run time, and again by the database). Records of several
//! kinds go in together through a [`Batch<R>`], which is typed the same way.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;
use std::str::FromStr;

use crate::backend::{Backend, CheckpointRow, LogRow};
use crate::codec::{Event, chain_next, columns, leaf_hash_of};
use crate::error::{Error, Result, snippet};
use crate::merkle::{Hash, MerkleTree};
use crate::note::{Checkpoint, NoteSigner};
pub use crate::reader::Reader;
use crate::record::{
    ApprovalDecision, ArtifactSignature, GateExecution, HandoffEvent, LabelTransition,
    PolicyEvaluation, Record, Refusal, SigningKeyRecord, Timestamp, VerificationResult,
};
use crate::role::{Action, Role, check, may_write};

mod batch;
pub use batch::Batch;

/// Where the audit trail lives: `sqlite:PATH` (or a bare path) or `postgres://...`.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (the login role decides what the handle may do).
    Postgres(String),
}

impl FromStr for Location {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        if let Some(path) = s.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(Error::InvalidLocation {
                    input: snippet(s),
                    reason: "sqlite: needs a path",
                });
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Location::Postgres(s.to_owned()));
        }
        if s.is_empty() || s.contains("://") {
            return Err(Error::InvalidLocation {
                input: "(redacted)".into(),
                reason: "expected sqlite:PATH or postgres://...",
            });
        }
        Ok(Location::Sqlite(PathBuf::from(s)))
    }
}

impl fmt::Display for Location {
    /// Never shows a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            Location::Postgres(url) => {
                let scheme_end = url.find("://").map_or(0, |i| i + 3);
                match url.rfind('@') {
                    Some(at) if at > scheme_end => {
                        let (head, rest) = url.split_at(scheme_end);
                        let creds = rest.get(..at - scheme_end).unwrap_or_default();
                        let user = creds.split(':').next().unwrap_or_default();
                        let host = url.get(at..).unwrap_or_default();
                        write!(f, "{head}{user}{host}")
                    }
                    _ => f.write_str(url),
                }
            }
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

pub(crate) fn open_backend(loc: &Location, writer: Option<Role>) -> Result<Box<dyn Backend>> {
    match loc {
        Location::Sqlite(p) => Ok(match writer {
            Some(_) => Box::new(crate::sqlite::SqliteBackend::writer(p)?),
            None => Box::new(crate::sqlite::SqliteBackend::reader(p)?),
        }),
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => Ok(Box::new(crate::postgres::PgBackend::connect(url, writer)?)),
        #[cfg(not(feature = "postgres"))]
        Location::Postgres(_) => Err(Error::InvalidLocation {
            input: loc.to_string(),
            reason: "this build has no PostgreSQL support (feature `postgres`)",
        }),
    }
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The record's log position.
    pub seq: u64,
    /// Its leaf hash.
    pub leaf_hash: Hash,
    /// `true` when the event id was already recorded with identical content (a retry).
    pub duplicate: bool,
}

/// The builder's handle: read-only by type (it has no write method) and by database (SQLite
/// `SQLITE_OPEN_READ_ONLY` + a read-only authorizer; PostgreSQL: a `SELECT`-only role).
///
/// ```compile_fail
/// # fn f(h: &mut leo_store::BuilderHandle, e: leo_store::Event<leo_store::HandoffEvent>) {
/// h.append(e); // no such method
/// # }
/// ```
#[derive(Debug)]
pub struct BuilderHandle {
    reader: Reader,
}

impl BuilderHandle {
    /// Opens the trail read-only.
    pub fn open(loc: &Location) -> Result<Self> {
        Ok(BuilderHandle {
            reader: Reader::new(open_backend(loc, None)?),
        })
    }
}

impl Deref for BuilderHandle {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        &self.reader
    }
}

impl DerefMut for BuilderHandle {
    fn deref_mut(&mut self) -> &mut Reader {
        &mut self.reader
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A role that may write: [`Enforcer`], [`Supervisor`], [`Lead`] or [`System`].
pub trait WriterRole: sealed::Sealed {
    /// The SOP role.
    const ROLE: Role;
}

/// Claude/EXEC, the enforcer lane.
#[derive(Debug)]
pub enum Enforcer {}
/// PLAN, the supervisor.
#[derive(Debug)]
pub enum Supervisor {}
/// LEAD, strategic authority.
#[derive(Debug)]
pub enum Lead {}
/// The merge machinery (SOP §4.1 step 11): records only what it files under `AllowMerge`
/// (the `merged` transition, a refused merge).
#[derive(Debug)]
pub enum System {}

impl sealed::Sealed for Enforcer {}
impl sealed::Sealed for Supervisor {}
impl sealed::Sealed for Lead {}
impl sealed::Sealed for System {}
impl WriterRole for Enforcer {
    const ROLE: Role = Role::ClaudeExec;
}
impl WriterRole for Supervisor {
    const ROLE: Role = Role::Plan;
}
impl WriterRole for Lead {
    const ROLE: Role = Role::Lead;
}
impl WriterRole for System {
    const ROLE: Role = Role::System;
}

/// Record types role `R` may append.
pub trait AppendableBy<R: WriterRole>: Into<Record> {}
impl AppendableBy<Enforcer> for HandoffEvent {}
impl AppendableBy<Enforcer> for GateExecution {}
impl AppendableBy<Enforcer> for SigningKeyRecord {}
impl AppendableBy<Supervisor> for VerificationResult {}
impl AppendableBy<Supervisor> for GateExecution {}
impl AppendableBy<Lead> for ApprovalDecision {}
// Schema version 2: each role records its own transitions and the refusals it made.
impl AppendableBy<Enforcer> for LabelTransition {}
impl AppendableBy<Supervisor> for LabelTransition {}
impl AppendableBy<Lead> for LabelTransition {}
impl AppendableBy<System> for LabelTransition {}
impl AppendableBy<Enforcer> for Refusal {}
impl AppendableBy<Supervisor> for Refusal {}
impl AppendableBy<Lead> for Refusal {}
impl AppendableBy<System> for Refusal {}
impl AppendableBy<Enforcer> for ArtifactSignature {}
impl AppendableBy<Enforcer> for PolicyEvaluation {}
impl AppendableBy<Supervisor> for PolicyEvaluation {}

/// The enforcer's handle.
pub type EnforcerHandle = WriterHandle<Enforcer>;
/// The supervisor's handle.
pub type SupervisorHandle = WriterHandle<Supervisor>;
/// LEAD's handle.
pub type LeadHandle = WriterHandle<Lead>;
/// The merge step's handle.
pub type SystemHandle = WriterHandle<System>;

/// A writer: may append the records its role files, never change or remove one.
///
/// ```compile_fail
/// # fn f(h: &mut leo_store::LeadHandle, e: leo_store::Event<leo_store::HandoffEvent>) {
/// h.append(e); // LEAD does not file handoff events
/// # }
/// ```
///
/// ```compile_fail
/// # fn f(h: &mut leo_store::SupervisorHandle, e: leo_store::Event<leo_store::ArtifactSignature>) {
/// h.append(e); // only the enforcer signs artifacts
/// # }
/// ```
///
/// ```compile_fail
/// # fn f(h: &mut leo_store::SystemHandle, e: leo_store::Event<leo_store::PolicyEvaluation>) {
/// h.append(e); // the merge step records transitions and refusals only
/// # }
/// ```
///
/// ```compile_fail
/// # fn f(h: &mut leo_store::LeadHandle, e: leo_store::Event<leo_store::PolicyEvaluation>) {
/// h.append(e); // LEAD neither triggers nor monitors gates
/// # }
/// ```
pub struct WriterHandle<R: WriterRole> {
    reader: Reader,
    signer: Option<NoteSigner>,
    poisoned: bool,
    role: PhantomData<R>,
}

impl<R: WriterRole> fmt::Debug for WriterHandle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WriterHandle({}, signer {:?})", R::ROLE, self.signer)
    }
}

impl<R: WriterRole> Deref for WriterHandle<R> {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        &self.reader
    }
}

impl<R: WriterRole> DerefMut for WriterHandle<R> {
    fn deref_mut(&mut self) -> &mut Reader {
        &mut self.reader
    }
}

impl<R: WriterRole> WriterHandle<R> {
    /// Opens the trail for appending as `R`'s role (creating the SQLite schema if needed).
    /// With a signer, a signed checkpoint is written after every append batch.
    pub fn open(loc: &Location, signer: Option<NoteSigner>) -> Result<Self> {
        if !may_write(R::ROLE) {
            return Err(Error::ActionNotAllowed {
                role: R::ROLE,
                action: Action::DatabaseWrites,
            });
        }
        Ok(WriterHandle {
            reader: Reader::new(open_backend(loc, Some(R::ROLE))?),
            signer,
            poisoned: false,
            role: PhantomData,
        })
    }

    /// Appends one event durably (one commit).
    pub fn append<T: AppendableBy<R>>(&mut self, event: Event<T>) -> Result<Receipt> {
        let mut r = self.append_all(vec![event.into_any()])?;
        r.pop().ok_or(Error::HandlePoisoned)
    }

    /// Appends events in one transaction (one commit, one checkpoint).
    pub fn append_batch<T: AppendableBy<R>>(
        &mut self,
        events: impl IntoIterator<Item = Event<T>>,
    ) -> Result<Vec<Receipt>> {
        self.append_all(events.into_iter().map(Event::into_any).collect())
    }

    /// Appends events of several record kinds in one transaction (one commit, one
    /// checkpoint): all of them or, on any error, none. Each event is checked as
    /// [`WriterHandle::append`] checks it (the §5 matrix, the kind's actions, its fields),
    /// and a retried event id is a duplicate receipt or an [`Error::EventIdConflict`].
    /// Receipts follow push order.
    pub fn append_mixed(&mut self, batch: Batch<R>) -> Result<Vec<Receipt>> {
        self.append_all(batch.into_events())
    }

    /// Signs and stores a checkpoint of the current log (no-op without a signer or when the
    /// log is empty). Returns the signed note.
    pub fn checkpoint(&mut self) -> Result<Option<String>> {
        self.transaction(|w| {
            let (size, _) = w.reader.backend.tail()?;
            w.write_checkpoint(size)
        })
    }

    fn transaction<T>(&mut self, body: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.poisoned {
            return Err(Error::HandlePoisoned);
        }
        let start = self.reader.tree.len();
        self.reader.backend.begin_append()?;
        match body(self) {
            Ok(v) => match self.reader.backend.commit() {
                Ok(()) => Ok(v),
                Err(e) => {
                    self.poisoned = true;
                    self.reader.tree.truncate(start);
                    Err(e)
                }
            },
            Err(e) => {
                self.reader.backend.rollback();
                self.reader.tree.truncate(start);
                Err(e)
            }
        }
    }

    fn write_checkpoint(&mut self, size: u64) -> Result<Option<String>> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        if size == 0 {
            return Ok(None);
        }
        self.reader.sync_tree(size)?;
        let cp = Checkpoint {
            origin: signer.name().to_owned(),
            size,
            root: self.reader.tree.root_at(size)?,
        };
        let note = cp.sign(signer)?;
        self.reader.backend.insert_checkpoint(&CheckpointRow {
            tree_size: size,
            root_hash: cp.root.to_vec(),
            note: note.clone(),
            actor: R::ROLE.as_str().to_owned(),
            created_at: Timestamp::now().unix_micros(),
        })?;
        Ok(Some(note))
    }

    fn append_all(&mut self, events: Vec<Event>) -> Result<Vec<Receipt>> {
        for ev in &events {
            check(R::ROLE, ev.action)?;
            let kind = ev.record.kind();
            if !kind.actions().contains(&ev.action) {
                return Err(Error::ActionNotForRecord {
                    kind,
                    action: ev.action,
                });
            }
            ev.record.check()?;
            if let Record::Refusal(r) = &ev.record {
                r.check_filing(ev.action)?;
            }
        }
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.transaction(|w| {
            let (size, mut chain) = w.reader.backend.tail()?;
            if w.reader.tree.len() > size {
                w.reader.tree = MerkleTree::new();
            }
            w.reader.sync_tree(size)?;
            let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
            let existing = w.reader.backend.existing(&ids)?;
            let mut in_batch: HashMap<&str, (u64, Hash)> = HashMap::new();
            let mut rows = Vec::new();
            let mut receipts = Vec::with_capacity(events.len());
            for ev in &events {
                if let Some(&seq) = existing.get(ev.id.as_str()) {
                    receipts.push(w.duplicate(ev, seq)?);
                    continue;
                }
                if let Some(&(seq, leaf_hash)) = in_batch.get(ev.id.as_str()) {
                    if leaf_hash_of(seq, R::ROLE, ev)? != leaf_hash {
                        return Err(Error::EventIdConflict {
                            event_id: ev.id.to_string(),
                            seq,
                        });
                    }
                    receipts.push(Receipt {
                        seq,
                        leaf_hash,
                        duplicate: true,
                    });
                    continue;
                }
                let seq = w.reader.tree.len();
                let leaf = leaf_hash_of(seq, R::ROLE, ev)?;
                chain = chain_next(&chain, &leaf);
                let row = LogRow {
                    seq,
                    event_id: ev.id.to_string(),
                    kind: ev.record.kind(),
                    actor: R::ROLE,
                    action: ev.action,
                    recorded_at: ev.recorded_at.unix_micros(),
                    leaf_hash: leaf,
                    chain_hash: chain,
                };
                rows.push((row, columns(&ev.record)?));
                w.reader.tree.push(leaf);
                in_batch.insert(ev.id.as_str(), (seq, leaf));
                receipts.push(Receipt {
                    seq,
                    leaf_hash: leaf,
                    duplicate: false,
                });
            }
            if !rows.is_empty() {
                w.reader.backend.insert_rows(&rows)?;
                let size = w.reader.tree.len();
                w.write_checkpoint(size)?;
            }
            Ok(receipts)
        })
    }

    /// A retried event: identical content is a no-op, different content is refused.
    fn duplicate(&mut self, ev: &Event, seq: u64) -> Result<Receipt> {
        let stored = self.reader.entry(seq)?;
        let leaf = leaf_hash_of(seq, R::ROLE, ev)?;
        if stored.actor != R::ROLE || stored.leaf_hash != leaf {
            return Err(Error::EventIdConflict {
                event_id: ev.id.to_string(),
                seq,
            });
        }
        Ok(Receipt {
            seq,
            leaf_hash: leaf,
            duplicate: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::RawEntry;
    use crate::codec::Value;
    use crate::record::{EventId, RecordKind};
    use crate::sqlite::SqliteBackend;

    /// A SQLite backend whose commits fail, as a full disk or a failed fsync would.
    struct FailingCommit(SqliteBackend);

    impl Backend for FailingCommit {
        fn begin_append(&mut self) -> Result<()> {
            self.0.begin_append()
        }
        fn commit(&mut self) -> Result<()> {
            self.0.rollback();
            Err(Error::CommitFailed {
                context: "test".into(),
                message: "disk I/O error".into(),
            })
        }
        fn rollback(&mut self) {
            self.0.rollback();
        }
        fn tail(&mut self) -> Result<(u64, Hash)> {
            self.0.tail()
        }
        fn leaf_hashes(&mut self, from: u64, to: u64) -> Result<Vec<Hash>> {
            self.0.leaf_hashes(from, to)
        }
        fn insert_log(&mut self, row: &LogRow) -> Result<()> {
            self.0.insert_log(row)
        }
        fn insert_record(&mut self, kind: RecordKind, seq: u64, columns: &[Value]) -> Result<()> {
            self.0.insert_record(kind, seq, columns)
        }
        fn insert_checkpoint(&mut self, row: &CheckpointRow) -> Result<()> {
            self.0.insert_checkpoint(row)
        }
        fn entries(&mut self, from: u64, to: u64) -> Result<Vec<RawEntry>> {
            self.0.entries(from, to)
        }
        fn seq_of(&mut self, id: &EventId) -> Result<Option<u64>> {
            self.0.seq_of(id)
        }
        fn checkpoints(&mut self) -> Result<Vec<CheckpointRow>> {
            self.0.checkpoints()
        }
        fn scan_kind(
            &mut self,
            kind: RecordKind,
            from: i64,
            to: i64,
            f: crate::backend::ScanFn<'_>,
        ) -> Result<()> {
            self.0.scan_kind(kind, from, to, f)
        }
        fn count_kind(&mut self, kind: RecordKind, from: i64, to: i64) -> Result<u64> {
            self.0.count_kind(kind, from, to)
        }
    }

    #[test]
    fn a_failed_commit_closes_the_handle() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leo.db");
        let mut w: EnforcerHandle = WriterHandle {
            reader: Reader::new(Box::new(FailingCommit(
                SqliteBackend::writer(&path).unwrap(),
            ))),
            signer: None,
            poisoned: false,
            role: PhantomData,
        };
        let ev = crate::samples::handoff("p", 1).unwrap();
        assert!(matches!(
            w.append(ev.clone()),
            Err(Error::CommitFailed { .. })
        ));
        // No retry-and-continue: every later call is refused, and nothing was written.
        assert!(matches!(w.append(ev), Err(Error::HandlePoisoned)));
        assert!(matches!(w.checkpoint(), Err(Error::HandlePoisoned)));
        assert_eq!(w.size().unwrap(), 0);
    }
}
