//! Namespace exemptions (SOP §11.7 and the §11.8 compliance matrix).
//!
//! System namespaces are exempt from every policy; development namespaces are exempt from
//! the digest and SLSA rules, not from signatures. Both lists are configuration: an
//! exempted resource is reported `skip`, with the reason, never silently dropped.

use serde::{Deserialize, Serialize};

use crate::policy::{Check, Rule};
use crate::wildcard::any_matches;

/// SOP §11.7: always exempt.
pub const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];
/// SOP §11.7: exempt from require-image-digests and require-slsa-provenance (§11.8).
pub const DEVELOPMENT_NAMESPACES: [&str; 3] = ["development", "dev", "sandbox"];

/// Which namespaces are exempt from what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exemptions {
    /// Exempt from every rule (namespace wildcards).
    pub system: Vec<String>,
    /// Exempt from rules that check only digests and/or SLSA provenance.
    pub development: Vec<String>,
}

impl Default for Exemptions {
    fn default() -> Self {
        Self::sop()
    }
}

impl Exemptions {
    /// The SOP's lists.
    pub fn sop() -> Self {
        Exemptions {
            system: SYSTEM_NAMESPACES.iter().map(|s| (*s).to_owned()).collect(),
            development: DEVELOPMENT_NAMESPACES
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }

    /// No exemptions (Kyverno's own behaviour).
    pub fn none() -> Self {
        Exemptions {
            system: Vec::new(),
            development: Vec::new(),
        }
    }

    /// Why `rule` does not apply in `namespace`, if it does not.
    pub fn reason(&self, rule: &Rule, namespace: &str) -> Option<String> {
        if any_matches(&self.system, namespace) {
            return Some(format!(
                "namespace {namespace} is a system namespace (SOP §11.7)"
            ));
        }
        let dev_rule = !rule.checks.is_empty()
            && rule.checks.iter().all(|c| {
                matches!(
                    c,
                    Check::RequireDigests { .. } | Check::RequireProvenance(_)
                )
            });
        if dev_rule && any_matches(&self.development, namespace) {
            return Some(format!(
                "namespace {namespace} is a development namespace, exempt from digest and SLSA rules (SOP §11.7)"
            ));
        }
        None
    }
}
