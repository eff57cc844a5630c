//! Reading the audit trail: each stored [`Entry`] becomes the [`Fact`] it carries.
//!
//! | record (table) | fact |
//! |---|---|
//! | handoff (`leo_handoff_tracking`) | [`Fact::Handoff`]; a `[CLAUDE-APPLIED]` one also [`Fact::Attestation`] (verified) |
//! | artifact signature (`leo_artifact_signatures`) | [`Fact::Signature`] |
//! | policy evaluation (`leo_policy_evaluations`) | [`Fact::Policy`]: pass → pass; fail and warn → fail (a violation, enforced or not); skip and error → other |
//! | gate execution (`leo_gate_executions`) | [`Fact::Gate`] |
//! | verification (`leo_verification_results`) | [`Fact::Verdict`] |
//! | refusal (`leo_refusals`) | [`Fact::BypassAttempt`] (SOP §12.8 counts refused operations as gate bypass attempts) |
//! | approval, signing key, label transition | none |
//!
//! Why a `[CLAUDE-APPLIED]` handoff is the verified-attestation evidence: the enforcer applies
//! a bundle only after `leo_attest::verify_bundle_attestation` accepted its signed SLSA
//! provenance against the trusted builder keys and provenance policy (leo-gates,
//! `enforcer::verify_handoff`); a bundle whose attestation is rejected is refused, never
//! applied. The trail records no SLSA *level* for it, so levels stay unknown (the per-level
//! coverage series are absent, not 0).
//!
//! The read is one indexed range scan per record kind ([`Reader::for_each_of_kind`]); the
//! [`Tally`] does not depend on arrival order.

use std::ops::ControlFlow;

use leo_store::{Entry, HandoffStage, PolicyResult, Reader, Record, RecordKind, Timestamp};

use crate::error::Result;
use crate::tally::{Fact, Observation, PolicyOutcome, Window};

/// The kinds that carry facts, read in this order.
pub const SCANNED_KINDS: [RecordKind; 6] = [
    RecordKind::Handoff,
    RecordKind::ArtifactSignature,
    RecordKind::PolicyEvaluation,
    RecordKind::GateExecution,
    RecordKind::Verification,
    RecordKind::Refusal,
];

/// The facts an entry carries (at most two).
pub fn facts_of(entry: &Entry) -> impl Iterator<Item = Observation<'_>> {
    let at = entry.event.recorded_at;
    let (first, second) = match &entry.event.record {
        Record::Handoff(h) => (
            Some(Fact::Handoff {
                stage: h.stage,
                bundle: h.bundle_hash,
            }),
            (h.stage == HandoffStage::ClaudeApplied).then_some(Fact::Attestation {
                bundle: h.bundle_hash,
                verified: true,
                slsa_level: None,
            }),
        ),
        Record::ArtifactSignature(s) => (
            Some(Fact::Signature {
                bundle: s.bundle_hash,
                backend: s.backend.as_str(),
            }),
            None,
        ),
        Record::PolicyEvaluation(p) => (
            Some(Fact::Policy {
                policy_type: p.policy.as_str(),
                outcome: match p.result {
                    PolicyResult::Pass => PolicyOutcome::Pass,
                    PolicyResult::Fail | PolicyResult::Warn => PolicyOutcome::Fail,
                    _ => PolicyOutcome::Other,
                },
            }),
            None,
        ),
        Record::GateExecution(g) => (
            Some(Fact::Gate {
                name: g.gate.as_str(),
                outcome: g.outcome,
                duration_ms: g.duration_ms,
            }),
            None,
        ),
        Record::Verification(v) => (Some(Fact::Verdict(v.verdict.verdict())), None),
        Record::Refusal(_) => (Some(Fact::BypassAttempt), None),
        _ => (None, None),
    };
    first
        .into_iter()
        .chain(second)
        .map(move |fact| Observation { at, fact })
}

/// Whether facts of `kind` recorded before a window still count for it (signatures and
/// handoff markers: a bundle signed yesterday and handed off today is a signed bundle of
/// today).
pub const fn is_evidence(kind: RecordKind) -> bool {
    matches!(kind, RecordKind::Handoff | RecordKind::ArtifactSignature)
}

/// Shows `visit` every fact a tally of `window` needs: evidence kinds recorded before the
/// window's end, the other kinds recorded in the window. Returns the number of entries read.
pub fn scan(
    reader: &mut Reader,
    window: Window,
    mut visit: impl FnMut(&Observation<'_>),
) -> Result<u64> {
    let mut read = 0;
    for kind in SCANNED_KINDS {
        let from = if is_evidence(kind) {
            Timestamp::from_unix_micros(i64::MIN)
        } else {
            window.from()
        };
        read += reader.for_each_of_kind(kind, from, window.to(), |entry| {
            for o in facts_of(&entry) {
                visit(&o);
            }
            ControlFlow::Continue(())
        })?;
    }
    Ok(read)
}
