//! The offline Kyverno fixtures of issue 8, row for row.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use leo_policy::kyverno_test::{find_test_files, run_test_file};
use leo_policy::{EngineOptions, Status};

fn run(rel: &str) -> Option<leo_policy::kyverno_test::TestRun> {
    let dir = leo_testkit::vector(rel)?;
    let files = find_test_files(&dir).unwrap();
    assert_eq!(files.len(), 1, "{rel}: one kyverno-test.yaml");
    Some(run_test_file(&files[0], EngineOptions::default()).unwrap())
}

fn rows(run: &leo_policy::kyverno_test::TestRun) -> Vec<(String, String, Status, Option<Status>)> {
    run.cases
        .iter()
        .map(|c| {
            (
                c.resource.clone(),
                c.actual_rule.clone().unwrap_or_default(),
                c.expected,
                c.actual,
            )
        })
        .collect()
}

#[test]
fn require_image_checksum_sample() {
    let Some(run) = run("kyverno/policies-repo/other/require-image-checksum") else {
        return;
    };
    assert!(run.passed(), "{:#?}", run.cases);
    let got = rows(&run);
    assert_eq!(got.len(), 4);
    // Controllers are reported under Kyverno's autogen names.
    assert!(got.contains(&(
        "hello".into(),
        "autogen-cronjob-require-image-checksum".into(),
        Status::Fail,
        Some(Status::Fail)
    )));
    assert!(got.contains(&(
        "mydeploy".into(),
        "autogen-require-image-checksum".into(),
        Status::Fail,
        Some(Status::Fail)
    )));
    assert!(got.contains(&(
        "myapp-pod-2".into(),
        "require-image-checksum".into(),
        Status::Pass,
        Some(Status::Pass)
    )));
    assert!(got.contains(&(
        "myapp-pod-1".into(),
        "require-image-checksum".into(),
        Status::Fail,
        Some(Status::Fail)
    )));
}

#[test]
fn verify_images_digest_fixture() {
    let Some(run) = run("kyverno/kyverno-repo/test/cli/test/images/digest") else {
        return;
    };
    assert!(run.passed(), "{:#?}", run.cases);
    let got = rows(&run);
    assert_eq!(
        got,
        [
            (
                "test/no-digest".into(),
                "check-digest".into(),
                Status::Fail,
                Some(Status::Fail)
            ),
            (
                "test/with-digest".into(),
                "check-digest".into(),
                Status::Pass,
                Some(Status::Pass)
            ),
        ]
    );
}

#[test]
fn exclusion_fixture_skips_both_pods() {
    let Some(run) = run("kyverno/kyverno-repo/test/cli/test/exclude") else {
        return;
    };
    assert!(run.passed(), "{:#?}", run.cases);
    assert_eq!(run.cases.len(), 2);
    assert!(run.cases.iter().all(|c| c.actual == Some(Status::Skip)));
}
