//! Reading policy files: LEO's schema and Kyverno `ClusterPolicy` / `Policy` documents.
//!
//! Kyverno rules are recognised as one of LEO's three checks when they are one:
//! - `validate.pattern` whose only constraint is `image: "<wildcard with @>"` on the
//!   container lists (the `require-image-checksum` sample) → require-image-digests;
//! - `verifyImages[]` with SLSA `attestations` → require-slsa-provenance, with the
//!   `regex_match('<re>', '{{ builder.id }}')` condition as the builder rule;
//! - `verifyImages[]` with `attestors` → require-signed-images;
//! - `verifyImages[]` with neither and `verifyDigest` (Kyverno's default) → require-image-digests.
//!
//! Any other rule is kept as [`Check::Unsupported`]: its match and exclude still apply.

use std::path::Path;

use serde::Deserialize as _;
use serde_json::Value;

use super::attestor::parse_attestors;
use super::verify_images::classify_verify_images;
use super::{
    ActionOverride, Autogen, BuilderPattern, Check, FailureAction, Filter, Policy, ProvenanceCheck,
    Rule, Selection, SignatureCheck,
};
use crate::error::{Error, Result};

/// Largest policy file read.
pub const MAX_POLICY_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Longest `builderId` pattern accepted.
pub const MAX_PATTERN_LEN: usize = 1024;
/// Compiled size limit of a `builderId` pattern.
pub const MAX_PATTERN_COMPILED_BYTES: usize = 1 << 20;
/// The autogen annotation.
pub const AUTOGEN_ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

const LEO_API_GROUP: &str = "policy.leo.dev/";
const KYVERNO_API_GROUP: &str = "kyverno.io/";

pub(super) struct Ctx<'a> {
    pub(super) origin: &'a str,
    pub(super) base: Option<&'a Path>,
    policy: String,
}

impl Ctx<'_> {
    fn bad(&self, reason: impl Into<String>) -> Error {
        Error::InvalidPolicy {
            origin: self.origin.to_owned(),
            policy: self.policy.clone(),
            reason: reason.into(),
        }
    }
}

/// Parses every policy in a YAML (or JSON) text. Documents of other kinds are an error;
/// empty documents are skipped.
pub fn load_policy_str(text: &str, origin: &str) -> Result<Vec<Policy>> {
    load_with_base(text, origin, None)
}

/// Reads a policy file; key files named in attestors are resolved beside it.
pub fn load_policy_file(path: &Path) -> Result<Vec<Policy>> {
    let text = crate::resource::read_text(path, MAX_POLICY_FILE_BYTES)?;
    load_with_base(&text, &path.display().to_string(), path.parent())
}

/// Reads a policy file, or every policy file (`*.yaml`, `*.yml`, `*.json`) of a directory.
pub fn load_policies(path: &Path) -> Result<Vec<Policy>> {
    let mut out = Vec::new();
    for file in crate::resource::manifest_files(path)? {
        out.extend(load_policy_file(&file)?);
    }
    Ok(out)
}

fn load_with_base(text: &str, origin: &str, base: Option<&Path>) -> Result<Vec<Policy>> {
    let mut out = Vec::new();
    for (i, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let index = i.saturating_add(1);
        let value = Value::deserialize(document).map_err(|e| Error::Syntax {
            origin: origin.to_owned(),
            document: index,
            reason: e.to_string(),
        })?;
        if value.is_null() {
            continue;
        }
        let kind = value
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let api = value
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let known_api = api.starts_with(LEO_API_GROUP) || api.starts_with(KYVERNO_API_GROUP);
        if !known_api || !matches!(kind, "ClusterPolicy" | "Policy") {
            return Err(Error::NotAPolicy {
                origin: origin.to_owned(),
                document: index,
                kind: format!("{api} {kind}"),
            });
        }
        out.push(parse_policy(&value, kind == "Policy", origin, base)?);
    }
    Ok(out)
}

fn parse_policy(
    doc: &Value,
    namespaced: bool,
    origin: &str,
    base: Option<&Path>,
) -> Result<Policy> {
    let meta = doc.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let ctx = Ctx {
        origin,
        base,
        policy: name.clone(),
    };
    if name.is_empty() {
        return Err(ctx.bad("no metadata.name"));
    }
    let spec = doc.get("spec").ok_or_else(|| ctx.bad("no spec"))?;
    let action = match spec
        .get("validationFailureAction")
        .or_else(|| spec.get("failureAction"))
    {
        Some(v) => parse_action(v, &ctx)?,
        None => FailureAction::Audit,
    };
    let overrides = spec
        .get("validationFailureActionOverrides")
        .or_else(|| spec.get("failureActionOverrides"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|o| {
            let action = parse_action(o.get("action").unwrap_or(&Value::Null), &ctx)?;
            if o.get("namespaceSelector").is_some() {
                return Err(ctx.bad("failure action overrides by namespaceSelector need live namespace labels; use `namespaces`"));
            }
            Ok(ActionOverride {
                action,
                namespaces: strings(o.get("namespaces")),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let autogen = match meta
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(AUTOGEN_ANNOTATION))
        .and_then(Value::as_str)
    {
        None => Autogen::all(),
        Some(list) if list.trim() == "none" => Autogen::none(),
        Some(list) => {
            let kinds: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect();
            Autogen {
                cronjob: kinds.iter().any(|k| k == "CronJob"),
                controllers: kinds.into_iter().filter(|k| k != "CronJob").collect(),
            }
        }
    };
    let rules = spec
        .get("rules")
        .and_then(Value::as_array)
        .ok_or_else(|| ctx.bad("spec.rules is missing or not a list"))?
        .iter()
        .map(|r| parse_rule(r, &ctx))
        .collect::<Result<Vec<_>>>()?;
    Ok(Policy {
        namespace: if namespaced {
            Some(
                meta.and_then(|m| m.get("namespace"))
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_owned(),
            )
        } else {
            None
        },
        name,
        origin: origin.to_owned(),
        action,
        overrides,
        autogen,
        rules,
    })
}

fn parse_action(v: &Value, ctx: &Ctx<'_>) -> Result<FailureAction> {
    v.as_str()
        .and_then(FailureAction::parse)
        .ok_or_else(|| ctx.bad(format!("failure action {v} is neither Audit nor Enforce")))
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn parse_selection(v: Option<&Value>, ctx: &Ctx<'_>) -> Result<Selection> {
    let Some(v) = v else {
        return Ok(Selection::default());
    };
    let list = |key: &str| -> Result<Vec<Filter>> {
        v.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| parse_filter(f, ctx))
            .collect()
    };
    let mut selection = Selection {
        any: list("any")?,
        all: list("all")?,
    };
    // The legacy form: `match.resources` directly.
    if v.get("resources").is_some() {
        selection.all.push(parse_filter(v, ctx)?);
    }
    Ok(selection)
}

fn parse_filter(v: &Value, ctx: &Ctx<'_>) -> Result<Filter> {
    for unsupported in ["subjects", "roles", "clusterRoles"] {
        if v.get(unsupported).is_some() {
            return Err(ctx.bad(format!("`{unsupported}` filters need an admission request")));
        }
    }
    let r = v.get("resources").unwrap_or(&Value::Null);
    if r.get("namespaceSelector").is_some() {
        return Err(ctx.bad("`namespaceSelector` needs live namespace labels; use `namespaces`"));
    }
    let mut names = strings(r.get("names"));
    if let Some(name) = r.get("name").and_then(Value::as_str) {
        names.push(name.to_owned());
    }
    let selector = r.get("selector");
    if selector.and_then(|s| s.get("matchExpressions")).is_some() {
        return Err(ctx.bad("`selector.matchExpressions` is not supported; use `matchLabels`"));
    }
    let match_labels = selector
        .and_then(|s| s.get("matchLabels"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| match v {
            Value::String(s) => Ok((k.clone(), s.clone())),
            other => Err(ctx.bad(format!("label selector value {other} is not a string"))),
        })
        .collect::<Result<_>>()?;
    Ok(Filter {
        kinds: strings(r.get("kinds")),
        names,
        namespaces: strings(r.get("namespaces")),
        match_labels,
    })
}

fn parse_rule(v: &Value, ctx: &Ctx<'_>) -> Result<Rule> {
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ctx.bad("a rule has no name"))?
        .to_owned();
    let matches = parse_selection(v.get("match"), ctx)?;
    if matches.is_empty() {
        return Err(ctx.bad(format!("rule {name:?} has no `match`")));
    }
    let excludes = parse_selection(v.get("exclude"), ctx)?;
    let mut action = None;
    let mut checks = Vec::new();
    if let Some(body) = v.get("requireImageDigests") {
        checks.push(Check::RequireDigests {
            image_references: image_references(body),
        });
    }
    if let Some(body) = v.get("requireSignedImages") {
        checks.push(Check::RequireSigned(SignatureCheck {
            image_references: image_references(body),
            attestors: attestors(body.get("attestors"), ctx)?,
        }));
    }
    if let Some(body) = v.get("requireSlsaProvenance") {
        let builder = body
            .get("builderId")
            .and_then(Value::as_str)
            .map(|p| compile(&format!("^(?:{p})$"), p, ctx))
            .transpose()?;
        let mut predicate_types = strings(body.get("predicateTypes"));
        if predicate_types.is_empty() {
            predicate_types = vec![
                leo_attest::PROVENANCE_V0_2.to_owned(),
                leo_attest::PROVENANCE_V1.to_owned(),
            ];
        }
        checks.push(Check::RequireProvenance(ProvenanceCheck {
            image_references: image_references(body),
            attestors: attestors(body.get("attestors"), ctx)?,
            predicate_types,
            builder_id: builder,
        }));
    }
    if let Some(validate) = v.get("validate") {
        if let Some(a) = validate.get("failureAction") {
            action = Some(parse_action(a, ctx)?);
        }
        checks.push(classify_validate(validate));
    }
    for entry in v
        .get("verifyImages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(a) = entry.get("failureAction") {
            action = Some(parse_action(a, ctx)?);
        }
        checks.extend(classify_verify_images(entry, ctx)?);
    }
    for other in ["mutate", "generate"] {
        if v.get(other).is_some() {
            checks.push(Check::Unsupported {
                what: format!("{other} rule"),
            });
        }
    }
    if checks.is_empty() {
        return Err(ctx.bad(format!("rule {name:?} has no check")));
    }
    Ok(Rule {
        name,
        matches,
        excludes,
        action,
        checks,
    })
}

pub(super) fn image_references(body: &Value) -> Vec<String> {
    let refs = strings(body.get("imageReferences"));
    if refs.is_empty() {
        vec!["*".to_owned()]
    } else {
        refs
    }
}

fn attestors(v: Option<&Value>, ctx: &Ctx<'_>) -> Result<Vec<super::Attestor>> {
    let list = parse_attestors(v, ctx.base, ctx.origin)?;
    if list.is_empty() {
        return Err(ctx.bad("a signature or provenance check needs at least one attestor"));
    }
    Ok(list)
}

pub(super) fn compile(pattern: &str, shown: &str, _ctx: &Ctx<'_>) -> Result<BuilderPattern> {
    let invalid = |reason: String| Error::InvalidPattern {
        pattern: leo_artifact::error::snippet(shown),
        reason,
    };
    if pattern.len() > MAX_PATTERN_LEN {
        return Err(invalid(format!("longer than {MAX_PATTERN_LEN} bytes")));
    }
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(MAX_PATTERN_COMPILED_BYTES)
        .build()
        .map_err(|e| invalid(e.to_string()))?;
    Ok(BuilderPattern {
        source: shown.to_owned(),
        regex,
    })
}

/// `validate.pattern` constraining only `image` to exactly `*@*` on the container lists is
/// Kyverno's "require digest"; anything else is unsupported. A narrower image pattern
/// (`ghcr.io/org/*@*`) is not a digest rule: it also restricts the registry, which
/// `require-image-digests` does not check, so it is kept as [`Check::Unsupported`] (an
/// `error` result) rather than evaluated as a weaker rule.
fn classify_validate(validate: &Value) -> Check {
    let unsupported = |what: &str| Check::Unsupported {
        what: format!("validate rule ({what})"),
    };
    let Some(spec) = validate
        .get("pattern")
        .and_then(|p| p.get("spec"))
        .and_then(Value::as_object)
    else {
        return unsupported("not a pattern on spec");
    };
    let mut saw_containers = false;
    for (key, list) in spec {
        let bare = key
            .strip_prefix("=(")
            .and_then(|k| k.strip_suffix(')'))
            .unwrap_or(key);
        if !matches!(
            bare,
            "containers" | "initContainers" | "ephemeralContainers"
        ) {
            return unsupported("pattern beyond container images");
        }
        saw_containers |= bare == "containers";
        let Some([element]) = list.as_array().map(Vec::as_slice) else {
            return unsupported("pattern beyond container images");
        };
        let image = element.as_object().and_then(|o| {
            (o.len() == 1)
                .then(|| o.get("image").and_then(Value::as_str))
                .flatten()
        });
        match image {
            Some(DIGEST_PATTERN) => {}
            Some(other) => {
                return unsupported(&format!(
                    "image pattern {:?} is not {DIGEST_PATTERN:?}",
                    leo_artifact::error::snippet(other)
                ));
            }
            None => return unsupported("pattern beyond container images"),
        }
    }
    if !saw_containers {
        return unsupported("pattern without containers");
    }
    Check::RequireDigests {
        image_references: vec!["*".to_owned()],
    }
}

/// The only `validate.pattern` image value read as "require a digest".
const DIGEST_PATTERN: &str = "*@*";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_kyverno_samples() {
        let dir = leo_testkit::vector("kyverno/policies-repo/other");
        let Some(dir) = dir else { return };
        let p = load_policy_file(&dir.join("require-image-checksum/require-image-checksum.yaml"))
            .unwrap();
        assert!(matches!(
            p[0].rules[0].checks[0],
            Check::RequireDigests { .. }
        ));
        let p = load_policy_file(&dir.join("verify-image-slsa/verify-image-slsa.yaml")).unwrap();
        let Check::RequireProvenance(c) = &p[0].rules[0].checks[0] else {
            panic!()
        };
        assert_eq!(c.predicate_types, [leo_attest::PROVENANCE_V0_2]);
        let b = c.builder_id.as_ref().unwrap();
        assert!(b.regex.is_match("https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.2.3"));
        assert!(matches!(c.attestors[0], crate::Attestor::Keyless { .. }));
        let p = load_policy_file(&dir.join("verify-image/verify-image.yaml")).unwrap();
        assert!(matches!(p[0].rules[0].checks[0], Check::RequireSigned(_)));
        assert_eq!(p[0].action, FailureAction::Enforce);
    }

    #[test]
    fn rejects_what_it_cannot_honour() {
        let doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
        assert!(matches!(
            load_policy_str(doc, "t"),
            Err(Error::NotAPolicy { .. })
        ));
        let doc = r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
  - name: r
    match: {any: [{resources: {kinds: [Pod], namespaceSelector: {matchLabels: {a: b}}}}]}
    validate: {pattern: {spec: {containers: [{image: "*@*"}]}}}
"#;
        assert!(matches!(
            load_policy_str(doc, "t"),
            Err(Error::InvalidPolicy { .. })
        ));
        let doc = r#"
apiVersion: policy.leo.dev/v1alpha1
kind: ClusterPolicy
metadata: {name: p}
spec:
  rules:
  - name: r
    match: {any: [{resources: {kinds: [Pod]}}]}
    requireSlsaProvenance:
      builderId: "(unclosed"
      attestors: [{keys: {publicKeys: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"}}]
"#;
        assert!(matches!(
            load_policy_str(doc, "t"),
            Err(Error::InvalidPattern { .. })
        ));
    }
}
