//! Reading the audit trail: each stored [`Entry`] becomes the [`Fact`] it carries.
//!
//! | record (table) | fact |
//! |---|---|
//! | handoff (`leo_handoff_tracking`) | [`Fact::Handoff`]; a `[CLAUDE-APPLIED]` one also [`Fact::Attestation`] (verified) |
//! | artifact signature (`leo_artifact_signatures`) | [`Fact::Signature`] |
//! | policy evaluation (`leo_policy_evaluations`) | [`Fact::Policy`]: pass → pass; fail and warn → fail (a violation, enforced or not); skip and error → other |
//! | gate execution (`leo_gate_executions`) | [`Fact::Gate`] |
//! | verification (`leo_verification_results`) | [`Fact::Verdict`] |
//! | refusal (`leo_refusals`) of a bundle check ([`RefusalCause::Bundle`]) | [`Fact::BundleRefusal`]; the attestation check's also [`Fact::Attestation`] (failed, no bundle hash); the SBOM and apply checks' also [`Fact::Attestation`] (verified, no bundle hash: the enforcer checks the attestation before them: [`BundleCheck::attestation_verified`](leo_store::BundleCheck::attestation_verified)) |
//! | a bundle refusal recorded before checks were named ([`RefusalCause::LegacyBundle`]) | none |
//! | any other refusal ([`RefusalCause::Operation`]) | [`Fact::BypassAttempt`] (SOP §12.8 counts refused operations as gate bypass attempts) |
//! | approval, signing key, label transition | none |
//!
//! A refusal's cause is typed ([`RefusalCause::of`]), never read from its free-text reason:
//! a bundle check is a refusal whose `operation` is a [`BundleCheck`](leo_store::BundleCheck) name *and* that is
//! filed the way only the enforcer can file it (attempted by CODEX, under `SIGN_ARTIFACTS`,
//! which the database's §5 matrix gives the enforcer alone). Any other writer naming a check
//! is refused on append by leo-store's API, and a row filed otherwise (by SQL behind the API)
//! still reads as a refused operation, so no role
//! can turn a bypass attempt into a check result.
//!
//! Why a `[CLAUDE-APPLIED]` handoff is the verified-attestation evidence: the enforcer applies
//! a bundle only after `leo_attest::verify_bundle_attestation` accepted its signed SLSA
//! provenance against the trusted builder keys and provenance policy (leo-gates,
//! `enforcer::verify_handoff`); a bundle whose attestation is rejected is refused, never
//! applied, and that refusal (operation `bundle_attestation`) is the failed check. The trail
//! records no SLSA *level*, so levels stay unknown (the per-level coverage series are absent,
//! not 0).
//!
//! The read is one indexed range scan per record kind of the store's projection
//! ([`Reader::for_each_projected`]: only the columns above, no full decode); the [`Tally`](crate::Tally)
//! does not depend on arrival order. It is a read model: values are those stored, and a
//! tampered row is found by `Reader::verify` (`leo audit verify`), not by the score.

use std::ops::ControlFlow;

use leo_store::{
    Entry, HandoffStage, PolicyResult, Projected, Reader, RecordKind, RefusalCause, Timestamp,
};

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
    facts_of_projected(entry.event.recorded_at, Projected::of_event(&entry.event))
}

/// The facts a [projected row](leo_store::projection) carries (at most two): the same as
/// [`facts_of`] gives for the decoded entry.
pub fn facts_of_projected(
    at: Timestamp,
    record: Projected<'_>,
) -> impl Iterator<Item = Observation<'_>> {
    let (first, second) = match record {
        Projected::Handoff { stage, bundle_hash } => (
            Some(Fact::Handoff {
                stage,
                bundle: bundle_hash,
            }),
            (stage == HandoffStage::ClaudeApplied).then_some(Fact::Attestation {
                bundle: Some(bundle_hash),
                verified: true,
                slsa_level: None,
            }),
        ),
        Projected::ArtifactSignature {
            bundle_hash,
            backend,
        } => (
            Some(Fact::Signature {
                bundle: bundle_hash,
                backend: backend.as_str(),
            }),
            None,
        ),
        Projected::PolicyEvaluation { policy, result } => (
            Some(Fact::Policy {
                policy_type: policy,
                outcome: match result {
                    PolicyResult::Pass => PolicyOutcome::Pass,
                    PolicyResult::Fail | PolicyResult::Warn => PolicyOutcome::Fail,
                    _ => PolicyOutcome::Other,
                },
            }),
            None,
        ),
        Projected::GateExecution {
            gate,
            outcome,
            duration_ms,
        } => (
            Some(Fact::Gate {
                name: gate,
                outcome,
                duration_ms,
            }),
            None,
        ),
        Projected::Verification { verdict } => (Some(Fact::Verdict(verdict)), None),
        Projected::Refusal {
            cause: RefusalCause::Bundle(check),
        } => (
            Some(Fact::BundleRefusal { check }),
            check
                .attestation_verified()
                .map(|verified| Fact::Attestation {
                    bundle: None,
                    verified,
                    slsa_level: None,
                }),
        ),
        Projected::Refusal {
            cause: RefusalCause::Operation,
        } => (Some(Fact::BypassAttempt), None),
        // A bundle refusal whose check was not recorded: neither a bypass attempt nor an
        // attestation result.
        Projected::Refusal {
            cause: RefusalCause::LegacyBundle,
        } => (None, None),
        // The kinds without facts, and a refusal cause this version does not know (counted as
        // nothing rather than guessed).
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

/// Reads every scanned kind for `window` with `read(kind, from, to)`: evidence kinds from the
/// beginning, the others from the window's start. Returns the total read.
fn each_kind(
    window: Window,
    mut read: impl FnMut(RecordKind, Timestamp, Timestamp) -> Result<u64>,
) -> Result<u64> {
    let mut total = 0;
    for kind in SCANNED_KINDS {
        let from = if is_evidence(kind) {
            Timestamp::from_unix_micros(i64::MIN)
        } else {
            window.from()
        };
        total += read(kind, from, window.to())?;
    }
    Ok(total)
}

/// Shows `visit` every fact a tally of `window` needs: evidence kinds recorded before the
/// window's end, the other kinds recorded in the window. Returns the number of entries read.
///
/// Reads the store's projection ([`Reader::for_each_projected`]): only the columns the
/// posture needs. The values are those stored; tamper evidence is `Reader::verify`.
pub fn scan(
    reader: &mut Reader,
    window: Window,
    mut visit: impl FnMut(&Observation<'_>),
) -> Result<u64> {
    each_kind(window, |kind, from, to| {
        Ok(reader.for_each_projected(kind, from, to, |row| {
            facts_of_projected(row.recorded_at, row.record).for_each(|o| visit(&o));
            ControlFlow::Continue(())
        })?)
    })
}

/// The same facts as [`scan`], from fully decoded and field-checked entries
/// ([`Reader::for_each_of_kind`]): several times slower; the reference the projection is
/// tested and benchmarked against.
pub fn scan_decoded(
    reader: &mut Reader,
    window: Window,
    mut visit: impl FnMut(&Observation<'_>),
) -> Result<u64> {
    each_kind(window, |kind, from, to| {
        Ok(reader.for_each_of_kind(kind, from, to, |entry| {
            facts_of(&entry).for_each(|o| visit(&o));
            ControlFlow::Continue(())
        })?)
    })
}
