//! The posture over 1,000,000 events (target: under a second each):
//! - `tally+score+exposition`: one window's tally, the score and the full Prometheus
//!   exposition from 1,000,000 in-memory observations;
//! - `store scan+score+exposition`: the same from a SQLite audit trail of 1,000,000 entries
//!   (built once and cached in the temp directory; `LEO_SCORE_BENCH_EVENTS` changes the size),
//!   read through the store's projection (`leo_score::scan`);
//! - `store decoded scan+score+exposition`: the same read through fully decoded entries
//!   (`leo_score::scan_decoded`), the path before the projection, for the ratio.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leo_score::samples::{journeys, seed_store};
use leo_score::{Snapshot, Tally, Window, exposition, scan, scan_decoded};
use leo_store::{BuilderHandle, EnforcerHandle, Location, SupervisorHandle, Timestamp};

const T0: i64 = 1_767_225_600_000_000;
const SPAN_SECS: i64 = 30 * 86_400;

fn events() -> usize {
    std::env::var("LEO_SCORE_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn until() -> Timestamp {
    Timestamp::from_unix_micros(T0 + (SPAN_SECS + 86_400) * 1_000_000)
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 Hz ticks):
/// load on a shared machine inflates wall time, not CPU time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the name.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `f` `runs` times and prints mean wall and CPU time per run.
fn one_shot(what: &str, runs: u32, mut f: impl FnMut() -> usize) {
    let (wall, cpu) = (std::time::Instant::now(), cpu_seconds());
    for _ in 0..runs {
        std::hint::black_box(f());
    }
    eprintln!(
        "{what}: wall {:.3} s, CPU {:.3} s per run ({runs} runs)",
        wall.elapsed().as_secs_f64() / f64::from(runs),
        (cpu_seconds() - cpu) / f64::from(runs)
    );
}

fn render(tally: &Tally) -> usize {
    let score = tally.score().unwrap();
    exposition(&Snapshot {
        tally,
        score: &score,
        drift: None,
        environment: "production",
    })
    .unwrap()
    .len()
}

fn in_memory(c: &mut Criterion) {
    let n = events();
    let facts = journeys(n, Timestamp::from_unix_micros(T0), SPAN_SECS, 950);
    one_shot("tally+score+exposition", 5, || {
        let mut tally = Tally::new(Window::until(until()));
        for o in &facts {
            tally.observe(o);
        }
        render(&tally)
    });
    let mut g = c.benchmark_group("posture");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(facts.len() as u64));
    g.bench_function(format!("tally+score+exposition/{n}"), |b| {
        b.iter(|| {
            let mut tally = Tally::new(Window::until(until()));
            for o in &facts {
                tally.observe(o);
            }
            render(&tally)
        });
    });
    g.finish();
}

/// Bumped whenever `leo_score::samples::journeys` changes what it generates (version 2: a
/// bundle refused by its attestation check is recorded as a refusal and rebuilt).
const SAMPLES_VERSION: u32 = 2;

fn store(c: &mut Criterion) {
    let n = events();
    // Keyed by the journeys' shape too: a database seeded by older samples is not reused.
    let path = std::env::temp_dir().join(format!("leo-score-bench-{n}-v{SAMPLES_VERSION}.db"));
    let db: Location = format!("sqlite:{}", path.display()).parse().unwrap();
    let facts = journeys(n, Timestamp::from_unix_micros(T0), SPAN_SECS, 950);
    // Attestations are implied by CLAUDE-APPLIED handoffs and refusals, not stored.
    let stored = facts
        .iter()
        .filter(|o| !matches!(o.fact, leo_score::Fact::Attestation { .. }))
        .count() as u64;
    let seeded = BuilderHandle::open(&db)
        .and_then(|mut r| r.size())
        .map(|s| s > 0)
        .unwrap_or(false);
    if !seeded {
        let _ = std::fs::remove_file(&path);
        let started = std::time::Instant::now();
        let mut enforcer = EnforcerHandle::open(&db, None).unwrap();
        let mut supervisor = SupervisorHandle::open(&db, None).unwrap();
        seed_store(&mut enforcer, &mut supervisor, &facts, 50_000).unwrap();
        eprintln!(
            "seeded {stored} entries ({} facts) in {:?}",
            facts.len(),
            started.elapsed()
        );
    }
    type Scan = fn(
        &mut leo_store::Reader,
        Window,
        &mut dyn FnMut(&leo_score::Observation<'_>),
    ) -> leo_score::Result<u64>;
    // After: the store's projection; before: fully decoded entries (same run, same file).
    let paths: [(&str, Scan); 2] = [
        ("store scan+score+exposition", |r, w, v| scan(r, w, v)),
        ("store decoded scan+score+exposition", |r, w, v| {
            scan_decoded(r, w, v)
        }),
    ];
    let run = |read: Scan| {
        let mut reader = BuilderHandle::open(&db).unwrap();
        let mut tally = Tally::new(Window::until(until()));
        let n = read(&mut reader, Window::until(until()), &mut |o| {
            tally.observe(o)
        })
        .unwrap();
        assert_eq!(n, stored);
        render(&tally)
    };
    for (name, read) in paths {
        one_shot(name, 3, || run(read));
    }
    let mut g = c.benchmark_group("posture");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(facts.len() as u64));
    for (name, read) in paths {
        g.bench_function(format!("{name}/{n}"), |b| b.iter(|| run(read)));
    }
    g.finish();
}

criterion_group!(benches, in_memory, store);
criterion_main!(benches);
