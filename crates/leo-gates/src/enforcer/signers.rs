//! The enforcer's preferred signer, made safe for offline runs: a Sigstore signer whose
//! reachability probe has a hard deadline ([`DeadlineProbe`]), and a stand-in that records
//! why Sigstore is not configured at all ([`SigstoreUnavailable`]). Either way
//! [`leo_sign::select_signer`] falls back to OpenPGP and records the reason.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use leo_sign::{Backend, Signed, Signer};

/// The longest a reachability probe may take before the enforcer falls back.
pub const DEFAULT_PROBE_DEADLINE: Duration = Duration::from_secs(5);

/// A signer whose [`Signer::probe`] gives up after a deadline, even when name resolution or
/// a connect hangs (the probe runs on its own thread, which is left to finish on its own).
pub struct DeadlineProbe<S> {
    inner: Arc<S>,
    deadline: Duration,
}

impl<S> DeadlineProbe<S> {
    /// Wraps `inner` with a probe deadline.
    pub fn new(inner: S, deadline: Duration) -> Self {
        DeadlineProbe {
            inner: Arc::new(inner),
            deadline,
        }
    }
}

impl<S> std::fmt::Debug for DeadlineProbe<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadlineProbe")
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl<S: Signer + Send + Sync + 'static> Signer for DeadlineProbe<S> {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }

    fn probe(&self) -> leo_sign::Result<()> {
        let (tx, rx) = std::sync::mpsc::channel();
        let inner = Arc::clone(&self.inner);
        std::thread::spawn(move || {
            let _ = tx.send(inner.probe());
        });
        rx.recv_timeout(self.deadline).unwrap_or_else(|_| {
            Err(leo_sign::Error::BackendUnavailable {
                backend: self.inner.backend(),
                reason: format!("no answer within {} s", self.deadline.as_secs()),
            })
        })
    }

    fn sign(&self, data: &mut dyn Read) -> leo_sign::Result<Signed> {
        self.inner.sign(data)
    }
}

/// Sigstore as the preferred backend when it cannot be used at all (e.g. no OIDC identity
/// token): its probe fails with `reason`, so the selection records it.
#[derive(Clone, Debug)]
pub struct SigstoreUnavailable {
    /// Why Sigstore cannot sign.
    pub reason: String,
}

impl Signer for SigstoreUnavailable {
    fn backend(&self) -> Backend {
        Backend::Sigstore
    }

    fn probe(&self) -> leo_sign::Result<()> {
        Err(leo_sign::Error::BackendUnavailable {
            backend: Backend::Sigstore,
            reason: self.reason.clone(),
        })
    }

    fn sign(&self, _data: &mut dyn Read) -> leo_sign::Result<Signed> {
        Err(leo_sign::Error::BackendUnavailable {
            backend: Backend::Sigstore,
            reason: self.reason.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leo_sign::{RawKeyAlgorithm, RawKeyPair, select_signer};

    /// A Sigstore stand-in whose probe never answers (a hung DNS lookup or connect).
    struct Hangs(std::sync::Mutex<std::sync::mpsc::Receiver<()>>);

    impl Signer for Hangs {
        fn backend(&self) -> Backend {
            Backend::Sigstore
        }
        fn probe(&self) -> leo_sign::Result<()> {
            let _ = self.0.lock().map(|rx| rx.recv());
            Ok(())
        }
        fn sign(&self, _data: &mut dyn Read) -> leo_sign::Result<Signed> {
            Err(leo_sign::Error::BackendUnavailable {
                backend: Backend::Sigstore,
                reason: "stub".into(),
            })
        }
    }

    #[test]
    fn a_hanging_probe_falls_back_with_the_reason() {
        let (_tx, rx) = std::sync::mpsc::channel();
        let hangs = DeadlineProbe::new(Hangs(std::sync::Mutex::new(rx)), Duration::ZERO);
        let local = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let choice = select_signer(Some(&hangs), &local);
        assert_eq!(choice.selection.backend, Backend::RawKey);
        let reason = choice.selection.fallback_reason.unwrap();
        assert!(reason.contains("no answer within 0 s"), "{reason}");
    }

    #[test]
    fn an_unconfigured_sigstore_records_why() {
        let none = SigstoreUnavailable {
            reason: "no OIDC token".into(),
        };
        let local = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
        let choice = select_signer(Some(&none), &local);
        assert!(
            choice
                .selection
                .fallback_reason
                .unwrap()
                .contains("no OIDC token")
        );
        assert!(matches!(
            none.sign(&mut &b"x"[..]),
            Err(leo_sign::Error::BackendUnavailable { .. })
        ));
    }
}
