//! SBOM compliance: the NTIA minimum elements (2021) as required rules, plus optional
//! extended rules. This is what the enforcer means by "SBOM compliance".
//!
//! | rule | required | passes when |
//! |---|---|---|
//! | `ntia.supplier` | yes | every component has `supplier.name` or `publisher` (the primary component may use `metadata.supplier`/`manufacture`) |
//! | `ntia.name` | yes | every component has a non-empty `name` |
//! | `ntia.version` | yes | every component has a non-empty `version` |
//! | `ntia.unique-id` | yes | every component has a `purl`, `cpe` or `swid.tagId` |
//! | `ntia.dependencies` | yes | `metadata.component` exists and every component (and it) has a `dependencies` entry |
//! | `ntia.author` | yes | `metadata.authors` names someone |
//! | `ntia.timestamp` | yes | `metadata.timestamp` is RFC 3339 |
//! | `ext.hashes` | no | every component except the primary one has a hash |
//! | `ext.licenses` | no | every component has a licence |

use serde::Serialize;
use serde_json::Value;

use crate::error::Result;

/// One rule's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    /// Stable rule id (`ntia.supplier`, ...).
    pub id: &'static str,
    /// What the rule asks for.
    pub title: &'static str,
    /// Whether failing it makes the SBOM non-compliant.
    pub required: bool,
    /// Whether it passed.
    pub passed: bool,
    /// The components (bom-ref, else `name@version`, else position) or fields that fail it.
    pub offenders: Vec<String>,
}

/// The compliance report: every rule, in a fixed order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComplianceReport {
    /// Whether every required rule passed.
    pub compliant: bool,
    /// All rules.
    pub rules: Vec<RuleResult>,
}

impl ComplianceReport {
    /// The required rules that failed.
    pub fn failed_required(&self) -> impl Iterator<Item = &RuleResult> {
        self.rules.iter().filter(|r| r.required && !r.passed)
    }
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

fn non_empty_array(v: Option<&Value>) -> bool {
    v.and_then(Value::as_array).is_some_and(|a| !a.is_empty())
}

fn label(c: &Value, index: &str) -> String {
    text(c, "bom-ref").map(str::to_owned).unwrap_or_else(|| {
        match (text(c, "name"), text(c, "version")) {
            (Some(n), Some(v)) => format!("{n}@{v}"),
            (Some(n), None) => n.to_owned(),
            _ => index.to_owned(),
        }
    })
}

fn collect<'a>(list: Option<&'a Value>, prefix: &str, out: &mut Vec<(String, &'a Value)>) {
    let Some(items) = list.and_then(Value::as_array) else {
        return;
    };
    for (i, c) in items.iter().enumerate() {
        let at = format!("{prefix}[{i}]");
        out.push((label(c, &at), c));
        collect(c.get("components"), &format!("{at}.components"), out);
    }
}

fn rule(
    id: &'static str,
    title: &'static str,
    required: bool,
    offenders: Vec<String>,
) -> RuleResult {
    RuleResult {
        id,
        title,
        required,
        passed: offenders.is_empty(),
        offenders,
    }
}

/// Checks an SBOM (validate it first: this reads fields, it does not check the schema).
pub fn check_compliance(sbom: &[u8]) -> Result<ComplianceReport> {
    let doc = crate::json::parse_strict(sbom, "CycloneDX SBOM", super::validate::MAX_SBOM_SIZE)?;
    Ok(check_value(&doc))
}

/// As [`check_compliance`], on parsed JSON.
pub fn check_value(doc: &Value) -> ComplianceReport {
    let metadata = doc.get("metadata").cloned().unwrap_or(Value::Null);
    let primary = metadata.get("component");
    let mut all: Vec<(String, &Value)> = Vec::new();
    if let Some(p) = primary {
        all.push((label(p, "metadata.component"), p));
    }
    collect(doc.get("components"), "components", &mut all);
    let failing = |pred: &dyn Fn(&Value) -> bool| -> Vec<String> {
        all.iter()
            .filter(|(_, c)| !pred(c))
            .map(|(l, _)| l.clone())
            .collect()
    };
    let org_named = |v: Option<&Value>| v.is_some_and(|o| text(o, "name").is_some());

    let supplier = failing(&|c| {
        let is_primary = primary.is_some_and(|p| std::ptr::eq(p, c));
        org_named(c.get("supplier"))
            || text(c, "publisher").is_some()
            || (is_primary
                && (org_named(metadata.get("supplier")) || org_named(metadata.get("manufacture"))))
    });
    let name = failing(&|c| text(c, "name").is_some());
    let version = failing(&|c| text(c, "version").is_some());
    let unique = failing(&|c| {
        text(c, "purl").is_some()
            || text(c, "cpe").is_some()
            || c.get("swid").is_some_and(|s| text(s, "tagId").is_some())
    });

    let dep_refs: Vec<&str> = doc
        .get("dependencies")
        .and_then(Value::as_array)
        .map(|deps| deps.iter().filter_map(|d| text(d, "ref")).collect())
        .unwrap_or_default();
    let mut dependencies = Vec::new();
    if primary.is_none() {
        dependencies.push("metadata.component".to_owned());
    }
    dependencies.extend(failing(&|c| {
        text(c, "bom-ref").is_some_and(|r| dep_refs.contains(&r))
    }));

    let mut author = Vec::new();
    let named_author = metadata
        .get("authors")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|p| text(p, "name").is_some() || text(p, "email").is_some())
        });
    if !named_author {
        author.push("metadata.authors".to_owned());
    }
    let mut timestamp = Vec::new();
    let ts_ok = text(&metadata, "timestamp").is_some_and(|t| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok()
    });
    if !ts_ok {
        timestamp.push("metadata.timestamp".to_owned());
    }
    let hashes: Vec<String> = all
        .iter()
        .filter(|(_, c)| !primary.is_some_and(|p| std::ptr::eq(p, *c)))
        .filter(|(_, c)| !non_empty_array(c.get("hashes")))
        .map(|(l, _)| l.clone())
        .collect();
    let licenses = failing(&|c| non_empty_array(c.get("licenses")));

    let rules = vec![
        rule(
            "ntia.supplier",
            "every component names its supplier",
            true,
            supplier,
        ),
        rule("ntia.name", "every component has a name", true, name),
        rule(
            "ntia.version",
            "every component has a version",
            true,
            version,
        ),
        rule(
            "ntia.unique-id",
            "every component has a purl, CPE or SWID",
            true,
            unique,
        ),
        rule(
            "ntia.dependencies",
            "dependency relationships cover every component",
            true,
            dependencies,
        ),
        rule("ntia.author", "the SBOM names its author", true, author),
        rule(
            "ntia.timestamp",
            "the SBOM has a valid timestamp",
            true,
            timestamp,
        ),
        rule("ext.hashes", "every component has a hash", false, hashes),
        rule(
            "ext.licenses",
            "every component declares a licence",
            false,
            licenses,
        ),
    ];
    ComplianceReport {
        compliant: rules.iter().all(|r| r.passed || !r.required),
        rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_each_rule_with_offenders() {
        let doc = serde_json::json!({
            "bomFormat": "CycloneDX", "specVersion": "1.5",
            "metadata": {"timestamp": "2026-01-01T00:00:00Z", "authors": [{"name": "LEO"}],
                "supplier": {"name": "Org"},
                "component": {"type": "application", "name": "app", "version": "1", "bom-ref": "app", "purl": "pkg:generic/app@1"}},
            "components": [
                {"type": "library", "name": "a", "version": "1", "bom-ref": "a", "purl": "pkg:cargo/a@1",
                 "supplier": {"name": "crates.io"}, "hashes": [{"alg": "SHA-256", "content": "00"}]},
                {"type": "library", "name": "b", "bom-ref": "b"}
            ],
            "dependencies": [{"ref": "app", "dependsOn": ["a"]}, {"ref": "a"}]
        });
        let r = check_value(&doc);
        assert!(!r.compliant);
        let get = |id| r.rules.iter().find(|x| x.id == id).unwrap();
        assert!(get("ntia.name").passed);
        assert_eq!(get("ntia.supplier").offenders, ["b"]);
        assert_eq!(get("ntia.version").offenders, ["b"]);
        assert_eq!(get("ntia.unique-id").offenders, ["b"]);
        assert_eq!(get("ntia.dependencies").offenders, ["b"]);
        assert!(get("ntia.author").passed && get("ntia.timestamp").passed);
        assert_eq!(get("ext.hashes").offenders, ["b"]);
        assert_eq!(get("ext.licenses").offenders.len(), 3);
        let names: Vec<_> = r.failed_required().map(|x| x.id).collect();
        assert_eq!(
            names,
            [
                "ntia.supplier",
                "ntia.version",
                "ntia.unique-id",
                "ntia.dependencies"
            ]
        );
    }

    #[test]
    fn empty_document_fails_every_document_level_rule() {
        let r = check_value(&serde_json::json!({}));
        let failed: Vec<_> = r.failed_required().map(|x| x.id).collect();
        assert_eq!(
            failed,
            ["ntia.dependencies", "ntia.author", "ntia.timestamp"]
        );
    }
}
