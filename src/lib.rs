//! # LEO
//!
//! A verifiable two-lane (builder / enforcer) software delivery toolkit. This facade crate
//! re-exports each `leo-*` crate as a module; depend on the individual crates to keep builds
//! small.
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`artifact`] | `leo-artifact` | digests, bundles, patches, markers |
//! | [`attest`] | `leo-attest` | DSSE, in-toto, SLSA, CycloneDX SBOM |
//! | [`sign`] | `leo-sign` | signing backends: raw keys, OpenPGP, Sigstore |
//! | [`store`] | `leo-store` | the tamper-evident audit trail |
//! | [`drift`] | `leo-drift` | desired-vs-live drift detection |
//! | [`gates`] | `leo-gates` | roles, state machine, verdicts, merge gate |
//! | [`policy`] | `leo-policy` | admission policies (SOP §11), signed policy bundles |
//! | [`score`] | `leo-score` | posture score, Prometheus metrics, alerts, monthly report |
//!
//! ```
//! let d = leo::artifact::Sha256Digest::of(b"abc");
//! assert!(d.to_string().starts_with("ba7816bf"));
//! ```

pub use leo_artifact as artifact;
pub use leo_attest as attest;
pub use leo_drift as drift;
pub use leo_gates as gates;
pub use leo_policy as policy;
pub use leo_score as score;
pub use leo_sign as sign;
pub use leo_store as store;
