//! kill -9 loops: a child process (this test binary, re-executed) appends and acknowledges
//! each durable commit on stdout; the parent kills it at a random point (SIGKILL, or for
//! PostgreSQL `pg_ctl stop -m immediate` on the server) and checks that no acknowledged record
//! was lost, that at most the one operation in flight is missing or present unacknowledged,
//! and that chain, tree and checkpoints verify after every round.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use leo_store::samples::handoff;
use leo_store::{BuilderHandle, EnforcerHandle, Location, NoteSigner};

const CHILD_LOCATION: &str = "LEO_STORE_CRASH_LOCATION";
const CHILD_PREFIX: &str = "LEO_STORE_CRASH_PREFIX";
const CHILD_KEY: &str = "LEO_STORE_CRASH_KEY";
/// Records per batch when the child appends a batch (it alternates single appends and
/// batches, so both commit paths are killed mid-flight).
const BATCH: u32 = 8;

/// Not a test on its own: the appending child. It does nothing unless the parent set
/// `LEO_STORE_CRASH_LOCATION`.
#[test]
fn crash_child_process() {
    let Ok(loc) = std::env::var(CHILD_LOCATION) else {
        return;
    };
    let loc: Location = loc.parse().unwrap();
    let prefix = std::env::var(CHILD_PREFIX).unwrap();
    let signer = NoteSigner::from_secret_key(&std::env::var(CHILD_KEY).unwrap()).unwrap();
    let mut w = EnforcerHandle::open(&loc, Some(signer)).unwrap();
    let mut n = 0u32;
    for op in 0u64.. {
        let size = if op % 2 == 0 { 1 } else { BATCH };
        let events: Vec<_> = (n..n + size)
            .map(|i| handoff(&prefix, i + 1).unwrap())
            .collect();
        let ids: Vec<String> = events.iter().map(|e| e.id.to_string()).collect();
        if let Err(e) = w.append_batch(events) {
            eprintln!("child: append failed: {e}");
            std::process::exit(3);
        }
        // One line per operation: everything in it is acknowledged at once.
        // libtest may have written "test ... " without a newline: start on a fresh line.
        println!("\nLEO-ACK {}", ids.join(" "));
        n += size;
    }
}

fn random(round: u64) -> u64 {
    std::collections::hash_map::RandomState::new().hash_one(round)
}

fn spawn_child(loc: &str, prefix: &str, key: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_LOCATION, loc)
        .env(CHILD_PREFIX, prefix)
        .env(CHILD_KEY, key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Reads `LEO-ACK` lines; calls `crash` after `kill_after` acknowledged operations, then drains
/// what the child had already written. Returns acknowledged operations (lists of ids).
fn run_round(
    child: &mut Child,
    kill_after: u64,
    crash: &mut dyn FnMut(&mut Child),
) -> Vec<Vec<String>> {
    let out = child.stdout.take().unwrap();
    let mut acked = Vec::new();
    let mut crashed = false;
    for line in BufReader::new(out).lines() {
        let Ok(line) = line else { break };
        if let Some(ids) = line.strip_prefix("LEO-ACK ") {
            acked.push(ids.split(' ').map(str::to_owned).collect());
            if !crashed && acked.len() as u64 >= kill_after {
                crash(child);
                crashed = true;
            }
        }
    }
    if !crashed {
        crash(child);
    }
    child.wait().unwrap();
    acked
}

/// Every acknowledged id is stored; stored-but-unacknowledged ids are exactly one operation
/// (the one in flight: the next single append or batch), or none.
fn check_round(
    loc: &Location,
    prefix: &str,
    acked: &[Vec<String>],
    trusted: &[leo_store::NoteVerifier],
) {
    let mut b = BuilderHandle::open(loc).unwrap();
    let report = b.verify(trusted).unwrap();
    let size = b.size().unwrap();
    assert_eq!(report.entries, size);
    let mut stored = BTreeSet::new();
    let mut from = 0;
    while from < size {
        for e in b.entries(from, 1000).unwrap() {
            if e.event.id.as_str().starts_with(&format!("{prefix}-")) {
                stored.insert(e.event.id.to_string());
            }
            from = e.seq + 1;
        }
    }
    let acked_ids: BTreeSet<String> = acked.iter().flatten().cloned().collect();
    let lost: Vec<_> = acked_ids.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged records lost: {lost:?}");
    let extra = stored.len() - acked_ids.len();
    let next_op = if acked.len() % 2 == 0 {
        1
    } else {
        BATCH as usize
    };
    assert!(
        extra == 0 || extra == next_op,
        "{extra} unacknowledged records (in flight: {next_op})"
    );
}

#[test]
fn sqlite_survives_kill_9_loops() {
    const ROUNDS: u64 = 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let loc = Location::Sqlite(path.clone());
    let signer = NoteSigner::generate("leo.test/crash").unwrap();
    let trusted = [signer.verifier()];
    let mut total = 0;
    for round in 0..ROUNDS {
        let prefix = format!("r{round}");
        let mut child = spawn_child(
            &format!("sqlite:{}", path.display()),
            &prefix,
            &signer.secret_key(),
        );
        let kill_after = 1 + random(round) % 12;
        let acked = run_round(&mut child, kill_after, &mut |c| c.kill().unwrap());
        assert!(
            acked.len() as u64 >= kill_after,
            "round {round}: child died early"
        );
        check_round(&loc, &prefix, &acked, &trusted);
        total += acked.len();
    }
    assert!(total >= ROUNDS as usize);
}

#[cfg(feature = "postgres")]
fn pg_ctl(data: &str, args: &[&str]) {
    let bin =
        std::env::var("LEO_TEST_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n")
        .unwrap_or(false);
    let pg_ctl = format!("{bin}/pg_ctl");
    let mut cmd = if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", &pg_ctl]);
        c
    } else {
        Command::new(&pg_ctl)
    };
    let status = cmd
        .args(["-D", data])
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "pg_ctl {args:?} failed");
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_survives_immediate_shutdown_loops() {
    use common::Fixture;
    use leo_store::Role;
    const ROUNDS: u64 = 3;
    let Some(_) = common::pg_url() else { return };
    let Ok(data) = std::env::var("LEO_TEST_PG_DATA") else {
        assert!(
            !leo_testkit::under_ci(),
            "LEO_TEST_PG_DATA must be set under CI"
        );
        eprintln!("skipping: LEO_TEST_PG_DATA is not set (the cluster is not ours to stop)");
        return;
    };
    let log = std::env::var("LEO_TEST_PG_LOG").unwrap_or_else(|_| format!("{data}/../server.log"));
    let fx = common::PgFixture::new("crash").unwrap();
    let loc = fx.location(Role::ClaudeExec);
    let Location::Postgres(url) = &loc else {
        unreachable!()
    };
    let signer = NoteSigner::generate("leo.test/crash").unwrap();
    let trusted = [signer.verifier()];
    for round in 0..ROUNDS {
        let prefix = format!("p{round}");
        let mut child = spawn_child(url, &prefix, &signer.secret_key());
        let kill_after = 1 + random(round) % 12;
        let acked = run_round(&mut child, kill_after, &mut |c| {
            pg_ctl(&data, &["stop", "-m", "immediate"]);
            let _ = c.kill();
        });
        pg_ctl(&data, &["start", "-w", "-t", "60", "-l", &log]);
        assert!(
            acked.len() as u64 >= kill_after,
            "round {round}: child died early"
        );
        check_round(&fx.location(Role::Codex), &prefix, &acked, &trusted);
    }
}
