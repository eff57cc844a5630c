//! Append throughput with the Merkle log, hash chain and a signed checkpoint per commit,
//! against the same rows inserted without the log ("plain"): batches of 1,000 and
//! single-event durable commits, on SQLite and (when `LEO_TEST_PG_URL` is set and the
//! `postgres` feature is on) PostgreSQL.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leo_store::codec::{Value, columns};
use leo_store::samples::handoff;
use leo_store::{EnforcerHandle, Event, HandoffEvent, Location, NoteSigner};

const BATCH: u64 = 1000;
static NEXT: AtomicU64 = AtomicU64::new(0);

fn events(n: u64) -> Vec<Event<HandoffEvent>> {
    let start = NEXT.fetch_add(n, Ordering::Relaxed);
    (start..start + n)
        .map(|i| {
            let mut e = handoff("bench", u32::try_from(i % 1_000_000).unwrap() + 1).unwrap();
            e.id = format!("bench-{i}").parse().unwrap();
            e
        })
        .collect()
}

/// The same events, no log: a table with each event's id (UNIQUE), action, time and record
/// columns, one `INSERT` per event.
struct PlainSqlite(leo_store::sqlite::Connection);

impl PlainSqlite {
    fn new(path: &std::path::Path) -> Self {
        let c = leo_store::sqlite::Connection::open(path).unwrap();
        c.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
             CREATE TABLE plain (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
               action TEXT NOT NULL, recorded_at INTEGER NOT NULL,
               stage TEXT NOT NULL, bundle_hash TEXT NOT NULL, commit_sha TEXT NOT NULL,
               branch TEXT NOT NULL, pr_number INTEGER)",
        )
        .unwrap();
        PlainSqlite(c)
    }

    fn insert(&self, evs: Vec<Event<HandoffEvent>>) {
        self.0.execute_batch("BEGIN IMMEDIATE").unwrap();
        {
            let mut st = self
                .0
                .prepare_cached(
                    "INSERT INTO plain (event_id, action, recorded_at, stage, bundle_hash, \
                     commit_sha, branch, pr_number) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .unwrap();
            // Moved into a `Record` (as `append_batch` does), columns borrowed when bound.
            for e in evs.into_iter().map(Event::into_any) {
                let cols = columns(&e.record).unwrap();
                let text = |i: usize| match &cols[i] {
                    Value::Text(Some(s)) => s.as_str(),
                    _ => "",
                };
                let pr = match cols[4] {
                    Value::Int(i) => i,
                    _ => None,
                };
                st.execute(leo_store::sqlite::params![
                    e.id.as_str(),
                    e.action.as_str(),
                    e.recorded_at.unix_micros(),
                    text(0),
                    text(1),
                    text(2),
                    text(3),
                    pr
                ])
                .unwrap();
            }
        }
        self.0.execute_batch("COMMIT").unwrap();
    }
}

/// One criterion group: the Merkle-logged append against the plain insert of the same rows.
fn compare(
    c: &mut Criterion,
    group: &str,
    n: u64,
    samples: usize,
    mut logged: impl FnMut(Vec<Event<HandoffEvent>>),
    mut plain: impl FnMut(Vec<Event<HandoffEvent>>),
) {
    let mut g = c.benchmark_group(group);
    g.sample_size(samples).throughput(Throughput::Elements(n));
    g.bench_function("merkle_log", |b| {
        b.iter_batched(|| events(n), &mut logged, BatchSize::SmallInput)
    });
    g.bench_function("plain_insert", |b| {
        b.iter_batched(|| events(n), &mut plain, BatchSize::SmallInput)
    });
    g.finish();
}

fn sqlite(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let loc = Location::Sqlite(dir.path().join("log.db"));
    let w = EnforcerHandle::open(&loc, Some(NoteSigner::generate("bench").unwrap())).unwrap();
    let plain = PlainSqlite::new(&dir.path().join("plain.db"));

    let log = std::cell::RefCell::new(w);
    compare(
        c,
        "sqlite_batch_1000",
        BATCH,
        20,
        |e| drop(log.borrow_mut().append_batch(e).unwrap()),
        |e| plain.insert(e),
    );
    compare(
        c,
        "sqlite_single_durable",
        1,
        20,
        |e| drop(log.borrow_mut().append_batch(e).unwrap()),
        |e| plain.insert(e),
    );
}

#[cfg(feature = "postgres")]
fn postgres(c: &mut Criterion) {
    use leo_store::postgres::{Client, NoTls, install, url_for_user};
    let Ok(url) = std::env::var("LEO_TEST_PG_URL") else {
        eprintln!("skipping PostgreSQL benches: LEO_TEST_PG_URL is not set");
        return;
    };
    let schema = format!("bench_{}", std::process::id());
    let mut admin = Client::connect(&url, NoTls).unwrap();
    let roles = install(&mut admin, &schema, None).unwrap();
    let writer = url_for_user(&url, &roles.writers[0].1).unwrap();
    let w = EnforcerHandle::open(
        &Location::Postgres(writer),
        Some(NoteSigner::generate("bench").unwrap()),
    )
    .unwrap();
    admin
        .batch_execute(&format!(
            "CREATE TABLE {schema}.plain (id BIGSERIAL PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
               action TEXT NOT NULL, recorded_at BIGINT NOT NULL,
               stage TEXT NOT NULL, bundle_hash TEXT NOT NULL, commit_sha TEXT NOT NULL,
               branch TEXT NOT NULL, pr_number BIGINT)"
        ))
        .unwrap();
    let plain_sql = format!(
        "INSERT INTO {schema}.plain (event_id, action, recorded_at, stage, bundle_hash, commit_sha, \
         branch, pr_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    let stmt = admin.prepare(&plain_sql).unwrap();
    let plain = |evs: Vec<Event<HandoffEvent>>| {
        let mut tx = admin.transaction().unwrap();
        for e in &evs {
            let r = &e.record;
            let pr = r.pr_number.map(|p| i64::from(p.get()));
            tx.execute(
                &stmt,
                &[
                    &e.id.as_str(),
                    &e.action.as_str(),
                    &e.recorded_at.unix_micros(),
                    &"CLAUDE_APPLIED",
                    &r.bundle_hash.to_string(),
                    &r.commit.as_str(),
                    &r.branch.as_str(),
                    &pr,
                ],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    };
    let log = std::cell::RefCell::new(w);
    let plain = std::cell::RefCell::new(plain);
    compare(
        c,
        "postgres_batch_1000",
        BATCH,
        10,
        |e| drop(log.borrow_mut().append_batch(e).unwrap()),
        |e| (plain.borrow_mut())(e),
    );
    compare(
        c,
        "postgres_single_durable",
        1,
        20,
        |e| drop(log.borrow_mut().append_batch(e).unwrap()),
        |e| (plain.borrow_mut())(e),
    );
}

#[cfg(not(feature = "postgres"))]
fn postgres(_: &mut Criterion) {}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
