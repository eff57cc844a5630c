//! # leo-policy
//!
//! Admission policies for the SOP §11 policy supply chain, evaluated offline with Kyverno's
//! semantics: `require-image-digests`, `require-signed-images` and `require-slsa-provenance`.
//!
//! - [`resource`]: Kubernetes manifests (multi-document YAML, JSON, `kubectl get -o json`
//!   lists) read once into [`Resource`]s with every container image of Pods and of every
//!   controller that holds a pod template.
//! - [`policy`]: the policy model and its loader ([`load_policies`]), which reads LEO policy
//!   files and Kyverno `ClusterPolicy` files for these three rules.
//! - [`engine`]: [`Engine::evaluate`] gives one [`RuleResult`] per rule × resource
//!   (pass / fail / warn / error / skip), with Kyverno's `autogen-` rule names, Audit vs
//!   Enforce, per-namespace overrides and the SOP §11.7 namespace [`Exemptions`].
//! - [`store`]: the local attestation store, keyed by image digest, from which signatures
//!   and SLSA provenance are verified (cosign keys, Sigstore bundles, OpenPGP).
//! - [`kyverno_test`]: runs Kyverno's `kyverno-test.yaml` files.
//! - [`bundle`]: the deterministic, signed `policies-YYYYMMDD-HHMMSS.tar.gz`.
//!
//! ```
//! use leo_policy::{Engine, EngineOptions, Status, load_policy_str, parse_resources};
//!
//! let policy = load_policy_str(r#"
//! apiVersion: policy.leo.dev/v1alpha1
//! kind: ClusterPolicy
//! metadata: {name: require-image-digests}
//! spec:
//!   validationFailureAction: Enforce
//!   rules:
//!   - name: require-digest
//!     match: {any: [{resources: {kinds: [Pod]}}]}
//!     requireImageDigests: {}
//! "#, "inline.yaml").unwrap();
//! let resources = parse_resources(r#"
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web, namespace: shop}
//! spec:
//!   template:
//!     spec:
//!       containers: [{name: web, image: "nginx:1.27"}]
//! "#, "deploy.yaml").unwrap();
//!
//! let report = Engine::new(policy, EngineOptions::default()).evaluate(&resources);
//! let result = &report.results[0];
//! assert_eq!(result.rule, "autogen-require-digest"); // Kyverno's name for controller rules
//! assert_eq!(result.status, Status::Fail);
//! assert!(report.blocks());
//! ```
#![forbid(unsafe_code)]

pub mod bundle;
pub mod engine;
pub mod error;
pub mod exempt;
mod failure;
pub mod image;
pub mod kyverno_test;
pub mod policy;
pub mod resource;
pub mod store;
pub mod wildcard;

pub use engine::{Engine, EngineOptions, Failure, Report, RuleResult, Status, Summary};
pub use error::{Error, Result};
pub use exempt::Exemptions;
pub use image::{Pin, pin_of};
pub use policy::{
    Attestor, Check, FailureAction, Policy, Rule, load_policies, load_policy_file, load_policy_str,
};
pub use resource::{
    ContainerImage, ContainerList, Resource, ResourceId, parse_resources, read_resources,
};
pub use store::{AttestationStore, StoreKind};
