//! Sigstore bundles in the attestation store: image signatures (message signatures over the
//! image digest) and attestations (DSSE envelopes of in-toto statements), verified with a
//! rule's key or keyless attestors.

use std::path::Path;

use leo_artifact::Sha256Digest;
use leo_sign::sigstore::{
    ContentKind, KeyPolicy, SigstoreBundle, SigstoreErrorKind, SigstorePolicy, SigstoreResult,
    SigstoreVerification, SigstoreVerifier, TrustRoot,
};

use super::{Candidate, Rejection, read_limited};
use crate::policy::Attestor;

/// A Sigstore bundle in `signatures/`: a message signature over the image digest, verified
/// with the rule's key or keyless attestors; returns the backend and the signer.
pub(super) fn sigstore_signature(
    c: &Candidate,
    digest: &Sha256Digest,
    attestors: &[Attestor],
) -> std::result::Result<(&'static str, String), Rejection> {
    let bundle = read_bundle(&c.path)?;
    // As cosign and Kyverno: an attestation names the image but signs a statement about
    // it (any predicate, any signer the attestation rule trusts), not the image itself.
    if bundle.content_kind() != ContentKind::MessageSignature {
        return Err(Rejection::Untrusted(
            "the Sigstore bundle is a DSSE attestation, not an image signature (store it \
             under attestations/)"
                .into(),
        ));
    }
    let verified = verify_bundle(&bundle, digest, attestors).map_err(|e| match e {
        Rejection::Subject(_) => Rejection::Subject("another digest".into()),
        untrusted @ Rejection::Untrusted(_) => untrusted,
    })?;
    Ok(("sigstore", describe_signer(&verified.signer)))
}

fn read_bundle(path: &Path) -> std::result::Result<SigstoreBundle, Rejection> {
    let bytes = read_limited(path).map_err(Rejection::Untrusted)?;
    SigstoreBundle::from_slice(&bytes).map_err(|e| Rejection::Untrusted(e.to_string()))
}

/// The Sigstore verifier an attestor stands for: a cosign key (logged or offline bundles,
/// production root for the log) or a keyless identity regex and exact issuer (its own
/// trusted root, or production). `None` for attestors that do not sign Sigstore bundles.
fn sigstore_verifier(attestor: &Attestor) -> Option<SigstoreResult<SigstoreVerifier>> {
    let (policy, root) = match attestor {
        Attestor::Key { pem, .. } => {
            let policy = KeyPolicy::from_pem(pem).map(|k| SigstorePolicy::key(k.allow_offline()));
            (policy, TrustRoot::embedded_production())
        }
        Attestor::Keyless {
            subject_regex,
            issuer,
            trusted_root,
        } => (
            SigstorePolicy::identity_regex(subject_regex, issuer.clone()),
            match trusted_root {
                Some(p) => TrustRoot::from_file(p),
                None => TrustRoot::embedded_production(),
            },
        ),
        Attestor::Pgp { .. } => return None,
    };
    Some(policy.and_then(|policy| Ok(SigstoreVerifier::new(root?, policy))))
}

/// Verifies a Sigstore bundle for `digest` under the first of `attestors` that accepts it.
/// A bundle about another digest (not its message digest, or not a subject of its DSSE
/// statement) is [`Rejection::Subject`] with the verifier's reason.
fn verify_bundle(
    bundle: &SigstoreBundle,
    digest: &Sha256Digest,
    attestors: &[Attestor],
) -> std::result::Result<SigstoreVerification, Rejection> {
    let mut why = Vec::new();
    for attestor in attestors {
        let Some(verifier) = sigstore_verifier(attestor) else {
            continue;
        };
        match verifier.and_then(|v| v.verify_digest(bundle, digest)) {
            Ok(v) => return Ok(v),
            Err(e) if e.kind() == SigstoreErrorKind::Digest => {
                return Err(Rejection::Subject(e.to_string()));
            }
            Err(e) => why.push(format!("{}: {e}", attestor.describe())),
        }
    }
    Err(Rejection::Untrusted(if why.is_empty() {
        "no key or keyless attestor for a Sigstore bundle".into()
    } else {
        why.join(", ")
    }))
}

/// A Sigstore bundle of a DSSE envelope (`cosign attest --new-bundle-format`): verified with
/// the rule's Sigstore attestors for the image digest (`sigstore-verify` checks the digest
/// against the in-toto statement's subjects), then its verified payload is judged like a
/// DSSE envelope's.
pub(super) fn sigstore_attestation(
    path: &Path,
    digest: &Sha256Digest,
    attestors: &[Attestor],
) -> std::result::Result<(Vec<u8>, &'static str, String), Rejection> {
    let bundle = read_bundle(path)?;
    if bundle.content_kind() != ContentKind::DsseEnvelope {
        return Err(Rejection::Untrusted(
            "the Sigstore bundle is a message signature, not a DSSE attestation".into(),
        ));
    }
    let verified = verify_bundle(&bundle, digest, attestors).map_err(|e| match e {
        Rejection::Subject(why) => Rejection::Subject(format!(
            "the attestation's subjects do not include {}: {why}",
            digest.to_prefixed()
        )),
        untrusted @ Rejection::Untrusted(_) => untrusted,
    })?;
    let Some(dsse) = verified.dsse_payload else {
        return Err(Rejection::Untrusted(
            "the verified Sigstore bundle carries no DSSE payload".into(),
        ));
    };
    if !leo_attest::statement::is_in_toto_payload_type(&dsse.payload_type) {
        return Err(Rejection::Untrusted(format!(
            "DSSE payload type {} is not an in-toto statement",
            leo_artifact::error::snippet(&dsse.payload_type)
        )));
    }
    Ok((dsse.payload, "sigstore", describe_signer(&verified.signer)))
}

/// The identity (keyless) or key hash (keyed) a Sigstore verification established.
fn describe_signer(signer: &leo_sign::sigstore::VerifiedSigner) -> String {
    match signer {
        leo_sign::sigstore::VerifiedSigner::Certificate {
            identity, issuer, ..
        } => format!("{identity} ({})", issuer.as_deref().unwrap_or("no issuer")),
        leo_sign::sigstore::VerifiedSigner::Key { key_sha256 } => {
            format!("key sha256:{key_sha256}")
        }
        other => format!("{other:?}"),
    }
}
