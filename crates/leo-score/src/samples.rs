//! Synthetic, deterministic activity for examples, tests, benchmarks and demo reports.

use leo_artifact::{PlanVerdict, Sha256Digest};
use leo_store::{BundleCheck, GateOutcome, HandoffStage, Timestamp};

use crate::tally::{Fact, MICROS_PER_SEC, Observation, PolicyOutcome};

/// Facts one bundle's journey produces.
pub const FACTS_PER_BUNDLE: usize = 10;

const GATES: [&str; 3] = [
    "LEO Gate Validation / Run Gate 1",
    "LEO Gate Validation / Run Gate 2",
    "LEO Gate Validation / Run Gate 3",
];
const POLICIES: [&str; 2] = ["require-signed-images", "require-slsa-provenance"];

/// A cheap deterministic mix of `i` and `salt` into 0..1000.
fn per_mille(i: u64, salt: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    (x ^ (x >> 29)) % 1000
}

/// About `n` observations (whole bundle journeys of [`FACTS_PER_BUNDLE`]) spread evenly over
/// `[start, start + span_secs)`: ~95 % of bundles signed, ~96 % attested (SLSA L3; the others
/// refused by the attestation check, then rebuilt as a new bundle, handed off, signed like
/// the first and attested),
/// ~10 % of gate runs failing, ~5 % of policy evaluations failing, a rare bypass attempt;
/// handoffs take 2 to 14 minutes. `quality` (0..=1000) lowers the good rates for trend charts.
pub fn journeys(
    n: usize,
    start: Timestamp,
    span_secs: i64,
    quality: u64,
) -> Vec<Observation<'static>> {
    let bundles = (n / FACTS_PER_BUNDLE).max(1) as u64;
    let step = (span_secs.max(1) * MICROS_PER_SEC) / i64::try_from(bundles).unwrap_or(i64::MAX);
    let mut out = Vec::with_capacity(n);
    for i in 0..bundles {
        let t0 = start.unix_micros() + i64::try_from(i).unwrap_or(0) * step;
        let at = |offset_secs: u64| {
            Timestamp::from_unix_micros(
                t0 + i64::try_from(offset_secs).unwrap_or(0) * MICROS_PER_SEC,
            )
        };
        let mut bundle = Sha256Digest::of(&i.to_be_bytes());
        let lapse = 1000 - quality.min(1000);
        let mut push = |offset: u64, fact| {
            out.push(Observation {
                at: at(offset),
                fact,
            })
        };
        push(
            0,
            Fact::Handoff {
                stage: HandoffStage::CodexReady,
                bundle,
            },
        );
        let signed = per_mille(i, 1) >= 50 + lapse;
        let signature = |bundle| Fact::Signature {
            bundle,
            backend: if per_mille(i, 2) < 900 {
                "sigstore"
            } else {
                "openpgp"
            },
        };
        if signed {
            push(10, signature(bundle));
        }
        if per_mille(i, 3) >= 40 + lapse / 2 {
            push(
                20,
                Fact::Attestation {
                    bundle: Some(bundle),
                    verified: true,
                    slsa_level: Some(if per_mille(i, 4) < 950 { 3 } else { 2 }),
                },
            );
        } else {
            // What the store says of a refused bundle: the check, and a failed attestation
            // that names no bundle.
            push(
                20,
                Fact::BundleRefusal {
                    check: BundleCheck::Attestation,
                },
            );
            push(
                20,
                Fact::Attestation {
                    bundle: None,
                    verified: false,
                    slsa_level: None,
                },
            );
            // The builder's rebuilt bundle (new content, so a new hash) goes through.
            bundle = Sha256Digest::of(&[&i.to_be_bytes()[..], b"rebuilt"].concat());
            push(
                30,
                Fact::Handoff {
                    stage: HandoffStage::CodexReady,
                    bundle,
                },
            );
            if signed {
                push(40, signature(bundle));
            }
            push(
                50,
                Fact::Attestation {
                    bundle: Some(bundle),
                    verified: true,
                    slsa_level: Some(3),
                },
            );
        }
        let handoff = 120 + per_mille(i, 5) * 720 / 1000;
        push(
            handoff,
            Fact::Handoff {
                stage: HandoffStage::ClaudeApplied,
                bundle,
            },
        );
        for (g, gate) in GATES.iter().enumerate() {
            let ok = per_mille(i, 10 + g as u64) >= 100 + lapse / 2;
            push(
                handoff + 60,
                Fact::Gate {
                    name: gate,
                    outcome: if ok {
                        GateOutcome::Success
                    } else {
                        GateOutcome::Failure
                    },
                    duration_ms: u32::try_from(20_000 + per_mille(i, 20 + g as u64) * 400)
                        .unwrap_or(u32::MAX),
                },
            );
        }
        for (p, policy) in POLICIES.iter().enumerate() {
            let ok = per_mille(i, 30 + p as u64) >= 50 + lapse / 2;
            push(
                handoff + 90,
                Fact::Policy {
                    policy_type: policy,
                    outcome: if ok {
                        PolicyOutcome::Pass
                    } else {
                        PolicyOutcome::Fail
                    },
                },
            );
        }
        if per_mille(i, 40) < 2 {
            push(handoff + 100, Fact::BypassAttempt);
        } else {
            push(
                handoff + 100,
                Fact::Verdict(if per_mille(i, 41) < 900 {
                    PlanVerdict::Pass
                } else {
                    PlanVerdict::Fail
                }),
            );
        }
    }
    out
}

/// Appends `observations` to a store as the records [`crate::source`] reads them from, so
/// that scanning the store gives back the same facts (attestations are not written: verified
/// ones are implied by `[CLAUDE-APPLIED]` handoffs, failed ones by the attestation check's
/// bundle refusal). PLAN files the verdicts, the enforcer everything else; `batch` events go
/// in one transaction.
pub fn seed_store(
    enforcer: &mut leo_store::EnforcerHandle,
    supervisor: &mut leo_store::SupervisorHandle,
    observations: &[Observation<'_>],
    batch: usize,
) -> crate::Result<()> {
    use leo_store::{
        Action, ArtifactSignature, Confidence, Event, GateExecution, HandoffEvent,
        PolicyEvaluation, PolicyMode, PolicyResult, PrNumber, Refusal, Role, ScoredVerdict,
        SignatureBackend, Text, VerificationResult,
    };
    // The sample commit of leo-store's own samples.
    let commit = leo_store::samples::handoff("seed", 1)?.record.commit;
    let pr = PrNumber::new(1)?;
    let batch = batch.max(1);
    for (chunk_no, chunk) in observations.chunks(batch).enumerate() {
        let (mut handoffs, mut signatures, mut policies, mut gates, mut verdicts, mut refusals) = (
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
        );
        for (k, o) in chunk.iter().enumerate() {
            let id = format!("seed-{}", chunk_no * batch + k).parse()?;
            let at = o.at;
            match o.fact {
                Fact::Handoff { stage, bundle } => handoffs.push(Event::new(
                    id,
                    Action::CreatePr,
                    at,
                    HandoffEvent {
                        stage,
                        bundle_hash: bundle,
                        commit: commit.clone(),
                        branch: Text::new("branch", "feature/seed")?,
                        pr_number: Some(pr),
                    },
                )),
                Fact::Signature { bundle, backend } => {
                    let sigstore = backend == "sigstore";
                    signatures.push(Event::new(
                        id,
                        Action::SignArtifacts,
                        at,
                        ArtifactSignature {
                            bundle_hash: bundle,
                            backend: if sigstore {
                                SignatureBackend::Sigstore
                            } else {
                                SignatureBackend::Openpgp
                            },
                            signer: Text::new("signer", "0123456789abcdef")?,
                            fallback_reason: if sigstore {
                                None
                            } else {
                                Some(Text::new("fallback_reason", "Sigstore unreachable")?)
                            },
                        },
                    ));
                }
                Fact::Policy {
                    policy_type,
                    outcome,
                } => policies.push(Event::new(
                    id,
                    Action::TriggerWorkflows,
                    at,
                    PolicyEvaluation {
                        policy: Text::new("policy", policy_type)?,
                        rule: Text::new("rule", "check")?,
                        resource: Text::new("resource", "Deployment/prod/app")?,
                        result: match outcome {
                            PolicyOutcome::Pass => PolicyResult::Pass,
                            PolicyOutcome::Fail => PolicyResult::Fail,
                            PolicyOutcome::Other => PolicyResult::Skip,
                        },
                        mode: PolicyMode::Enforce,
                        image_digest: None,
                    },
                )),
                Fact::Gate {
                    name,
                    outcome,
                    duration_ms,
                } => gates.push(Event::new(
                    id,
                    Action::TriggerWorkflows,
                    at,
                    GateExecution {
                        pr_number: pr,
                        gate: Text::new("gate", name)?,
                        commit: commit.clone(),
                        outcome,
                        started_at: at,
                        duration_ms,
                    },
                )),
                Fact::Verdict(verdict) => verdicts.push(Event::new(
                    id,
                    Action::IssueVerdict,
                    at,
                    VerificationResult {
                        pr_number: pr,
                        verdict: ScoredVerdict::new(verdict, Confidence::new(90)?)?,
                        inputs: Vec::new(),
                        summary: Text::new("summary", "seeded")?,
                    },
                )),
                Fact::BypassAttempt => refusals.push(Event::new(
                    id,
                    Action::CreatePr,
                    at,
                    Refusal {
                        change: Text::new("change", "PRD-1")?,
                        attempted_role: Role::Codex,
                        operation: Text::new("operation", "merge")?,
                        reason: Text::new("reason", "gates have not passed")?,
                    },
                )),
                Fact::BundleRefusal { check } => refusals.push(Event::new(
                    id,
                    Action::SignArtifacts,
                    at,
                    Refusal {
                        change: Text::new("change", "PRD-1")?,
                        attempted_role: Role::Codex,
                        operation: Text::new("operation", check.as_str())?,
                        reason: Text::new("reason", "the bundle failed a check")?,
                    },
                )),
                Fact::Attestation { .. } => {}
            }
        }
        enforcer.append_batch(handoffs)?;
        enforcer.append_batch(signatures)?;
        enforcer.append_batch(policies)?;
        enforcer.append_batch(gates)?;
        enforcer.append_batch(refusals)?;
        supervisor.append_batch(verdicts)?;
    }
    Ok(())
}
