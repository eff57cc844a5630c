//! The scoring projection (`Reader::for_each_projected`) on every backend: for every kind it
//! gives exactly the projection of the fully decoded entries, in the same order and window;
//! it stops when asked; a tampered projected column is a typed error.

use std::ops::ControlFlow;

use leo_store::samples::T0;
use leo_store::{Error, Projected, ProjectedRow, RecordKind, Timestamp};

use super::Trail;
use crate::common::Fixture;

/// `(seq, recorded_at, projection)` with the borrowed text made owned, for comparison.
fn owned(row: &ProjectedRow<'_>) -> (u64, i64, String) {
    (
        row.seq,
        row.recorded_at.unix_micros(),
        format!("{:?}", row.record),
    )
}

pub fn projection_matches_decoded_entries<F: Fixture>() {
    let Some(t) = Trail::<F>::new("projection") else {
        return;
    };
    t.populate();
    t.populate_workflow();
    let mut b = t.builder();
    let far = Timestamp::from_unix_micros(i64::MAX);
    let windows = [
        (Timestamp::from_unix_micros(i64::MIN), far),
        (
            Timestamp::from_unix_micros(T0.unix_micros() + 10),
            Timestamp::from_unix_micros(T0.unix_micros() + 40),
        ),
    ];
    let mut projected_kinds = 0;
    for kind in RecordKind::ALL {
        for (from, to) in windows {
            let expected: Vec<_> = b
                .entries_of_kind(kind, from, to)
                .unwrap()
                .iter()
                .map(|e| {
                    owned(&ProjectedRow {
                        seq: e.seq,
                        recorded_at: e.event.recorded_at,
                        record: Projected::of_event(&e.event),
                    })
                })
                .collect();
            let mut got = Vec::new();
            let n = b
                .for_each_projected(kind, from, to, |row| {
                    got.push(owned(row));
                    ControlFlow::Continue(())
                })
                .unwrap();
            assert_eq!(got, expected, "{kind} in [{from}, {to})");
            assert_eq!(n, b.count_of_kind(kind, from, to).unwrap(), "{kind}");
            if got.iter().any(|(_, _, p)| p != "Recorded") {
                projected_kinds += 1;
            }
        }
    }
    // Handoff, verification, gate, signature, policy: each projected with columns, in at
    // least the unbounded window (so the comparison above cannot pass vacuously).
    assert!(projected_kinds >= 5, "{projected_kinds}");
    // Refusals read their cause through the log row's action, on this backend's SQL: the
    // enforcer's bundle refusal and the others' refused operations.
    let mut causes = Vec::new();
    b.for_each_projected(
        RecordKind::Refusal,
        Timestamp::from_unix_micros(i64::MIN),
        far,
        |row| {
            causes.push(format!("{:?}", row.record));
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert!(
        causes.contains(&"Refusal { cause: Bundle(Attestation) }".to_owned())
            && causes.contains(&"Refusal { cause: Operation }".to_owned()),
        "{causes:?}"
    );
    // Streaming stops when asked.
    let mut seen = 0;
    let n = b
        .for_each_projected(RecordKind::Refusal, T0, far, |_| {
            seen += 1;
            if seen == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!((n, seen), (2, 2));
    // A tampered projected column is a typed error; `verify` stays the integrity check.
    t.fx.tamper("UPDATE leo_policy_evaluations SET result = 'maybe' WHERE seq = 7");
    let err = t
        .builder()
        .for_each_projected(RecordKind::PolicyEvaluation, T0, far, |_| {
            ControlFlow::Continue(())
        })
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidField {
                field: "result",
                ..
            }
        ),
        "{err}"
    );
    t.fx.tamper("UPDATE leo_handoff_tracking SET bundle_hash = upper(bundle_hash)");
    let err = t
        .builder()
        .for_each_projected(RecordKind::Handoff, T0, far, |_| ControlFlow::Continue(()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidField {
                field: "bundle_hash",
                ..
            }
        ),
        "{err}"
    );
}
