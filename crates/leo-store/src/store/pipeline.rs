//! How a batch of new events becomes rows: hashed, then inserted. A large batch is hashed on
//! a second thread, a window of rows at a time, while this one inserts the windows already
//! hashed ([`Backend::insert_windows`]), so the hashing (leaf, chain link, tree nodes: nine
//! SHA-256 blocks per record) and the records' column encoding are off the inserting
//! thread's path.

use std::sync::mpsc;

use super::{hash_rows, log_row};
use crate::backend::{Backend, Inserted, Window};
use crate::codec::{Event, Value, columns};
use crate::error::{Error, Result};
use crate::merkle::{Hash, MerkleTree};
use crate::role::Role;

/// Rows per window (SQLite's largest multi-row insert is 128 rows, `sqlite::batch`).
const WINDOW: usize = 128;

/// Rows of the first window, which the inserting thread waits for: smaller, so it starts
/// sooner (a multi-row insert size too).
const FIRST_WINDOW: usize = 32;

/// Batches with fewer rows are hashed on the calling thread: starting a thread and waiting
/// for the first window costs more than a small batch's hashing.
const MIN_PIPELINED: usize = 4 * WINDOW;

/// Windows the hashing thread may run ahead of the inserts.
const AHEAD: usize = 4;

/// Hashes `events` (pushing their leaves onto `tree`, chaining on from `chain`) and inserts
/// them into `backend` as rows `tree.len()..`. Answers their leaf hashes, or `None` when the
/// backend found an event id already recorded (the caller rolls the transaction back, and
/// with it the tree).
pub(super) fn hash_and_insert(
    tree: &mut MerkleTree,
    backend: &mut dyn Backend,
    role: Role,
    events: &[Event],
    chain: Hash,
) -> Result<Option<Vec<Hash>>> {
    if events.len() >= MIN_PIPELINED {
        if let Some(done) = pipelined(tree, backend, role, events, chain) {
            return done;
        }
    }
    let window = hash_window(tree, role, events, chain)?;
    let leaves: Vec<Hash> = window.log.iter().map(|l| l.leaf_hash).collect();
    let mut inserted_rows = 0;
    let inserted = backend.insert_windows(&mut std::iter::once(Ok(window)), &mut |w| {
        inserted_rows += w.log.len();
    })?;
    complete(inserted, events.len(), inserted_rows, leaves)
}

/// What an append of `expected` rows answers when the backend says `inserted` after
/// inserting `rows`: the leaves, `None` for a recorded event id, or
/// [`Error::AppendIncomplete`] when a backend says "all" before taking every row (a defect,
/// checked all the same: a short answer would acknowledge rows that are not there).
fn complete(
    inserted: Inserted,
    expected: usize,
    rows: usize,
    leaves: Vec<Hash>,
) -> Result<Option<Vec<Hash>>> {
    match inserted {
        Inserted::DuplicateEventId => Ok(None),
        Inserted::All if rows == expected => Ok(Some(leaves)),
        Inserted::All => Err(Error::AppendIncomplete {
            expected: expected as u64,
            inserted: rows as u64,
        }),
    }
}

/// [`hash_and_insert`] with the hashing on a second thread; `None` when no thread could be
/// started (nothing was done then).
fn pipelined(
    tree: &mut MerkleTree,
    backend: &mut dyn Backend,
    role: Role,
    events: &[Event],
    chain: Hash,
) -> Option<Result<Option<Vec<Hash>>>> {
    std::thread::scope(|s| {
        let (tx, rx) = mpsc::sync_channel::<Result<Window<'_>>>(AHEAD);
        // Inserted windows go back to be freed there, off the inserting thread.
        let (spent_tx, spent_rx) = mpsc::channel::<Window<'_>>();
        let hashing = std::thread::Builder::new()
            .name("leo-store-hash".into())
            .spawn_scoped(s, move || {
                let mut chain = chain;
                for events in windows(events) {
                    spent_rx.try_iter().for_each(drop);
                    let window = hash_window(tree, role, events, chain);
                    if let Ok(w) = &window {
                        chain = w.log.last().map_or(chain, |l| l.chain_hash);
                    }
                    let failed = window.is_err();
                    // A closed channel means the inserting side stopped (an error or a
                    // duplicate): the rest of the batch is not needed.
                    if tx.send(window).is_err() || failed {
                        return;
                    }
                }
                drop(tx);
                // Until the inserting side is done with the last window.
                spent_rx.into_iter().for_each(drop);
            });
        if hashing.is_err() {
            return None;
        }
        let mut leaves = Vec::with_capacity(events.len());
        // Returning drops `rx`, which stops the hashing thread at its next window. The
        // thread sends every window or stops at an error it sends; if it panicked instead,
        // the scope panics with it, so a short answer never leaves.
        let mut windows = rx.into_iter().inspect(|w| {
            if let Ok(w) = w {
                leaves.extend(w.log.iter().map(|l| l.leaf_hash));
            }
        });
        let mut inserted_rows = 0;
        let inserted = backend.insert_windows(&mut windows, &mut |w| {
            inserted_rows += w.log.len();
            // The hashing thread has stopped only if it failed, and then nothing is kept.
            let _ = spent_tx.send(w);
        });
        drop(windows);
        drop(spent_tx);
        Some(inserted.and_then(|i| complete(i, events.len(), inserted_rows, leaves)))
    })
}

/// `events` cut into windows: [`FIRST_WINDOW`] rows, then [`WINDOW`] at a time.
fn windows(events: &[Event]) -> impl Iterator<Item = &[Event]> {
    let (first, rest) = events.split_at(FIRST_WINDOW.min(events.len()));
    std::iter::once(first).chain(rest.chunks(WINDOW))
}

/// One window: its events' columns, hashed into rows `tree.len()..`.
fn hash_window<'a>(
    tree: &mut MerkleTree,
    role: Role,
    events: &'a [Event],
    chain: Hash,
) -> Result<Window<'a>> {
    let columns = events
        .iter()
        .map(|e| columns(&e.record))
        .collect::<Result<Vec<_>>>()?;
    let first = tree.len();
    let new: Vec<(&Event, &[Value])> = events
        .iter()
        .zip(columns.iter().map(Vec::as_slice))
        .collect();
    let hashes = hash_rows(tree, role, &new, chain)?;
    let log = (first..)
        .zip(events)
        .zip(&hashes)
        .map(|((seq, ev), hashes)| log_row(seq, role, ev, hashes))
        .collect();
    Ok(Window { log, columns })
}
