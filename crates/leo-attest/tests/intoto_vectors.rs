//! Every case of `../shared/vectors/intoto/MANIFEST.md`: VALID verifies, INVALID is rejected
//! with the expected error kind, PAE bytes match, Ed25519 signatures reproduce byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use leo_artifact::Sha256Digest;
use leo_attest::{
    DsseSigner, Envelope, Error, KeyId, KeySet, Provenance, PublicKey, SigningKey, Statement,
    StatementVersion, pae,
};

fn dir() -> Option<PathBuf> {
    leo_testkit::vector("intoto")
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn public(dir: &Path, rel: &str) -> PublicKey {
    PublicKey::from_pem(&String::from_utf8(read(dir, rel)).unwrap()).unwrap()
}

fn private(dir: &Path, rel: &str) -> SigningKey {
    SigningKey::from_pkcs8_pem(&String::from_utf8(read(dir, rel)).unwrap()).unwrap()
}

fn keys(dir: &Path, rels: &[&str]) -> KeySet {
    rels.iter().map(|r| public(dir, r)).collect()
}

const ED: &str = "keys/ed25519-rfc8032-test1.pub.pem";
const EC: &str = "keys/ecdsa-p256-dsse-spec.pub.pem";
const RSA: &str = "keys/rsa2048-test.pub.pem";
const WRONG: &str = "keys/ed25519-wrong-key.pub.pem";

fn artifact_digest(dir: &Path) -> Sha256Digest {
    Sha256Digest::of(&read(dir, "python-sslib/artifact.tar.gz"))
}

#[test]
fn pae_bytes_equal_the_spec_vectors() {
    let Some(d) = dir() else { return };
    assert_eq!(
        pae("http://example.com/HelloWorld", b"hello world"),
        read(&d, "dsse-spec/hello-world.pae.bin")
    );
    let payload = read(&d, "python-sslib/statement-v1-slsa-v0.2.payload.json");
    assert_eq!(
        pae(leo_attest::PAYLOAD_TYPE, &payload),
        read(&d, "python-sslib/statement-v1.pae.bin")
    );
    let env =
        Envelope::from_json(&read(&d, "python-sslib/statement-v1.ed25519.dsse.json")).unwrap();
    assert_eq!(env.pae(), read(&d, "python-sslib/statement-v1.pae.bin"));
}

#[test]
fn dsse_spec_envelopes_verify_raw_der_and_url_safe() {
    let Some(d) = dir() else { return };
    let ks = keys(&d, &["dsse-spec/dsse-spec-ecdsa-p256.pub.pem"]);
    for f in [
        "hello-world.dsse.json",
        "hello-world.with-keyid.dsse.json",
        "hello-world.der-sig.dsse.json",
        "hello-world.urlsafe-b64.dsse.json",
    ] {
        let v = ks
            .verify_json(&read(&d, &format!("dsse-spec/{f}")), 1)
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(v.payload, b"hello world", "{f}");
        assert_eq!(v.payload_type, "http://example.com/HelloWorld");
    }
    // The same envelopes fail against any other key.
    let other = keys(&d, &[ED]);
    let err = other
        .verify_json(&read(&d, "dsse-spec/hello-world.dsse.json"), 1)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::ThresholdNotMet {
            required: 1,
            verified: 0
        }
    ));
}

#[test]
fn securesystemslib_key_ids_match() {
    let Some(d) = dir() else { return };
    for (pem, json) in [
        (ED, "keys/ed25519-rfc8032-test1.sslib-key.json"),
        (EC, "keys/ecdsa-p256-dsse-spec.sslib-key.json"),
        (RSA, "keys/rsa2048-test.sslib-key.json"),
        (WRONG, "keys/ed25519-wrong-key.sslib-key.json"),
    ] {
        let expected: serde_json::Value = serde_json::from_slice(&read(&d, json)).unwrap();
        let key = public(&d, pem);
        assert_eq!(
            key.key_id().as_str(),
            expected["keyid"].as_str().unwrap(),
            "{pem}"
        );
        let mut dict = expected.clone();
        dict.as_object_mut().unwrap().remove("keyid");
        assert_eq!(key.securesystemslib_dict(), dict, "{pem}");
    }
    // Private keys (PKCS#8 v1 for Ed25519) derive the same public keys and ids.
    for (sk, pk) in [
        ("keys/ed25519-rfc8032-test1.key.pem", ED),
        ("keys/ecdsa-p256-dsse-spec.key.pem", EC),
        ("keys/rsa2048-test.key.pem", RSA),
    ] {
        assert_eq!(private(&d, sk).public_key(), &public(&d, pk), "{sk}");
    }
}

#[test]
fn python_reference_envelopes_verify_and_statements_parse() {
    let Some(d) = dir() else { return };
    let artifact = artifact_digest(&d);
    assert_eq!(
        artifact.to_string(),
        "3d73699af12a998bf08a94ae9d354a53966bd95e0e2166a9a7a8f15b8d1a9f9d"
    );
    let cases: &[(&str, &[&str], usize)] = &[
        ("statement-v1.ed25519.dsse.json", &[ED], 1),
        ("statement-v1.ecdsa-p256.dsse.json", &[EC], 1),
        ("statement-v1.rsa2048-pss.dsse.json", &[RSA], 1),
        (
            "statement-v1.multisig-ed25519-ecdsa.dsse.json",
            &[ED, EC],
            2,
        ),
        ("statement-v1.predicate-media-type.dsse.json", &[ED], 1),
        ("statement-v1.ed25519.no-keyid.dsse.json", &[ED], 1),
        ("statement-v1.ed25519.extra-fields.dsse.json", &[ED], 1),
        ("statement-v1.ed25519.urlsafe-b64.dsse.json", &[ED], 1),
        ("statement-v1.ed25519.utf8-name.dsse.json", &[ED], 1),
    ];
    for (file, key_files, threshold) in cases {
        let ks = keys(&d, key_files);
        let v = ks
            .verify_json(&read(&d, &format!("python-sslib/{file}")), *threshold)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(v.key_ids.len(), *threshold, "{file}");
        assert!(leo_attest::statement::is_in_toto_payload_type(
            &v.payload_type
        ));
        let s = Statement::from_json(&v.payload).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(s.version, StatementVersion::V1);
        if !file.contains("utf8-name") {
            assert!(s.subject_matching(&artifact).is_some(), "{file}");
        }
        let Provenance::V0_2(p) = Provenance::from_statement(&s).unwrap() else {
            panic!("{file}: expected SLSA v0.2");
        };
        assert_eq!(p.builder.id, "https://example.invalid/patch-bundler@v1");
    }
    // Multisig with only one of the two keys trusted falls short of threshold 2.
    let one = keys(&d, &[ED, WRONG]);
    let err = one
        .verify_json(
            &read(
                &d,
                "python-sslib/statement-v1.multisig-ed25519-ecdsa.dsse.json",
            ),
            2,
        )
        .unwrap_err();
    assert!(matches!(
        err,
        Error::ThresholdNotMet {
            required: 2,
            verified: 1
        }
    ));
}

#[test]
fn statement_v0_1_is_readable_but_flagged() {
    let Some(d) = dir() else { return };
    let v = keys(&d, &[ED])
        .verify_json(
            &read(&d, "python-sslib/statement-v0.1.ed25519.dsse.json"),
            1,
        )
        .unwrap();
    assert!(matches!(
        Statement::from_json(&v.payload),
        Err(Error::LegacyStatement)
    ));
    let s = Statement::from_json_allow_legacy(&v.payload).unwrap();
    assert_eq!(s.version, StatementVersion::V0_1);
}

#[test]
fn ed25519_signature_reproduces_the_python_reference_byte_for_byte() {
    let Some(d) = dir() else { return };
    let key = private(&d, "keys/ed25519-rfc8032-test1.key.pem");
    let payload = read(&d, "python-sslib/statement-v1-slsa-v0.2.payload.json");
    let ours = Envelope::sign(
        leo_attest::PAYLOAD_TYPE,
        &payload,
        &[&key as &dyn DsseSigner],
    )
    .unwrap();
    let theirs =
        Envelope::from_json(&read(&d, "python-sslib/statement-v1.ed25519.dsse.json")).unwrap();
    assert_eq!(ours, theirs);
    assert!(
        leo_attest::envelope::Signature::clone(&ours.signatures[0])
            .sig
            .len()
            == 64
    );
    // And the serialised signature text is the same.
    let ours_json: serde_json::Value = serde_json::from_slice(&ours.to_json()).unwrap();
    let theirs_json: serde_json::Value =
        serde_json::from_slice(&read(&d, "python-sslib/statement-v1.ed25519.dsse.json")).unwrap();
    assert_eq!(ours_json["signatures"], theirs_json["signatures"]);
    assert!(
        ours_json["signatures"][0]["sig"]
            .as_str()
            .unwrap()
            .starts_with("7moovvZU")
    );
}

#[test]
fn negative_dsse_vectors_are_rejected_with_the_expected_kind() {
    let Some(d) = dir() else { return };
    let ks = keys(&d, &[ED]);
    for f in [
        "tampered-payload.ed25519.dsse.json",
        "payloadtype-changed.ed25519.dsse.json",
        "sig-over-raw-payload-not-pae.ed25519.dsse.json",
        "signed-by-wrong-key.ed25519.dsse.json",
        "utf8-pae-char-length-bug.ed25519.dsse.json",
    ] {
        let err = ks
            .verify_json(&read(&d, &format!("negative/{f}")), 1)
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::ThresholdNotMet {
                    required: 1,
                    verified: 0
                }
            ),
            "{f}: {err}"
        );
    }
    let err = ks
        .verify_json(&read(&d, "negative/no-signatures.dsse.json"), 1)
        .unwrap_err();
    assert!(matches!(err, Error::NoSignatures), "{err}");
    let err = ks
        .verify_json(&read(&d, "negative/sig-not-base64.dsse.json"), 1)
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidBase64 { ref field } if field == "signatures[0].sig"),
        "{err}"
    );
    // keyid is only a hint: the trusted key is tried anyway.
    let v = ks
        .verify_json(
            &read(
                &d,
                "negative/keyid-hint-points-to-other-key.ed25519.dsse.json",
            ),
            1,
        )
        .unwrap();
    assert!(Statement::from_json(&v.payload).is_ok());
}

#[test]
fn negative_statement_vectors_are_rejected_with_the_expected_kind() {
    let Some(d) = dir() else { return };
    let ks = keys(&d, &[ED]);
    let payload = |f: &str| {
        ks.verify_json(&read(&d, &format!("negative/{f}")), 1)
            .unwrap_or_else(|e| panic!("{f}: DSSE must be valid: {e}"))
            .payload
    };
    let check = |f: &str, ok: fn(&Error) -> bool| {
        let err = Statement::from_json(&payload(f)).unwrap_err();
        assert!(ok(&err), "{f}: unexpected {err:?}");
    };
    check("stmt-empty-subject.ed25519.dsse.json", |e| {
        matches!(e, Error::EmptySubject)
    });
    check("stmt-subject-without-digest.ed25519.dsse.json", |e| {
        matches!(e, Error::SubjectWithoutDigest { index: 0 })
    });
    check(
        "stmt-wrong-type.ed25519.dsse.json",
        |e| matches!(e, Error::UnsupportedStatementType { found } if found == "https://in-toto.io/Statement/v2"),
    );
    check("stmt-missing-predicatetype.ed25519.dsse.json", |e| {
        matches!(e, Error::MissingPredicateType)
    });
    check("stmt-digest-uppercase-hex.ed25519.dsse.json", |e| {
        matches!(
            e,
            Error::InvalidDigestValue {
                reason: "not lowercase hex",
                ..
            }
        )
    });
    check("stmt-digest-wrong-length.ed25519.dsse.json", |e| {
        matches!(
            e,
            Error::InvalidDigestValue {
                reason: "wrong length for the algorithm",
                ..
            }
        )
    });
    check(
        "stmt-duplicate-json-key.ed25519.dsse.json",
        |e| matches!(e, Error::DuplicateJsonKey { key, .. } if key == "predicateType"),
    );
    let artifact = artifact_digest(&d);
    for f in [
        "stmt-only-md5-digest.ed25519.dsse.json",
        "stmt-subject-digest-mismatch.ed25519.dsse.json",
    ] {
        let s = Statement::from_json(&payload(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(s.subject_matching(&artifact).is_none(), "{f}");
    }
}

fn leaf_key_from_cert_der(der: &[u8]) -> PublicKey {
    // Test-only shortcut: Fulcio leaf keys are P-256, so find the SPKI inside the certificate.
    const PREFIX: [u8; 27] = [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08,
        0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
    ];
    let at = der.windows(PREFIX.len()).position(|w| w == PREFIX).unwrap();
    PublicKey::from_spki_der(&der[at..at + 91]).unwrap()
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

#[test]
fn slsa_verifier_envelopes() {
    let Some(d) = dir() else { return };
    let sv = |f: &str| read(&d, &format!("slsa-verifier/{f}"));
    // VSA: raw r‖s signature, keyid from a keystore.
    let vsa_key = public(&d, "slsa-verifier/vsa_signing_public_key.pem")
        .with_key_id(KeyId::new("keystore://76574:prod:vsa_signing_public_key"));
    let v = KeySet::from_iter([vsa_key])
        .verify_json(&sv("vsa-gke-gce-pre.bcid-vsa.jsonl"), 1)
        .unwrap();
    let s = Statement::from_json(&v.payload).unwrap();
    assert_eq!(s.predicate_type, "https://slsa.dev/verification_summary/v1");
    assert_eq!(
        v.key_ids[0].as_str(),
        "keystore://76574:prod:vsa_signing_public_key"
    );

    // GCB SLSA v1: valid with its key only.
    let worker = "slsa-verifier/gcb-global-pae-google-hosted-worker_1.pem";
    let signer = "slsa-verifier/gcb-global-pae-provenanceSigner_1.pem";
    let west = "slsa-verifier/gcb-us-west2.pem";
    let gcb_v1 = sv("gcb-slsa-v1.0-provenance.dsse.json");
    let v = keys(&d, &[worker]).verify_json(&gcb_v1, 1).unwrap();
    for other in [signer, west, ED] {
        let err = keys(&d, &[other]).verify_json(&gcb_v1, 1).unwrap_err();
        assert!(matches!(err, Error::ThresholdNotMet { .. }), "{other}");
    }
    let s = Statement::from_json(&v.payload).unwrap();
    let p = Provenance::from_statement(&s).unwrap();
    assert!(matches!(p, Provenance::V1(_)));
    assert_eq!(
        p.build_type(),
        "https://cloud.google.com/build/gcb-buildtypes/google-worker/v1"
    );
    let src = p.source().unwrap();
    assert_eq!(src.repository, "https://github.com/khalkie/gcb-prod-prov");
    assert_eq!(src.git_ref.as_deref(), Some("refs/heads/main"));
    // Typed, and nothing lost on the way back.
    assert_eq!(&p.to_value(), s.predicate.as_ref().unwrap());

    // GCB v0.1 over PAE: valid. Legacy regional GCB signs sha256(payload), not PAE: invalid.
    let v = keys(&d, &[signer])
        .verify_json(&sv("gcb-slsa-v0.1-provenance.globalpae.dsse.json"), 1)
        .unwrap();
    assert_eq!(
        Statement::from_json_allow_legacy(&v.payload)
            .unwrap()
            .version,
        StatementVersion::V0_1
    );
    let err = keys(&d, &[west])
        .verify_json(
            &sv("gcb-slsa-v0.1-provenance.regional-legacy-nonpae.dsse.json"),
            1,
        )
        .unwrap_err();
    assert!(matches!(err, Error::ThresholdNotMet { .. }));

    // GitHub generic generator v1.2.0: plain DSSE, Fulcio leaf cert in a non-standard field.
    let gha: serde_json::Value =
        serde_json::from_slice(&sv("gha-generic-v1.2.0-slsa-v0.2-push-v14.intoto.jsonl")).unwrap();
    let cert_pem = gha["signatures"][0]["cert"].as_str().unwrap();
    let cert_der = b64(&cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>());
    let v = KeySet::from_iter([leaf_key_from_cert_der(&cert_der)])
        .verify_json(&sv("gha-generic-v1.2.0-slsa-v0.2-push-v14.intoto.jsonl"), 1)
        .unwrap();
    let s = Statement::from_json_allow_legacy(&v.payload).unwrap();
    let p = Provenance::from_statement(&s).unwrap();
    assert!(matches!(p, Provenance::V0_2(_)));
    assert_eq!(&p.to_value(), s.predicate.as_ref().unwrap());

    // Sigstore bundles (v0.3): the DSSE inside verifies against the leaf certificate's key.
    for (f, legacy) in [
        (
            "gha-generic-v2.1.0-slsa-v0.2-push-v14.sigstore-bundle.jsonl",
            true,
        ),
        ("bcr-MODULE.bazel.intoto.jsonl", false),
        ("bcr-MODULE-wrong-signer.bazel.intoto.jsonl", false),
    ] {
        let bundle: serde_json::Value = serde_json::from_slice(&sv(f)).unwrap();
        let cert = b64(bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .unwrap());
        let env = serde_json::to_vec(&bundle["dsseEnvelope"]).unwrap();
        let v = KeySet::from_iter([leaf_key_from_cert_der(&cert)])
            .verify_json(&env, 1)
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        let s = Statement::from_json_allow_legacy(&v.payload).unwrap();
        assert_eq!(s.version == StatementVersion::V0_1, legacy, "{f}");
        let p = Provenance::from_statement(&s).unwrap();
        assert_eq!(&p.to_value(), s.predicate.as_ref().unwrap(), "{f}");
    }
}

fn read_bundle_payload(d: &Path, rel: &str) -> Vec<u8> {
    let bundle: serde_json::Value = serde_json::from_slice(&read(d, rel)).unwrap();
    Envelope::from_json(&serde_json::to_vec(&bundle["dsseEnvelope"]).unwrap())
        .unwrap()
        .payload
}

#[test]
fn bcr_module_subject_matches_its_artifact() {
    let Some(d) = dir() else { return };
    let bundle: serde_json::Value =
        serde_json::from_slice(&read(&d, "slsa-verifier/bcr-MODULE.bazel.intoto.jsonl")).unwrap();
    let env = Envelope::from_json(&serde_json::to_vec(&bundle["dsseEnvelope"]).unwrap()).unwrap();
    let s = Statement::from_json(&env.payload).unwrap();
    let artifact = Sha256Digest::of(&read(&d, "slsa-verifier/bcr-MODULE.bazel"));
    assert!(s.subject_matching(&artifact).is_some());
    // The wrong-signer case is the same file attested by another workflow: only the Sigstore
    // certificate identity (leo-sign's check) tells them apart, not the DSSE or the subject.
    let wrong = Sha256Digest::of(&read(&d, "slsa-verifier/bcr-MODULE-wrong-signer.bazel"));
    assert_eq!(artifact, wrong);
    let wrong_stmt = Statement::from_json(&read_bundle_payload(
        &d,
        "slsa-verifier/bcr-MODULE-wrong-signer.bazel.intoto.jsonl",
    ))
    .unwrap();
    assert!(wrong_stmt.subject_matching(&artifact).is_some());
}

#[test]
fn dsse_crate_cross_language_fixtures() {
    let Some(d) = dir() else { return };
    let doc: serde_json::Value = serde_json::from_slice(&read(
        &d,
        "third-party/dsse-crate-0.1.6-cross_lang_signing.json",
    ))
    .unwrap();
    let key_id = KeyId::new(doc["key_id"].as_str().unwrap());
    let public_key = PublicKey::from_pem(doc["public_key_pem"].as_str().unwrap())
        .unwrap()
        .with_key_id(key_id.clone());
    assert_eq!(
        Sha256Digest::of(public_key.raw()).to_string(),
        key_id.as_str(),
        "that fixture's key id is sha256(raw public key)"
    );
    // PKCS#8 v1 wrapping of the published seed.
    let mut pkcs8 = hex::decode("302e020100300506032b657004220420").unwrap();
    pkcs8.extend(hex::decode(doc["test_seed_hex"].as_str().unwrap()).unwrap());
    let signing = SigningKey::from_pkcs8_der(&pkcs8).unwrap();
    assert_eq!(signing.public_key().raw(), public_key.raw());
    let ks = KeySet::from_iter([public_key]);
    let fixtures = doc["fixtures"].as_array().unwrap();
    assert_eq!(fixtures.len(), 11);
    for f in fixtures {
        let name = f["name"].as_str().unwrap();
        let payload_type = f["payload_type"].as_str().unwrap();
        let payload = b64(f["canonical_b64"].as_str().unwrap());
        assert_eq!(
            pae(payload_type, &payload),
            b64(f["pae_b64"].as_str().unwrap()),
            "{name}"
        );
        let env = serde_json::to_vec(&f["envelope"]).unwrap();
        let v = ks
            .verify_json(&env, 1)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.payload, payload, "{name}");
        assert_eq!(
            signing.sign_bytes(&pae(payload_type, &payload)).unwrap(),
            b64(f["signature_b64"].as_str().unwrap()),
            "{name}"
        );
    }
}

#[test]
fn in_toto_python_dsse_link_verifies() {
    let Some(d) = dir() else { return };
    let v = keys(&d, &[ED])
        .verify_json(
            &read(&d, "in-toto-python-3.1.0/build-dsse.74c181c7.link"),
            1,
        )
        .unwrap();
    // A link, not a Statement: the statement parser must refuse it.
    let err = Statement::from_json(&v.payload).unwrap_err();
    assert!(
        matches!(err, Error::UnsupportedStatementType { .. }),
        "{err}"
    );
}

#[test]
fn in_toto_rs_envelope_shape_is_not_dsse() {
    let Some(d) = dir() else { return };
    let err = Envelope::from_json(&read(
        &d,
        "in-toto-rs-0.4.0/envelope-file-shape-from-unit-test.json",
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::MalformedJson { .. } | Error::InvalidBase64 { .. }
        ),
        "{err}"
    );
}
