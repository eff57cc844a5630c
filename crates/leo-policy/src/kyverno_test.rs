//! Kyverno's `kyverno test` format: a `kyverno-test.yaml` names policy files, resource files
//! and the expected result of each policy × rule × resource; [`run_test_file`] evaluates
//! them with the engine and compares row for row.
//!
//! Resources are named `name` (any namespace) or `namespace/name`. An expected rule `r`
//! matches the engine's `r`, `autogen-r` and `autogen-cronjob-r`, as `kyverno test` does.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::{Engine, EngineOptions, Report, Status};
use crate::error::{Error, Result};
use crate::resource::{Resource, read_resources};

/// The file name `kyverno test` looks for.
pub const TEST_FILE_NAME: &str = "kyverno-test.yaml";
/// Largest test file read.
pub const MAX_TEST_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Deepest directory searched for test files.
pub const MAX_SEARCH_DEPTH: usize = 16;

#[derive(Deserialize)]
struct WireTest {
    #[serde(default)]
    metadata: Option<WireMeta>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    policies: Vec<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    results: Vec<WireResult>,
}

#[derive(Deserialize)]
struct WireMeta {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct WireResult {
    policy: String,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// One expected row and what the engine said.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TestCase {
    /// Policy name.
    pub policy: String,
    /// Rule name as written in the test.
    pub rule: String,
    /// Resource kind (empty: any).
    pub kind: String,
    /// Resource as written (`name` or `namespace/name`).
    pub resource: String,
    /// Expected status.
    pub expected: Status,
    /// The engine's status (`None`: the engine gave no result for this row).
    pub actual: Option<Status>,
    /// The engine's rule name (with `autogen-` prefixes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual_rule: Option<String>,
    /// The engine's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl TestCase {
    /// Whether the engine agreed.
    pub fn passed(&self) -> bool {
        self.actual == Some(self.expected)
    }
}

/// The outcome of one test file.
#[derive(Clone, Debug, Serialize)]
pub struct TestRun {
    /// The test file.
    pub file: PathBuf,
    /// Its name.
    pub name: String,
    /// One case per expected row × resource.
    pub cases: Vec<TestCase>,
}

impl TestRun {
    /// Whether every case passed.
    pub fn passed(&self) -> bool {
        self.cases.iter().all(TestCase::passed)
    }
}

/// Every `kyverno-test.yaml` under `dir` (including hidden `.kyverno-test/` folders), sorted.
pub fn find_test_files(dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let entries =
            std::fs::read_dir(&d).map_err(|e| Error::io(format!("reading {}", d.display()), e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() && depth < MAX_SEARCH_DEPTH {
                stack.push((path, depth + 1));
            } else if ft.is_file() && path.file_name().is_some_and(|n| n == TEST_FILE_NAME) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Runs one test file with `options`.
pub fn run_test_file(path: &Path, options: EngineOptions) -> Result<TestRun> {
    let invalid = |reason: String| Error::InvalidTestFile {
        origin: path.to_path_buf(),
        reason,
    };
    let text = crate::resource::read_text(path, MAX_TEST_FILE_BYTES)?;
    let test: WireTest = serde_norway::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    if test.policies.is_empty() || test.resources.is_empty() {
        return Err(invalid(
            "`policies` and `resources` must both be listed".into(),
        ));
    }
    let mut policies = Vec::new();
    for p in &test.policies {
        policies.extend(crate::policy::load_policy_file(&base.join(p))?);
    }
    let mut resources: Vec<Resource> = Vec::new();
    for r in &test.resources {
        resources.extend(read_resources(&base.join(r))?);
    }
    let report = Engine::new(policies, options).evaluate(&resources);
    let mut cases = Vec::new();
    for row in &test.results {
        let expected_text = row
            .result
            .as_deref()
            .or(row.status.as_deref())
            .unwrap_or_default();
        let expected = Status::parse(expected_text).ok_or_else(|| {
            invalid(format!(
                "result {expected_text:?} is not pass/fail/warn/error/skip"
            ))
        })?;
        let names: Vec<&String> = row.resources.iter().chain(row.resource.as_ref()).collect();
        for resource in names {
            cases.push(compare(row, resource, expected, &report));
        }
    }
    Ok(TestRun {
        file: path.to_path_buf(),
        name: test
            .metadata
            .and_then(|m| m.name)
            .or(test.name)
            .unwrap_or_else(|| path.display().to_string()),
        cases,
    })
}

fn compare(row: &WireResult, resource: &str, expected: Status, report: &Report) -> TestCase {
    let rule = row.rule.clone().unwrap_or_default();
    let (namespace, name) = match resource.split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (row.namespace.as_deref(), resource),
    };
    let rule_ok = |r: &str| {
        rule.is_empty()
            || r == rule
            || r.strip_prefix("autogen-cronjob-") == Some(rule.as_str())
            || r.strip_prefix("autogen-") == Some(rule.as_str())
    };
    let found = report.results.iter().find(|r| {
        r.policy == row.policy
            && rule_ok(&r.rule)
            && row.kind.as_deref().is_none_or(|k| k == r.resource.kind)
            && r.resource.name == name
            && namespace.is_none_or(|ns| r.resource.namespace.as_deref().unwrap_or("default") == ns)
    });
    TestCase {
        policy: row.policy.clone(),
        rule,
        kind: row.kind.clone().unwrap_or_default(),
        resource: resource.to_owned(),
        expected,
        actual: found.map(|r| r.status),
        actual_rule: found.map(|r| r.rule.clone()),
        message: found.map(|r| r.message.clone()),
    }
}
