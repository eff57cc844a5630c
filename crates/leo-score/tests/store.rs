#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Facts written to a real SQLite audit trail come back as the same score and metrics.

use leo_score::samples::{journeys, seed_store};
use leo_score::{Tally, Window, scan, scan_decoded};
use leo_store::{BuilderHandle, EnforcerHandle, Location, SupervisorHandle, Timestamp};

const T0: i64 = 1_767_225_600_000_000;

#[test]
fn a_seeded_store_scores_like_the_facts_it_was_seeded_with() {
    let dir = tempfile::tempdir().unwrap();
    let db: Location = format!("sqlite:{}", dir.path().join("leo.db").display())
        .parse()
        .unwrap();
    let facts = journeys(2_000, Timestamp::from_unix_micros(T0), 3 * 86_400, 900);
    {
        let mut enforcer = EnforcerHandle::open(&db, None).unwrap();
        let mut supervisor = SupervisorHandle::open(&db, None).unwrap();
        seed_store(&mut enforcer, &mut supervisor, &facts, 500).unwrap();
    }
    let end = Timestamp::from_unix_micros(T0 + 2 * 86_400_000_000);
    let window = Window::new(Timestamp::from_unix_micros(T0 + 86_400_000_000), end).unwrap();
    // From memory...
    let mut expected = Tally::new(window);
    for o in &facts {
        expected.observe(o);
    }
    // ...and from the store: the second day, with evidence from the first.
    let mut reader = BuilderHandle::open(&db).unwrap();
    let mut got = Tally::new(window);
    let read = scan(&mut reader, window, |o| got.observe(o)).unwrap();
    assert!(read > 0 && read < 2_000);
    // Attestations: the store implies them from CLAUDE-APPLIED; the sample states them
    // (some failed). Compare everything else exactly.
    let (e, g) = (expected.inputs(), got.inputs());
    assert_eq!(e.bundles_handed_off, g.bundles_handed_off);
    assert_eq!(e.bundles_signed, g.bundles_signed);
    assert_eq!(
        (e.policy_passes, e.policy_failures),
        (g.policy_passes, g.policy_failures)
    );
    assert_eq!(
        (e.gate_runs, e.gate_successes),
        (g.gate_runs, g.gate_successes)
    );
    assert_eq!(expected.bypass_attempts, got.bypass_attempts);
    assert_eq!(expected.verdicts, got.verdicts);
    assert_eq!(expected.handoff_seconds(), got.handoff_seconds());
    assert_eq!(expected.unsigned_applied(), got.unsigned_applied());
    assert_eq!(
        g.bundles_attested,
        g.bundles_handed_off.min(got.handoffs_claude_to_plan)
    );
    assert!(!got.slsa_levels_known());
    let score = got.score().unwrap();
    assert_eq!(score.known_weight, 100);
}

#[test]
fn the_projected_scan_sees_exactly_what_the_decoded_scan_sees() {
    let dir = tempfile::tempdir().unwrap();
    let db: Location = format!("sqlite:{}", dir.path().join("leo.db").display())
        .parse()
        .unwrap();
    let facts = journeys(3_000, Timestamp::from_unix_micros(T0), 3 * 86_400, 900);
    {
        let mut enforcer = EnforcerHandle::open(&db, None).unwrap();
        let mut supervisor = SupervisorHandle::open(&db, None).unwrap();
        seed_store(&mut enforcer, &mut supervisor, &facts, 1_000).unwrap();
    }
    let mut reader = BuilderHandle::open(&db).unwrap();
    let day = 86_400_000_000;
    for window in [
        Window::until(Timestamp::from_unix_micros(T0 + 4 * day)),
        Window::new(
            Timestamp::from_unix_micros(T0 + day),
            Timestamp::from_unix_micros(T0 + 2 * day),
        )
        .unwrap(),
    ] {
        let (mut projected, mut decoded) = (Vec::new(), Vec::new());
        let n = scan(&mut reader, window, |o| projected.push(format!("{o:?}"))).unwrap();
        let m = scan_decoded(&mut reader, window, |o| decoded.push(format!("{o:?}"))).unwrap();
        assert_eq!(n, m);
        assert!(projected.len() as u64 > n / 2, "{} of {n}", projected.len());
        assert_eq!(projected, decoded);
    }
}
