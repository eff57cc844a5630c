//! The handles' failure paths: a failed commit, an error or a panic midway through a batch.

use super::*;
use crate::backend::RawEntry;
use crate::record::{EventId, RecordKind};
use crate::sqlite::SqliteBackend;

/// A SQLite backend that fails on cue:
/// - `commits_fail`: every commit, as a full disk or a failed fsync would;
/// - `windows_before_failure`: the window stream yields an error after that many windows,
///   as the hashing thread's would, and SQLite's own `insert_windows` takes it with its
///   statements held;
/// - `panics`: `insert_windows` panics;
/// - `windows_before_stop`: `insert_windows` answers [`Inserted::All`] after that many
///   windows without taking the rest, as a defective backend would.
struct Faulty {
    inner: SqliteBackend,
    commits_fail: bool,
    windows_before_failure: Option<usize>,
    panics: bool,
    windows_before_stop: Option<usize>,
}

impl Faulty {
    /// A writer on `path` that fails nowhere until told.
    fn on(path: &std::path::Path) -> Self {
        Faulty {
            inner: SqliteBackend::writer(path).unwrap(),
            commits_fail: false,
            windows_before_failure: None,
            panics: false,
            windows_before_stop: None,
        }
    }

    fn handle(self) -> EnforcerHandle {
        WriterHandle {
            reader: Reader::new(Box::new(self)),
            signer: None,
            poisoned: false,
            role: PhantomData,
        }
    }
}

impl Backend for Faulty {
    fn begin_append(&mut self) -> Result<()> {
        self.inner.begin_append()
    }
    fn commit(&mut self) -> Result<()> {
        if !self.commits_fail {
            return self.inner.commit();
        }
        self.inner.rollback();
        Err(Error::CommitFailed {
            context: "test".into(),
            message: "disk I/O error".into(),
        })
    }
    fn rollback(&mut self) {
        self.inner.rollback();
    }
    fn tail(&mut self) -> Result<(u64, Hash)> {
        self.inner.tail()
    }
    fn leaf_hashes(&mut self, from: u64, to: u64) -> Result<Vec<Hash>> {
        self.inner.leaf_hashes(from, to)
    }
    fn insert_rows(&mut self, rows: &[PendingRow<'_>]) -> Result<Inserted> {
        self.inner.insert_rows(rows)
    }
    fn insert_windows<'a>(
        &mut self,
        windows: &mut dyn Iterator<Item = Result<crate::backend::Window<'a>>>,
        done: &mut dyn FnMut(crate::backend::Window<'a>),
    ) -> Result<Inserted> {
        assert!(!self.panics, "injected panic");
        if let Some(n) = self.windows_before_stop {
            return self.inner.insert_windows(&mut windows.take(n), done);
        }
        let cue = &mut self.windows_before_failure;
        let mut faulty = windows.map(|w| match *cue {
            Some(0) => {
                *cue = None;
                Err(Error::DeniedByDatabase {
                    operation: "test".into(),
                    message: "refused".into(),
                })
            }
            Some(n) => {
                *cue = Some(n - 1);
                w
            }
            None => w,
        });
        self.inner.insert_windows(&mut faulty, done)
    }
    fn detects_duplicate_ids(&self) -> bool {
        self.inner.detects_duplicate_ids()
    }
    fn existing(&mut self, ids: &[&str]) -> Result<HashMap<String, u64>> {
        self.inner.existing(ids)
    }
    fn event_ids_disagree(&mut self) -> Result<Option<(u64, String)>> {
        self.inner.event_ids_disagree()
    }
    fn insert_checkpoint(&mut self, row: &CheckpointRow) -> Result<()> {
        self.inner.insert_checkpoint(row)
    }
    fn entries(&mut self, from: u64, to: u64) -> Result<Vec<RawEntry>> {
        self.inner.entries(from, to)
    }
    fn seq_of(&mut self, id: &EventId) -> Result<Option<u64>> {
        self.inner.seq_of(id)
    }
    fn checkpoints(&mut self) -> Result<Vec<CheckpointRow>> {
        self.inner.checkpoints()
    }
    fn scan_kind(
        &mut self,
        kind: RecordKind,
        from: i64,
        to: i64,
        f: crate::backend::ScanFn<'_>,
    ) -> Result<()> {
        self.inner.scan_kind(kind, from, to, f)
    }
    fn count_kind(&mut self, kind: RecordKind, from: i64, to: i64) -> Result<u64> {
        self.inner.count_kind(kind, from, to)
    }
}

/// Handoffs `from..from + n`.
fn handoffs(from: u32, n: u32) -> Vec<Event<HandoffEvent>> {
    (from..from + n)
        .map(|i| crate::samples::handoff("p", i).unwrap())
        .collect()
}

#[test]
fn a_failed_commit_closes_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leo.db");
    let mut w = Faulty {
        commits_fail: true,
        ..Faulty::on(&path)
    }
    .handle();
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

/// An error in the window stream while a large batch is still being hashed on the second
/// thread and SQLite holds its statements (as the hashing thread's own error would arrive):
/// that error comes back, the thread stops, nothing of the batch is kept (its first window
/// had gone in), and the handle appends on from where it was.
#[test]
fn a_failure_midway_through_a_hashed_batch_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leo.db");
    let mut w = Faulty {
        windows_before_failure: Some(2),
        ..Faulty::on(&path)
    }
    .handle();
    let events = handoffs;
    w.append_batch(events(1, 10)).unwrap();
    // Its first window goes in, its second is refused.
    assert!(matches!(
        w.append_batch(events(11, 1000)),
        Err(Error::DeniedByDatabase { .. })
    ));
    assert_eq!(w.size().unwrap(), 10);
    let r = w.append_batch(events(11, 1000)).unwrap();
    assert_eq!(r.first().map(|r| r.seq), Some(10));
    assert_eq!(w.size().unwrap(), 1010);
    drop(w);
    let mut b = BuilderHandle::open(&Location::Sqlite(path)).unwrap();
    assert_eq!(b.verify(&[]).unwrap().entries, 1010);
}

/// A panic in the middle of an append (here while a large batch is being hashed on the
/// second thread) rolls it back and closes the handle, and the panic goes on.
#[test]
fn a_panic_during_an_append_rolls_back_and_closes_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leo.db");
    let mut w = Faulty {
        panics: true,
        ..Faulty::on(&path)
    }
    .handle();
    let events = handoffs(1, 600);
    let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| w.append_batch(events.clone())));
    // The panic that went on is the one raised.
    assert!(
        panicked
            .unwrap_err()
            .downcast_ref::<&str>()
            .is_some_and(|m| m.contains("injected panic"))
    );
    assert!(matches!(w.append_batch(events), Err(Error::HandlePoisoned)));
    assert_eq!(w.reader.tree.len(), 0);
    // The transaction was rolled back, not left open on the still-open handle: another
    // writer gets the lock, and nothing of the batch is there.
    let mut other = EnforcerHandle::open(&Location::Sqlite(path), None).unwrap();
    other
        .append(crate::samples::handoff("q", 1).unwrap())
        .unwrap();
    assert_eq!(other.size().unwrap(), 1);
    drop(w);
}

/// A backend that answers "all inserted" before taking every window is caught: the batch is
/// refused as incomplete and rolled back, never acknowledged with short receipts.
#[test]
fn a_batch_the_backend_stops_short_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leo.db");
    for (n, expected, inserted) in [(1000, 1000, 32), (100, 100, 0)] {
        let mut w = Faulty {
            windows_before_stop: Some(if n > 100 { 1 } else { 0 }),
            ..Faulty::on(&path)
        }
        .handle();
        let got = w.append_batch(handoffs(1, n));
        let Err(Error::AppendIncomplete {
            expected: e,
            inserted: i,
        }) = got
        else {
            panic!("{got:?}");
        };
        assert_eq!((e, i), (expected, inserted));
        assert_eq!(w.size().unwrap(), 0);
    }
}
