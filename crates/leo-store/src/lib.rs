//! # leo-store
//!
//! The LEO audit trail (SOP §7): every handoff, verdict, gate run, approval and signing key
//! is a typed record in the SOP §7.2 tables, appended through a handle whose type says what
//! its role may write, and is a leaf of an RFC 6962 Merkle tree and of a per-row hash chain,
//! with C2SP signed checkpoints. Nobody, not even the database's owner, can rewrite signed
//! history without [`Reader::verify`] noticing: it names the first edited row, or the
//! rewritten range when leaves and chain were recomputed. Records after the newest signed
//! checkpoint are protected by the hash chain only ([`VerifyReport::unsigned_tail`]).
//!
//! ```
//! use leo_store::{BuilderHandle, EnforcerHandle, Location, NoteSigner, samples};
//!
//! let dir = tempfile::tempdir()?;
//! let db: Location = format!("sqlite:{}", dir.path().join("leo.db").display()).parse()?;
//! let signer = NoteSigner::generate("leo.example/audit")?;
//! let trusted = [signer.verifier()];
//!
//! // The enforcer appends (a signed checkpoint follows every batch)...
//! let mut enforcer = EnforcerHandle::open(&db, Some(signer))?;
//! let receipt = enforcer.append(samples::handoff("lane-a", 7)?)?;
//! // ...a retry of the same event id is recognised, never duplicated...
//! assert!(enforcer.append(samples::handoff("lane-a", 7)?)?.duplicate);
//!
//! // ...and the builder reads, proves and verifies, but cannot write.
//! let mut builder = BuilderHandle::open(&db)?;
//! let size = builder.size()?;
//! let proof = builder.inclusion_proof(receipt.seq, size)?;
//! proof.verify()?;
//! let report = builder.verify(&trusted)?;
//! assert_eq!((report.entries, report.unsigned_tail), (1, 0));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod backend;
pub mod codec;
pub mod error;
pub mod flow;
pub mod merkle;
pub mod note;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod projection;
pub mod proof;
pub mod reader;
pub mod record;
pub mod role;
pub mod samples;
pub mod schema;
pub mod sqlite;
pub mod store;
pub mod values;
pub mod verify;

pub use backend::{CheckpointRow, RawEntry};
pub use codec::{Entry, Event};
pub use error::{Error, Result};
pub use flow::{BundleCheck, RefusalCause};
pub use merkle::{Hash, MerkleTree};
pub use note::{Checkpoint, NoteSigner, NoteVerifier, load_secret_key, save_secret_key};
pub use projection::{Projected, ProjectedRow};
pub use proof::{ConsistencyProof, InclusionProof};
pub use record::{
    ApprovalDecision, ApprovalOutcome, ArtifactSignature, Confidence, EventId, Fingerprint,
    GateExecution, GateOutcome, HandoffEvent, HandoffStage, LabelTransition, PolicyEvaluation,
    PolicyMode, PolicyResult, PrNumber, PublicKeyMaterial, Record, RecordKind, Refusal,
    ScoredVerdict, SignatureBackend, SigningKeyRecord, Text, Timestamp, ValidityWindow,
    VerificationInput, VerificationResult,
};
pub use role::{Action, Role, allowed, may_write};
pub use store::{
    AppendableBy, Batch, BuilderHandle, Enforcer, EnforcerHandle, Lead, LeadHandle, Location,
    Reader, Receipt, Supervisor, SupervisorHandle, System, SystemHandle, WriterHandle, WriterRole,
};
pub use verify::VerifyReport;
