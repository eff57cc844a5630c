//! Kyverno `verifyImages[]` entries: which of LEO's checks they are, when LEO can evaluate
//! them exactly. Kyverno ANDs every attestor set (and every entry of a set unless `count`
//! says otherwise) and every attestation; LEO evaluates one set of alternatives per check and
//! one SLSA attestation per entry, so a wider entry is [`Check::Unsupported`] (an `error`
//! result), never a weaker rule that could pass.

use serde_json::Value;

use super::attestor::parse_attestors;
use super::load::{Ctx, compile, image_references};
use super::{Check, ProvenanceCheck, SignatureCheck};
use crate::error::Result;

/// `verifyImages[]` entry → checks. Kyverno verifies the image signature with the entry's
/// `attestors` and each attestation with its own `attestors`, and every one must pass; LEO
/// evaluates exactly one attestor set and at most one SLSA attestation per entry. Anything
/// wider is [`Check::Unsupported`].
pub(super) fn classify_verify_images(entry: &Value, ctx: &Ctx<'_>) -> Result<Vec<Check>> {
    let unsupported = |what: String| Ok(vec![Check::Unsupported { what }]);
    let image_references = image_references(entry);
    if entry.get("imageExtractors").is_some() {
        return unsupported("verifyImages with imageExtractors".into());
    }
    let mut checks = Vec::new();
    let has_attestors = entry
        .get("attestors")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if has_attestors {
        match kyverno_attestors(entry.get("attestors"), ctx)? {
            Ok(attestors) => checks.push(Check::RequireSigned(SignatureCheck {
                image_references: image_references.clone(),
                attestors,
            })),
            Err(what) => return unsupported(what),
        }
    }
    let attestations = entry
        .get("attestations")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    match attestations {
        [] => {}
        [a] => {
            let ty = a
                .get("predicateType")
                .or_else(|| a.get("type"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !ty.starts_with("https://slsa.dev/provenance/") {
                return unsupported(format!("attestation of type {ty:?}"));
            }
            let has_own = a
                .get("attestors")
                .and_then(Value::as_array)
                .is_some_and(|l| !l.is_empty());
            if !has_own {
                return unsupported("attestation without its own attestors".into());
            }
            let attestors = match kyverno_attestors(a.get("attestors"), ctx)? {
                Ok(list) => list,
                Err(what) => return unsupported(what),
            };
            let builder_id = match builder_regex_condition(a.get("conditions")) {
                Ok(Some(re)) => Some(compile(&re, &re, ctx)?),
                Ok(None) => None,
                Err(what) => return unsupported(what),
            };
            checks.push(Check::RequireProvenance(ProvenanceCheck {
                image_references: image_references.clone(),
                attestors,
                predicate_types: vec![ty.to_owned()],
                builder_id,
            }));
        }
        more => {
            return unsupported(format!(
                "{} attestations in one verifyImages entry (LEO evaluates one)",
                more.len()
            ));
        }
    }
    if !checks.is_empty() {
        return Ok(checks);
    }
    if entry
        .get("verifyDigest")
        .and_then(Value::as_bool)
        .unwrap_or(true)
    {
        return Ok(vec![Check::RequireDigests { image_references }]);
    }
    unsupported("verifyImages without attestors or verifyDigest".into())
}

/// A Kyverno `attestors:` list LEO evaluates exactly: one attestor set whose entries are
/// alternatives, i.e. one entry, or several with `count: 1`; each entry one key or identity.
/// `Ok(Err(what))`: a shape LEO does not evaluate (several sets are AND, entries without
/// `count` are AND, several keys in one entry are AND).
fn kyverno_attestors(
    v: Option<&Value>,
    ctx: &Ctx<'_>,
) -> Result<std::result::Result<Vec<super::Attestor>, String>> {
    let sets = v.and_then(Value::as_array).map(Vec::as_slice);
    let set = match sets {
        Some([set]) => set,
        Some(more) if more.len() > 1 => {
            return Ok(Err(format!(
                "{} attestor sets (every one must pass; LEO evaluates one)",
                more.len()
            )));
        }
        _ => return Ok(Err("attestors is not a list of attestor sets".into())),
    };
    let Some(entries) = set.get("entries").and_then(Value::as_array) else {
        return Ok(Err("an attestor set without `entries`".into()));
    };
    let count = set.get("count");
    let any_one = match count {
        None => entries.len() == 1,
        Some(c) => c.as_u64() == Some(1) && !entries.is_empty(),
    };
    if !any_one {
        return Ok(Err(format!(
            "an attestor set of {} entries with count {} (LEO evaluates one of them: one entry, or `count: 1`)",
            entries.len(),
            count.map_or_else(|| "unset (all)".to_owned(), ToString::to_string)
        )));
    }
    let mut out = Vec::new();
    for entry in entries {
        let one = parse_attestors(
            Some(&Value::Array(vec![entry.clone()])),
            ctx.base,
            ctx.origin,
        )?;
        if one.len() != 1 {
            return Ok(Err(format!(
                "an attestor entry with {} keys (every one must verify; LEO evaluates one)",
                one.len()
            )));
        }
        out.extend(one);
    }
    Ok(Ok(out))
}

/// The regular expression of a builder condition, when `conditions` is exactly one
/// `{{ regex_match('<re>', '{{ builder.id }}') }}` `Equals` `true` (under `all` or `any`);
/// `Ok(None)` when there are no conditions; `Err(what)` for anything else, which LEO cannot
/// evaluate exactly.
fn builder_regex_condition(
    conditions: Option<&Value>,
) -> std::result::Result<Option<String>, String> {
    let unsupported = |why: &str| Err(format!("attestation conditions ({why})"));
    let blocks = match conditions {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(blocks)) => blocks.as_slice(),
        Some(_) => return unsupported("not a list"),
    };
    let block = match blocks {
        [] => return Ok(None),
        [block] => block,
        _ => return unsupported("more than one condition block"),
    };
    let Some(block) = block.as_object() else {
        return unsupported("a condition block is not a map");
    };
    let mut lists = Vec::new();
    for (key, list) in block {
        match (key.as_str(), list.as_array()) {
            ("all" | "any", Some(l)) if !l.is_empty() => lists.push(l.as_slice()),
            ("all" | "any", Some(_)) => {}
            _ => return unsupported(&format!("`{key}` in a condition block")),
        }
    }
    let cond = match lists.as_slice() {
        [[cond]] => cond,
        _ => return unsupported("anything but one builder.id condition"),
    };
    let Some(fields) = cond.as_object() else {
        return unsupported("a condition is not a map");
    };
    if let Some(extra) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "key" | "operator" | "value" | "message"))
    {
        return unsupported(&format!("condition field `{extra}`"));
    }
    let operator = fields.get("operator").and_then(Value::as_str);
    if !matches!(operator, Some("Equals" | "Equal")) {
        return unsupported(&format!("operator {operator:?} is not Equals"));
    }
    let value = fields.get("value");
    let is_true =
        value == Some(&Value::Bool(true)) || value.and_then(Value::as_str) == Some("true");
    if !is_true {
        return unsupported("the value is not true");
    }
    let key = fields
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match parse_builder_regex_key(key) {
        Some(re) => Ok(Some(re)),
        None => unsupported("the key is not regex_match('<re>', '{{ builder.id }}')"),
    }
}

/// `{{ regex_match('<re>', '{{ builder.id }}') }}` → `<re>` (whitespace inside the braces
/// and around the arguments as Kyverno allows; the regex may not contain a quote).
fn parse_builder_regex_key(key: &str) -> Option<String> {
    let inner = key
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim()
        .strip_prefix("regex_match(")?
        .strip_suffix(')')?
        .trim();
    let body = inner.strip_prefix('\'')?;
    let end = body.find('\'')?;
    let re = body.get(..end)?;
    if re.ends_with('\\') {
        return None;
    }
    let rest = body.get(end + 1..)?.trim_start().strip_prefix(',')?.trim();
    let var = rest
        .strip_prefix('\'')?
        .strip_suffix('\'')?
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim();
    (var == "builder.id").then(|| re.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_policy_str;

    const KEY: &str = "{keys: {publicKeys: \"-----BEGIN PUBLIC KEY-----\\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\\n-----END PUBLIC KEY-----\\n\"}}";
    const BUILDER: &str = "\"{{ regex_match('^https://builder/.*$','{{ builder.id}}') }}\"";

    fn checks(body: &str) -> Vec<Check> {
        let doc = format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: p}}\nspec:\n  rules:\n  - name: r\n    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n{body}"
        );
        let mut p = load_policy_str(&doc, "t").unwrap();
        p.remove(0).rules.remove(0).checks
    }

    fn unsupported(checks: &[Check]) -> bool {
        matches!(checks, [Check::Unsupported { .. }])
    }

    fn slsa(attestors: &str, conditions: &str) -> String {
        format!(
            "    verifyImages:\n    - imageReferences: [\"*\"]\n      attestations:\n      - predicateType: https://slsa.dev/provenance/v0.2\n        attestors: {attestors}\n        conditions: {conditions}\n"
        )
    }

    fn one_set(entries: &str) -> String {
        format!("[{{count: 1, entries: [{entries}]}}]")
    }

    fn cond(key: &str, operator: &str) -> String {
        format!("{{key: {key}, operator: {operator}, value: true}}")
    }

    #[test]
    fn a_narrower_image_pattern_is_unsupported_not_a_digest_rule() {
        let body =
            "    validate: {pattern: {spec: {containers: [{image: \"ghcr.io/org/*@*\"}]}}}\n";
        assert!(unsupported(&checks(body)));
        // The engine reports it as `error`, not `pass`, for an image elsewhere.
        let doc = format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {{name: p}}\nspec:\n  rules:\n  - name: r\n    match: {{any: [{{resources: {{kinds: [Pod]}}}}]}}\n{body}"
        );
        let engine = crate::Engine::new(
            load_policy_str(&doc, "t").unwrap(),
            crate::EngineOptions::default(),
        );
        let pod = format!(
            "kind: Pod\nmetadata: {{name: p, namespace: shop}}\nspec: {{containers: [{{name: c, image: \"docker.io/evil@sha256:{}\"}}]}}\n",
            "a".repeat(64)
        );
        let report = engine.evaluate(&crate::parse_resources(&pod, "t").unwrap());
        assert_eq!(report.results[0].status, crate::Status::Error);
        // The bare `*@*` stays a digest rule.
        let bare = "    validate: {pattern: {spec: {containers: [{image: \"*@*\"}]}}}\n";
        assert!(matches!(
            checks(bare).as_slice(),
            [Check::RequireDigests { .. }]
        ));
    }

    #[test]
    fn only_the_exact_builder_condition_is_evaluated() {
        let ok = checks(&slsa(
            &one_set(KEY),
            &format!("[{{all: [{}]}}]", cond(BUILDER, "Equals")),
        ));
        let [Check::RequireProvenance(c)] = ok.as_slice() else {
            panic!("{ok:?}")
        };
        assert_eq!(
            c.builder_id.as_ref().map(|b| b.source.as_str()),
            Some("^https://builder/.*$")
        );
        let any = checks(&slsa(
            &one_set(KEY),
            &format!("[{{any: [{}]}}]", cond(BUILDER, "Equals")),
        ));
        assert!(matches!(any.as_slice(), [Check::RequireProvenance(_)]));
        let none = checks(&slsa(&one_set(KEY), "[]"));
        assert!(matches!(none.as_slice(), [Check::RequireProvenance(c)] if c.builder_id.is_none()));
        for conditions in [
            // NotEquals would invert the rule.
            format!("[{{all: [{}]}}]", cond(BUILDER, "NotEquals")),
            // A builder.id condition that is not regex_match.
            format!("[{{all: [{}]}}]", cond("\"{{ builder.id }}\"", "Equals")),
            // Any other condition beside it.
            format!(
                "[{{all: [{}, {}]}}]",
                cond(BUILDER, "Equals"),
                cond("\"{{ invocation.parameters.x }}\"", "Equals")
            ),
            format!(
                "[{{all: [{}]}}, {{any: [{}]}}]",
                cond(BUILDER, "Equals"),
                cond(BUILDER, "Equals")
            ),
            format!(
                "[{{all: [{}], any: [{}]}}]",
                cond(BUILDER, "Equals"),
                cond(BUILDER, "Equals")
            ),
            format!("[{{all: [{{key: {BUILDER}, operator: Equals, value: false}}]}}]"),
        ] {
            let got = checks(&slsa(&one_set(KEY), &conditions));
            assert!(unsupported(&got), "{conditions}: {got:?}");
        }
    }

    #[test]
    fn attestor_sets_are_and_so_only_one_of_alternatives_is_evaluated() {
        let signed = |attestors: &str| {
            checks(&format!(
                "    verifyImages:\n    - imageReferences: [\"*\"]\n      attestors: {attestors}\n"
            ))
        };
        let two = signed(&format!("[{{count: 1, entries: [{KEY}, {KEY}]}}]"));
        assert!(
            matches!(two.as_slice(), [Check::RequireSigned(c)] if c.attestors.len() == 2),
            "{two:?}"
        );
        assert!(matches!(
            signed(&format!("[{{entries: [{KEY}]}}]")).as_slice(),
            [Check::RequireSigned(_)]
        ));
        for attestors in [
            format!("[{{entries: [{KEY}, {KEY}]}}]"),
            format!("[{{count: 2, entries: [{KEY}, {KEY}]}}]"),
            format!("[{{entries: [{KEY}]}}, {{entries: [{KEY}]}}]"),
            format!("[{KEY}]"),
        ] {
            assert!(unsupported(&signed(&attestors)), "{attestors}");
        }
        // Two attestations are two checks that must both pass.
        let two_attestations = format!(
            "    verifyImages:\n    - imageReferences: [\"*\"]\n      attestations:\n      - {{predicateType: https://slsa.dev/provenance/v0.2, attestors: {a}}}\n      - {{predicateType: https://slsa.dev/provenance/v1, attestors: {a}}}\n",
            a = one_set(KEY)
        );
        assert!(unsupported(&checks(&two_attestations)));
        // Image attestors and an attestation: a signature check and a provenance check.
        let both = format!(
            "    verifyImages:\n    - imageReferences: [\"*\"]\n      attestors: {a}\n      attestations:\n      - {{predicateType: https://slsa.dev/provenance/v0.2, attestors: {a}}}\n",
            a = one_set(KEY)
        );
        assert!(matches!(
            checks(&both).as_slice(),
            [Check::RequireSigned(_), Check::RequireProvenance(_)]
        ));
        // An attestation without its own attestors.
        let bare = "    verifyImages:\n    - imageReferences: [\"*\"]\n      attestations:\n      - {predicateType: https://slsa.dev/provenance/v0.2}\n";
        assert!(unsupported(&checks(bare)));
    }
}
