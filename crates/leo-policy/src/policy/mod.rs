//! The policy model: what a rule matches, what it excludes, what it checks and what a
//! failure does (Audit or Enforce, per namespace).
//!
//! LEO's policy files use Kyverno's `ClusterPolicy` shape (`match`, `exclude`,
//! `validationFailureAction`, `validationFailureActionOverrides`, autogen annotation) with
//! three explicit rule bodies (`requireImageDigests`, `requireSignedImages`,
//! `requireSlsaProvenance`); Kyverno `ClusterPolicy` files are read too, and their rules are
//! recognised as one of the three where they are one ([`load`]). The schema is documented in
//! `docs/policies.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

mod attestor;
mod load;
mod verify_images;

pub use attestor::Attestor;
pub use load::{load_policies, load_policy_file, load_policy_str};

/// What a failure does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FailureAction {
    /// Report (Kyverno: the resource is admitted, a policy report records the failure).
    Audit,
    /// Block (Kyverno: the admission request is denied).
    Enforce,
}

impl FailureAction {
    /// Parses Kyverno's spellings (`Audit`, `audit`, `Enforce`, `enforce`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Audit" | "audit" => Some(Self::Audit),
            "Enforce" | "enforce" => Some(Self::Enforce),
            _ => None,
        }
    }
}

/// `validationFailureActionOverrides[]`: another action in some namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionOverride {
    /// The action there.
    pub action: FailureAction,
    /// Namespace wildcards.
    pub namespaces: Vec<String>,
}

/// Which pod controllers get Kyverno's auto-generated rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Autogen {
    /// Controllers checked as `autogen-<rule>` (not CronJob).
    pub controllers: Vec<String>,
    /// Whether CronJobs are checked as `autogen-cronjob-<rule>`.
    pub cronjob: bool,
}

impl Autogen {
    /// Kyverno's default: every pod controller and CronJob.
    pub fn all() -> Self {
        Autogen {
            controllers: crate::resource::POD_CONTROLLERS
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            cronjob: true,
        }
    }

    /// `pod-policies.kyverno.io/autogen-controllers: none`.
    pub fn none() -> Self {
        Autogen {
            controllers: Vec::new(),
            cronjob: false,
        }
    }
}

/// One resource filter (`match.any[].resources`, `exclude.any[].resources`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// Kinds (`Pod`, `apps/v1/Deployment`, `*`); empty: any.
    pub kinds: Vec<String>,
    /// Name wildcards; empty: any.
    pub names: Vec<String>,
    /// Namespace wildcards; empty: any.
    pub namespaces: Vec<String>,
    /// `selector.matchLabels`; empty: any.
    pub match_labels: BTreeMap<String, String>,
}

/// `match` or `exclude`: any of `any`, and all of `all`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// At least one must match (when non-empty).
    pub any: Vec<Filter>,
    /// Every one must match (when non-empty).
    pub all: Vec<Filter>,
}

impl Selection {
    /// Whether the selection has no filter at all.
    pub fn is_empty(&self) -> bool {
        self.any.is_empty() && self.all.is_empty()
    }

    /// Every filter, `any` then `all`.
    pub fn filters(&self) -> impl Iterator<Item = &Filter> {
        self.any.iter().chain(&self.all)
    }
}

/// A `builder.id` rule, compiled once when the policy is loaded.
#[derive(Clone, Debug)]
pub struct BuilderPattern {
    /// The pattern as written.
    pub source: String,
    /// The compiled expression.
    pub regex: regex::Regex,
}

/// `requireSignedImages`: a valid signature by one of the attestors over each image digest.
#[derive(Clone, Debug)]
pub struct SignatureCheck {
    /// Image wildcards the check applies to.
    pub image_references: Vec<String>,
    /// Who may sign (any one suffices).
    pub attestors: Vec<Attestor>,
}

/// `requireSlsaProvenance`: a verified in-toto SLSA provenance about each image digest.
#[derive(Clone, Debug)]
pub struct ProvenanceCheck {
    /// Image wildcards the check applies to.
    pub image_references: Vec<String>,
    /// Who may sign the attestation (any one suffices).
    pub attestors: Vec<Attestor>,
    /// Accepted `predicateType`s (SLSA v0.2 and/or v1).
    pub predicate_types: Vec<String>,
    /// The rule `builder.id` must satisfy (none: any builder).
    pub builder_id: Option<BuilderPattern>,
}

/// What a rule checks.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Check {
    /// Every image pinned by `@sha256:<64 hex>`.
    RequireDigests {
        /// Image wildcards the check applies to.
        image_references: Vec<String>,
    },
    /// Signed images.
    RequireSigned(SignatureCheck),
    /// SLSA provenance.
    RequireProvenance(ProvenanceCheck),
    /// A Kyverno rule LEO does not evaluate. Matching and exclusion still apply (a resource it
    /// would skip is reported `skip`); a resource it would evaluate is reported `error`.
    Unsupported {
        /// What the rule does.
        what: String,
    },
}

impl Check {
    /// A short name for reports.
    pub fn name(&self) -> &'static str {
        match self {
            Check::RequireDigests { .. } => "require-image-digests",
            Check::RequireSigned(_) => "require-signed-images",
            Check::RequireProvenance(_) => "require-slsa-provenance",
            Check::Unsupported { .. } => "unsupported",
        }
    }
}

/// One rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The rule's name (results use `autogen-<name>` for controllers).
    pub name: String,
    /// Which resources it applies to.
    pub matches: Selection,
    /// Which of those it skips.
    pub excludes: Selection,
    /// The rule's own failure action, overriding the policy's.
    pub action: Option<FailureAction>,
    /// What it checks (all must pass).
    pub checks: Vec<Check>,
}

/// One policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// `metadata.name`.
    pub name: String,
    /// For a namespaced `Policy`: its namespace (it applies only there).
    pub namespace: Option<String>,
    /// Where it was read from.
    pub origin: String,
    /// `validationFailureAction` (default Audit, as Kyverno).
    pub action: FailureAction,
    /// `validationFailureActionOverrides`.
    pub overrides: Vec<ActionOverride>,
    /// Autogen controllers.
    pub autogen: Autogen,
    /// The rules.
    pub rules: Vec<Rule>,
}

impl Policy {
    /// The action for a failure of `rule` in `namespace`: the first matching override, else
    /// the rule's action, else the policy's.
    pub fn action_for(&self, rule: &Rule, namespace: &str) -> FailureAction {
        self.overrides
            .iter()
            .find(|o| crate::wildcard::any_matches(&o.namespaces, namespace))
            .map(|o| o.action)
            .or(rule.action)
            .unwrap_or(self.action)
    }
}
