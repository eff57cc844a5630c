//! CycloneDX: the specification's own 1.5 test BOMs, LEO's generated SBOMs (schema, model,
//! compliance, determinism) and the workspace SBOM against `cargo metadata`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::path::Path;

use leo_attest::Error;
use leo_attest::sbom::{
    SbomOptions, SbomValidator, check_compliance, find_lockfiles, generate, generate_from_packages,
    parse_lockfile,
};

fn validator() -> Option<SbomValidator> {
    leo_testkit::vector("cyclonedx/schema").map(|d| SbomValidator::from_dir(&d).unwrap())
}

fn options() -> SbomOptions {
    SbomOptions {
        name: "leo".into(),
        head: "0123456789abcdef0123456789abcdef01234567".parse().unwrap(),
        repository: Some("https://example.invalid/leo".into()),
        timestamp: time::macros::datetime!(2026-01-01 12:00:00.5 UTC),
        author: "LEO builder".into(),
        supplier: "LEO developers".into(),
    }
}

#[test]
fn specification_test_boms_valid_pass_invalid_fail() {
    let Some(v) = validator() else { return };
    let dir = leo_testkit::vector("cyclonedx/spec-tests-1.5").unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut valid, mut invalid) = (0, 0);
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let result = v.validate(&std::fs::read(&path).unwrap());
        if name.starts_with("valid-") {
            valid += 1;
            result.unwrap_or_else(|e| panic!("{name} must validate: {e}"));
        } else if name.starts_with("invalid-") {
            invalid += 1;
            let err = result
                .err()
                .unwrap_or_else(|| panic!("{name} must be rejected"));
            assert!(
                matches!(
                    err,
                    Error::SbomSchemaViolation { .. } | Error::SbomModelViolation { .. }
                ),
                "{name}: {err:?}"
            );
        }
    }
    assert_eq!((valid, invalid), (36, 22));
}

#[test]
fn each_validator_catches_what_the_other_cannot() {
    let Some(v) = validator() else { return };
    // Duplicate bom-refs and dangling dependency refs: schema-valid, rejected by the model.
    for doc in [
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
            {"type":"library","name":"a","bom-ref":"x"},{"type":"library","name":"b","bom-ref":"x"}]}"#,
        r#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"components":[
            {"type":"library","name":"a","bom-ref":"x"}],"dependencies":[{"ref":"x","dependsOn":["nope"]}]}"#,
    ] {
        let err = v.validate(doc.as_bytes()).unwrap_err();
        assert!(matches!(err, Error::SbomModelViolation { .. }), "{err}");
    }
    // Bad timestamp format: rejected by the schema.
    let dir = leo_testkit::vector("cyclonedx/spec-tests-1.5").unwrap();
    let ts = std::fs::read(dir.join("invalid-metadata-timestamp-1.5.json")).unwrap();
    assert!(matches!(
        v.validate(&ts),
        Err(Error::SbomSchemaViolation { .. })
    ));
}

#[test]
fn rejects_other_versions_duplicate_keys_and_missing_schema() {
    let Some(v) = validator() else { return };
    let err = v
        .validate(br#"{"bomFormat":"CycloneDX","specVersion":"1.4"}"#)
        .unwrap_err();
    assert!(matches!(err, Error::UnsupportedSbomVersion { found } if found == "1.4"));
    let err = v
        .validate(br#"{"bomFormat":"CycloneDX","specVersion":"1.5","version":1,"version":2}"#)
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateJsonKey { .. }));
    let err = SbomValidator::from_dir(Path::new("/nonexistent")).unwrap_err();
    assert!(matches!(err, Error::SchemaUnavailable { .. }));
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn sample_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Cargo.lock",
        "version = 4\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\ndependencies = [\"itoa\"]\n\n[[package]]\nname = \"itoa\"\nversion = \"1.0.11\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"49f1f14873335454500d59611f1cf4a4b0f786f9ac11f4312a78e4cf2566695b\"\n",
    );
    write(
        dir.path(),
        "web/package-lock.json",
        r#"{"name":"web","lockfileVersion":3,"packages":{"":{"name":"web","dependencies":{"@scope/left":"^1"}},
        "node_modules/@scope/left":{"version":"1.3.0","integrity":"sha512-Vi8yG5UfE6hHt5Gf3cXhIKZCspbrp1Nnq6KJ4K2l5Q6L0J1jA0YPZzzsbR1jj/ItWZ3kzF6I3n3dJaPb3rRj1A==","dependencies":{"tiny":"^2"}},
        "node_modules/tiny":{"version":"2.0.1"}}}"#,
    );
    write(
        dir.path(),
        "tools/requirements.txt",
        "requests==2.31.0\nurllib3==2.2.1\n",
    );
    write(dir.path(), "target/ignored/Cargo.lock", "not toml [");
    dir
}

#[test]
fn generated_sbom_validates_is_compliant_and_deterministic() {
    let Some(v) = validator() else { return };
    let tree = sample_tree();
    let found = find_lockfiles(tree.path()).unwrap();
    assert_eq!(found.len(), 3, "{found:?}");
    let sbom = generate(tree.path(), &options()).unwrap();
    let bom = v
        .validate(&sbom)
        .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&sbom)));
    assert_eq!(bom.components.as_ref().unwrap().0.len(), 6);
    assert_eq!(
        generate(tree.path(), &options()).unwrap(),
        sbom,
        "same input, same bytes"
    );

    let doc: serde_json::Value = serde_json::from_slice(&sbom).unwrap();
    assert_eq!(doc["specVersion"], "1.5");
    assert_eq!(doc["metadata"]["timestamp"], "2026-01-01T12:00:00Z");
    assert_eq!(
        doc["metadata"]["component"]["version"],
        options().head.as_str()
    );
    let purls: BTreeSet<&str> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap())
        .collect();
    for p in [
        "pkg:cargo/itoa@1.0.11",
        "pkg:npm/%40scope/left@1.3.0",
        "pkg:npm/tiny@2.0.1",
        "pkg:pypi/requests@2.31.0",
    ] {
        assert!(purls.contains(p), "{p} missing from {purls:?}");
    }
    let left = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "left")
        .unwrap();
    assert_eq!(left["group"], "@scope");
    assert_eq!(left["hashes"][0]["alg"], "SHA-512");
    let deps = doc["dependencies"].as_array().unwrap();
    let left_deps = deps
        .iter()
        .find(|d| d["ref"] == "pkg:npm/%40scope/left@1.3.0")
        .unwrap();
    assert_eq!(left_deps["dependsOn"][0], "pkg:npm/tiny@2.0.1");

    let report = check_compliance(&sbom).unwrap();
    assert!(report.compliant, "{report:?}");
    let hashes = report.rules.iter().find(|r| r.id == "ext.hashes").unwrap();
    assert!(!hashes.passed && hashes.offenders.contains(&"pkg:npm/tiny@2.0.1".to_owned()));
}

#[test]
fn unpinned_requirement_fails_the_version_rule() {
    let Some(v) = validator() else { return };
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "requirements.txt", "flask>=2\n");
    let sbom = generate(tree.path(), &options()).unwrap();
    v.validate(&sbom).unwrap();
    let report = check_compliance(&sbom).unwrap();
    assert!(!report.compliant);
    let failed: Vec<_> = report.failed_required().map(|r| r.id).collect();
    assert_eq!(failed, ["ntia.version"]);
}

#[test]
fn broken_lockfile_is_a_typed_error() {
    let tree = tempfile::tempdir().unwrap();
    write(tree.path(), "Cargo.lock", "[[package]]\nname = 1\n");
    let err = generate(tree.path(), &options()).unwrap_err();
    assert!(matches!(err, Error::InvalidLockfile { .. }), "{err}");
}

/// The crates `cargo metadata --all-features` resolves for this workspace (`Cargo.lock` holds
/// optional dependencies too), as `name@version`.
fn cargo_metadata_packages(root: &Path) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--all-features",
            "--locked",
            "--offline",
        ])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}@{}",
                p["name"].as_str().unwrap(),
                p["version"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn workspace_sbom_lists_the_crates_cargo_metadata_resolves() {
    let Some(v) = validator() else { return };
    let root = leo_testkit::workspace_root();
    let packages = parse_lockfile(&root.join("Cargo.lock")).unwrap();
    let sbom = generate_from_packages(packages, &options()).unwrap();
    v.validate(&sbom).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&sbom).unwrap();
    let listed: BTreeSet<String> = doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}@{}",
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(listed, cargo_metadata_packages(&root));
    assert!(check_compliance(&sbom).unwrap().compliant);
    // The whole-tree SBOM resolves the workspace the way `cargo build` does: a subset of
    // the lockfile without dev-only crates, crates of other targets, or the fuzz workspace.
    let full = generate(&root, &options()).unwrap();
    v.validate(&full).unwrap();
    let full_doc: serde_json::Value = serde_json::from_slice(&full).unwrap();
    let full_listed: BTreeSet<String> = full_doc["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}@{}",
                c["name"].as_str().unwrap(),
                c["version"].as_str().unwrap()
            )
        })
        .collect();
    assert!(full_listed.contains(&format!("leo-attest@{}", env!("CARGO_PKG_VERSION"))));
    assert!(
        full_listed.is_subset(&listed),
        "{:?}",
        full_listed.difference(&listed)
    );
    for dev_or_foreign in ["criterion@", "proptest@", "libfuzzer-sys@", "windows-sys@"] {
        assert!(
            !full_listed.iter().any(|p| p.starts_with(dev_or_foreign)),
            "{dev_or_foreign} must not be listed"
        );
    }
    assert!(listed.iter().any(|p| p.starts_with("criterion@")));
}
