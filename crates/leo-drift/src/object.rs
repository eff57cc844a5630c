//! Kubernetes objects as LEO sees them: an identity (group/kind/namespace/name) and a body.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// Kinds the API server keeps outside namespaces. A desired object of one of these kinds never
/// gets the default namespace; for kinds not listed, matching falls back to cluster scope.
pub const CLUSTER_SCOPED_KINDS: &[&str] = &[
    "APIService",
    "CertificateSigningRequest",
    "ClusterIssuer",
    "ClusterPolicy",
    "ClusterRole",
    "ClusterRoleBinding",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// Which object a manifest describes: API group (not version), kind, namespace, name.
///
/// The version is left out on purpose: the API server converts between versions
/// (`apps/v1beta1` and `apps/v1` name the same Deployment). An empty namespace means
/// cluster-scoped.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourceKey {
    /// API group; empty for the core group (`v1`).
    pub group: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace; empty for cluster-scoped objects.
    #[serde(default)]
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl ResourceKey {
    /// Whether this key names a Secret of the core group (whose values are never printed).
    pub fn is_secret(&self) -> bool {
        self.group.is_empty() && self.kind == "Secret"
    }

    /// Whether `kind` is known to be cluster-scoped (see [`CLUSTER_SCOPED_KINDS`]).
    pub fn is_cluster_scoped_kind(kind: &str) -> bool {
        CLUSTER_SCOPED_KINDS.contains(&kind)
    }

    /// The `kind.group` resource name kubectl accepts (`deployment.apps`, `secret`).
    pub fn kubectl_type(&self) -> String {
        let kind = self.kind.to_ascii_lowercase();
        if self.group.is_empty() {
            kind
        } else {
            format!("{kind}.{}", self.group)
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        f.write_str("/")?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        f.write_str(&self.name)
    }
}

/// The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → ``).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// One Kubernetes object read from a manifest or from the cluster.
///
/// `Debug` prints only the identity: bodies may hold Secret values.
#[derive(Clone, PartialEq)]
pub struct Manifest {
    api_version: String,
    kind: String,
    name: String,
    namespace: Option<String>,
    body: Value,
    origin: String,
}

impl fmt::Debug for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest")
            .field("api_version", &self.api_version)
            .field("kind", &self.kind)
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Manifest {
    /// Parses an object body; it must carry `apiVersion`, `kind` and `metadata.name` as
    /// non-empty strings. `origin` and `index` only feed error messages.
    pub fn from_value(body: Value, origin: &str, index: usize) -> Result<Self> {
        let missing = |field| Error::MissingIdentity {
            origin: origin.to_owned(),
            index,
            field,
        };
        fn text(v: Option<&Value>) -> Option<&str> {
            v.and_then(Value::as_str).filter(|s| !s.is_empty())
        }
        let api_version = text(body.get("apiVersion")).ok_or(missing("apiVersion"))?;
        let kind = text(body.get("kind")).ok_or(missing("kind"))?;
        let metadata = body.get("metadata");
        let name = text(metadata.and_then(|m| m.get("name"))).ok_or(missing("metadata.name"))?;
        let namespace = match metadata.and_then(|m| m.get("namespace")) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
            Some(_) => return Err(missing("metadata.namespace")),
        };
        Ok(Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            name: name.to_owned(),
            namespace,
            origin: origin.to_owned(),
            body,
        })
    }

    /// `apiVersion`.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `metadata.namespace` as written (absent or empty → `None`).
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Where the object was read from (a path, or `<input>`).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The whole object.
    pub fn body(&self) -> &Value {
        &self.body
    }

    /// The key for matching; a missing namespace becomes `default_namespace` unless the kind is
    /// known to be cluster-scoped.
    pub fn key(&self, default_namespace: &str) -> ResourceKey {
        let namespace = match &self.namespace {
            Some(ns) => ns.clone(),
            None if ResourceKey::is_cluster_scoped_kind(&self.kind) => String::new(),
            None => default_namespace.to_owned(),
        };
        ResourceKey {
            group: group_of(&self.api_version).to_owned(),
            kind: self.kind.clone(),
            namespace,
            name: self.name.clone(),
        }
    }
}
