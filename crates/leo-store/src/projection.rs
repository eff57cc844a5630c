//! A read model for scoring: per record kind, only the columns a posture score needs,
//! streamed without building typed [`Entry`](crate::Entry) values.
//!
//! [`Reader::for_each_of_kind`](crate::Reader::for_each_of_kind) decodes and field-checks
//! every column of every row (event id, actor, action, hashes, free text, commit SHAs),
//! which costs more than the score computed from it.
//! [`Reader::for_each_projected`](crate::Reader::for_each_projected) selects instead, from
//! the same `(kind, recorded_at)` index joined to the kind's table, only:
//!
//! | kind | projected |
//! |---|---|
//! | handoff | stage, bundle hash |
//! | artifact signature | bundle hash, backend |
//! | policy evaluation | policy, result |
//! | gate execution | gate name, outcome, duration |
//! | verification | verdict |
//! | refusal | its cause ([`RefusalCause::of`]: operation, attempted role, and the action the log row files it under) |
//! | every other kind | nothing but `seq` and `recorded_at` ([`Projected::Recorded`]) |
//!
//! **A read model, not a verification.** The values are those stored. Each projected column
//! is still parsed into its type (an enum name it does not know, a digest that is not 64
//! lowercase hex characters, a missing record row are [`Error::InvalidField`]), but the
//! columns the projection does not select are not read, and nothing is re-hashed: a row
//! rewritten behind the log's back is found by [`Reader::verify`](crate::Reader::verify),
//! not by a score.
//!
//! ```
//! use std::ops::ControlFlow;
//! use leo_store::{BuilderHandle, EnforcerHandle, Location, Projected, RecordKind, Timestamp, samples};
//!
//! let dir = tempfile::tempdir()?;
//! let db: Location = format!("sqlite:{}", dir.path().join("leo.db").display()).parse()?;
//! EnforcerHandle::open(&db, None)?.append(samples::handoff("lane-a", 1)?)?;
//! let mut reader = BuilderHandle::open(&db)?;
//! let (all_from, all_to) = (Timestamp::from_unix_micros(i64::MIN), Timestamp::from_unix_micros(i64::MAX));
//! let mut stages = Vec::new();
//! let n = reader.for_each_projected(RecordKind::Handoff, all_from, all_to, |row| {
//!     if let Projected::Handoff { stage, .. } = row.record {
//!         stages.push(stage);
//!     }
//!     ControlFlow::Continue(())
//! })?;
//! assert_eq!((n, stages.len()), (1, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::ops::ControlFlow;

use leo_artifact::{PlanVerdict, Sha256Digest};

use crate::codec::Event;
use crate::error::{Error, Result};
use crate::flow::{PolicyResult, RefusalCause, SignatureBackend};
use crate::record::{GateOutcome, HandoffStage, Record, RecordKind, Timestamp};
use crate::role::{Action, Role};

/// What the projection keeps of one record (see the [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Projected<'a> {
    /// A handoff marker.
    Handoff {
        /// `[CODEX-READY]` or `[CLAUDE-APPLIED]`.
        stage: HandoffStage,
        /// The bundle's hash.
        bundle_hash: Sha256Digest,
    },
    /// An artifact signature.
    ArtifactSignature {
        /// The signed bundle's hash.
        bundle_hash: Sha256Digest,
        /// Which backend signed.
        backend: SignatureBackend,
    },
    /// A policy evaluation.
    PolicyEvaluation {
        /// The policy's name, as stored.
        policy: &'a str,
        /// Its result.
        result: PolicyResult,
    },
    /// A gate execution.
    GateExecution {
        /// The gate's name, as stored.
        gate: &'a str,
        /// How it ended.
        outcome: GateOutcome,
        /// How long it ran.
        duration_ms: u32,
    },
    /// A PLAN verification result.
    Verification {
        /// The verdict.
        verdict: PlanVerdict,
    },
    /// A refusal.
    Refusal {
        /// What was refused: a bundle check, or any other operation.
        cause: RefusalCause,
    },
    /// A record of a kind whose projection is its time alone (approval, signing key, label
    /// transition).
    Recorded,
}

impl<'a> Projected<'a> {
    /// The projection of a decoded event: what the projected read of its row returns (a
    /// refusal's cause depends on the action it is filed under).
    pub fn of_event(event: &'a Event) -> Self {
        match &event.record {
            Record::Handoff(h) => Projected::Handoff {
                stage: h.stage,
                bundle_hash: h.bundle_hash,
            },
            Record::ArtifactSignature(s) => Projected::ArtifactSignature {
                bundle_hash: s.bundle_hash,
                backend: s.backend,
            },
            Record::PolicyEvaluation(p) => Projected::PolicyEvaluation {
                policy: p.policy.as_str(),
                result: p.result,
            },
            Record::GateExecution(g) => Projected::GateExecution {
                gate: g.gate.as_str(),
                outcome: g.outcome,
                duration_ms: g.duration_ms,
            },
            Record::Verification(v) => Projected::Verification {
                verdict: v.verdict.verdict(),
            },
            Record::Refusal(r) => Projected::Refusal {
                cause: r.cause(event.action),
            },
            _ => Projected::Recorded,
        }
    }
}

/// One projected row: its place in the log, its time and what it says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectedRow<'a> {
    /// `leo_log.seq`.
    pub seq: u64,
    /// `leo_log.recorded_at` (client time).
    pub recorded_at: Timestamp,
    /// The projected record columns.
    pub record: Projected<'a>,
}

/// The callback of a projected scan.
pub(crate) type ProjectFn<'a> = &'a mut dyn FnMut(&ProjectedRow<'_>) -> ControlFlow<()>;

/// The columns a projection of `kind` selects after the first three, in order: the kind's
/// table is `r`, the log `l`. Only a refusal reads the log row itself (its action), which
/// the `(kind, recorded_at)` index does not cover; refusals are few.
pub(crate) const fn projected_columns(kind: RecordKind) -> &'static [&'static str] {
    match kind {
        RecordKind::Handoff => &["r.stage", "r.bundle_hash"],
        RecordKind::ArtifactSignature => &["r.bundle_hash", "r.backend"],
        RecordKind::PolicyEvaluation => &["r.policy", "r.result"],
        RecordKind::GateExecution => &["r.gate_name", "r.outcome", "r.duration_ms"],
        RecordKind::Verification => &["r.verdict"],
        RecordKind::Refusal => &["r.operation", "r.attempted_role", "l.action"],
        _ => &[],
    }
}

/// Index of the first record column in a projection row (after `l.seq`, `l.recorded_at`,
/// `r.seq`).
pub(crate) const FIRST_RECORD_COLUMN: usize = 3;

/// The `SELECT` of a projected scan of `kind` on PostgreSQL's layout (schema version 2:
/// `leo_log` joined with the record table), with `$n` placeholders for kind, from and to:
/// `l.seq, l.recorded_at, r.seq` (NULL when the record row is missing), then
/// [`projected_columns`]. The log side is covered by the `(kind, recorded_at, seq)` index,
/// except for refusals, whose projection also reads the log row's action.
#[cfg(feature = "postgres")]
pub(crate) fn projection_sql(kind: RecordKind) -> String {
    let mut cols = String::from("l.seq, l.recorded_at, r.seq");
    for c in projected_columns(kind) {
        cols.push_str(", ");
        cols.push_str(c);
    }
    format!(
        "SELECT {cols} FROM leo_log AS l LEFT JOIN {} AS r ON r.seq = l.seq \
         WHERE l.kind = $1 AND l.recorded_at >= $2 AND l.recorded_at < $3 \
         ORDER BY l.recorded_at, l.seq",
        kind.table()
    )
}

/// The same projection on SQLite's layout (schema version 3: one row per record), with
/// `?n` placeholders for from and to: `seq, recorded_at, seq`, then the projected columns,
/// all from the record table, whose `recorded_at` index gives the order.
pub(crate) fn projection_sql_one_row(kind: RecordKind) -> String {
    let mut cols = String::from("r.seq, r.recorded_at, r.seq");
    for c in projected_columns(kind) {
        cols.push_str(", r.");
        cols.push_str(c.trim_start_matches("r.").trim_start_matches("l."));
    }
    format!(
        "SELECT {cols} FROM {} AS r WHERE r.recorded_at >= ?1 AND r.recorded_at < ?2 \
         ORDER BY r.recorded_at, r.seq",
        kind.table()
    )
}

/// Column access to one result row of a projection query ([`projection_sql_one_row`] or its
/// PostgreSQL twin), implemented by each backend.
pub(crate) trait ProjectionRow<'r> {
    /// An integer column (`None` for NULL); `field` names it in errors.
    fn int(&self, i: usize, field: &'static str) -> Result<Option<i64>>;
    /// A text column's bytes, not yet checked as UTF-8 (`None` for NULL); `field` names it
    /// in errors.
    fn text(&self, i: usize, field: &'static str) -> Result<Option<&'r [u8]>>;
}

fn required<T>(field: &'static str, v: Option<T>) -> Result<T> {
    v.ok_or_else(|| Error::field(field, "unexpected NULL"))
}

/// Marks a byte that is not lowercase hex in [`HEX`].
const NOT_HEX: u8 = 0xff;

/// Lowercase hex digit → its value, [`NOT_HEX`] for every other byte.
// Indexing in a constant's initializer is checked when compiling.
#[allow(clippy::indexing_slicing, clippy::cast_possible_truncation)]
const HEX: [u8; 256] = {
    let mut t = [NOT_HEX; 256];
    let mut c = 0;
    while c < 10 {
        t[b'0' as usize + c] = c as u8;
        c += 1;
    }
    let mut c = 0;
    while c < 6 {
        t[b'a' as usize + c] = 10 + c as u8;
        c += 1;
    }
    t
};

/// The value of a lowercase hex digit, [`NOT_HEX`] for any other byte.
fn hex_value(c: u8) -> u8 {
    HEX.get(usize::from(c)).copied().unwrap_or(NOT_HEX)
}

/// Parses a stored digest (64 lowercase hex characters, exactly what `Sha256Digest`'s
/// `FromStr` accepts) straight into its bytes: one table look-up per character.
pub(crate) fn parse_digest(field: &'static str, s: &[u8]) -> Result<Sha256Digest> {
    let invalid = || Error::field(field, "expected 64 lowercase hex characters");
    if s.len() != 64 {
        return Err(invalid());
    }
    let mut out = [0u8; 32];
    let mut bad = 0u8;
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let (h, l) = match pair {
            [h, l] => (hex_value(*h), hex_value(*l)),
            _ => (NOT_HEX, NOT_HEX),
        };
        // NOT_HEX has the high bit set; every digit is below 16.
        bad |= h | l;
        *o = (h << 4) | (l & 0x0f);
    }
    if bad & 0xf0 != 0 {
        return Err(invalid());
    }
    Ok(Sha256Digest::from_bytes(out))
}

/// A free-text column as `&str`.
fn utf8<'r>(field: &'static str, b: &'r [u8]) -> Result<&'r str> {
    std::str::from_utf8(b).map_err(|_| Error::field(field, "not UTF-8"))
}

/// The stored names of the enums a projection reads (the serde names of `codec`; tested
/// equal there).
fn stage(s: &[u8]) -> Option<HandoffStage> {
    match s {
        b"CODEX_READY" => Some(HandoffStage::CodexReady),
        b"CLAUDE_APPLIED" => Some(HandoffStage::ClaudeApplied),
        _ => None,
    }
}

fn gate_outcome(s: &[u8]) -> Option<GateOutcome> {
    match s {
        b"SUCCESS" => Some(GateOutcome::Success),
        b"FAILURE" => Some(GateOutcome::Failure),
        b"CANCELLED" => Some(GateOutcome::Cancelled),
        b"TIMED_OUT" => Some(GateOutcome::TimedOut),
        _ => None,
    }
}

fn policy_result(s: &[u8]) -> Option<PolicyResult> {
    match s {
        b"pass" => Some(PolicyResult::Pass),
        b"fail" => Some(PolicyResult::Fail),
        b"warn" => Some(PolicyResult::Warn),
        b"skip" => Some(PolicyResult::Skip),
        b"error" => Some(PolicyResult::Error),
        _ => None,
    }
}

fn backend(s: &[u8]) -> Option<SignatureBackend> {
    [
        SignatureBackend::Sigstore,
        SignatureBackend::Openpgp,
        SignatureBackend::Raw,
    ]
    .into_iter()
    .find(|b| b.as_str().as_bytes() == s)
}

/// The verdict names of `PlanVerdict`'s `FromStr`.
fn verdict(s: &[u8]) -> Option<PlanVerdict> {
    [
        PlanVerdict::Pass,
        PlanVerdict::Fail,
        PlanVerdict::ConditionalPass,
        PlanVerdict::Escalate,
    ]
    .into_iter()
    .find(|v| v.as_str().as_bytes() == s)
}

/// A stored name parsed by its type's `FromStr` (a role or an action).
fn parsed<T: std::str::FromStr>(s: &[u8]) -> Option<T> {
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// Reads and parses a named enum column.
fn named<'r, T>(
    row: &impl ProjectionRow<'r>,
    i: usize,
    field: &'static str,
    parse: fn(&[u8]) -> Option<T>,
) -> Result<T> {
    let s = required(field, row.text(i, field)?)?;
    parse(s).ok_or_else(|| {
        Error::field(
            field,
            format!("unknown value {:?}", String::from_utf8_lossy(s)),
        )
    })
}

/// Decodes one row of a projection query of `kind`.
pub(crate) fn decode_row<'r>(
    kind: RecordKind,
    row: &impl ProjectionRow<'r>,
) -> Result<ProjectedRow<'r>> {
    let seq = required("seq", row.int(0, "seq")?)?;
    let seq = u64::try_from(seq).map_err(|_| Error::field("seq", "negative"))?;
    let recorded_at =
        Timestamp::from_unix_micros(required("recorded_at", row.int(1, "recorded_at")?)?);
    if row.int(2, "record")?.is_none() {
        return Err(Error::field(
            "record",
            format!("no row in {}", kind.table()),
        ));
    }
    let c = FIRST_RECORD_COLUMN;
    let digest = |i| -> Result<Sha256Digest> {
        parse_digest(
            "bundle_hash",
            required("bundle_hash", row.text(i, "bundle_hash")?)?,
        )
    };
    let record = match kind {
        RecordKind::Handoff => Projected::Handoff {
            stage: named(row, c, "stage", stage)?,
            bundle_hash: digest(c + 1)?,
        },
        RecordKind::ArtifactSignature => Projected::ArtifactSignature {
            bundle_hash: digest(c)?,
            backend: named(row, c + 1, "backend", backend)?,
        },
        RecordKind::PolicyEvaluation => Projected::PolicyEvaluation {
            policy: utf8("policy", required("policy", row.text(c, "policy")?)?)?,
            result: named(row, c + 1, "result", policy_result)?,
        },
        RecordKind::GateExecution => Projected::GateExecution {
            gate: utf8(
                "gate_name",
                required("gate_name", row.text(c, "gate_name")?)?,
            )?,
            outcome: named(row, c + 1, "outcome", gate_outcome)?,
            duration_ms: u32::try_from(required("duration_ms", row.int(c + 2, "duration_ms")?)?)
                .map_err(|_| Error::field("duration_ms", "out of range"))?,
        },
        RecordKind::Verification => Projected::Verification {
            verdict: named(row, c, "verdict", verdict)?,
        },
        RecordKind::Refusal => Projected::Refusal {
            cause: RefusalCause::of(
                utf8(
                    "operation",
                    required("operation", row.text(c, "operation")?)?,
                )?,
                named(row, c + 1, "attempted_role", parsed::<Role>)?,
                named(row, c + 2, "action", parsed::<Action>)?,
            ),
        },
        _ => Projected::Recorded,
    };
    Ok(ProjectedRow {
        seq,
        recorded_at,
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Value, columns};
    use crate::samples::sample_events;

    /// A row of owned values laid out like a projection query's.
    struct Owned(Vec<Value>);

    impl<'r> ProjectionRow<'r> for &'r Owned {
        fn int(&self, i: usize, field: &'static str) -> Result<Option<i64>> {
            match self.0.get(i) {
                Some(Value::Int(v)) => Ok(*v),
                Some(Value::Text(None)) => Ok(None),
                _ => Err(Error::field(field, "expected an integer")),
            }
        }
        fn text(&self, i: usize, field: &'static str) -> Result<Option<&'r [u8]>> {
            match self.0.get(i) {
                Some(Value::Text(v)) => Ok(v.as_deref().map(str::as_bytes)),
                _ => Err(Error::field(field, "expected text")),
            }
        }
    }

    /// The projection row a stored event would give.
    fn row_of(ev: &Event) -> Owned {
        let kind = ev.record.kind();
        let all = crate::codec::column_names(kind);
        let cols = columns(&ev.record).unwrap();
        let mut row = vec![
            Value::Int(Some(7)),
            Value::Int(Some(42)),
            Value::Int(Some(7)),
        ];
        for name in projected_columns(kind) {
            if *name == "l.action" {
                row.push(Value::Text(Some(ev.action.as_str().to_owned())));
                continue;
            }
            let name = name.strip_prefix("r.").unwrap();
            let i = all.iter().position(|c| *c == name).unwrap();
            row.push(cols[i].clone());
        }
        Owned(row)
    }

    #[test]
    fn every_kind_projects_like_its_decoded_record() {
        for ev in sample_events("proj").unwrap() {
            let owned = row_of(&ev);
            let got = decode_row(ev.record.kind(), &&owned).unwrap();
            assert_eq!(got.record, Projected::of_event(&ev));
            assert_eq!((got.seq, got.recorded_at.unix_micros()), (7, 42));
        }
    }

    #[test]
    fn every_enum_spelling_matches_the_stored_one() {
        use serde_json::to_value;
        for s in [HandoffStage::CodexReady, HandoffStage::ClaudeApplied] {
            assert_eq!(
                stage(to_value(s).unwrap().as_str().unwrap().as_bytes()),
                Some(s)
            );
        }
        for o in [
            GateOutcome::Success,
            GateOutcome::Failure,
            GateOutcome::Cancelled,
            GateOutcome::TimedOut,
        ] {
            assert_eq!(
                gate_outcome(to_value(o).unwrap().as_str().unwrap().as_bytes()),
                Some(o)
            );
        }
        for r in [
            PolicyResult::Pass,
            PolicyResult::Fail,
            PolicyResult::Warn,
            PolicyResult::Skip,
            PolicyResult::Error,
        ] {
            assert_eq!(
                policy_result(to_value(r).unwrap().as_str().unwrap().as_bytes()),
                Some(r)
            );
        }
        for v in [
            PlanVerdict::Pass,
            PlanVerdict::Fail,
            PlanVerdict::ConditionalPass,
            PlanVerdict::Escalate,
        ] {
            assert_eq!(verdict(v.as_str().as_bytes()), Some(v));
            assert_eq!(v.as_str().parse::<PlanVerdict>().unwrap(), v);
        }
        for b in [
            SignatureBackend::Sigstore,
            SignatureBackend::Openpgp,
            SignatureBackend::Raw,
        ] {
            assert_eq!(
                backend(to_value(b).unwrap().as_str().unwrap().as_bytes()),
                Some(b)
            );
        }
        for c in crate::flow::BundleCheck::ALL {
            assert_eq!(
                RefusalCause::of(
                    to_value(c).unwrap().as_str().unwrap(),
                    Role::Codex,
                    Action::SignArtifacts
                ),
                RefusalCause::Bundle(c)
            );
        }
        for r in Role::ALL {
            assert_eq!(parsed::<Role>(r.as_str().as_bytes()), Some(r));
        }
        for a in Action::ALL {
            assert_eq!(parsed::<Action>(a.as_str().as_bytes()), Some(a));
        }
    }

    #[test]
    fn a_refusal_projects_its_cause_from_operation_role_and_action() {
        use crate::flow::BundleCheck;
        let base = crate::samples::refusal("proj-refusal", 1)
            .unwrap()
            .into_any();
        let (sign, writes) = (Action::SignArtifacts, Action::DatabaseWrites);
        for (operation, role, action, cause) in [
            ("merge", Role::Codex, sign, RefusalCause::Operation),
            // The enforcer's bundle refusals before they named their check.
            ("handoff", Role::Codex, sign, RefusalCause::LegacyBundle),
            // A refused builder handoff.
            ("handoff", Role::Codex, writes, RefusalCause::Operation),
            (
                BundleCheck::Attestation.as_str(),
                Role::Codex,
                sign,
                RefusalCause::Bundle(BundleCheck::Attestation),
            ),
            (
                BundleCheck::Apply.as_str(),
                Role::Codex,
                sign,
                RefusalCause::Bundle(BundleCheck::Apply),
            ),
            // A check's name filed otherwise is a refused operation.
            (
                BundleCheck::Apply.as_str(),
                Role::Plan,
                Action::IssueVerdict,
                RefusalCause::Operation,
            ),
        ] {
            let mut ev = base.clone();
            ev.action = action;
            let Record::Refusal(r) = &mut ev.record else {
                unreachable!()
            };
            r.operation = crate::values::Text::new("operation", operation).unwrap();
            r.attempted_role = role;
            let row = row_of(&ev);
            let got = decode_row(RecordKind::Refusal, &&row).unwrap();
            assert_eq!(
                got.record,
                Projected::Refusal { cause },
                "{operation} {role} {action}"
            );
            assert_eq!(got.record, Projected::of_event(&ev));
        }
        for (offset, field) in [(0, "operation"), (1, "attempted_role"), (2, "action")] {
            let mut row = row_of(&base);
            row.0[FIRST_RECORD_COLUMN + offset] = Value::Text(None);
            assert!(matches!(
                decode_row(RecordKind::Refusal, &&row),
                Err(Error::InvalidField { field: f, .. }) if f == field
            ));
        }
        let mut row = row_of(&base);
        row.0[FIRST_RECORD_COLUMN + 2] = Value::Text(Some("DELETE_EVERYTHING".into()));
        assert!(matches!(
            decode_row(RecordKind::Refusal, &&row),
            Err(Error::InvalidField {
                field: "action",
                ..
            })
        ));
    }

    #[test]
    fn digests_parse_like_the_typed_decoder() {
        let d = Sha256Digest::of(b"bundle");
        assert_eq!(
            parse_digest("bundle_hash", d.to_string().as_bytes()).unwrap(),
            d
        );
        // Every byte that is not lowercase hex is refused, in every position.
        for c in 0..=255u8 {
            let mut s = d.to_string().into_bytes();
            s[usize::from(c) % 64] = c;
            let typed = std::str::from_utf8(&s)
                .ok()
                .and_then(|s| s.parse::<Sha256Digest>().ok());
            assert_eq!(parse_digest("bundle_hash", &s).ok(), typed, "byte {c}");
        }
        for bad in [
            d.to_string().to_uppercase(),
            format!("sha256:{d}"),
            d.to_string()[..63].to_owned(),
            format!("{}g", &d.to_string()[..63]),
            String::new(),
        ] {
            assert!(bad.parse::<Sha256Digest>().is_err());
            assert!(matches!(
                parse_digest("bundle_hash", bad.as_bytes()),
                Err(Error::InvalidField {
                    field: "bundle_hash",
                    ..
                })
            ));
        }
    }

    #[test]
    fn tampered_projected_columns_are_typed_errors() {
        let ev = sample_events("proj-bad")
            .unwrap()
            .into_iter()
            .find(|e| e.record.kind() == RecordKind::Handoff)
            .unwrap();
        let mut row = row_of(&ev);
        row.0[FIRST_RECORD_COLUMN] = Value::Text(Some("NOT_A_STAGE".into()));
        assert!(matches!(
            decode_row(RecordKind::Handoff, &&row),
            Err(Error::InvalidField { field: "stage", .. })
        ));
        let mut row = row_of(&ev);
        row.0[2] = Value::Int(None);
        assert!(matches!(
            decode_row(RecordKind::Handoff, &&row),
            Err(Error::InvalidField {
                field: "record",
                ..
            })
        ));
    }
}
