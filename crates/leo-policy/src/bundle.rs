//! The signed policy bundle (SOP §11.3-11.6).
//!
//! [`build`] packs every policy file of a directory into a deterministic
//! `policies-YYYYMMDD-HHMMSS.tar.gz` (entries sorted, mode 0644, uid/gid 0, one mtime, gzip
//! header without name or time) and writes an in-toto Statement v1 whose subject is the
//! bundle and whose SLSA v0.2 materials are the policy files (§11.5). The statement is what
//! gets signed, by any [`leo_sign::Signer`]: OpenPGP, a raw key or Sigstore.
//!
//! [`verify`] checks in the only safe order: the signature over the statement bytes first,
//! then the statement, then the bundle's digest against the subject, then every member
//! against the materials (same set, same digests). Nothing in the bundle is parsed before.

use std::io::Read;
use std::path::Path;

use leo_artifact::Sha256Digest;
use leo_attest::{PROVENANCE_V0_2, ResourceDescriptor, Statement};
use leo_sign::{DetachedSignature, SignatureReport, Signed, Signer, Verifier, VerifyOptions};
use serde::Serialize;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::error::{Error, Result};

/// The SLSA `buildType` of a LEO policy bundle.
pub const BUILD_TYPE: &str = "https://leo.dev/policy-bundle/v1";
/// The gzip level of a policy bundle: leo-artifact's, whose writer packs it.
pub use leo_artifact::writer::GZIP_LEVEL;
/// Most policy files in one bundle.
pub const MAX_MEMBERS: usize = 10_000;
/// Largest policy file.
pub const MAX_MEMBER_BYTES: u64 = 4 * 1024 * 1024;
/// Largest bundle (uncompressed total) read back.
pub const MAX_TOTAL_BYTES: u64 = 256 * 1024 * 1024;
/// Largest statement read.
pub const MAX_STATEMENT_BYTES: usize = 16 * 1024 * 1024;
/// The verification instructions written beside a bundle.
pub const VERIFY_FILE_NAME: &str = "VERIFY_POLICIES.md";

/// One policy file: its path inside the bundle and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyFile {
    /// Path inside the bundle (`policies/kyverno/require-image-digests.yaml`).
    pub path: String,
    /// Content.
    pub bytes: Vec<u8>,
}

/// A bundle ready to be written and signed.
#[derive(Clone, Debug)]
pub struct BuiltBundle {
    /// `policies-YYYYMMDD-HHMMSS.tar.gz`.
    pub file_name: String,
    /// The archive bytes.
    pub archive: Vec<u8>,
    /// Their SHA-256.
    pub digest: Sha256Digest,
    /// The statement (subject: the bundle; materials: the policy files).
    pub statement: Statement,
    /// Member paths and digests, sorted.
    pub members: Vec<(String, Sha256Digest)>,
}

impl BuiltBundle {
    /// The statement's bytes: what is signed.
    pub fn statement_bytes(&self) -> Vec<u8> {
        self.statement.to_json()
    }

    /// Signs the statement with any backend.
    pub fn sign(&self, signer: &dyn Signer) -> Result<Signed> {
        signer
            .sign(&mut self.statement_bytes().as_slice())
            .map_err(Error::Signing)
    }
}

/// What [`verify`] established.
#[derive(Clone, Debug, Serialize)]
pub struct VerifiedPolicyBundle {
    /// Who signed, how, when.
    pub signature: SignatureReport,
    /// The bundle's SHA-256 (`sha256:<hex>`).
    pub digest: String,
    /// The builder that made it.
    pub builder_id: String,
    /// Member paths and their SHA-256 (`sha256:<hex>`).
    pub members: Vec<(String, String)>,
}

/// `policies-YYYYMMDD-HHMMSS.tar.gz` for a UTC time.
pub fn bundle_file_name(created_at: OffsetDateTime) -> String {
    let t = created_at.to_offset(time::UtcOffset::UTC);
    format!(
        "policies-{:04}{:02}{:02}-{:02}{:02}{:02}.tar.gz",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The statement's file name beside a bundle.
pub fn statement_file_name(bundle_name: &str) -> String {
    format!("{bundle_name}.intoto.json")
}

/// Reads every policy file (`*.yaml`, `*.yml`) under `dir`; bundle paths start with the
/// directory's own name. Each file must load as policies (the `kyverno validate` step).
pub fn collect_policy_files(dir: &Path) -> Result<Vec<PolicyFile>> {
    let top = dir
        .canonicalize()
        .map_err(|e| Error::io(format!("resolving {}", dir.display()), e))?;
    let prefix = top
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("policies")
        .to_owned();
    let mut out = Vec::new();
    for file in crate::resource::manifest_files(&top)? {
        if file.extension().is_some_and(|e| e == "json") {
            continue;
        }
        crate::policy::load_policy_file(&file)?;
        let rel = file.strip_prefix(&top).unwrap_or(&file);
        let rel: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let text = crate::resource::read_text(&file, MAX_MEMBER_BYTES)?;
        out.push(PolicyFile {
            path: format!("{prefix}/{}", rel.join("/")),
            bytes: text.into_bytes(),
        });
        if out.len() > MAX_MEMBERS {
            return Err(Error::LimitExceeded {
                what: "policy files in a bundle",
                limit: MAX_MEMBERS as u64,
            });
        }
    }
    if out.is_empty() {
        return Err(Error::NoPolicyFiles {
            dir: dir.to_path_buf(),
        });
    }
    Ok(out)
}

/// Packs `files` into a deterministic bundle and its statement.
pub fn build(
    mut files: Vec<PolicyFile>,
    created_at: OffsetDateTime,
    builder_id: &str,
) -> Result<BuiltBundle> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let created_at = created_at
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(created_at);
    let mtime = u64::try_from(created_at.unix_timestamp()).unwrap_or(0);
    let archive = leo_artifact::writer::write_tar_gz(
        Vec::new(),
        mtime,
        files.iter().map(|f| (f.path.as_str(), f.bytes.as_slice())),
    )?;
    let digest = Sha256Digest::of(&archive);
    let file_name = bundle_file_name(created_at);
    let members: Vec<(String, Sha256Digest)> = files
        .iter()
        .map(|f| (f.path.clone(), Sha256Digest::of(&f.bytes)))
        .collect();
    let stamp = leo_attest::slsa::Timestamp::from_datetime(created_at);
    let predicate = json!({
        "builder": {"id": builder_id},
        "buildType": BUILD_TYPE,
        "metadata": {
            "buildStartedOn": stamp.as_str(),
            "buildFinishedOn": stamp.as_str(),
            "completeness": {"parameters": true, "environment": false, "materials": true},
            "reproducible": true,
        },
        "materials": members.iter().map(|(path, d)| json!({"uri": path, "digest": {"sha256": d.to_string()}})).collect::<Vec<_>>(),
    });
    let statement = Statement::new(
        vec![ResourceDescriptor::sha256(file_name.clone(), &digest)],
        PROVENANCE_V0_2,
        predicate,
    );
    Ok(BuiltBundle {
        file_name,
        archive,
        digest,
        statement,
        members,
    })
}

/// Reads a bundle's members: regular files with safe relative paths only, within limits.
pub fn read_members(archive: &[u8]) -> Result<Vec<PolicyFile>> {
    read_members_within(archive, MAX_TOTAL_BYTES)
}

/// [`read_members`] with an uncompressed-size limit of `limit` bytes.
fn read_members_within(archive: &[u8], limit: u64) -> Result<Vec<PolicyFile>> {
    // Decompress up to one byte past the limit, so an oversized bundle is an error rather
    // than a silently truncated archive that may still end on a member boundary.
    let mut tar_bytes = Vec::new();
    flate2::read::GzDecoder::new(archive)
        .take(limit.saturating_add(1))
        .read_to_end(&mut tar_bytes)
        .map_err(|e| Error::io("decompressing the bundle", e))?;
    if tar_bytes.len() as u64 > limit {
        return Err(Error::LimitExceeded {
            what: "uncompressed bytes in a bundle",
            limit,
        });
    }
    let mut tar = tar::Archive::new(tar_bytes.as_slice());
    let mut out = Vec::new();
    let entries = tar
        .entries()
        .map_err(|e| Error::io("reading the bundle", e))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Error::io("reading the bundle", e))?;
        let path = entry
            .path()
            .map_err(|e| Error::io("reading a member path", e))?
            .to_string_lossy()
            .into_owned();
        let unsafe_member = |reason| Error::UnsafeMember {
            member: leo_artifact::error::snippet(&path),
            reason,
        };
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(unsafe_member("not a regular file"));
        }
        if path.starts_with('/')
            || path
                .split('/')
                .any(|c| c == ".." || c == "." || c.is_empty())
        {
            return Err(unsafe_member("not a plain relative path"));
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > MAX_MEMBER_BYTES {
            return Err(unsafe_member("larger than the member limit"));
        }
        if out.len() >= MAX_MEMBERS {
            return Err(Error::LimitExceeded {
                what: "policy files in a bundle",
                limit: MAX_MEMBERS as u64,
            });
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| Error::io(format!("reading {path}"), e))?;
        out.push(PolicyFile { path, bytes });
    }
    Ok(out)
}

/// Verifies a bundle: signature over the statement, statement, subject, members.
pub fn verify(
    archive: &[u8],
    file_name: &str,
    statement_bytes: &[u8],
    signature: &DetachedSignature,
    verifier: &dyn Verifier,
    options: &VerifyOptions,
) -> Result<VerifiedPolicyBundle> {
    if statement_bytes.len() > MAX_STATEMENT_BYTES {
        return Err(Error::LimitExceeded {
            what: "bytes in the statement",
            limit: MAX_STATEMENT_BYTES as u64,
        });
    }
    let report = verifier
        .verify(&mut &statement_bytes[..], signature, options)
        .map_err(Error::SignatureRejected)?;
    let statement = Statement::from_json(statement_bytes).map_err(Error::Statement)?;
    let bad = |reason: &str| Error::BundleStatement {
        reason: reason.to_owned(),
    };
    if statement.predicate_type != PROVENANCE_V0_2 {
        return Err(bad("predicateType is not SLSA provenance v0.2"));
    }
    let predicate = statement.predicate.clone().unwrap_or(Value::Null);
    if predicate.get("buildType").and_then(Value::as_str) != Some(BUILD_TYPE) {
        return Err(bad("buildType is not a LEO policy bundle"));
    }
    let builder_id = predicate
        .get("builder")
        .and_then(|b| b.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("no builder.id"))?
        .to_owned();
    let subject = statement
        .subject
        .iter()
        .find(|s| s.name.as_deref() == Some(file_name))
        .ok_or_else(|| Error::BundleNameMismatch {
            expected: file_name.to_owned(),
            found: statement
                .subject
                .iter()
                .filter_map(|s| s.name.clone())
                .collect(),
        })?;
    let actual = Sha256Digest::of(archive);
    let expected = subject.digest.get("sha256").cloned().unwrap_or_default();
    if subject.sha256_digest() != Some(actual) {
        return Err(Error::BundleDigestMismatch {
            expected,
            actual: actual.to_string(),
        });
    }
    let mut materials: Vec<(String, String)> = predicate
        .get("materials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            let uri = m.get("uri").and_then(Value::as_str).unwrap_or_default();
            let d = m
                .get("digest")
                .and_then(|d| d.get("sha256"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            (uri.to_owned(), d.to_owned())
        })
        .collect();
    materials.sort();
    let mut members: Vec<(String, String)> = read_members(archive)?
        .into_iter()
        .map(|f| (f.path, Sha256Digest::of(&f.bytes).to_string()))
        .collect();
    members.sort();
    if members.is_empty() {
        // An empty archive against empty materials would "verify" while carrying no policy.
        return Err(Error::NoPolicyFiles {
            dir: file_name.into(),
        });
    }
    for (path, digest) in &members {
        match materials.iter().find(|(uri, _)| uri == path) {
            None => {
                return Err(Error::MaterialSetMismatch {
                    reason: format!("{path} is in the bundle but not in the statement"),
                });
            }
            Some((_, want)) if want != digest => {
                return Err(Error::MaterialDigestMismatch {
                    member: path.clone(),
                    expected: want.clone(),
                    actual: digest.clone(),
                });
            }
            Some(_) => {}
        }
    }
    if let Some((uri, _)) = materials
        .iter()
        .find(|(uri, _)| !members.iter().any(|(p, _)| p == uri))
    {
        return Err(Error::MaterialSetMismatch {
            reason: format!("{uri} is in the statement but not in the bundle"),
        });
    }
    Ok(VerifiedPolicyBundle {
        signature: report,
        digest: actual.to_prefixed(),
        builder_id,
        members: members
            .into_iter()
            .map(|(p, d)| (p, format!("sha256:{d}")))
            .collect(),
    })
}

/// `VERIFY_POLICIES.md`: what was bundled and how to verify it before use.
pub fn verify_instructions(
    bundle: &BuiltBundle,
    signature_file: &str,
    verify_command: &str,
) -> String {
    let mut out = String::new();
    out.push_str("# Verify this policy bundle before use\n\n");
    out.push_str(&format!(
        "Bundle: `{}`  \nSHA-256: `{}`  \nStatement (in-toto v1, SLSA provenance v0.2): `{}`  \nSignature over the statement: `{signature_file}`\n\n",
        bundle.file_name,
        bundle.digest,
        statement_file_name(&bundle.file_name)
    ));
    out.push_str("## Verify\n\n```sh\n");
    out.push_str(verify_command);
    out.push_str(
        "\n```\n\nExit status 0: the signature, the subject digest and every policy file match. ",
    );
    out.push_str("Exit status 1: do not deploy these policies.\n\n");
    out.push_str("By hand (SOP §11.9):\n\n```sh\n");
    out.push_str(&format!(
        "sha256sum {}\njq -r '.subject[0].digest.sha256' {}\n```\n\n",
        bundle.file_name,
        statement_file_name(&bundle.file_name)
    ));
    out.push_str("## Policy files\n\n| file | sha256 |\n|---|---|\n");
    for (path, digest) in &bundle.members {
        out.push_str(&format!("| `{path}` | `{digest}` |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn files() -> Vec<PolicyFile> {
        vec![
            PolicyFile {
                path: "policies/b.yaml".into(),
                bytes: b"b".to_vec(),
            },
            PolicyFile {
                path: "policies/a.yaml".into(),
                bytes: b"a".to_vec(),
            },
        ]
    }

    #[test]
    fn deterministic_and_named_by_time() {
        let t = time::macros::datetime!(2025-01-19 14:30:00 UTC);
        let a = build(files(), t, "https://leo.dev/builder").unwrap();
        let mut reversed = files();
        reversed.reverse();
        let b = build(reversed, t, "https://leo.dev/builder").unwrap();
        assert_eq!(a.archive, b.archive);
        assert_eq!(a.file_name, "policies-20250119-143000.tar.gz");
        let members = read_members(&a.archive).unwrap();
        assert_eq!(members[0].path, "policies/a.yaml");
    }

    fn signed(built: &BuiltBundle) -> (leo_sign::RawKeyVerifier, DetachedSignature) {
        let key = leo_sign::RawKeyPair::generate(leo_sign::RawKeyAlgorithm::Ed25519).unwrap();
        let signed = built.sign(&key).unwrap();
        (
            leo_sign::RawKeyVerifier::new(vec![key.public_key().clone()]),
            signed.signature,
        )
    }

    #[test]
    fn an_empty_bundle_does_not_verify() {
        let t = time::macros::datetime!(2025-01-19 14:30:00 UTC);
        let good = build(files(), t, "https://leo.dev/builder").unwrap();
        let (verifier, sig) = signed(&good);
        let ok = verify(
            &good.archive,
            &good.file_name,
            &good.statement_bytes(),
            &sig,
            &verifier,
            &VerifyOptions::now(),
        )
        .unwrap();
        assert_eq!(ok.members.len(), 2);
        let empty = build(Vec::new(), t, "https://leo.dev/builder").unwrap();
        let (verifier, sig) = signed(&empty);
        let err = verify(
            &empty.archive,
            &empty.file_name,
            &empty.statement_bytes(),
            &sig,
            &verifier,
            &VerifyOptions::now(),
        )
        .unwrap_err();
        assert!(matches!(err, Error::NoPolicyFiles { .. }), "{err:?}");
    }

    /// A gzip of `tar` bytes, written raw (the tar builder refuses unsafe paths).
    fn gzip(tar: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(tar).unwrap();
        gz.finish().unwrap()
    }

    fn raw_tar(path: &str, body: &[u8]) -> Vec<u8> {
        let mut header = tar::Header::new_ustar();
        header.as_mut_bytes()[..path.len()].copy_from_slice(path.as_bytes());
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(body.len() as u64);
        header.set_cksum();
        let mut out = header.as_bytes().to_vec();
        out.extend_from_slice(body);
        out.resize(out.len().div_ceil(512) * 512, 0);
        out.extend_from_slice(&[0; 1024]);
        out
    }

    #[test]
    fn dot_components_are_unsafe() {
        for path in ["policies/./a.yaml", "./a.yaml"] {
            let err = read_members(&gzip(&raw_tar(path, b"a"))).unwrap_err();
            assert!(matches!(err, Error::UnsafeMember { .. }), "{path}: {err:?}");
        }
        assert_eq!(
            read_members(&gzip(&raw_tar("policies/a.yaml", b"a")))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn an_oversized_bundle_is_an_error_not_truncated() {
        // A valid member followed by more zero bytes than the limit: truncating at the limit
        // would end on a block boundary and read back as a clean one-member archive.
        let mut tar = raw_tar("policies/a.yaml", b"a");
        let limit = tar.len() as u64;
        assert_eq!(read_members_within(&gzip(&tar), limit).unwrap().len(), 1);
        tar.resize(tar.len() + 4096, 0);
        let err = read_members_within(&gzip(&tar), limit).unwrap_err();
        assert!(matches!(err, Error::LimitExceeded { .. }), "{err:?}");
    }
}
