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
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::str::FromStr;

use crate::backend::{Backend, CheckpointRow, Inserted, LogRow, PendingRow};
use crate::codec::{Event, LeafFields, Value, chain_next, columns, leaf_matches};
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
mod pipeline;
pub use batch::Batch;

/// Initial capacity of the buffer a batch encodes its leaves in (a leaf is 150 to 400 bytes).
const LEAF_SCRATCH: usize = 512;

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
    /// Opens the trail for appending as `R`'s role, creating the SQLite schema if needed or
    /// migrating an older SQLite file ([`Error::MigrationRefused`] when it cannot be
    /// migrated faithfully; nothing is changed then).
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

    /// Appends events in one transaction (one commit, one checkpoint). On SQLite, a batch of
    /// 512 events or more is hashed on a second (scoped) thread while this one inserts it.
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
    /// Receipts follow push order. Large batches are hashed on a second thread, as in
    /// [`WriterHandle::append_batch`].
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
        self.transaction_if(|w| Ok((body(w)?, Outcome::Commit)))
            .map(|(v, _)| v)
    }

    /// Runs `body` in one append transaction and commits when it answers
    /// [`Outcome::Commit`]; [`Outcome::RollBack`] (like an error) rolls everything back. A
    /// failed commit poisons the handle; so does a panic in `body` (on this thread or the
    /// hashing one), after rolling back, and the panic goes on.
    fn transaction_if<T>(
        &mut self,
        body: impl FnOnce(&mut Self) -> Result<(T, Outcome)>,
    ) -> Result<(T, Outcome)> {
        if self.poisoned {
            return Err(Error::HandlePoisoned);
        }
        let start = self.reader.tree.len();
        self.reader.backend.begin_append()?;
        let done = match std::panic::catch_unwind(AssertUnwindSafe(|| body(&mut *self))) {
            Ok(done) => done,
            Err(panic) => {
                self.poisoned = true;
                self.reader.backend.rollback();
                self.reader.tree.truncate(start);
                std::panic::resume_unwind(panic)
            }
        };
        if let Ok((_, Outcome::Commit)) = &done {
            if let Err(e) = self.reader.backend.commit() {
                self.poisoned = true;
                self.reader.tree.truncate(start);
                return Err(e);
            }
        } else {
            self.reader.backend.rollback();
            self.reader.tree.truncate(start);
        }
        done
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
        // The fast path: every event new, as all but a retry's are. The database's unique
        // event id answers otherwise, and then the batch is rolled back and appended again
        // with look-ups.
        if self.reader.backend.detects_duplicate_ids() {
            let (receipts, done) = self.transaction_if(|w| w.append_new(&events))?;
            if done == Outcome::Commit {
                return Ok(receipts);
            }
        }
        self.transaction(|w| w.append_looked_up(&events))
    }

    /// The log's size and chain tail, with the cached tree brought up to that size.
    fn start_append(&mut self) -> Result<(u64, Hash)> {
        let (size, chain) = self.reader.backend.tail()?;
        if self.reader.tree.len() > size {
            self.reader.tree = MerkleTree::new();
        }
        self.reader.sync_tree(size)?;
        Ok((size, chain))
    }

    /// Appends `events` assuming every event id is new ([`Backend::detects_duplicate_ids`]
    /// checks it); [`Outcome::RollBack`] when one is not.
    fn append_new(&mut self, events: &[Event]) -> Result<(Vec<Receipt>, Outcome)> {
        let (_, chain) = self.start_append()?;
        let Reader { backend, tree } = &mut self.reader;
        let first = tree.len();
        let Some(leaves) =
            pipeline::hash_and_insert(tree, backend.as_mut(), R::ROLE, events, chain)?
        else {
            return Ok((Vec::new(), Outcome::RollBack));
        };
        let receipts = (first..)
            .zip(leaves)
            .map(|(seq, leaf_hash)| Receipt {
                seq,
                leaf_hash,
                duplicate: false,
            })
            .collect();
        let size = self.reader.tree.len();
        self.write_checkpoint(size)?;
        Ok((receipts, Outcome::Commit))
    }

    /// Appends `events` after looking their ids up: a recorded or repeated id is a
    /// duplicate receipt, or [`Error::EventIdConflict`] when its content differs.
    fn append_looked_up(&mut self, events: &[Event]) -> Result<Vec<Receipt>> {
        let (_, mut chain) = self.start_append()?;
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let existing = self.reader.backend.existing(&ids)?;
        let cols = events
            .iter()
            .map(|e| columns(&e.record))
            .collect::<Result<Vec<_>>>()?;
        let first = self.reader.tree.len();
        let mut new: Vec<(&Event, &[Value])> = Vec::new();
        let mut hashes = Vec::new();
        let mut in_batch: HashMap<&str, (&Event, Receipt)> = HashMap::new();
        let mut scratch = Vec::with_capacity(LEAF_SCRATCH);
        let mut receipts = Vec::with_capacity(events.len());
        for (ev, columns) in events.iter().zip(&cols) {
            if let Some(&seq) = existing.get(ev.id.as_str()) {
                receipts.push(self.duplicate(ev, seq)?);
            } else if let Some((earlier, receipt)) = in_batch.get(ev.id.as_str()) {
                if *earlier != ev {
                    return Err(Error::EventIdConflict {
                        event_id: ev.id.to_string(),
                        seq: receipt.seq,
                    });
                }
                receipts.push(Receipt {
                    duplicate: true,
                    ..*receipt
                });
            } else {
                let (leaf_hash, link) = hash_row(
                    &mut self.reader.tree,
                    R::ROLE,
                    (ev, columns),
                    &chain,
                    &mut scratch,
                )?;
                chain = link;
                let receipt = Receipt {
                    seq: first + new.len() as u64,
                    leaf_hash,
                    duplicate: false,
                };
                in_batch.insert(ev.id.as_str(), (ev, receipt));
                new.push((ev, columns.as_slice()));
                hashes.push((leaf_hash, link));
                receipts.push(receipt);
            }
        }
        if new.is_empty() {
            return Ok(receipts);
        }
        let rows = pending(first, R::ROLE, &new, &hashes);
        if self.reader.backend.insert_rows(&rows)? == Inserted::DuplicateEventId {
            // Every id was looked up under the append lock; name the one the database has.
            let ids: Vec<&str> = new.iter().map(|(e, _)| e.id.as_str()).collect();
            return Err(
                match self.reader.backend.existing(&ids)?.into_iter().next() {
                    Some((event_id, seq)) => Error::EventIdConflict { event_id, seq },
                    None => Error::Tampered {
                        seq: first,
                        table: crate::schema::EVENT_IDS_TABLE.to_owned(),
                        reason: "an event id was refused as recorded but is not found".to_owned(),
                    },
                },
            );
        }
        let size = self.reader.tree.len();
        self.write_checkpoint(size)?;
        Ok(receipts)
    }

    /// A retried event: identical content is a no-op, different content is refused.
    fn duplicate(&mut self, ev: &Event, seq: u64) -> Result<Receipt> {
        let stored = self.reader.entry(seq)?;
        if stored.actor != R::ROLE || !leaf_matches(&stored.leaf_hash, seq, R::ROLE, ev)? {
            return Err(Error::EventIdConflict {
                event_id: ev.id.to_string(),
                seq,
            });
        }
        Ok(Receipt {
            seq,
            leaf_hash: stored.leaf_hash,
            duplicate: true,
        })
    }
}

/// Whether an append transaction is committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Commit it.
    Commit,
    /// Roll it back (the backend found an event id already recorded).
    RollBack,
}

/// The leaf hash and chain link of each new event (filed by `role`, with its columns),
/// appended after the tree's last leaf: the leaves are pushed onto `tree`, and `chain` is
/// the link before the first.
fn hash_rows(
    tree: &mut MerkleTree,
    role: Role,
    new: &[(&Event, &[Value])],
    mut chain: Hash,
) -> Result<Vec<(Hash, Hash)>> {
    let mut scratch = Vec::with_capacity(LEAF_SCRATCH);
    let mut out = Vec::with_capacity(new.len());
    for &row in new {
        let hashed = hash_row(tree, role, row, &chain, &mut scratch)?;
        chain = hashed.1;
        out.push(hashed);
    }
    Ok(out)
}

/// [`hash_rows`] for one event: its leaf hash and chain link after `chain`.
fn hash_row(
    tree: &mut MerkleTree,
    role: Role,
    (ev, columns): (&Event, &[Value]),
    chain: &Hash,
    scratch: &mut Vec<u8>,
) -> Result<(Hash, Hash)> {
    let kind = ev.record.kind();
    let leaf = LeafFields {
        seq: tree.len(),
        event_id: ev.id.as_str(),
        kind: kind.as_str(),
        actor: role.as_str(),
        action: ev.action.as_str(),
        recorded_at: ev.recorded_at.unix_micros(),
        columns,
    }
    .hash_with(scratch)?;
    let link = chain_next(chain, &leaf);
    tree.push(leaf);
    Ok((leaf, link))
}

/// The rows of the new events from seq `first` on, with the hashes [`hash_rows`] gave them.
fn pending<'a>(
    first: u64,
    role: Role,
    new: &[(&'a Event, &'a [Value])],
    hashes: &[(Hash, Hash)],
) -> Vec<PendingRow<'a>> {
    (first..)
        .zip(new)
        .zip(hashes)
        .map(|((seq, &(ev, columns)), hashes)| (log_row(seq, role, ev, hashes), columns))
        .collect()
}

/// `ev`'s log row as row `seq`, filed by `role`, with its `(leaf hash, chain link)`.
fn log_row<'a>(
    seq: u64,
    role: Role,
    ev: &'a Event,
    &(leaf_hash, chain_hash): &(Hash, Hash),
) -> LogRow<'a> {
    LogRow {
        seq,
        event_id: ev.id.as_str(),
        kind: ev.record.kind(),
        actor: role,
        action: ev.action,
        recorded_at: ev.recorded_at.unix_micros(),
        leaf_hash,
        chain_hash,
    }
}

#[cfg(test)]
mod tests;
