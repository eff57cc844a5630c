//! Records of the two-lane workflow itself (schema version 2): label transitions (SOP §3),
//! refused operations (the enforcer's refused bundles by [`BundleCheck`], and SOP §12.8
//! "gate bypass attempts"), artifact signatures (which backend
//! signed, and why Sigstore was not used, SOP §10.3) and policy evaluations (SOP §11).

use leo_artifact::Sha256Digest;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::role::{Action, Role};
use crate::values::Text;

/// A label change of one change (`leo_label_transitions`). The labels are the SOP §3 spelling
/// (`codex_building`, `claude_enforcing`, `gates_passing`, `ready_to_merge`,
/// `needs_revision`, `merged`); the role that took the edge is the log's `actor`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LabelTransition {
    /// The change, e.g. `PRD-42`.
    pub change: Text,
    /// The label before (`None`: the change was created).
    pub from: Option<Text>,
    /// The label after.
    pub to: Text,
    /// Why (the SOP trigger, or the refusal's reason).
    pub reason: Text,
}

/// A refused operation (`leo_refusals`), recorded by the role that refused it. What it was
/// is typed by [`Refusal::cause`]: the enforcer's refusal of a handed-off bundle names the
/// [`BundleCheck`] that failed; any other refused operation is what SOP §12.8 counts as a
/// gate bypass attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The change the operation targeted.
    pub change: Text,
    /// The role that attempted it (may be the builder, which cannot write itself).
    pub attempted_role: Role,
    /// The operation, e.g. `issue_verdict` or `merge`; for a refused bundle, the check that
    /// refused it ([`BundleCheck::as_str`]).
    pub operation: Text,
    /// Why it was refused.
    pub reason: Text,
}

impl Refusal {
    /// What was refused, given the §5 action the refusal was filed under (`leo_log.action`):
    /// see [`RefusalCause::of`].
    pub fn cause(&self, filed_under: Action) -> RefusalCause {
        RefusalCause::of(self.operation.as_str(), self.attempted_role, filed_under)
    }

    /// Refuses a refusal that names a [`BundleCheck`] but is not filed the way the enforcer
    /// files one (attempted by CODEX, under `SIGN_ARTIFACTS`, which the §5 matrix gives the
    /// enforcer alone): such a row would read as a refused operation, not as the check it
    /// names, so it is not written at all.
    pub fn check_filing(&self, filed_under: Action) -> Result<()> {
        match BundleCheck::from_operation(self.operation.as_str()) {
            Some(check) if !is_bundle_filing(self.attempted_role, filed_under) => {
                Err(Error::MisfiledBundleCheck {
                    check,
                    attempted_role: self.attempted_role,
                    action: filed_under,
                })
            }
            _ => Ok(()),
        }
    }
}

/// The operation the enforcer's bundle refusals carried before they named their check.
pub const LEGACY_BUNDLE_OPERATION: &str = "handoff";

/// Whether a refusal is filed the way the enforcer files a bundle refusal: attempted by the
/// builder, under `SIGN_ARTIFACTS` (a refused builder operation is filed under
/// `DATABASE_WRITES`).
fn is_bundle_filing(attempted_role: Role, filed_under: Action) -> bool {
    attempted_role == Role::Codex && filed_under == Action::SignArtifacts
}

/// Which of the enforcer's checks refused a handed-off bundle (SOP §4.1 steps 3–5): the
/// `operation` of the [`Refusal`] it records beside `claude_enforcing → needs_revision`.
/// A verdict on the builder's work, not an attempt to bypass a gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum BundleCheck {
    /// The bundle's bytes are not the handed-off digest (`bundle_digest`).
    #[serde(rename = "bundle_digest")]
    Digest,
    /// The container could not be read within its limits (`bundle_contents`).
    #[serde(rename = "bundle_contents")]
    Contents,
    /// The signed SLSA provenance did not verify against the trusted builder keys and
    /// provenance policy (`bundle_attestation`).
    #[serde(rename = "bundle_attestation")]
    Attestation,
    /// The SBOM is unreadable or not compliant (`bundle_sbom`).
    #[serde(rename = "bundle_sbom")]
    Sbom,
    /// The patch did not apply on the merge-base, or the applied tree is not the builder's
    /// head tree (`bundle_apply`).
    #[serde(rename = "bundle_apply")]
    Apply,
}

impl BundleCheck {
    /// Every check, in the enforcer's order.
    pub const ALL: [BundleCheck; 5] = [
        BundleCheck::Digest,
        BundleCheck::Contents,
        BundleCheck::Attestation,
        BundleCheck::Sbom,
        BundleCheck::Apply,
    ];

    /// The stored name (the refusal's `operation` column, also the serde name).
    pub const fn as_str(self) -> &'static str {
        match self {
            BundleCheck::Digest => "bundle_digest",
            BundleCheck::Contents => "bundle_contents",
            BundleCheck::Attestation => "bundle_attestation",
            BundleCheck::Sbom => "bundle_sbom",
            BundleCheck::Apply => "bundle_apply",
        }
    }

    /// What a refusal by this check says of the bundle's attestation: `Some(false)` it
    /// failed (this is the attestation check), `Some(true)` it had verified, `None` it was
    /// not checked. The enforcer (leo-gates, `enforcer::verify_handoff` then the apply) runs
    /// the checks in [`BundleCheck::ALL`]'s order and stops at the first failure, so a bundle
    /// refused for its SBOM or its patch had its signed provenance verified (leo-gates'
    /// enforcer tests pin that order).
    pub const fn attestation_verified(self) -> Option<bool> {
        match self {
            BundleCheck::Digest | BundleCheck::Contents => None,
            BundleCheck::Attestation => Some(false),
            BundleCheck::Sbom | BundleCheck::Apply => Some(true),
        }
    }

    /// The check a stored name names; `None` for any other operation.
    pub fn from_operation(operation: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == operation)
    }
}

impl std::fmt::Display for BundleCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a [`Refusal`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefusalCause {
    /// The enforcer refused a handed-off bundle because this check failed.
    Bundle(BundleCheck),
    /// The enforcer refused a handed-off bundle before refusals named their check
    /// (operation [`LEGACY_BUNDLE_OPERATION`], attempted by CODEX, filed under
    /// `SIGN_ARTIFACTS`): which check failed was not recorded.
    LegacyBundle,
    /// Any other operation, refused by a role, state, ordering or separation rule: an
    /// unauthorized or out-of-order attempt (SOP §12.8 "gate bypass attempts").
    Operation,
}

impl RefusalCause {
    /// The cause of a stored refusal. Only a refusal filed the way the enforcer files a
    /// bundle refusal (attempted by CODEX, under `SIGN_ARTIFACTS`, an action the §5 matrix
    /// and the database give the enforcer alone) is a bundle refusal, named by its
    /// [`BundleCheck`] (or [`RefusalCause::LegacyBundle`]); anything else, including a
    /// `bundle_*` name filed otherwise, is a refused operation. The workflow writes many
    /// operation names; none is an error.
    pub fn of(operation: &str, attempted_role: Role, filed_under: Action) -> Self {
        if !is_bundle_filing(attempted_role, filed_under) {
            return RefusalCause::Operation;
        }
        match BundleCheck::from_operation(operation) {
            Some(check) => RefusalCause::Bundle(check),
            None if operation == LEGACY_BUNDLE_OPERATION => RefusalCause::LegacyBundle,
            None => RefusalCause::Operation,
        }
    }
}

/// Which signing backend produced an artifact signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureBackend {
    /// Sigstore keyless signing (SOP §10.2), the default.
    Sigstore,
    /// The OpenPGP fallback (SOP §10.3).
    Openpgp,
    /// A raw key signature (e.g. Ed25519 with a local key).
    Raw,
}

impl SignatureBackend {
    /// The stored spelling: `sigstore`, `openpgp` or `raw`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SignatureBackend::Sigstore => "sigstore",
            SignatureBackend::Openpgp => "openpgp",
            SignatureBackend::Raw => "raw",
        }
    }
}

/// A signature the enforcer made over a bundle (`leo_artifact_signatures`).
///
/// A fallback must say why: `fallback_reason` is required for every backend but Sigstore and
/// refused for Sigstore ([`ArtifactSignature::check`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ArtifactSignature {
    /// SHA-256 of the signed bundle.
    pub bundle_hash: Sha256Digest,
    /// Which backend signed.
    pub backend: SignatureBackend,
    /// The signer: a key fingerprint or a certificate identity.
    pub signer: Text,
    /// Why Sigstore was not used (SOP §10.3).
    pub fallback_reason: Option<Text>,
}

impl ArtifactSignature {
    /// Refuses a fallback without a reason, and a reason on a Sigstore signature.
    pub fn check(&self) -> Result<()> {
        match (self.backend, &self.fallback_reason) {
            (SignatureBackend::Sigstore, Some(_)) => Err(Error::field(
                "fallback_reason",
                "a Sigstore signature is not a fallback",
            )),
            (backend, None) if backend != SignatureBackend::Sigstore => Err(Error::field(
                "fallback_reason",
                format!(
                    "a {} signature must say why Sigstore was not used (SOP §10.3)",
                    backend.as_str()
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// The result of one policy rule on one resource (Kyverno/PolicyReport vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyResult {
    /// The resource satisfies the rule.
    Pass,
    /// It violates the rule.
    Fail,
    /// It violates a rule that only warns.
    Warn,
    /// The rule did not apply.
    Skip,
    /// The rule could not be evaluated.
    Error,
}

/// Whether a policy blocks or only reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyMode {
    /// Violations are reported.
    Audit,
    /// Violations are blocked.
    Enforce,
}

/// One policy rule evaluated on one resource (`leo_policy_evaluations`, SOP §11).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PolicyEvaluation {
    /// The policy, e.g. `verify-image-signatures`.
    pub policy: Text,
    /// The rule inside it.
    pub rule: Text,
    /// The resource, `kind/namespace/name` (`kind//name` when cluster-scoped).
    pub resource: Text,
    /// The result.
    pub result: PolicyResult,
    /// Audit or enforce.
    pub mode: PolicyMode,
    /// The image digest evaluated, when the rule concerns an image.
    pub image_digest: Option<Sha256Digest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Text {
        Text::new("t", s).unwrap()
    }

    #[test]
    fn a_fallback_needs_a_reason_and_sigstore_has_none() {
        let mut sig = ArtifactSignature {
            bundle_hash: Sha256Digest::of(b"b"),
            backend: SignatureBackend::Openpgp,
            signer: text("0123456789abcdef"),
            fallback_reason: None,
        };
        assert!(matches!(
            sig.check(),
            Err(Error::InvalidField {
                field: "fallback_reason",
                ..
            })
        ));
        sig.fallback_reason = Some(text("Sigstore unreachable: offline"));
        sig.check().unwrap();
        sig.backend = SignatureBackend::Sigstore;
        assert!(matches!(
            sig.check(),
            Err(Error::InvalidField {
                field: "fallback_reason",
                ..
            })
        ));
        sig.fallback_reason = None;
        sig.check().unwrap();
    }

    #[test]
    fn bundle_checks_round_trip_and_other_operations_are_operations() {
        let (codex, sign) = (Role::Codex, Action::SignArtifacts);
        for c in BundleCheck::ALL {
            assert_eq!(BundleCheck::from_operation(c.as_str()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
            assert_eq!(
                RefusalCause::of(c.as_str(), codex, sign),
                RefusalCause::Bundle(c)
            );
            // The same name filed any other way is a refused operation, not the check.
            assert_eq!(
                RefusalCause::of(c.as_str(), Role::Plan, sign),
                RefusalCause::Operation
            );
            assert_eq!(
                RefusalCause::of(c.as_str(), codex, Action::DatabaseWrites),
                RefusalCause::Operation
            );
        }
        let outcomes: Vec<_> = BundleCheck::ALL
            .into_iter()
            .map(BundleCheck::attestation_verified)
            .collect();
        assert_eq!(outcomes, [None, None, Some(false), Some(true), Some(true)]);
        // Before refusals named their check, the enforcer's read `handoff`; a refused
        // builder handoff is filed under DATABASE_WRITES.
        assert_eq!(
            RefusalCause::of(LEGACY_BUNDLE_OPERATION, codex, sign),
            RefusalCause::LegacyBundle
        );
        assert_eq!(
            RefusalCause::of(LEGACY_BUNDLE_OPERATION, codex, Action::DatabaseWrites),
            RefusalCause::Operation
        );
        for op in ["merge", "issue_verdict", "", "BUNDLE_DIGEST", "bundle_"] {
            assert_eq!(
                RefusalCause::of(op, codex, sign),
                RefusalCause::Operation,
                "{op}"
            );
        }
        let mut refusal = Refusal {
            change: text("PRD-1"),
            attempted_role: codex,
            operation: text("bundle_attestation"),
            reason: text("attestation rejected"),
        };
        assert_eq!(
            refusal.cause(sign),
            RefusalCause::Bundle(BundleCheck::Attestation)
        );
        refusal.check_filing(sign).unwrap();
        assert!(matches!(
            refusal.check_filing(Action::IssueVerdict),
            Err(Error::MisfiledBundleCheck {
                check: BundleCheck::Attestation,
                attempted_role: Role::Codex,
                action: Action::IssueVerdict,
            })
        ));
        refusal.attempted_role = Role::Plan;
        assert!(matches!(
            refusal.check_filing(sign),
            Err(Error::MisfiledBundleCheck {
                attempted_role: Role::Plan,
                ..
            })
        ));
        refusal.operation = text("merge");
        refusal.check_filing(Action::IssueVerdict).unwrap();
    }

    #[test]
    fn enum_spellings_are_lowercase() {
        assert_eq!(
            serde_json::to_string(&SignatureBackend::Openpgp).unwrap(),
            "\"openpgp\""
        );
        assert_eq!(
            serde_json::to_string(&PolicyResult::Error).unwrap(),
            "\"error\""
        );
        assert_eq!(
            serde_json::to_string(&PolicyMode::Enforce).unwrap(),
            "\"enforce\""
        );
    }
}
