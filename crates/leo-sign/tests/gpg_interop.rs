//! Proof against the real `gpg` (2.2 on the image): signatures in both directions with
//! RSA-4096 and Ed25519 keys, revocation certificates made by gpg for each reason, keys made
//! in the past with `--faked-system-time`, SHA-1 signatures. Each test uses its own temporary
//! `GNUPGHOME` and stops its gpg-agent when done.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use leo_sign::{
    Backend, DetachedSignature, Error, Fingerprint, KeySpec, PgpAlgorithm, PgpCert, PgpKey,
    PgpVerifier, RevocationReason, Signer, SignerIdentity, Verifier, VerifyOptions,
};
use time::{Duration, OffsetDateTime};

const DATA: &[u8] = b"artifact.tar.gz: the patch bundle\n";

struct Gpg {
    home: tempfile::TempDir,
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

impl Gpg {
    fn new() -> Option<Self> {
        if !leo_testkit::require_tool("gpg") {
            return None;
        }
        let home = tempfile::Builder::new()
            .prefix("leo-gpg-")
            .tempdir()
            .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        Some(Self { home })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("gpg");
        cmd.arg("--homedir")
            .arg(self.home.path())
            .args(["--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run_with_input(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self.command(args).spawn().unwrap();
        {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(input).unwrap();
        }
        child.wait_with_output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.run_with_input(args, b"");
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Generates a key as SOP §10.3 does (`Expire-Date: 30d`), optionally at a past time.
    fn gen_key(&self, algorithm: PgpAlgorithm, at: Option<OffsetDateTime>) -> Fingerprint {
        let key_type = match algorithm {
            PgpAlgorithm::Rsa4096 => "Key-Type: RSA\nKey-Length: 4096\n",
            PgpAlgorithm::Ed25519 => "Key-Type: EDDSA\nKey-Curve: ed25519\n",
        };
        let spec = format!(
            "%no-protection\n{key_type}Key-Usage: sign\nName-Real: EHG Artifact Signer\n\
             Name-Email: artifacts@ehg.example\nExpire-Date: 30d\n%commit\n"
        );
        let faked = at.map(|t| t.unix_timestamp().to_string());
        let mut args = vec!["--batch"];
        if let Some(f) = &faked {
            args.extend(["--faked-system-time", f]);
        }
        args.push("--gen-key");
        let out = self.run_with_input(&args, spec.as_bytes());
        assert!(
            out.status.success(),
            "gpg --gen-key: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let listing = String::from_utf8(
            self.run(&["--batch", "--with-colons", "--list-keys"])
                .stdout,
        )
        .unwrap();
        let fpr = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .unwrap();
        fpr.trim_matches(':').parse().unwrap()
    }

    fn export(&self, fpr: &Fingerprint) -> PgpCert {
        let out = self.run(&["--batch", "--armor", "--export", fpr.as_str()]);
        PgpCert::from_bytes(&out.stdout).unwrap()
    }

    /// `gpg --detach-sign --armor` over `data`, optionally with extra arguments.
    fn sign(&self, fpr: &Fingerprint, data: &[u8], extra: &[&str]) -> Vec<u8> {
        let input = self.path("data");
        std::fs::write(&input, data).unwrap();
        let output = self.path("data.asc");
        let _ = std::fs::remove_file(&output);
        let mut args = vec!["--batch", "--yes", "--local-user", fpr.as_str()];
        args.extend(extra);
        args.extend([
            "--detach-sign",
            "--armor",
            "--output",
            output.to_str().unwrap(),
            input.to_str().unwrap(),
        ]);
        self.run(&args);
        std::fs::read(&output).unwrap()
    }

    /// gpg's own revocation certificate with gpg's reason code (0 none, 1 compromised,
    /// 2 superseded, 3 no longer used), answered through `--command-fd`.
    fn gen_revoke(&self, fpr: &Fingerprint, code: u8) -> Vec<u8> {
        let output = self.path(&format!("rev{code}.asc"));
        let answers = format!("y\n{code}\nreason {code}\n\ny\n");
        let out = self.run_with_input(
            &[
                "--command-fd",
                "0",
                "--no-tty",
                "--armor",
                "--output",
                output.to_str().unwrap(),
                "--gen-revoke",
                fpr.as_str(),
            ],
            answers.as_bytes(),
        );
        assert!(
            out.status.success(),
            "gpg --gen-revoke: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::read(&output).unwrap()
    }

    fn import(&self, armored: &[u8]) {
        let out = self.run_with_input(&["--batch", "--import"], armored);
        assert!(
            out.status.success(),
            "gpg --import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `gpg --verify --status-fd 1`, returning the status lines.
    fn verify_status(&self, sig: &[u8], data: &[u8]) -> Vec<String> {
        let (s, d) = (self.path("verify.asc"), self.path("verify.data"));
        std::fs::write(&s, sig).unwrap();
        std::fs::write(&d, data).unwrap();
        let out = self.run_with_input(
            &[
                "--batch",
                "--status-fd",
                "1",
                "--verify",
                s.to_str().unwrap(),
                d.to_str().unwrap(),
            ],
            b"",
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// The status keyword gpg gave, with its arguments.
fn status<'a>(lines: &'a [String], keyword: &str) -> Option<Vec<&'a str>> {
    let prefix = format!("[GNUPG:] {keyword} ");
    lines
        .iter()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .map(|rest| rest.split(' ').collect())
}

fn pgp(bytes: Vec<u8>) -> DetachedSignature {
    DetachedSignature {
        backend: Backend::OpenPgp,
        bytes,
    }
}

fn leo_verify(cert: &PgpCert, sig: Vec<u8>, data: &[u8]) -> Result<leo_sign::Verified, Error> {
    PgpVerifier::new(vec![cert.clone()]).verify(&mut &data[..], &pgp(sig), &VerifyOptions::now())
}

fn gpg_to_leo(algorithm: PgpAlgorithm, public_key: &str) {
    let Some(gpg) = Gpg::new() else { return };
    let fpr = gpg.gen_key(algorithm, None);
    let cert = gpg.export(&fpr);
    assert_eq!(cert.fingerprint(), fpr);
    assert_eq!(
        cert.expires_at().unwrap() - cert.created_at(),
        Duration::days(30)
    );

    let report = leo_verify(&cert, gpg.sign(&fpr, DATA, &[]), DATA).unwrap();
    assert_eq!(report.backend, Backend::OpenPgp);
    assert_eq!(
        report.signer,
        SignerIdentity::Key {
            primary: fpr.clone(),
            signing_key: fpr.clone()
        }
    );
    assert_eq!(report.algorithms.public_key, public_key);

    let err = leo_verify(&cert, gpg.sign(&fpr, DATA, &[]), b"tampered").unwrap_err();
    assert!(matches!(err, Error::SignatureMismatch { .. }), "{err}");

    let err = leo_verify(
        &cert,
        gpg.sign(&fpr, DATA, &["--digest-algo", "SHA1"]),
        DATA,
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::WeakHashAlgorithm { algorithm } if algorithm == "SHA-1"),
        "{err}"
    );

    let tomorrow = (OffsetDateTime::now_utc() + Duration::days(1))
        .unix_timestamp()
        .to_string();
    let err = leo_verify(
        &cert,
        gpg.sign(&fpr, DATA, &["--faked-system-time", &tomorrow]),
        DATA,
    )
    .unwrap_err();
    assert!(matches!(err, Error::SignatureInFuture { .. }), "{err}");

    let stranger = PgpKey::generate(&KeySpec::new(
        PgpAlgorithm::Ed25519,
        "Other",
        "o@leo.example",
    ))
    .unwrap();
    let err = leo_verify(&stranger.public(), gpg.sign(&fpr, DATA, &[]), DATA).unwrap_err();
    assert!(matches!(err, Error::UnknownSigningKey { .. }), "{err}");
}

#[test]
fn gpg_rsa4096_signatures_verify_in_leo_and_sha1_tamper_wrong_key_are_rejected() {
    gpg_to_leo(PgpAlgorithm::Rsa4096, "RSA-4096");
}

#[test]
fn gpg_ed25519_signatures_verify_in_leo_and_sha1_tamper_wrong_key_are_rejected() {
    gpg_to_leo(PgpAlgorithm::Ed25519, "Ed25519");
}

fn leo_to_gpg(algorithm: PgpAlgorithm, gpg_pk_algo: &str) {
    let Some(gpg) = Gpg::new() else { return };
    let key = PgpKey::generate(&KeySpec::new(algorithm, "LEO Signer", "leo@leo.example")).unwrap();
    gpg.import(key.public().to_armored().unwrap().as_bytes());
    let signed = key.sign(&mut &DATA[..]).unwrap();
    let SignerIdentity::Key {
        primary,
        signing_key,
    } = &signed.report.signer
    else {
        panic!()
    };

    let lines = gpg.verify_status(&signed.signature.bytes, DATA);
    let good = status(&lines, "GOODSIG").unwrap_or_else(|| panic!("no GOODSIG in {lines:#?}"));
    assert!(
        signing_key.matches_key_id(good[0]),
        "GOODSIG names {}",
        good[0]
    );
    let valid = status(&lines, "VALIDSIG").unwrap_or_else(|| panic!("no VALIDSIG in {lines:#?}"));
    // VALIDSIG <signing fpr> <date> <timestamp> <expire> <version> <reserved> <pk algo> <hash algo> <class> <primary fpr>
    assert_eq!(valid[0], signing_key.as_str());
    assert_eq!(
        valid[2],
        signed
            .report
            .signed_at
            .unwrap()
            .unix_timestamp()
            .to_string()
    );
    assert_eq!(valid[6], gpg_pk_algo);
    assert_eq!(valid[7], "8", "SHA-256");
    assert_eq!(valid[9], primary.as_str());

    // gpg agrees the bytes matter: a tampered file is BADSIG, with no GOODSIG.
    let lines = gpg.verify_status(&signed.signature.bytes, b"tampered");
    assert!(
        status(&lines, "BADSIG").is_some() && status(&lines, "GOODSIG").is_none(),
        "{lines:#?}"
    );
}

#[test]
fn leo_rsa4096_signatures_verify_in_gpg_with_goodsig_and_validsig() {
    leo_to_gpg(PgpAlgorithm::Rsa4096, "1");
}

#[test]
fn leo_ed25519_signatures_verify_in_gpg_with_goodsig_and_validsig() {
    leo_to_gpg(PgpAlgorithm::Ed25519, "22");
}

#[test]
fn gpg_key_made_in_the_past_signed_before_expiry_verifies_after_and_later_use_is_expired() {
    let Some(gpg) = Gpg::new() else { return };
    let created = common::secs(OffsetDateTime::now_utc()) - Duration::days(40);
    let fpr = gpg.gen_key(PgpAlgorithm::Ed25519, Some(created));
    let cert = gpg.export(&fpr);
    assert_eq!(cert.created_at(), created);

    // Signed on day 1 of 30 (gpg's clock faked), verified today, 10 days after expiry.
    let day1 = (created + Duration::days(1)).unix_timestamp().to_string();
    let sig = gpg.sign(&fpr, DATA, &["--faked-system-time", &day1]);
    let report = leo_verify(&cert, sig, DATA).unwrap();
    assert_eq!(
        report.signed_at.unwrap().date(),
        (created + Duration::days(1)).date()
    );

    // gpg refuses to sign after expiry; a signature dated after it (made by another tool
    // with gpg's secret key) is rejected as KeyExpired.
    let day31 = (created + Duration::days(31)).unix_timestamp().to_string();
    let out = gpg.run_with_input(
        &[
            "--batch",
            "--faked-system-time",
            &day31,
            "--local-user",
            fpr.as_str(),
            "--detach-sign",
            "--armor",
        ],
        DATA,
    );
    assert!(!out.status.success(), "gpg signed with an expired key");
    let secret = gpg
        .run(&["--batch", "--armor", "--export-secret-keys", fpr.as_str()])
        .stdout;
    let key = PgpKey::from_armored_secret(&secret).unwrap();
    assert_eq!(key.fingerprint(), fpr);
    let forged = forge_primary(&secret, created + Duration::days(31));
    let err = leo_verify(&cert, forged, DATA).unwrap_err();
    assert!(matches!(err, Error::KeyExpired { .. }), "{err}");
}

/// A signature by the primary key of a gpg-made secret key at `at`, without validity checks.
fn forge_primary(secret: &[u8], at: OffsetDateTime) -> Vec<u8> {
    use openpgp::parse::Parse as _;
    use sequoia_openpgp as openpgp;
    let cert = openpgp::Cert::from_bytes(secret).unwrap();
    let mut keypair = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let sig =
        openpgp::packet::signature::SignatureBuilder::new(openpgp::types::SignatureType::Binary)
            .set_signature_creation_time(std::time::SystemTime::from(at))
            .unwrap()
            .set_issuer_fingerprint(cert.fingerprint())
            .unwrap()
            .sign_message(&mut keypair, DATA)
            .unwrap();
    common::armor(sig)
}

#[test]
fn gpg_revocation_certificates_each_reason() {
    let Some(gpg) = Gpg::new() else { return };
    let created = common::secs(OffsetDateTime::now_utc()) - Duration::days(2);
    let fpr = gpg.gen_key(PgpAlgorithm::Ed25519, Some(created));
    let cert = gpg.export(&fpr);
    // Signed yesterday; the revocations below are made now, after it.
    let yesterday = (created + Duration::days(1)).unix_timestamp().to_string();
    let sig = gpg.sign(&fpr, DATA, &["--faked-system-time", &yesterday]);
    leo_verify(&cert, sig.clone(), DATA).unwrap();

    for (code, reason) in [
        (0, RevocationReason::Unspecified),
        (1, RevocationReason::Compromised),
        (2, RevocationReason::Superseded),
        (3, RevocationReason::Retired),
    ] {
        let mut revoked = cert.clone();
        revoked
            .insert_revocation(&gpg.gen_revoke(&fpr, code))
            .unwrap();
        let result = leo_verify(&revoked, sig.clone(), DATA);
        if reason.is_hard() {
            assert!(
                matches!(&result, Err(Error::KeyRevoked { reason: r, .. }) if *r == reason),
                "{reason}: {result:?}"
            );
        } else {
            // Soft: the earlier signature stands; a later one is rejected.
            result.unwrap();
            let later = forge_primary(
                &gpg.run(&["--batch", "--armor", "--export-secret-keys", fpr.as_str()])
                    .stdout,
                common::secs(OffsetDateTime::now_utc()) + Duration::seconds(1),
            );
            let err = leo_verify(&revoked, later, DATA).unwrap_err();
            assert!(
                matches!(&err, Error::KeyRetired { reason: r, .. } if *r == reason),
                "{reason}: {err}"
            );
        }
    }
}

#[test]
fn gpg_sees_leo_revocations_as_revkeysig() {
    let Some(gpg) = Gpg::new() else { return };
    let mut key = PgpKey::generate(
        &KeySpec::new(PgpAlgorithm::Ed25519, "LEO Signer", "leo@leo.example")
            .created_at(OffsetDateTime::now_utc() - Duration::days(2)),
    )
    .unwrap();
    let signed = key
        .clone()
        .with_signing_time(OffsetDateTime::now_utc() - Duration::days(1))
        .sign(&mut &DATA[..])
        .unwrap();
    key.revoke(
        RevocationReason::Compromised,
        OffsetDateTime::now_utc() - Duration::hours(1),
    )
    .unwrap();
    gpg.import(key.public().to_armored().unwrap().as_bytes());
    let lines = gpg.verify_status(&signed.signature.bytes, DATA);
    assert!(
        status(&lines, "REVKEYSIG").is_some() && status(&lines, "GOODSIG").is_none(),
        "{lines:#?}"
    );
    let err = leo_verify(&key.public(), signed.signature.bytes, DATA).unwrap_err();
    assert!(
        matches!(
            err,
            Error::KeyRevoked {
                reason: RevocationReason::Compromised,
                ..
            }
        ),
        "{err}"
    );
}
