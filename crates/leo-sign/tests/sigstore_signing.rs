//! Keyed (cosign-compatible) signing, cosign key files, keyless signing offline, and the
//! Sigstore backend behind LEO's `Signer` / `Verifier` traits.
#![cfg(feature = "sigstore")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::TcpListener;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use leo_artifact::Sha256Digest;
use leo_sign::sigstore::conformance::{self, ConformanceCommand};
use leo_sign::sigstore::{
    CosignKeyPair, KeyPolicy, KeyedSigner, KeylessSigner, Password, SigningServices,
    SigstoreBundle, SigstoreError, SigstoreErrorKind as K, SigstorePolicy, SigstoreVerifier,
    TrustRoot, VerifiedSigner,
};
use leo_sign::{
    Backend, DetachedSignature, Error, RawKeyAlgorithm, RawKeyPair, Signer, SignerIdentity,
    Verifier, VerifyOptions, select_signer,
};

const ARTIFACT: &[u8] = b"LEO release artifact\n";

fn offline_verifier(key: &CosignKeyPair) -> SigstoreVerifier {
    let policy = KeyPolicy::from_pem(&key.public_key_pem())
        .unwrap()
        .allow_offline();
    SigstoreVerifier::new(
        TrustRoot::embedded_production().unwrap(),
        SigstorePolicy::key(policy),
    )
}

#[test]
fn keyed_bundle_has_cosigns_shape() {
    let key = CosignKeyPair::generate().unwrap();
    // cosign's hint: base64(sha256(SPKI DER)) of the signing key.
    let expected_hint = BASE64.encode(Sha256Digest::of(key.public_key().as_bytes()).as_bytes());
    assert_eq!(key.hint(), expected_hint);
    let bundle = KeyedSigner::new(key).sign_reader(ARTIFACT).unwrap();
    let json: serde_json::Value = serde_json::from_str(&bundle.to_json().unwrap()).unwrap();
    assert_eq!(
        json["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    assert_eq!(
        json["verificationMaterial"]["publicKey"]["hint"],
        expected_hint.as_str()
    );
    assert_eq!(
        json["messageSignature"]["messageDigest"]["algorithm"],
        "SHA2_256"
    );
    assert_eq!(
        json["messageSignature"]["messageDigest"]["digest"],
        BASE64.encode(Sha256Digest::of(ARTIFACT).as_bytes())
    );
    let sig = BASE64
        .decode(json["messageSignature"]["signature"].as_str().unwrap())
        .unwrap();
    assert_eq!(sig[0], 0x30, "DER ECDSA signature (SEQUENCE)");
    let entries = json["verificationMaterial"].get("tlogEntries");
    assert!(
        entries.is_none_or(|v| v.as_array().unwrap().is_empty()),
        "offline: no log entry"
    );
}

#[test]
fn keyed_signature_verifies_offline_and_rejects_tampering_by_kind() {
    let key = CosignKeyPair::generate().unwrap();
    let other = CosignKeyPair::generate().unwrap();
    let verifier = offline_verifier(&key);
    let hint = key.hint();
    let bundle = KeyedSigner::new(key).sign_reader(ARTIFACT).unwrap();
    assert!(bundle.to_json().unwrap().contains(&hint));

    let ok = verifier.verify_reader(&bundle, ARTIFACT).unwrap();
    assert!(ok.time_sources.is_empty() && ok.log_entries.is_empty() && !ok.tlog_verified);
    assert!(matches!(ok.signer, VerifiedSigner::Key { .. }));
    let by_digest = verifier
        .verify_digest(&bundle, &Sha256Digest::of(ARTIFACT))
        .unwrap();
    assert_eq!(ok, by_digest);

    let err = verifier
        .verify_reader(&bundle, &b"tampered"[..])
        .unwrap_err();
    assert_eq!(err.kind(), K::Digest, "{err}");

    // Same bundle, other key: the hint names another key.
    let err = offline_verifier(&other)
        .verify_reader(&bundle, ARTIFACT)
        .unwrap_err();
    assert_eq!(err.kind(), K::PublicKey, "{err}");

    // A forged signature with a consistent digest.
    let mut json: serde_json::Value = serde_json::from_str(&bundle.to_json().unwrap()).unwrap();
    let mut sig = BASE64
        .decode(json["messageSignature"]["signature"].as_str().unwrap())
        .unwrap();
    let last = sig.len() - 1;
    sig[last] ^= 1;
    json["messageSignature"]["signature"] = BASE64.encode(&sig).into();
    let forged = SigstoreBundle::from_json(&json.to_string()).unwrap();
    let err = verifier.verify_reader(&forged, ARTIFACT).unwrap_err();
    assert_eq!(err.kind(), K::Signature, "{err}");

    // Without allow_offline a key bundle needs a log entry or a timestamp.
    let strict = SigstoreVerifier::new(
        TrustRoot::embedded_production().unwrap(),
        SigstorePolicy::key(KeyPolicy::from_pem(&other.public_key_pem()).unwrap()),
    );
    let unlogged = KeyedSigner::new(other).sign_reader(ARTIFACT).unwrap();
    let err = strict.verify_reader(&unlogged, ARTIFACT).unwrap_err();
    assert_eq!(err.kind(), K::NoVerifiedTime, "{err}");

    // An identity policy cannot accept a key bundle.
    let identity = SigstoreVerifier::new(
        TrustRoot::embedded_production().unwrap(),
        SigstorePolicy::identity("me@example.com", "https://accounts.google.com"),
    );
    let err = identity.verify_reader(&bundle, ARTIFACT).unwrap_err();
    assert_eq!(err.kind(), K::VerificationMaterial, "{err}");
}

#[test]
fn cosign_key_files_round_trip_with_modes_and_password() {
    let dir = tempfile::tempdir().unwrap();
    let key = CosignKeyPair::generate().unwrap();
    let password = Password::new("correct horse");
    let (key_path, pub_path) = key.write_files(dir.path(), "cosign", &password).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "secret key file is private");
    }
    let pem = std::fs::read_to_string(&key_path).unwrap();
    assert!(pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let doc: serde_json::Value = serde_json::from_slice(&BASE64.decode(body).unwrap()).unwrap();
    assert_eq!(doc["kdf"]["name"], "scrypt");
    assert_eq!(doc["kdf"]["params"]["N"], 65536);
    assert_eq!(doc["cipher"]["name"], "nacl/secretbox");

    let reread = CosignKeyPair::from_encrypted_file(&key_path, &password).unwrap();
    assert_eq!(reread.public_key(), key.public_key());
    assert_eq!(
        leo_sign::sigstore::read_public_key(&pub_path).unwrap(),
        *key.public_key()
    );
    assert!(
        !format!("{reread:?}").contains("BEGIN"),
        "Debug shows no key material"
    );

    let err = CosignKeyPair::from_encrypted_file(&key_path, &Password::new("wrong")).unwrap_err();
    assert!(matches!(err, SigstoreError::WrongPassword), "{err}");

    // A signature made with the re-read key verifies with the cosign.pub written earlier.
    let bundle = KeyedSigner::new(reread).sign_reader(ARTIFACT).unwrap();
    let policy = KeyPolicy::from_file(&pub_path).unwrap().allow_offline();
    let verifier = SigstoreVerifier::new(
        TrustRoot::embedded_production().unwrap(),
        SigstorePolicy::key(policy),
    );
    verifier.verify_reader(&bundle, ARTIFACT).unwrap();
}

/// Reads a key written by the real `cosign generate-key-pair` when one is supplied
/// (`LEO_COSIGN_KEY=path`, `LEO_COSIGN_PASSWORD`, default empty). The peer tool cannot be
/// installed here (no Go toolchain, no package), so this runs against a key file from
/// sigstore-rs's test data when a developer points at one.
#[test]
fn reads_a_key_generated_by_cosign_when_supplied() {
    let Some(path) = std::env::var_os("LEO_COSIGN_KEY") else {
        eprintln!("skipping: set LEO_COSIGN_KEY to a cosign.key to check cosign interop");
        return;
    };
    let password = Password::new(std::env::var("LEO_COSIGN_PASSWORD").unwrap_or_default());
    let key = CosignKeyPair::from_encrypted_file(path.as_ref(), &password).unwrap();
    let bundle = KeyedSigner::new(key).sign_reader(ARTIFACT).unwrap();
    assert!(bundle.to_json().unwrap().contains("publicKey"));
}

#[test]
fn malformed_key_files_are_rejected_by_kind() {
    let bad = "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nbm90IGpzb24=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n";
    let err = CosignKeyPair::from_encrypted_pem(bad, &Password::new("")).unwrap_err();
    assert_eq!(err.kind(), K::PrivateKey);
    let err = CosignKeyPair::from_encrypted_pem("no pem here", &Password::new("")).unwrap_err();
    assert_eq!(err.kind(), K::PrivateKey);
    let err = KeyPolicy::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
        .unwrap_err();
    assert_eq!(err.kind(), K::PublicKey);
}

fn fake_jwt() -> String {
    let claims = r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:leo/leo","email":"ci@example.com","exp":4102444800,"aud":"sigstore"}"#;
    let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        enc.encode(r#"{"alg":"none"}"#),
        enc.encode(claims),
        enc.encode("sig")
    )
}

fn assert_fulcio_unreachable(err: &SigstoreError) {
    assert_eq!(err.kind(), K::Unreachable, "{err}");
    assert!(
        matches!(
            err,
            SigstoreError::Unreachable {
                service: "Fulcio",
                ..
            }
        ),
        "{err}"
    );
}

/// A loopback server that accepts TCP connections and closes them without answering
/// (a bounded number, then its thread ends).
fn hang_up_loopback_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            drop(stream);
        }
    });
    url
}

/// A loopback port with nothing listening (bound, then released).
fn closed_loopback_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn keyless_signing_offline_fails_as_unreachable_and_falls_back() {
    let url = closed_loopback_url();
    let signer = KeylessSigner::new(
        SigningServices::new(url.as_str(), url.as_str()),
        &fake_jwt(),
    )
    .unwrap();
    let err = signer.probe().unwrap_err();
    assert_eq!(err.kind(), K::Unreachable, "{err}");
    assert_fulcio_unreachable(&err);
    let err = signer.sign_reader(ARTIFACT).unwrap_err();
    assert_eq!(err.kind(), K::Unreachable, "{err}");

    // Through the traits: the enforcer falls back to the local signer and records why.
    assert!(matches!(
        Signer::probe(&signer),
        Err(Error::BackendUnavailable {
            backend: Backend::Sigstore,
            ..
        })
    ));
    let fallback = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
    let choice = select_signer(Some(&signer), &fallback);
    assert_eq!(choice.selection.backend, Backend::RawKey);
    let reason = choice.selection.fallback_reason.unwrap();
    assert!(reason.contains("unreachable"), "{reason}");
}

/// Fulcio accepts the TCP connection and hangs up: the real sigstore-sign request path fails,
/// and LEO reports it as unreachable (not as a signing failure).
#[test]
fn keyless_signing_reports_a_dropped_connection_as_unreachable() {
    let url = hang_up_loopback_url();
    let signer = KeylessSigner::new(
        SigningServices::new(url.as_str(), url.as_str()),
        &fake_jwt(),
    )
    .unwrap();
    let err = signer.sign_reader(ARTIFACT).unwrap_err();
    assert_fulcio_unreachable(&err);
}

#[test]
fn keyless_requires_a_jwt() {
    let err = KeylessSigner::new(
        SigningServices::new("http://127.0.0.1:1", "http://127.0.0.1:1"),
        "not-a-jwt",
    )
    .unwrap_err();
    assert_eq!(err.kind(), K::Input);
}

#[test]
fn sigstore_backend_behind_the_traits() {
    let key = CosignKeyPair::generate().unwrap();
    let verifier = offline_verifier(&key);
    let signer = KeyedSigner::new(key);
    assert_eq!(Signer::backend(&signer), Backend::Sigstore);
    let signed = signer.sign(&mut &ARTIFACT[..]).unwrap();
    assert_eq!(signed.signature.backend, Backend::Sigstore);

    let report = verifier
        .verify(&mut &ARTIFACT[..], &signed.signature, &VerifyOptions::now())
        .unwrap();
    assert_eq!(report.backend, Backend::Sigstore);
    assert_eq!(report.signer, signed.report.signer);
    assert!(matches!(report.signer, SignerIdentity::Key { .. }));
    assert_eq!(report.algorithms.public_key, "ECDSA-P256");
    assert_eq!(
        report.details.get("tlog_verified").map(String::as_str),
        Some("false")
    );

    let err = verifier
        .verify(&mut &b"other"[..], &signed.signature, &VerifyOptions::now())
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::SigstoreRejected {
                check: "digest",
                ..
            }
        ),
        "{err}"
    );

    let foreign = DetachedSignature {
        backend: Backend::OpenPgp,
        bytes: signed.signature.bytes.clone(),
    };
    let err = verifier
        .verify(&mut &ARTIFACT[..], &foreign, &VerifyOptions::now())
        .unwrap_err();
    assert!(matches!(err, Error::BackendMismatch { .. }), "{err}");
}

#[test]
fn conformance_command_line_is_parsed_strictly() {
    let args = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let cmd = conformance::parse_args(&args(
        "verify-bundle --bundle b.json --key k.pub sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf",
    ))
    .unwrap();
    assert!(matches!(cmd, ConformanceCommand::VerifyBundle { .. }));
    for bad in [
        "",
        "verify-bundle --bundle b.json a.txt",
        "verify-bundle --bundle b.json --certificate-identity x a.txt",
        "verify-bundle --bundle b.json --key k --certificate-identity x --certificate-oidc-issuer y a.txt",
        "verify-bundle --bundle b.json --key k.pub sha256:zz",
        "verify-bundle --bundle b.json --key k.pub --frobnicate a.txt",
        "verify-bundle --bundle",
        "sign-bundle --bundle out.json a.txt",
        "explode --bundle b.json a.txt",
    ] {
        let err = conformance::parse_args(&args(bad)).unwrap_err();
        assert_eq!(err.kind(), K::Input, "{bad}: {err}");
        assert_eq!(
            conformance::main_with_args(&args(bad)),
            conformance::EXIT_USAGE,
            "{bad}"
        );
    }
}

#[test]
fn conformance_sign_bundle_fails_cleanly_offline() {
    // Only loopback: the staging/production services are never contacted in tests, so this
    // drives the parser and the keyless signer with explicit loopback services instead.
    let dir = tempfile::tempdir().unwrap();
    let artifact = dir.path().join("a.txt");
    std::fs::write(&artifact, ARTIFACT).unwrap();
    let url = closed_loopback_url();
    let signer = KeylessSigner::new(
        SigningServices::new(url.as_str(), url.as_str()),
        &fake_jwt(),
    )
    .unwrap();
    let err = signer
        .sign_statement(br#"{"_type":"https://in-toto.io/Statement/v1"}"#)
        .unwrap_err();
    assert_eq!(err.kind(), K::Unreachable);
    let cmd = conformance::parse_args(&[
        "sign-bundle".to_owned(),
        "--identity-token".to_owned(),
        fake_jwt(),
        "--bundle".to_owned(),
        dir.path().join("out.json").to_string_lossy().into_owned(),
        artifact.to_string_lossy().into_owned(),
    ])
    .unwrap();
    assert!(matches!(
        cmd,
        ConformanceCommand::SignBundle { in_toto: false, .. }
    ));
    assert!(!dir.path().join("out.json").exists());
}

/// Keyed signing with a Rekor log (cosign's default) fails cleanly when the log is down:
/// nothing half-made is returned, and the enforcer's probe sees the same error.
#[test]
fn keyed_signing_with_an_unreachable_rekor_is_unreachable() {
    let url = closed_loopback_url();
    let signer = KeyedSigner::new(CosignKeyPair::generate().unwrap()).with_rekor(url.as_str());
    let err = signer.sign_reader(ARTIFACT).unwrap_err();
    assert!(
        matches!(
            &err,
            SigstoreError::Unreachable {
                service: "Rekor",
                ..
            }
        ),
        "{err}"
    );
    assert!(matches!(
        Signer::probe(&signer),
        Err(Error::BackendUnavailable { .. })
    ));

    // Rekor accepts the connection and hangs up before answering.
    let url = hang_up_loopback_url();
    let signer = KeyedSigner::new(CosignKeyPair::generate().unwrap()).with_rekor(url);
    let err = signer.sign_reader(ARTIFACT).unwrap_err();
    assert!(
        matches!(
            &err,
            SigstoreError::Unreachable {
                service: "Rekor",
                ..
            }
        ),
        "{err}"
    );
}
