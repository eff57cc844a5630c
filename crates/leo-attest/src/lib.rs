//! # leo-attest
//!
//! Attestations for LEO's builder lane, written directly against the specifications:
//!
//! - **DSSE v1.0.2** ([`Envelope`], [`pae`], [`KeySet::verify`]): spec PAE, standard base64
//!   written, standard or URL-safe read, unknown fields ignored, duplicate JSON keys rejected,
//!   `keyid` only a hint, thresholds over distinct keys.
//! - **Keys** ([`PublicKey`], [`SigningKey`], [`DsseSigner`]): Ed25519, ECDSA P-256 (DER or raw
//!   `r‖s` signatures), RSA-PSS-SHA256, with securesystemslib key ids. Other signing backends
//!   plug in by implementing [`DsseSigner`].
//! - **in-toto Statement v1** ([`Statement`]): v0.1 readable but flagged.
//! - **SLSA Provenance v0.2 and v1** ([`slsa`]) and a **provenance policy** ([`ProvenancePolicy`])
//!   modelled on slsa-verifier.
//! - **The bundle attestation** ([`bundle`]): what the builder signs for `artifact.tar.gz`.
//! - **CycloneDX 1.5 SBOMs** ([`sbom`]): generation from lockfiles, validation (model and
//!   official JSON schema) and an NTIA minimum-elements compliance report.
//!
//! ```
//! use leo_attest::{Envelope, KeySet, ResourceDescriptor, SigningKey, Statement, DsseSigner};
//! use leo_artifact::Sha256Digest;
//!
//! let (key, _pkcs8_pem) = SigningKey::generate_ed25519().unwrap();
//! let artifact = Sha256Digest::of(b"artifact bytes");
//! let statement = Statement::new(
//!     vec![ResourceDescriptor::sha256("artifact.tar.gz", &artifact)],
//!     "https://slsa.dev/provenance/v1",
//!     serde_json::json!({}),
//! );
//! let envelope = Envelope::sign(leo_attest::PAYLOAD_TYPE, &statement.to_json(), &[&key as &dyn DsseSigner])
//!     .unwrap()
//!     .to_json();
//!
//! // The verifier takes its trust anchors explicitly and hands back the verified bytes.
//! let keys: KeySet = [key.public_key().clone()].into_iter().collect();
//! let verified = keys.verify_json(&envelope, 1).unwrap();
//! assert_eq!(verified.key_ids, vec![key.public_key().key_id().clone()]);
//! let parsed = Statement::from_json(&verified.payload).unwrap();
//! assert!(parsed.subject_matching(&artifact).is_some());
//! ```
//!
//! ## The builder and enforcer flows
//!
//! ```
//! use leo_artifact::{BundleInput, Member, ReadLimits, Revisions, read_bundle};
//! use leo_attest::bundle::{BUNDLE_BUILD_TYPE, BuildInfo};
//! use leo_attest::sbom::{SbomOptions, check_compliance, generate};
//! use leo_attest::{DsseSigner, KeySet, ProvenancePolicy, SigningKey};
//!
//! let sha = |c: char| c.to_string().repeat(40).parse().unwrap();
//! let revisions = Revisions { base: sha('a'), head: sha('b'), merge_base: sha('c') };
//! let now = time::macros::datetime!(2026-01-01 0:00 UTC);
//!
//! // Builder: SBOM of the tree at head, then the signed attestation over the members.
//! let tree = tempfile::tempdir().unwrap();
//! std::fs::write(tree.path().join("requirements.txt"), "requests==2.31.0\n").unwrap();
//! let sbom = generate(tree.path(), &SbomOptions {
//!     name: "app".into(), head: revisions.head.clone(), repository: None, timestamp: now,
//!     author: "LEO builder".into(), supplier: "Example Org".into(),
//! }).unwrap();
//! let mut input = BundleInput {
//!     revisions, created_at: now, patch: b"diff --git a/x b/x\n".to_vec(), sbom,
//!     attestation: Vec::new(), rollback: b"# Rollback\n".to_vec(),
//! };
//! let build = BuildInfo {
//!     builder_id: "https://example.invalid/builder".into(),
//!     build_type: BUNDLE_BUILD_TYPE.into(),
//!     repository: "https://example.invalid/repo".into(),
//!     git_ref: Some("refs/heads/staging/codex-1".into()),
//!     started_on: now, finished_on: now, reproducible: true,
//! };
//! let (key, _pem) = SigningKey::generate_ed25519().unwrap();
//! input.attestation =
//!     leo_attest::sign_bundle_attestation(&input, &build, &[&key as &dyn DsseSigner]).unwrap();
//! let mut archive = Vec::new();
//! input.write(&mut archive).unwrap();
//!
//! // Enforcer: read the bundle, verify the attestation under a policy, check the SBOM.
//! let bundle = read_bundle(archive.as_slice(), &ReadLimits::default()).unwrap();
//! let keys: KeySet = [key.public_key().clone()].into_iter().collect();
//! let policy = ProvenancePolicy::new(
//!     key.public_key().key_id().clone(), &build.builder_id, &[BUNDLE_BUILD_TYPE]);
//! let verified = leo_attest::verify_bundle_attestation(&bundle, &keys, &policy).unwrap();
//! assert_eq!(verified.builder_id, build.builder_id);
//! assert!(check_compliance(bundle.member(Member::Sbom)).unwrap().compliant);
//! // Schema validation: `SbomValidator::from_dir(schema_dir)?.validate(bytes)`.
//! ```
#![forbid(unsafe_code)]

mod b64;
pub mod bundle;
mod der;
pub mod envelope;
pub mod error;
pub mod json;
pub mod keys;
pub mod policy;
pub mod sbom;
pub mod signer;
pub mod slsa;
pub mod statement;
pub mod verify;

pub use bundle::{
    BUNDLE_BUILD_TYPE, BuildInfo, sign_bundle_attestation, verify_bundle_attestation,
};
pub use envelope::{Envelope, Signature, pae};
pub use error::{Error, Result};
pub use keys::{KeyAlgorithm, KeyId, PublicKey};
pub use policy::{
    Expectations, ExpectedSource, ProvenancePolicy, TrustedBuilder, VerifiedProvenance,
};
pub use signer::{DsseSigner, PrivateKeyPem, SigningKey};
pub use slsa::{PROVENANCE_V0_2, PROVENANCE_V1, Provenance};
pub use statement::{
    PAYLOAD_TYPE, ResourceDescriptor, STATEMENT_V0_1, STATEMENT_V1, Statement, StatementVersion,
};
pub use verify::{KeySet, VerifiedEnvelope};
