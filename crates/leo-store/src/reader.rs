//! Read access shared by every handle: entries, proofs, verification, and streaming reads
//! of one record kind over a time window.

use std::fmt;
use std::ops::ControlFlow;

use crate::backend::{Backend, CheckpointRow, PAGE};
use crate::codec::Entry;
use crate::error::{Error, Result};
use crate::merkle::{Hash, MerkleTree};
use crate::projection::ProjectedRow;
use crate::proof::{ConsistencyProof, InclusionProof};
use crate::record::{EventId, RecordKind, Timestamp};

/// Read access shared by every handle.
pub struct Reader {
    pub(crate) backend: Box<dyn Backend>,
    pub(crate) tree: MerkleTree,
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reader(cached tree size {})", self.tree.len())
    }
}

impl Reader {
    pub(crate) fn new(backend: Box<dyn Backend>) -> Self {
        Reader {
            backend,
            tree: MerkleTree::new(),
        }
    }

    /// Number of records in the log.
    pub fn size(&mut self) -> Result<u64> {
        Ok(self.backend.tail()?.0)
    }

    /// Brings the cached tree up to `size` leaves from the stored leaf hashes.
    pub(crate) fn sync_tree(&mut self, size: u64) -> Result<()> {
        let mut from = self.tree.len();
        while from < size {
            let to = size.min(from + PAGE * 10);
            for h in self.backend.leaf_hashes(from, to)? {
                self.tree.push(h);
            }
            from = to;
        }
        Ok(())
    }

    /// Up to `limit` entries starting at `from`, decoded.
    pub fn entries(&mut self, from: u64, limit: u64) -> Result<Vec<Entry>> {
        let to = from.saturating_add(limit.min(PAGE));
        self.backend
            .entries(from, to)?
            .into_iter()
            .map(|raw| raw.decode())
            .collect()
    }

    /// The entry at `seq`.
    pub fn entry(&mut self, seq: u64) -> Result<Entry> {
        self.entries(seq, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::NotFound {
                what: format!("at seq {seq}"),
            })
    }

    /// The entry recorded under a client event id. The event-id index is not covered by
    /// any leaf, so the entry it points to must carry that id.
    pub fn find(&mut self, id: &EventId) -> Result<Entry> {
        let Some(seq) = self.backend.seq_of(id)? else {
            return Err(Error::NotFound {
                what: format!("with event id {id}"),
            });
        };
        let entry = self.entry(seq)?;
        if entry.event.id != *id {
            return Err(Error::Tampered {
                seq,
                table: crate::schema::EVENT_IDS_TABLE.to_owned(),
                reason: format!(
                    "the event-id index maps {id} to seq {seq}, which records {}",
                    entry.event.id
                ),
            });
        }
        Ok(entry)
    }

    /// Streams every entry of `kind` recorded in `[from, to)` (client `recorded_at`), in
    /// `(recorded_at, seq)` order, to `f`; `f` returns [`ControlFlow::Break`] to stop early.
    /// Returns how many entries were passed to `f`.
    ///
    /// Built for scoring a whole trail: one indexed range scan, read as a stream (SQLite:
    /// the kind's table on its `recorded_at` index, one statement cursor; PostgreSQL:
    /// `leo_log (kind, recorded_at, seq)` joined to the kind's table by primary key, a portal
    /// fetched [`crate::backend::PAGE`] rows at a time), so memory stays flat whatever the
    /// window holds. Entries are decoded and
    /// checked like [`Reader::entries`] does, but not re-hashed: use [`Reader::verify`] for
    /// tamper evidence.
    pub fn for_each_of_kind(
        &mut self,
        kind: RecordKind,
        from: Timestamp,
        to: Timestamp,
        mut f: impl FnMut(Entry) -> ControlFlow<()>,
    ) -> Result<u64> {
        let mut n = 0u64;
        self.backend
            .scan_kind(kind, from.unix_micros(), to.unix_micros(), &mut |entry| {
                n += 1;
                f(entry)
            })?;
        Ok(n)
    }

    /// Streams the [projection](crate::projection) of every entry of `kind` recorded in
    /// `[from, to)`, in `(recorded_at, seq)` order, to `f`; `f` returns
    /// [`ControlFlow::Break`] to stop early. Returns how many rows were passed to `f`.
    ///
    /// The same indexed range scan as [`Reader::for_each_of_kind`], selecting only the
    /// columns a posture score needs and parsing only those (no allocation per row): a read
    /// model for scoring. Values are those stored; a tampered row is found by
    /// [`Reader::verify`], not here.
    pub fn for_each_projected(
        &mut self,
        kind: RecordKind,
        from: Timestamp,
        to: Timestamp,
        mut f: impl FnMut(&ProjectedRow<'_>) -> ControlFlow<()>,
    ) -> Result<u64> {
        let mut n = 0u64;
        self.backend
            .project_kind(kind, from.unix_micros(), to.unix_micros(), &mut |row| {
                n += 1;
                f(row)
            })?;
        Ok(n)
    }

    /// Every entry of `kind` recorded in `[from, to)`, in `(recorded_at, seq)` order,
    /// collected (see [`Reader::for_each_of_kind`] to stream a large window instead).
    pub fn entries_of_kind(
        &mut self,
        kind: RecordKind,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        self.for_each_of_kind(kind, from, to, |e| {
            out.push(e);
            ControlFlow::Continue(())
        })?;
        Ok(out)
    }

    /// How many entries of `kind` were recorded in `[from, to)` (an index-only count).
    pub fn count_of_kind(
        &mut self,
        kind: RecordKind,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<u64> {
        self.backend
            .count_kind(kind, from.unix_micros(), to.unix_micros())
    }

    /// Every stored checkpoint, by size (unverified; see [`Reader::verify`]).
    pub fn checkpoints(&mut self) -> Result<Vec<CheckpointRow>> {
        self.backend.checkpoints()
    }

    /// The root of the first `size` records, from the stored leaf hashes.
    pub fn root_at(&mut self, size: u64) -> Result<Hash> {
        self.sync_tree(size)?;
        self.tree.root_at(size)
    }

    /// An inclusion proof for record `seq` in the tree of `size` records.
    pub fn inclusion_proof(&mut self, seq: u64, size: u64) -> Result<InclusionProof> {
        let (stored, _) = self.backend.tail()?;
        if size > stored {
            return Err(Error::OutOfRange {
                what: "tree size",
                value: size,
                size: stored,
            });
        }
        self.sync_tree(size)?;
        let path = self.tree.inclusion_proof(seq, size)?;
        let leaf_hash = self.tree.leaf(seq).ok_or(Error::OutOfRange {
            what: "leaf index",
            value: seq,
            size,
        })?;
        Ok(InclusionProof {
            index: seq,
            size,
            leaf_hash,
            path,
            root: self.tree.root_at(size)?,
        })
    }

    /// A consistency proof between tree sizes `old` and `new`.
    pub fn consistency_proof(&mut self, old: u64, new: u64) -> Result<ConsistencyProof> {
        let (stored, _) = self.backend.tail()?;
        if new > stored {
            return Err(Error::OutOfRange {
                what: "tree size",
                value: new,
                size: stored,
            });
        }
        self.sync_tree(new)?;
        Ok(ConsistencyProof {
            old_size: old,
            new_size: new,
            path: self.tree.consistency_proof(old, new)?,
            old_root: self.tree.root_at(old)?,
            new_root: self.tree.root_at(new)?,
        })
    }

    /// Recomputes every leaf, the chain, the tree and every checkpoint signature; see
    /// [`crate::verify`].
    pub fn verify(
        &mut self,
        trusted: &[crate::note::NoteVerifier],
    ) -> Result<crate::verify::VerifyReport> {
        crate::verify::verify(self.backend.as_mut(), trusted)
    }
}
