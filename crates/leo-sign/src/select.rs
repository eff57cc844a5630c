//! The enforcer's backend choice (SOP §10.3): Sigstore when reachable, OpenPGP otherwise,
//! and a record of which was used and why.

use crate::backend::{Backend, Signer};

/// The recorded outcome of [`select_signer`], for the audit trail and the attestation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackendSelection {
    /// The backend that will sign.
    pub backend: Backend,
    /// Why the preferred backend was not used (`None` when it was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

impl BackendSelection {
    /// Whether the fallback backend was chosen.
    #[must_use]
    pub fn is_fallback(&self) -> bool {
        self.fallback_reason.is_some()
    }
}

/// The chosen signer and the record of the choice.
pub struct SignerChoice<'a> {
    /// The signer to use.
    pub signer: &'a dyn Signer,
    /// What to record.
    pub selection: BackendSelection,
}

impl std::fmt::Debug for SignerChoice<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignerChoice")
            .field("selection", &self.selection)
            .finish_non_exhaustive()
    }
}

/// Picks `preferred` (Sigstore) when it is present and its [`Signer::probe`] succeeds, else
/// `fallback` (OpenPGP), recording the reason for a fallback.
///
/// ```
/// use leo_sign::{select_signer, Backend, RawKeyPair, RawKeyAlgorithm};
///
/// let local = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
/// let choice = select_signer(None, &local);
/// assert_eq!(choice.selection.backend, Backend::RawKey);
/// assert_eq!(choice.selection.fallback_reason.as_deref(), Some("sigstore backend not configured"));
/// ```
#[must_use]
pub fn select_signer<'a>(
    preferred: Option<&'a dyn Signer>,
    fallback: &'a dyn Signer,
) -> SignerChoice<'a> {
    let fallback_with = |reason: String| SignerChoice {
        signer: fallback,
        selection: BackendSelection {
            backend: fallback.backend(),
            fallback_reason: Some(reason),
        },
    };
    match preferred {
        None => fallback_with("sigstore backend not configured".to_owned()),
        Some(signer) => match signer.probe() {
            Ok(()) => SignerChoice {
                signer,
                selection: BackendSelection {
                    backend: signer.backend(),
                    fallback_reason: None,
                },
            },
            Err(e) => fallback_with(e.to_string()),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::backend::Signed;
    use crate::{Error, RawKeyAlgorithm, RawKeyPair, Result};

    /// A stand-in for the Sigstore signer whose reachability the test controls.
    struct Remote {
        reachable: bool,
    }

    impl Signer for Remote {
        fn backend(&self) -> Backend {
            Backend::Sigstore
        }

        fn probe(&self) -> Result<()> {
            if self.reachable {
                Ok(())
            } else {
                Err(Error::BackendUnavailable {
                    backend: Backend::Sigstore,
                    reason: "fulcio: connection refused".to_owned(),
                })
            }
        }

        fn sign(&self, _data: &mut dyn Read) -> Result<Signed> {
            Err(Error::BackendUnavailable {
                backend: Backend::Sigstore,
                reason: "stub".to_owned(),
            })
        }
    }

    #[test]
    fn reachable_sigstore_is_preferred() {
        let local = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let remote = Remote { reachable: true };
        let choice = select_signer(Some(&remote), &local);
        assert_eq!(choice.selection.backend, Backend::Sigstore);
        assert!(!choice.selection.is_fallback());
        assert_eq!(choice.signer.backend(), Backend::Sigstore);
    }

    #[test]
    fn unreachable_sigstore_falls_back_and_records_why() {
        let local = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let remote = Remote { reachable: false };
        let choice = select_signer(Some(&remote), &local);
        assert_eq!(choice.selection.backend, Backend::RawKey);
        let reason = choice.selection.fallback_reason.clone().unwrap();
        assert!(reason.contains("connection refused"), "{reason}");
        let json = serde_json::to_value(&choice.selection).unwrap();
        assert_eq!(json["backend"], "raw_key");
        assert!(format!("{choice:?}").contains("fallback_reason"));
    }
}
