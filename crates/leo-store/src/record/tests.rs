//! Record and value checks.

use super::*;

#[test]
fn event_ids_are_checked() {
    assert!("lane-a/2026-01-01:17.x_y".parse::<EventId>().is_ok());
    for bad in ["", "a b", "é", &"x".repeat(129)] {
        assert!(matches!(
            bad.parse::<EventId>(),
            Err(Error::InvalidEventId { .. })
        ));
    }
}

#[test]
fn each_kind_has_the_writers_the_matrix_gives() {
    use Role::{ClaudeExec, Lead, Plan, System};
    let expect: [(RecordKind, &[Role]); 9] = [
        (RecordKind::Handoff, &[ClaudeExec]),
        (RecordKind::Verification, &[Plan]),
        (RecordKind::GateExecution, &[ClaudeExec, Plan]),
        (RecordKind::Approval, &[Lead]),
        (RecordKind::SigningKey, &[ClaudeExec]),
        (
            RecordKind::LabelTransition,
            &[ClaudeExec, Plan, Lead, System],
        ),
        (RecordKind::Refusal, &[ClaudeExec, Plan, Lead, System]),
        (RecordKind::ArtifactSignature, &[ClaudeExec]),
        (RecordKind::PolicyEvaluation, &[ClaudeExec, Plan]),
    ];
    for (kind, roles) in expect {
        assert_eq!(kind.writers().collect::<Vec<_>>(), roles, "{kind}");
        assert_eq!(RecordKind::parse(kind.as_str()).unwrap(), kind);
    }
    // System files only under the merge step; nobody files under GeneratePatches.
    assert!(RecordKind::LabelTransition.accepts(System, Action::AllowMerge));
    assert!(!RecordKind::LabelTransition.accepts(System, Action::DatabaseWrites));
    assert!(!RecordKind::Refusal.accepts(Role::Codex, Action::GeneratePatches));
    assert_eq!(
        RecordKind::V1
            .iter()
            .chain(&RecordKind::V2)
            .copied()
            .collect::<Vec<_>>(),
        RecordKind::ALL
    );
}

#[test]
fn pass_needs_85_percent() {
    let c = |p| Confidence::new(p).unwrap();
    assert!(ScoredVerdict::new(PlanVerdict::Pass, c(85)).is_ok());
    assert!(matches!(
        ScoredVerdict::new(PlanVerdict::Pass, c(84)),
        Err(Error::VerdictConfidence {
            confidence: 84,
            min: 85,
            ..
        })
    ));
    assert!(ScoredVerdict::new(PlanVerdict::Fail, c(10)).is_ok());
    assert!(matches!(
        Confidence::new(101),
        Err(Error::InvalidField {
            field: "confidence",
            ..
        })
    ));
}

#[test]
fn text_window_fingerprint_and_keys_are_checked() {
    assert!(matches!(
        Text::new("branch", " "),
        Err(Error::InvalidField {
            field: "branch",
            ..
        })
    ));
    assert!(matches!(
        Text::new("branch", "a\nb"),
        Err(Error::InvalidField { .. })
    ));
    let t = Timestamp::from_unix_micros;
    assert!(matches!(
        ValidityWindow::new(t(5), t(5)),
        Err(Error::InvalidField {
            field: "validity",
            ..
        })
    ));
    assert!(ValidityWindow::new(t(5), t(6)).unwrap().contains(t(5)));
    assert!(matches!(
        "ABCDEF0123456789".parse::<Fingerprint>(),
        Err(Error::InvalidField { .. })
    ));
    assert!(matches!(
        PublicKeyMaterial::Armored("ssh-ed25519 AAAA".into()).check(),
        Err(Error::InvalidField {
            field: "public_key",
            ..
        })
    ));
    assert!(matches!(
        PublicKeyMaterial::Raw(vec![]).check(),
        Err(Error::InvalidField { .. })
    ));
    assert!(matches!(
        PrNumber::new(0),
        Err(Error::InvalidField {
            field: "pr_number",
            ..
        })
    ));
}

#[test]
fn timestamps_render_rfc3339() {
    assert_eq!(
        Timestamp::from_unix_micros(1_500_000).to_string(),
        "1970-01-01T00:00:01.5Z"
    );
}

proptest::proptest! {
    #[test]
    fn event_id_parse_never_panics(s in "\\PC*") {
        if let Ok(id) = s.parse::<EventId>() {
            proptest::prop_assert_eq!(id.as_str(), s.as_str());
        }
    }
}
