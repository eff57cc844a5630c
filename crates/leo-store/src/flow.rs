//! Records of the two-lane workflow itself (schema version 2): label transitions (SOP §3),
//! refused operations (SOP §12.8 "gate bypass attempts"), artifact signatures (which backend
//! signed, and why Sigstore was not used, SOP §10.3) and policy evaluations (SOP §11).

use leo_artifact::Sha256Digest;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::role::Role;
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

/// A refused operation (`leo_refusals`), recorded by the role that refused it; SOP §12.8
/// counts these as gate bypass attempts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The change the operation targeted.
    pub change: Text,
    /// The role that attempted it (may be the builder, which cannot write itself).
    pub attempted_role: Role,
    /// The operation, e.g. `issue_verdict` or `merge`.
    pub operation: Text,
    /// Why it was refused.
    pub reason: Text,
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
