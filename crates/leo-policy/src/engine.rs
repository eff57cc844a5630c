//! Evaluation: one [`RuleResult`] per rule × resource, Kyverno's way.
//!
//! - A rule applies to the kinds it matches. A rule matching `Pod` also applies to pod
//!   controllers as `autogen-<rule>` and to CronJobs as `autogen-cronjob-<rule>`, unless
//!   the policy's autogen annotation says otherwise. Unmatched resources get no result.
//! - Matched but excluded (`exclude`, or an exempt namespace): `skip`.
//! - A failed check: `fail`, or `warn` for an Audit failure when
//!   [`EngineOptions::audit_warn`] is set (`kyverno apply --audit-warn`). A check that could
//!   not run (unsupported rule, no attestation store): `error`.
//! - [`Report::blocks`] is `kyverno apply`'s exit status: any `fail` or `error`.
//!
//! Signature and provenance outcomes are computed once per (rule, image digest).

use std::collections::HashMap;
use std::sync::Mutex;

use leo_artifact::Sha256Digest;
use serde::Serialize;

pub use crate::failure::Failure;

use crate::exempt::Exemptions;
use crate::image::{Pin, pin_of, without_digest};
use crate::policy::{Check, FailureAction, Filter, Policy, Rule, Selection};
use crate::resource::{ContainerImage, Resource, ResourceId, Workload};
use crate::store::{AttestationStore, Evidence};
use crate::wildcard::{any_matches, matches};

/// A result's status (Kyverno's policy report vocabulary).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Every check passed.
    Pass,
    /// A check failed.
    Fail,
    /// A check failed under Audit, reported as a warning.
    Warn,
    /// The rule could not be evaluated.
    Error,
    /// Matched but excluded or exempt.
    Skip,
}

impl Status {
    /// Parses `pass`, `fail`, `warn`, `error`, `skip`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pass" => Self::Pass,
            "fail" => Self::Fail,
            "warn" => Self::Warn,
            "error" => Self::Error,
            "skip" => Self::Skip,
            _ => return None,
        })
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Warn => "warn",
            Self::Error => "error",
            Self::Skip => "skip",
        }
    }
}

/// One rule × resource result. Serialisable, so an audit trail can record it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    /// The policy's name.
    pub policy: String,
    /// The rule's name as Kyverno reports it (`autogen-` prefixes for controllers).
    pub rule: String,
    /// The resource.
    pub resource: ResourceId,
    /// The outcome.
    pub status: Status,
    /// The failure action in force for this resource.
    pub action: FailureAction,
    /// A one-line explanation.
    pub message: String,
    /// Every failed check (empty unless `fail`, `warn` or `error`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<Failure>,
    /// What was verified (signatures, attestations) for passing checks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
    /// The distinct digests of the in-scope images pinned by a valid digest, sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub image_digests: Vec<Sha256Digest>,
}

impl RuleResult {
    /// The one image digest this result is about: every image the rule's checks covered is
    /// pinned, all to the same digest. `None` when there were none, several, or an unpinned
    /// (or malformed) image among them.
    pub fn image_digest(&self) -> Option<Sha256Digest> {
        let unpinned = self.failures.iter().any(|f| {
            matches!(
                f,
                Failure::DigestMissing { .. } | Failure::DigestMalformed { .. }
            )
        });
        match self.image_digests.as_slice() {
            [one] if !unpinned => Some(*one),
            _ => None,
        }
    }
}

/// Counts per status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// `pass` results.
    pub pass: usize,
    /// `fail` results.
    pub fail: usize,
    /// `warn` results.
    pub warn: usize,
    /// `error` results.
    pub error: usize,
    /// `skip` results.
    pub skip: usize,
}

/// Every result of an evaluation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// In policy, rule, resource order.
    pub results: Vec<RuleResult>,
}

impl Report {
    /// Counts per status.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for r in &self.results {
            match r.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Warn => s.warn += 1,
                Status::Error => s.error += 1,
                Status::Skip => s.skip += 1,
            }
        }
        s
    }

    /// Whether `kyverno apply` would exit non-zero: any `fail` or `error`.
    pub fn blocks(&self) -> bool {
        self.results
            .iter()
            .any(|r| matches!(r.status, Status::Fail | Status::Error))
    }

    /// Whether any Enforce-mode `fail` or `error` exists (what an admission controller would
    /// deny: a rule LEO could not evaluate never admits silently).
    pub fn denies(&self) -> bool {
        self.results.iter().any(|r| {
            matches!(r.status, Status::Fail | Status::Error) && r.action == FailureAction::Enforce
        })
    }
}

/// How the engine runs.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Namespace exemptions (default: the SOP's).
    pub exemptions: Exemptions,
    /// Report Audit failures as `warn` (`kyverno apply --audit-warn`).
    pub audit_warn: bool,
    /// Where signatures and attestations are read from.
    pub store: Option<AttestationStore>,
}

/// How a rule reaches a resource.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Direct,
    Autogen,
    AutogenCronJob,
}

type Outcome = std::result::Result<Evidence, Failure>;

/// The policy engine: policies plus options; evaluation takes `&self`.
#[derive(Debug)]
pub struct Engine {
    policies: Vec<Policy>,
    options: EngineOptions,
    cache: Mutex<HashMap<(usize, usize, usize, Sha256Digest), Outcome>>,
}

impl Engine {
    /// An engine for `policies`.
    pub fn new(policies: Vec<Policy>, options: EngineOptions) -> Self {
        Engine {
            policies,
            options,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The policies.
    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    /// Evaluates every policy against every resource.
    pub fn evaluate(&self, resources: &[Resource]) -> Report {
        let mut results = Vec::new();
        for (pi, policy) in self.policies.iter().enumerate() {
            for (ri, rule) in policy.rules.iter().enumerate() {
                for resource in resources {
                    if let Some(r) = self.evaluate_one(pi, policy, ri, rule, resource) {
                        results.push(r);
                    }
                }
            }
        }
        Report { results }
    }

    fn evaluate_one(
        &self,
        pi: usize,
        policy: &Policy,
        ri: usize,
        rule: &Rule,
        resource: &Resource,
    ) -> Option<RuleResult> {
        let namespace = resource.effective_namespace();
        if policy
            .namespace
            .as_deref()
            .is_some_and(|ns| ns != namespace)
        {
            return None;
        }
        let variant = applicable_variant(policy, rule, resource)?;
        let name = match variant {
            Variant::Direct => rule.name.clone(),
            Variant::Autogen => format!("autogen-{}", rule.name),
            Variant::AutogenCronJob => format!("autogen-cronjob-{}", rule.name),
        };
        let action = policy.action_for(rule, namespace);
        let mut result = RuleResult {
            policy: policy.name.clone(),
            rule: name,
            resource: resource.id.clone(),
            status: Status::Skip,
            action,
            message: String::new(),
            failures: Vec::new(),
            evidence: Vec::new(),
            image_digests: Vec::new(),
        };
        if !rule.excludes.is_empty() && selection_matches(&rule.excludes, resource, variant) {
            result.message = "excluded by the rule's exclude block".into();
            return Some(result);
        }
        if let Some(reason) = self.options.exemptions.reason(rule, namespace) {
            result.message = reason;
            return Some(result);
        }
        let mut checked_any = false;
        for (ci, check) in rule.checks.iter().enumerate() {
            checked_any |= self.run_check((pi, ri, ci), check, resource, &mut result);
        }
        result.status = if result.failures.iter().any(|f| !f.is_error()) {
            if action == FailureAction::Audit && self.options.audit_warn {
                Status::Warn
            } else {
                Status::Fail
            }
        } else if !result.failures.is_empty() {
            Status::Error
        } else if checked_any {
            Status::Pass
        } else {
            Status::Skip
        };
        result.message = match result.status {
            Status::Pass => "all checks passed".into(),
            Status::Skip => "no image matched the rule's imageReferences".into(),
            _ => result
                .failures
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
        };
        Some(result)
    }

    /// Runs one check; returns whether any image was in its scope.
    fn run_check(
        &self,
        key: (usize, usize, usize),
        check: &Check,
        resource: &Resource,
        result: &mut RuleResult,
    ) -> bool {
        let refs = match check {
            Check::RequireDigests { image_references } => image_references,
            Check::RequireSigned(c) => &c.image_references,
            Check::RequireProvenance(c) => &c.image_references,
            Check::Unsupported { what } => {
                result
                    .failures
                    .push(Failure::UnsupportedRule { what: what.clone() });
                return true;
            }
        };
        let mut in_scope = false;
        for image in resource.images.iter().filter(|i| in_references(refs, i)) {
            in_scope = true;
            let container = format!("{}/{}", image.list, image.container);
            let digest = match pin_of(&image.image) {
                Pin::Pinned { digest } => {
                    if let Err(at) = result.image_digests.binary_search(&digest) {
                        result.image_digests.insert(at, digest);
                    }
                    digest
                }
                Pin::Missing => {
                    result.failures.push(Failure::DigestMissing {
                        container,
                        image: image.image.clone(),
                    });
                    continue;
                }
                Pin::Malformed { reason } => {
                    result.failures.push(Failure::DigestMalformed {
                        container,
                        image: image.image.clone(),
                        reason: reason.to_owned(),
                    });
                    continue;
                }
            };
            if matches!(check, Check::RequireDigests { .. }) {
                continue;
            }
            match self.verified(key, check, &image.image, &digest) {
                Ok(evidence) => result.evidence.push(evidence),
                Err(failure) => result.failures.push(failure),
            }
        }
        in_scope
    }

    fn verified(
        &self,
        key: (usize, usize, usize),
        check: &Check,
        image: &str,
        digest: &Sha256Digest,
    ) -> Outcome {
        let Some(store) = &self.options.store else {
            return Err(Failure::StoreNotConfigured);
        };
        let cache_key = (key.0, key.1, key.2, *digest);
        if let Some(hit) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(&cache_key).cloned())
        {
            return relabel(hit, image);
        }
        let outcome = match check {
            Check::RequireSigned(c) => store.verify_signature(digest, c, image),
            Check::RequireProvenance(c) => store.verify_provenance(digest, c, image),
            _ => return Err(Failure::StoreNotConfigured),
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(cache_key, outcome.clone());
        }
        outcome
    }
}

/// A cached outcome names the image it was first computed for; name this one instead.
fn relabel(outcome: Outcome, image: &str) -> Outcome {
    let set = |slot: &mut String| image.clone_into(slot);
    outcome.map_err(|mut f| {
        match &mut f {
            Failure::NoSignature { image }
            | Failure::SignatureUntrusted { image, .. }
            | Failure::SignatureSubjectMismatch { image, .. }
            | Failure::NoAttestation { image }
            | Failure::AttestationUntrusted { image, .. }
            | Failure::AttestationSubjectMismatch { image, .. }
            | Failure::PredicateTypeNotAccepted { image, .. }
            | Failure::BuilderNotAllowed { image, .. }
            | Failure::LegacyStatement { image, .. }
            | Failure::ProvenanceMalformed { image, .. } => set(image),
            _ => {}
        }
        f
    })
}

fn in_references(refs: &[String], image: &ContainerImage) -> bool {
    refs.iter()
        .any(|p| matches(p, &image.image) || matches(p, without_digest(&image.image)))
}

fn applicable_variant(policy: &Policy, rule: &Rule, resource: &Resource) -> Option<Variant> {
    if selection_matches(&rule.matches, resource, Variant::Direct) {
        return Some(Variant::Direct);
    }
    let variant = match resource.workload {
        Workload::Controller if policy.autogen.controllers.contains(&resource.id.kind) => {
            Variant::Autogen
        }
        Workload::CronJob if policy.autogen.cronjob => Variant::AutogenCronJob,
        _ => return None,
    };
    selection_matches(&rule.matches, resource, variant).then_some(variant)
}

fn selection_matches(selection: &Selection, resource: &Resource, variant: Variant) -> bool {
    if selection.is_empty() {
        return false;
    }
    (selection.any.is_empty()
        || selection
            .any
            .iter()
            .any(|f| filter_matches(f, resource, variant)))
        && selection
            .all
            .iter()
            .all(|f| filter_matches(f, resource, variant))
}

fn filter_matches(filter: &Filter, resource: &Resource, variant: Variant) -> bool {
    let kind_ok = filter.kinds.is_empty()
        || filter.kinds.iter().any(|k| {
            // `Pod`, `v1/Pod` and `apps/v1/Deployment` all name a kind by their last segment.
            let kind = k.rsplit('/').next().unwrap_or(k);
            match variant {
                Variant::Direct => kind == "*" || matches(kind, &resource.id.kind),
                // An autogen rule is the Pod rule rewritten for the controller.
                Variant::Autogen | Variant::AutogenCronJob => kind == "Pod",
            }
        });
    kind_ok
        && (filter.names.is_empty() || any_matches(&filter.names, &resource.id.name))
        && (filter.namespaces.is_empty()
            || any_matches(&filter.namespaces, resource.effective_namespace()))
        && filter
            .match_labels
            .iter()
            .all(|(k, v)| resource.labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{load_policy_str, parse_resources};

    const POLICY: &str = r#"
apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata: {name: digests}
spec:
  validationFailureAction: Enforce
  validationFailureActionOverrides:
    - {action: Audit, namespaces: ["staging-*"]}
  rules:
  - name: d
    match: {any: [{resources: {kinds: [Pod]}}]}
    validate: {pattern: {spec: {containers: [{image: "*@*"}]}}}
"#;

    fn run(namespace: &str, audit_warn: bool) -> RuleResult {
        let pod = format!(
            "kind: Pod\nmetadata: {{name: p, namespace: {namespace}}}\nspec: {{containers: [{{name: c, image: nginx}}]}}\n"
        );
        let options = EngineOptions {
            audit_warn,
            ..EngineOptions::default()
        };
        let engine = Engine::new(load_policy_str(POLICY, "t").unwrap(), options);
        let mut report = engine.evaluate(&parse_resources(&pod, "t").unwrap());
        report.results.remove(0)
    }

    #[test]
    fn namespace_overrides_switch_enforce_to_audit() {
        let shop = run("shop", true);
        assert_eq!(
            (shop.action, shop.status),
            (FailureAction::Enforce, Status::Fail)
        );
        let staging = run("staging-eu", false);
        assert_eq!(
            (staging.action, staging.status),
            (FailureAction::Audit, Status::Fail)
        );
        let warned = run("staging-eu", true);
        assert_eq!(
            (warned.action, warned.status),
            (FailureAction::Audit, Status::Warn)
        );
        let report = Report {
            results: vec![warned],
        };
        assert!(!report.blocks() && !report.denies());
        let report = Report {
            results: vec![shop],
        };
        assert!(report.blocks() && report.denies());
    }

    #[test]
    fn a_result_names_its_image_digest_only_when_there_is_exactly_one() {
        let engine = Engine::new(
            load_policy_str(POLICY, "t").unwrap(),
            EngineOptions::default(),
        );
        let pinned = |n: char| format!("nginx@sha256:{}", n.to_string().repeat(64));
        let pod = |images: &[String]| {
            let list: Vec<String> = images
                .iter()
                .enumerate()
                .map(|(i, img)| format!("{{name: c{i}, image: \"{img}\"}}"))
                .collect();
            format!(
                "kind: Pod\nmetadata: {{name: p, namespace: shop}}\nspec: {{containers: [{}]}}\n",
                list.join(", ")
            )
        };
        let digest_of = |images: &[String]| {
            let report = engine.evaluate(&parse_resources(&pod(images), "t").unwrap());
            report.results[0].image_digest()
        };
        let one: Sha256Digest = "a".repeat(64).parse().unwrap();
        assert_eq!(digest_of(&[pinned('a')]), Some(one));
        assert_eq!(digest_of(&[pinned('a'), pinned('a')]), Some(one));
        assert_eq!(digest_of(&[pinned('a'), pinned('b')]), None);
        assert_eq!(digest_of(&[pinned('a'), "nginx:1".into()]), None);
        assert_eq!(digest_of(&["nginx:1".into()]), None);
    }

    #[test]
    fn unsupported_rules_still_match_and_exclude() {
        let policy = POLICY.replace(
            "validate: {pattern: {spec: {containers: [{image: \"*@*\"}]}}}",
            "exclude: {any: [{resources: {namespaces: [skipme]}}]}\n    validate: {pattern: {spec: {containers: [{resources: {limits: {memory: \"?*\"}}}]}}}",
        );
        let engine = Engine::new(
            load_policy_str(&policy, "t").unwrap(),
            EngineOptions::default(),
        );
        let pods = parse_resources(
            "kind: Pod\nmetadata: {name: a, namespace: skipme}\n---\nkind: Pod\nmetadata: {name: b, namespace: shop}\n",
            "t",
        )
        .unwrap();
        let report = engine.evaluate(&pods);
        assert_eq!(report.results[0].status, Status::Skip);
        assert_eq!(report.results[1].status, Status::Error);
        assert!(matches!(
            report.results[1].failures[0],
            Failure::UnsupportedRule { .. }
        ));
        // Under Enforce, an `error` denies like a `fail`; under Audit it does not.
        assert_eq!(report.results[1].action, FailureAction::Enforce);
        let error_only = Report {
            results: vec![report.results[1].clone()],
        };
        assert!(error_only.blocks() && error_only.denies());
        let mut audited = report.results[1].clone();
        audited.action = FailureAction::Audit;
        assert!(
            !Report {
                results: vec![audited]
            }
            .denies()
        );
    }
}
