//! A fixed workload for instruction-count profiling of batched appends (the criterion bench
//! measures time; `valgrind --tool=callgrind` on this counts instructions, which stays
//! reliable on a loaded machine):
//!
//! ```sh
//! cargo build --release -p leo-store --example profile_append
//! valgrind --tool=callgrind target/release/examples/profile_append log 20
//! valgrind --tool=callgrind target/release/examples/profile_append plain 20
//! ```
//!
//! `pairs N` alternates log and plain batches in one process and prints their medians and
//! ratio: the robust way to compare them on a host whose speed moves (see `pairs`).
//!
//! `log-scan N` also streams the N×1,000 entries back with `Reader::for_each_of_kind` and
//! prints the time taken.
//!
//! `log` appends BATCHES batches of 1,000 handoff events through `EnforcerHandle` (signed
//! checkpoint per batch); `plain` inserts the same events (id, action, time, record columns)
//! into one table without the log, like `benches/append.rs` does; `gen` only generates the
//! events, for subtracting. `log 0` measures opening (and creating) the store alone.
//!
//! ```sh
//! perf stat -e task-clock,duration_time target/release/examples/profile_append log 100
//! ```

use leo_store::codec::{Value, columns};
use leo_store::samples::handoff;
use leo_store::{EnforcerHandle, Event, HandoffEvent, Location, NoteSigner};

const BATCH: u32 = 1000;

fn events(batch: u32) -> Result<Vec<Event<HandoffEvent>>, leo_store::Error> {
    (batch * BATCH..(batch + 1) * BATCH)
        .map(|i| {
            let mut e = handoff("bench", i % 1_000_000 + 1)?;
            e.id = format!("bench-{i}").parse()?;
            Ok(e)
        })
        .collect()
}

/// Batch `batch`'s events as untyped records (a move, as `append_batch` makes it), so no
/// mode pays for a copy of its input.
fn records(batch: u32) -> Result<Vec<Event>, leo_store::Error> {
    Ok(events(batch)?.into_iter().map(Event::into_any).collect())
}

/// A text column's value (`""` for anything else).
fn text(v: Option<&Value>) -> &str {
    match v {
        Some(Value::Text(Some(s))) => s.as_str(),
        _ => "",
    }
}

/// An integer column's value.
fn int(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Int(i)) => *i,
        _ => None,
    }
}

fn plain(
    conn: &leo_store::sqlite::Connection,
    evs: &[Event],
) -> Result<(), Box<dyn std::error::Error>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    {
        let mut st = conn.prepare_cached(
            "INSERT INTO plain (event_id, action, recorded_at, stage, bundle_hash, commit_sha, \
             branch, pr_number) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        for e in evs {
            let cols = columns(&e.record)?;
            st.execute(leo_store::sqlite::params![
                e.id.as_str(),
                e.action.as_str(),
                e.recorded_at.unix_micros(),
                text(cols.first()),
                text(cols.get(1)),
                text(cols.get(2)),
                text(cols.get(3)),
                int(cols.get(4))
            ])?;
        }
    }
    conn.execute_batch("COMMIT")?;
    Ok(())
}

/// A fresh database for `plain`, with the durability settings the store uses.
fn plain_db(
    dir: &std::path::Path,
) -> Result<leo_store::sqlite::Connection, Box<dyn std::error::Error>> {
    let c = leo_store::sqlite::Connection::open(dir.join("plain.db"))?;
    c.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE plain (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
           action TEXT NOT NULL, recorded_at INTEGER NOT NULL, stage TEXT NOT NULL,
           bundle_hash TEXT NOT NULL, commit_sha TEXT NOT NULL, branch TEXT NOT NULL,
           pr_number INTEGER)",
    )?;
    Ok(c)
}

/// The median of `xs` (sorted in place).
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(f64::NAN)
}

/// `pairs N`: N batches of 1,000 into the Merkle log and N into plain inserts, in one
/// process, alternating one batch each (which side goes first alternates too), each timed
/// alone; event generation is not timed. Both sides meet the same host speed within
/// milliseconds, so their ratio is robust where criterion's, measured seconds apart, is not.
fn pairs(dir: &std::path::Path, batches: u32) -> Result<(), Box<dyn std::error::Error>> {
    let c = plain_db(dir)?;
    let loc = Location::Sqlite(dir.join("log.db"));
    let mut w = EnforcerHandle::open(&loc, Some(NoteSigner::generate("bench")?))?;
    let (mut log_ms, mut plain_ms, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for b in 0..batches {
        let (evs, recs) = (events(b)?, records(b)?);
        let timed_log = || -> Result<f64, leo_store::Error> {
            let t = std::time::Instant::now();
            w.append_batch(evs)?;
            Ok(t.elapsed().as_secs_f64() * 1e3)
        };
        let timed_plain = || -> Result<f64, Box<dyn std::error::Error>> {
            let t = std::time::Instant::now();
            plain(&c, &recs)?;
            Ok(t.elapsed().as_secs_f64() * 1e3)
        };
        let (l, p) = if b % 2 == 0 {
            let l = timed_log()?;
            (l, timed_plain()?)
        } else {
            let p = timed_plain()?;
            (timed_log()?, p)
        };
        log_ms.push(l);
        plain_ms.push(p);
        ratios.push(p / l);
    }
    let (total_log, total_plain): (f64, f64) = (log_ms.iter().sum(), plain_ms.iter().sum());
    let (l, p) = (median(&mut log_ms), median(&mut plain_ms));
    println!(
        "{batches} pairs: log median {l:.3} ms ({:.0} records/s), plain median {p:.3} ms \
         ({:.0} records/s); ratio of medians {:.3}, median of pair ratios {:.3}, ratio of \
         totals {:.3}",
        1e6 / l,
        1e6 / p,
        p / l,
        median(&mut ratios),
        total_plain / total_log
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "log".into());
    let batches: u32 = args.next().map_or(Ok(20), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    match mode.as_str() {
        // The event generation both other modes include, to subtract.
        "gen" => {
            for b in 0..batches {
                drop(std::hint::black_box(records(b)?));
            }
        }
        "plain" => {
            let c = plain_db(dir.path())?;
            for b in 0..batches {
                plain(&c, &records(b)?)?;
            }
        }
        "pairs" => pairs(dir.path(), batches)?,
        _ => {
            let path = dir.path().join("log.db");
            let loc = Location::Sqlite(path.clone());
            let mut w = EnforcerHandle::open(&loc, Some(NoteSigner::generate("bench")?))?;
            for b in 0..batches {
                w.append_batch(events(b)?)?;
            }
            if mode == "log-scan" {
                // Streaming read of everything just written (see Reader::for_each_of_kind).
                let start = std::time::Instant::now();
                let mut prs = 0u64;
                let n = w.for_each_of_kind(
                    leo_store::RecordKind::Handoff,
                    leo_store::Timestamp::from_unix_micros(0),
                    leo_store::Timestamp::from_unix_micros(i64::MAX),
                    |e| {
                        if let leo_store::Record::Handoff(h) = e.event.record {
                            prs += u64::from(h.pr_number.map_or(0, |p| p.get()));
                        }
                        std::ops::ControlFlow::Continue(())
                    },
                )?;
                let count = w.count_of_kind(
                    leo_store::RecordKind::Handoff,
                    leo_store::Timestamp::from_unix_micros(0),
                    leo_store::Timestamp::from_unix_micros(i64::MAX),
                )?;
                println!(
                    "scanned {n} (count {count}, checksum {prs}) in {:?}",
                    start.elapsed()
                );
            }
        }
    }
    Ok(())
}
