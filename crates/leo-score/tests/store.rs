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

/// A new SQLite trail in a temporary directory (kept while the directory lives).
fn temp_store() -> (tempfile::TempDir, Location) {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("leo.db").display())
        .parse()
        .unwrap();
    (dir, db)
}

#[test]
fn a_seeded_store_scores_like_the_facts_it_was_seeded_with() {
    let (_dir, db) = temp_store();
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
    // Failed attestation checks are stored as the attestation check's bundle refusals.
    assert!(got.attestations_failed > 0);
    assert_eq!(expected.attestations_failed, got.attestations_failed);
    assert_eq!(expected.bundle_refusals, got.bundle_refusals);
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
    let (_dir, db) = temp_store();
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

/// Refusals count by their typed cause, read from a real SQLite trail: the attestation
/// check's refusals are failed SLSA verifications and not bypass attempts, an apply refusal
/// is a verified attestation, a refused merge is a bypass attempt, and a bundle refusal
/// written before refusals named their check (operation `handoff`) is neither; no other
/// role can file a bundle check.
#[test]
fn refusals_count_by_their_typed_cause() {
    use leo_artifact::Sha256Digest;
    use leo_score::alerts::{AlertKind, AlertState, evaluate};
    use leo_score::{Fact, Observation};
    use leo_store::{Action, BundleCheck, Event, HandoffStage, Refusal, RefusalCause, Role, Text};

    let (_dir, db) = temp_store();
    let at = |secs: i64| Timestamp::from_unix_micros(T0 + secs * 1_000_000);
    let refused = |secs, check| Observation {
        at: at(secs),
        fact: Fact::BundleRefusal { check },
    };
    // Eight applied bundles, and below one refused at the apply (its attestation had
    // verified): nine verified attestations.
    let mut facts: Vec<Observation<'_>> = (0..8u8)
        .map(|n| Observation {
            at: at(i64::from(n)),
            fact: Fact::Handoff {
                stage: HandoffStage::ClaudeApplied,
                bundle: Sha256Digest::of(&[n]),
            },
        })
        .collect();
    facts.push(refused(10, BundleCheck::Attestation));
    facts.push(refused(11, BundleCheck::Apply));
    facts.push(refused(20, BundleCheck::Attestation));
    // Seeded as a refused merge.
    facts.push(Observation {
        at: at(50),
        fact: Fact::BypassAttempt,
    });
    {
        let mut enforcer = EnforcerHandle::open(&db, None).unwrap();
        let mut supervisor = SupervisorHandle::open(&db, None).unwrap();
        seed_store(&mut enforcer, &mut supervisor, &facts, 100).unwrap();
        let legacy = Refusal {
            change: Text::new("change", "PRD-2").unwrap(),
            attempted_role: Role::Codex,
            operation: Text::new("operation", "handoff").unwrap(),
            reason: Text::new("reason", "attestation rejected: no trusted signature").unwrap(),
        };
        assert_eq!(
            legacy.cause(Action::SignArtifacts),
            RefusalCause::LegacyBundle
        );
        enforcer
            .append(Event::new(
                "legacy-refusal".parse().unwrap(),
                Action::SignArtifacts,
                at(51),
                legacy,
            ))
            .unwrap();
        // Another role cannot record a bundle check (it would hide a bypass attempt and
        // add a verified attestation); neither can the enforcer under another action.
        let disguised = Refusal {
            change: Text::new("change", "PRD-3").unwrap(),
            attempted_role: Role::Plan,
            operation: Text::new("operation", BundleCheck::Apply.as_str()).unwrap(),
            reason: Text::new("reason", "PLAN may not merge").unwrap(),
        };
        let refused_as_misfiled = |err: leo_store::Error| {
            assert!(
                matches!(
                    err,
                    leo_store::Error::MisfiledBundleCheck {
                        check: BundleCheck::Apply,
                        ..
                    }
                ),
                "{err:?}"
            );
        };
        let plan_filed = Event::new(
            "disguised".parse().unwrap(),
            Action::IssueVerdict,
            at(52),
            disguised.clone(),
        );
        refused_as_misfiled(supervisor.append(plan_filed).unwrap_err());
        let enforcer_filed = Event::new(
            "disguised-2".parse().unwrap(),
            Action::DatabaseWrites,
            at(52),
            Refusal {
                attempted_role: Role::Codex,
                ..disguised
            },
        );
        refused_as_misfiled(enforcer.append(enforcer_filed).unwrap_err());
    }
    let mut reader = BuilderHandle::open(&db).unwrap();
    let tally_of = |reader: &mut leo_store::Reader, secs: i64| {
        let window = Window::new(at(0), at(secs)).unwrap();
        let (mut projected, mut decoded) = (Vec::new(), Vec::new());
        let mut tally = Tally::new(window);
        scan(reader, window, |o| {
            tally.observe(o);
            projected.push(format!("{o:?}"));
        })
        .unwrap();
        scan_decoded(reader, window, |o| decoded.push(format!("{o:?}"))).unwrap();
        assert_eq!(projected, decoded);
        let alerts = evaluate(&tally, None).unwrap();
        let state = |kind| alerts.iter().find(|a| a.rule.kind == kind).unwrap().state;
        (
            state(AlertKind::SlsaVerificationFailureRate),
            state(AlertKind::GateBypassAttempt),
            tally,
        )
    };

    // 1 failed of 10 checks: exactly 10 %, not above; the apply refusal is a verified
    // attestation, not a bypass attempt.
    let (slsa, bypass, t) = tally_of(&mut reader, 15);
    assert_eq!((t.attestations_verified, t.attestations_failed), (9, 1));
    assert_eq!(t.bypass_attempts, 0);
    assert_eq!(
        t.bundle_refusals,
        [(BundleCheck::Attestation, 1), (BundleCheck::Apply, 1)].into()
    );
    assert_eq!((slsa, bypass), (AlertState::Inactive, AlertState::Inactive));

    // 2 failed of 11: above 10 %; still no bypass attempt.
    let (slsa, bypass, t) = tally_of(&mut reader, 30);
    assert_eq!((t.attestations_verified, t.attestations_failed), (9, 2));
    assert_eq!(t.bypass_attempts, 0);
    assert_eq!((slsa, bypass), (AlertState::Firing, AlertState::Inactive));

    // The refused merge is a bypass attempt; the legacy bundle refusal (its check not
    // recorded) is neither that nor an attestation result.
    let (_, bypass, t) = tally_of(&mut reader, 60);
    assert_eq!(t.bypass_attempts, 1);
    assert_eq!((t.attestations_verified, t.attestations_failed), (9, 2));
    assert_eq!(bypass, AlertState::Firing);
}
