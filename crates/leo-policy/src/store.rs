//! The attestation store: signatures and attestations on disk, keyed by image digest, so
//! signed-image and provenance rules run with no registry access.
//!
//! ```text
//! <store>/
//!   sha256-<64 hex>/                      one directory per image digest (cosign's tag name)
//!     signatures/
//!       <name>.sigstore.json              Sigstore bundle whose message digest is the image
//!                                         digest (cosign keyed, offline or logged; keyless)
//!       <name>.json + <name>.json.sig     cosign simple-signing payload + base64 signature
//!                                         (`cosign sign --key`, as `cosign download signature`)
//!       <name>.json + <name>.json.asc     the same payload + OpenPGP detached signature
//!     attestations/
//!       <name>.dsse.json                  DSSE envelope of an in-toto statement
//!                                         (`cosign attest --key`, `leo attest sign`)
//!       <name>.sigstore.json              Sigstore bundle of such an envelope (`cosign
//!                                         attest --new-bundle-format`; keyless, or keyed
//!                                         with a log entry or timestamp)
//!       <name>.json + <name>.json.asc     in-toto statement + OpenPGP detached signature
//! ```
//!
//! A signature counts when it verifies under one of the rule's attestors *and* names the
//! image digest (the payload's `critical.image.docker-manifest-digest`, or the bundle's
//! message digest). An attestation counts when it verifies, its subject includes the digest,
//! its predicate type is accepted and its `builder.id` matches the rule. A Sigstore
//! attestation bundle verifies with the rule's key or keyless attestors exactly as a
//! signature bundle does, and only if its content is a DSSE envelope; its verified payload
//! is then judged like a `.dsse.json` one. When nothing counts, the failure reported is the
//! one that got furthest, so "wrong builder" is not hidden behind "wrong key" of another
//! file.

use std::path::{Path, PathBuf};

use leo_artifact::Sha256Digest;
use leo_attest::{Envelope, KeySet, Provenance, STATEMENT_V0_1, Statement, StatementVersion};
use leo_sign::{PgpVerifier, VerifyOptions};
use serde::Serialize;
use time::OffsetDateTime;

use crate::engine::Failure;
use crate::error::{Error, Result};
use crate::policy::{Attestor, ProvenanceCheck, SignatureCheck};

mod sigstore;

use self::sigstore::{sigstore_attestation, sigstore_signature};

/// Largest signature, payload or attestation file read.
pub const MAX_STORE_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Most files considered per digest and kind.
pub const MAX_FILES_PER_DIGEST: usize = 256;
/// The `type` of a cosign simple-signing payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// What a passing signature or provenance check verified.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The image digest (`sha256:<hex>`).
    pub digest: String,
    /// The file that verified, relative to the store.
    pub file: String,
    /// `sigstore`, `cosign-key`, `openpgp` or `dsse-key`.
    pub backend: &'static str,
    /// The key id, fingerprint or identity that signed.
    pub signer: String,
    /// For provenance: the predicate type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// For provenance: the builder id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub builder_id: Option<String>,
}

/// A store directory and the time verification happens at.
#[derive(Clone, Debug)]
pub struct AttestationStore {
    root: PathBuf,
    now: OffsetDateTime,
}

/// The two kinds of file a digest directory holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// `signatures/`: image signatures.
    Signatures,
    /// `attestations/`: signed in-toto statements.
    Attestations,
}

impl StoreKind {
    /// The directory name under the digest directory.
    pub fn dir_name(self) -> &'static str {
        match self {
            StoreKind::Signatures => "signatures",
            StoreKind::Attestations => "attestations",
        }
    }
}

/// One signature or attestation file and, for detached signatures, what it signs.
struct Candidate {
    path: PathBuf,
    name: String,
}

impl AttestationStore {
    /// A store rooted at `root`, verifying at the current time.
    pub fn open(root: impl Into<PathBuf>) -> Self {
        AttestationStore {
            root: root.into(),
            now: OffsetDateTime::now_utc(),
        }
    }

    /// Verifies at `now` instead (OpenPGP key validity, signature times).
    #[must_use]
    pub fn at(mut self, now: OffsetDateTime) -> Self {
        self.now = now;
        self
    }

    /// The store's root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of one digest.
    pub fn digest_dir(&self, digest: &Sha256Digest) -> PathBuf {
        self.root.join(format!("sha256-{digest}"))
    }

    /// The cosign simple-signing payload for an image (what `cosign sign` signs).
    pub fn simple_signing_payload(docker_reference: &str, digest: &Sha256Digest) -> Vec<u8> {
        let doc = serde_json::json!({
            "critical": {
                "identity": {"docker-reference": docker_reference},
                "image": {"docker-manifest-digest": digest.to_prefixed()},
                "type": SIMPLE_SIGNING_TYPE,
            },
            "optional": null,
        });
        serde_json::to_vec(&doc).unwrap_or_default()
    }

    /// Writes a file into the store, atomically. `name` must be one plain file name (no
    /// separator, not `.` or `..`): [`Error::InvalidStoreFileName`] otherwise.
    pub fn put(
        &self,
        digest: &Sha256Digest,
        kind: StoreKind,
        name: &str,
        bytes: &[u8],
    ) -> Result<PathBuf> {
        let single_component = {
            let mut components = Path::new(name).components();
            matches!(components.next(), Some(std::path::Component::Normal(n)) if n == name)
                && components.next().is_none()
        };
        if !single_component || name.contains(['/', '\\', '\0']) {
            return Err(Error::InvalidStoreFileName {
                name: leo_artifact::error::snippet(name),
            });
        }
        let dir = self.digest_dir(digest).join(kind.dir_name());
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        let path = dir.join(name);
        leo_artifact::fsutil::write_bytes_atomically(&path, bytes)?;
        Ok(path)
    }

    fn candidates(
        &self,
        digest: &Sha256Digest,
        kind: StoreKind,
    ) -> std::result::Result<Vec<Candidate>, Failure> {
        let dir = self.digest_dir(digest).join(kind.dir_name());
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Failure::StoreUnreadable {
                    reason: format!("{}: {e}", dir.display()),
                });
            }
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Failure::StoreUnreadable {
                reason: format!("{}: {e}", dir.display()),
            })?;
            let path = entry.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
                continue;
            };
            let signature_like = name.ends_with(".sigstore.json")
                || name.ends_with(".dsse.json")
                || name.ends_with(".sig")
                || name.ends_with(".asc");
            if signature_like && entry.file_type().is_ok_and(|t| t.is_file()) {
                out.push(Candidate { path, name });
            }
            if out.len() > MAX_FILES_PER_DIGEST {
                return Err(Failure::StoreUnreadable {
                    reason: format!(
                        "more than {MAX_FILES_PER_DIGEST} files in {}",
                        dir.display()
                    ),
                });
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .display()
            .to_string()
    }

    /// Checks that `digest` has a signature by one of `check`'s attestors.
    pub fn verify_signature(
        &self,
        digest: &Sha256Digest,
        check: &SignatureCheck,
        image: &str,
    ) -> std::result::Result<Evidence, Failure> {
        let files = self.candidates(digest, StoreKind::Signatures)?;
        if files.is_empty() {
            return Err(Failure::NoSignature {
                image: image.to_owned(),
            });
        }
        let mut reasons = Vec::new();
        let mut other_subject = None;
        for c in &files {
            let rel = self.relative(&c.path);
            let verified = if c.name.ends_with(".sigstore.json") {
                sigstore_signature(c, digest, &check.attestors)
            } else {
                self.detached(c, &check.attestors)
                    .and_then(
                        |(payload, backend, signer)| match payload_digest(&payload) {
                            Ok(signed) if signed == digest.to_prefixed() => Ok((backend, signer)),
                            Ok(signed) => Err(Rejection::Subject(signed)),
                            Err(why) => Err(Rejection::Untrusted(why)),
                        },
                    )
            };
            match verified {
                Ok((backend, signer)) => {
                    return Ok(Evidence {
                        digest: digest.to_prefixed(),
                        file: rel,
                        backend,
                        signer,
                        predicate_type: None,
                        builder_id: None,
                    });
                }
                Err(Rejection::Subject(signed)) => other_subject = Some(signed),
                Err(Rejection::Untrusted(why)) => reasons.push(format!("{rel}: {why}")),
            }
        }
        Err(match other_subject {
            Some(signed) => Failure::SignatureSubjectMismatch {
                image: image.to_owned(),
                signed,
            },
            None => Failure::SignatureUntrusted {
                image: image.to_owned(),
                reasons,
            },
        })
    }

    /// Verifies a detached `.sig` (key) or `.asc` (OpenPGP) over its payload; returns the
    /// payload, the backend and the signer.
    fn detached(
        &self,
        c: &Candidate,
        attestors: &[Attestor],
    ) -> std::result::Result<(Vec<u8>, &'static str, String), Rejection> {
        let Some(payload_path) = c
            .name
            .strip_suffix(".sig")
            .or_else(|| c.name.strip_suffix(".asc"))
            .map(|stem| c.path.with_file_name(stem))
        else {
            return Err(Rejection::Untrusted("not a signature file".into()));
        };
        let payload = read_limited(&payload_path).map_err(Rejection::Untrusted)?;
        let sig = read_limited(&c.path).map_err(Rejection::Untrusted)?;
        if c.name.ends_with(".sig") {
            use base64::Engine as _;
            let text = String::from_utf8_lossy(&sig);
            let raw = base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .map_err(|_| Rejection::Untrusted("signature is not base64".into()))?;
            for attestor in attestors {
                if let Attestor::Key { key, .. } = attestor {
                    if key.verify(&payload, &raw) {
                        return Ok((payload, "cosign-key", key.key_id().to_string()));
                    }
                }
            }
            return Err(Rejection::Untrusted(
                "no configured key verifies the signature".into(),
            ));
        }
        let certs: Vec<_> = attestors
            .iter()
            .filter_map(|a| match a {
                Attestor::Pgp { certs } => Some(certs.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
        if certs.is_empty() {
            return Err(Rejection::Untrusted(
                "no OpenPGP attestor configured".into(),
            ));
        }
        let report = PgpVerifier::new(certs)
            .verify_armored(&mut payload.as_slice(), &sig, &VerifyOptions::at(self.now))
            .map_err(|e| Rejection::Untrusted(e.to_string()))?;
        let signer = match &report.signer {
            leo_sign::SignerIdentity::Key { primary, .. } => primary.to_string(),
            other => format!("{other:?}"),
        };
        Ok((payload, "openpgp", signer))
    }

    /// Checks that `digest` has a trusted SLSA provenance satisfying `check`.
    pub fn verify_provenance(
        &self,
        digest: &Sha256Digest,
        check: &ProvenanceCheck,
        image: &str,
    ) -> std::result::Result<Evidence, Failure> {
        let files = self.candidates(digest, StoreKind::Attestations)?;
        if files.is_empty() {
            return Err(Failure::NoAttestation {
                image: image.to_owned(),
            });
        }
        let keys: KeySet = check
            .attestors
            .iter()
            .filter_map(|a| match a {
                Attestor::Key { key, .. } => Some(key.clone()),
                _ => None,
            })
            .collect();
        let mut reasons = Vec::new();
        let mut best: Option<(u8, Failure)> = None;
        for c in &files {
            let rel = self.relative(&c.path);
            let signed = if c.name.ends_with(".dsse.json") {
                dsse_payload(&c.path, &keys)
            } else if c.name.ends_with(".sigstore.json") {
                sigstore_attestation(&c.path, digest, &check.attestors)
            } else {
                self.detached(c, &check.attestors)
            };
            let (payload, backend, signer) = match signed {
                Ok(v) => v,
                Err(Rejection::Untrusted(why) | Rejection::Subject(why)) => {
                    reasons.push(format!("{rel}: {why}"));
                    continue;
                }
            };
            match judge(&payload, digest, check, image) {
                Ok((predicate_type, builder_id)) => {
                    return Ok(Evidence {
                        digest: digest.to_prefixed(),
                        file: rel,
                        backend,
                        signer,
                        predicate_type: Some(predicate_type),
                        builder_id: Some(builder_id),
                    });
                }
                Err((rank, failure)) => {
                    if best.as_ref().is_none_or(|(r, _)| rank > *r) {
                        best = Some((rank, failure));
                    }
                }
            }
        }
        Err(match best {
            Some((_, failure)) => failure,
            None => Failure::AttestationUntrusted {
                image: image.to_owned(),
                reasons,
            },
        })
    }
}

/// Why one file did not count.
enum Rejection {
    /// Not verified by a trusted attestor (or unreadable).
    Untrusted(String),
    /// Verified, but about another digest.
    Subject(String),
}

fn read_limited(path: &Path) -> std::result::Result<Vec<u8>, String> {
    leo_artifact::fsutil::read_capped(path, MAX_STORE_FILE_BYTES).map_err(|e| e.to_string())
}

/// `critical.image.docker-manifest-digest` of a simple-signing payload, parsed strictly (a
/// repeated key is a rejection, never "the last one wins").
fn payload_digest(payload: &[u8]) -> std::result::Result<String, String> {
    let limit = usize::try_from(MAX_STORE_FILE_BYTES).unwrap_or(usize::MAX);
    let v = leo_attest::json::parse_strict(payload, "simple-signing payload", limit)
        .map_err(|e| e.to_string())?;
    let not_simple_signing = || "not a cosign simple-signing payload".to_owned();
    let critical = v.get("critical").ok_or_else(not_simple_signing)?;
    if critical.get("type").and_then(|t| t.as_str()) != Some(SIMPLE_SIGNING_TYPE) {
        return Err(not_simple_signing());
    }
    critical
        .get("image")
        .and_then(|i| i.get("docker-manifest-digest"))
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(not_simple_signing)
}

fn dsse_payload(
    path: &Path,
    keys: &KeySet,
) -> std::result::Result<(Vec<u8>, &'static str, String), Rejection> {
    if keys.keys().is_empty() {
        return Err(Rejection::Untrusted(
            "no key attestor configured for DSSE envelopes".into(),
        ));
    }
    let bytes = read_limited(path).map_err(Rejection::Untrusted)?;
    let envelope = Envelope::from_json(&bytes).map_err(|e| Rejection::Untrusted(e.to_string()))?;
    let verified = keys
        .verify(&envelope, 1)
        .map_err(|e| Rejection::Untrusted(e.to_string()))?;
    let signer = verified
        .key_ids
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    Ok((verified.payload, "dsse-key", signer))
}

/// Checks a verified statement against the rule; failures carry a rank (how far it got).
fn judge(
    payload: &[u8],
    digest: &Sha256Digest,
    check: &ProvenanceCheck,
    image: &str,
) -> std::result::Result<(String, String), (u8, Failure)> {
    let image = image.to_owned();
    let statement = Statement::from_json_allow_legacy(payload).map_err(|e| {
        (
            1,
            Failure::ProvenanceMalformed {
                image: image.clone(),
                reason: e.to_string(),
            },
        )
    })?;
    // leo-attest's convention: a v0.1 statement is readable but not accepted as evidence.
    if statement.version == StatementVersion::V0_1 {
        return Err((
            1,
            Failure::LegacyStatement {
                image,
                statement_type: STATEMENT_V0_1.to_owned(),
            },
        ));
    }
    if statement.subject_matching(digest).is_none() {
        let subjects = statement
            .subject
            .iter()
            .map(|s| {
                s.digest
                    .get("sha256")
                    .map_or_else(|| "?".to_owned(), |d| format!("sha256:{d}"))
            })
            .collect();
        return Err((2, Failure::AttestationSubjectMismatch { image, subjects }));
    }
    if !check.predicate_types.contains(&statement.predicate_type) {
        return Err((
            3,
            Failure::PredicateTypeNotAccepted {
                image,
                found: statement.predicate_type.clone(),
                accepted: check.predicate_types.clone(),
            },
        ));
    }
    let provenance = Provenance::from_statement(&statement).map_err(|e| {
        (
            4,
            Failure::ProvenanceMalformed {
                image: image.clone(),
                reason: e.to_string(),
            },
        )
    })?;
    let builder_id = provenance.builder_id().to_owned();
    if let Some(pattern) = &check.builder_id {
        if !pattern.regex.is_match(&builder_id) {
            return Err((
                5,
                Failure::BuilderNotAllowed {
                    image,
                    builder_id,
                    pattern: pattern.source.clone(),
                },
            ));
        }
    }
    Ok((statement.predicate_type, builder_id))
}
