//! Kubernetes manifests → [`Resource`]s, each document parsed exactly once into only the
//! fields policies read (kind, name, namespace, labels, container images).
//!
//! Inputs: multi-document YAML (`kustomize build` output), a JSON object, a JSON `List` /
//! `*List` (`kubectl get -o json`). Pod templates are found in Pods, Deployments, DaemonSets,
//! StatefulSets, ReplicaSets, ReplicationControllers, Jobs (`spec.template.spec`) and
//! CronJobs (`spec.jobTemplate.spec.template.spec`); every container list counts.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest manifest file read (bytes).
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;
/// Most resources read from one input.
pub const MAX_RESOURCES: usize = 1_000_000;
/// Most files read from one directory.
pub const MAX_FILES: usize = 20_000;

/// Kinds whose `spec.template.spec` is a pod spec (Kyverno's default autogen controllers).
pub const POD_CONTROLLERS: [&str; 6] = [
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
];

/// Which container list an image came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ContainerList {
    /// `containers`.
    Containers,
    /// `initContainers`.
    InitContainers,
    /// `ephemeralContainers`.
    EphemeralContainers,
}

impl fmt::Display for ContainerList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Containers => "containers",
            Self::InitContainers => "initContainers",
            Self::EphemeralContainers => "ephemeralContainers",
        })
    }
}

/// One container's image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContainerImage {
    /// The list it is in.
    pub list: ContainerList,
    /// The container's name.
    pub container: String,
    /// The image reference as written (empty when the container has none).
    pub image: String,
}

/// Where a resource keeps its pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// A Pod.
    Pod,
    /// A controller with `spec.template` (Deployment, Job, ...).
    Controller,
    /// A CronJob.
    CronJob,
    /// Anything else: no pod spec.
    Other,
}

/// Kind, namespace and name: how results and test files name a resource.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ResourceId {
    /// `kind`.
    pub kind: String,
    /// `metadata.namespace`, if written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// A Kubernetes object as policies see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// Kind, namespace, name.
    pub id: ResourceId,
    /// `apiVersion`.
    pub api_version: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// Where the pod spec is.
    pub workload: Workload,
    /// Every container image of the pod spec, in document order.
    pub images: Vec<ContainerImage>,
}

impl Resource {
    /// The namespace used for matching: as written, else `default` (as `kubectl apply` would).
    pub fn effective_namespace(&self) -> &str {
        self.id.namespace.as_deref().unwrap_or("default")
    }
}

#[derive(Deserialize)]
struct WireDoc {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
    #[serde(default)]
    metadata: Option<WireMeta>,
    #[serde(default)]
    spec: Option<WireSpec>,
    #[serde(default)]
    items: Option<Vec<Option<WireDoc>>>,
}

#[derive(Deserialize, Default)]
struct WireMeta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

/// A pod spec, a controller spec (`template`) or a CronJob spec (`jobTemplate`): the fields
/// are disjoint, so one type walks all three shapes.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WireSpec {
    #[serde(default)]
    containers: Option<Vec<WireContainer>>,
    #[serde(default)]
    init_containers: Option<Vec<WireContainer>>,
    #[serde(default)]
    ephemeral_containers: Option<Vec<WireContainer>>,
    #[serde(default)]
    template: Option<Box<WireTemplate>>,
    #[serde(default)]
    job_template: Option<Box<WireTemplate>>,
}

#[derive(Deserialize)]
struct WireTemplate {
    #[serde(default)]
    spec: Option<WireSpec>,
}

#[derive(Deserialize)]
struct WireContainer {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    image: Option<String>,
}

/// Streams with at least this many documents are parsed on several threads.
pub const PARALLEL_MIN_DOCUMENTS: usize = 512;
/// Most parser threads.
pub const MAX_PARSE_THREADS: usize = 8;

/// Parses a stream of manifests (YAML documents, a JSON object or a JSON list). Each
/// document is parsed once; large streams are split at their `---` markers and parsed on
/// several threads, results kept in document order.
pub fn parse_resources(text: &str, origin: &str) -> Result<Vec<Resource>> {
    let mut out = Vec::new();
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let doc: WireDoc = serde_json::from_str(text).map_err(|e| Error::Syntax {
            origin: origin.to_owned(),
            document: 1,
            reason: e.to_string(),
        })?;
        push_doc(doc, origin, 1, &mut out)?;
        return Ok(out);
    }
    match split_documents(text) {
        Some(docs) if docs.len() >= PARALLEL_MIN_DOCUMENTS => parse_parallel(&docs, origin),
        _ => {
            parse_stream(text, origin, 0, &mut out)?;
            Ok(out)
        }
    }
}

/// Parses a YAML stream whose first document is number `first + 1`.
fn parse_stream(text: &str, origin: &str, first: usize, out: &mut Vec<Resource>) -> Result<()> {
    for (i, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let number = first.saturating_add(i).saturating_add(1);
        let doc = Option::<WireDoc>::deserialize(document).map_err(|e| Error::Syntax {
            origin: origin.to_owned(),
            document: number,
            reason: e.to_string(),
        })?;
        if let Some(doc) = doc {
            push_doc(doc, origin, number, out)?;
        }
    }
    Ok(())
}

/// Splits a YAML stream before each column-0 `---` marker (YAML forbids such a line inside
/// any scalar, so this is where the parser would split too). `None` for streams with
/// directives or `...` end markers, which are left to the full parser.
fn split_documents(text: &str) -> Option<Vec<&str>> {
    let mut starts = vec![0usize];
    let mut pos = 0usize;
    for line in text.split_inclusive('\n') {
        if line.starts_with('%') || line.starts_with("...") {
            return None;
        }
        let bare = line.trim_end_matches(['\n', '\r']);
        if pos != 0 && (bare == "---" || bare.starts_with("--- ")) {
            starts.push(pos);
        }
        pos += line.len();
    }
    starts.push(text.len());
    let mut sections: Vec<&str> = starts
        .windows(2)
        .filter_map(|w| match w {
            [a, b] => text.get(*a..*b),
            _ => None,
        })
        .collect();
    // Comments before the first `---` are not a document: keep the parser's numbering.
    let preamble_only = sections.first().is_some_and(|first| {
        first.lines().all(|l| {
            let l = l.trim();
            l.is_empty() || l.starts_with('#')
        })
    });
    if preamble_only && sections.len() > 1 {
        sections.remove(0);
    }
    Some(sections)
}

fn parse_parallel(docs: &[&str], origin: &str) -> Result<Vec<Resource>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .clamp(1, MAX_PARSE_THREADS);
    let per = docs.len().div_ceil(threads).max(1);
    let parts: Vec<Result<Vec<Resource>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = docs
            .chunks(per)
            .enumerate()
            .map(|(c, chunk)| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for (j, doc) in chunk.iter().enumerate() {
                        // A chunk holds one `---` section; number sections, not documents.
                        let number = c.saturating_mul(per).saturating_add(j);
                        parse_stream(doc, origin, number, &mut out)?;
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::Syntax {
                        origin: origin.to_owned(),
                        document: 0,
                        reason: "a parser thread panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(docs.len());
    for part in parts {
        out.extend(part?);
        if out.len() > MAX_RESOURCES {
            return Err(Error::LimitExceeded {
                what: "resources in one input",
                limit: MAX_RESOURCES as u64,
            });
        }
    }
    Ok(out)
}

fn push_doc(doc: WireDoc, origin: &str, document: usize, out: &mut Vec<Resource>) -> Result<()> {
    let is_list = doc
        .kind
        .as_deref()
        .is_none_or(|k| k == "List" || k.ends_with("List"))
        && doc.items.is_some();
    if is_list {
        // Items of a typed list (`PodList`) may omit their own kind.
        let item_kind = doc
            .kind
            .as_deref()
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        for item in doc.items.into_iter().flatten().flatten() {
            let mut item = item;
            if item.kind.is_none() {
                item.kind.clone_from(&item_kind);
            }
            push_doc(item, origin, document, out)?;
        }
        return Ok(());
    }
    if out.len() >= MAX_RESOURCES {
        return Err(Error::LimitExceeded {
            what: "resources in one input",
            limit: MAX_RESOURCES as u64,
        });
    }
    let missing = |field| Error::MissingIdentity {
        origin: origin.to_owned(),
        document,
        field,
    };
    let kind = doc
        .kind
        .filter(|k| !k.is_empty())
        .ok_or_else(|| missing("kind"))?;
    let meta = doc.metadata.unwrap_or_default();
    let name = meta
        .name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| missing("metadata.name"))?;
    let workload = match kind.as_str() {
        "Pod" => Workload::Pod,
        "CronJob" => Workload::CronJob,
        k if POD_CONTROLLERS.contains(&k) => Workload::Controller,
        _ => Workload::Other,
    };
    let pod_spec = match workload {
        Workload::Pod => doc.spec,
        Workload::Controller => doc.spec.and_then(|s| s.template).and_then(|t| t.spec),
        Workload::CronJob => doc
            .spec
            .and_then(|s| s.job_template)
            .and_then(|j| j.spec)
            .and_then(|s| s.template)
            .and_then(|t| t.spec),
        Workload::Other => None,
    };
    let mut images = Vec::new();
    if let Some(spec) = pod_spec {
        for (list, containers) in [
            (ContainerList::InitContainers, spec.init_containers),
            (ContainerList::Containers, spec.containers),
            (
                ContainerList::EphemeralContainers,
                spec.ephemeral_containers,
            ),
        ] {
            for c in containers.into_iter().flatten() {
                images.push(ContainerImage {
                    list,
                    container: c.name.unwrap_or_default(),
                    image: c.image.unwrap_or_default(),
                });
            }
        }
    }
    out.push(Resource {
        id: ResourceId {
            kind,
            namespace: meta.namespace.filter(|n| !n.is_empty()),
            name,
        },
        api_version: doc.api_version.unwrap_or_default(),
        labels: meta.labels.unwrap_or_default(),
        workload,
        images,
    });
    Ok(())
}

/// Reads resources from a file, or from every `*.yaml`, `*.yml` and `*.json` file of a
/// directory tree (sorted, so results come in a stable order).
pub fn read_resources(path: &Path) -> Result<Vec<Resource>> {
    let mut out = Vec::new();
    for file in manifest_files(path)? {
        let text = read_text(&file, MAX_MANIFEST_BYTES)?;
        out.extend(parse_resources(&text, &file.display().to_string())?);
        if out.len() > MAX_RESOURCES {
            return Err(Error::LimitExceeded {
                what: "resources in one input",
                limit: MAX_RESOURCES as u64,
            });
        }
    }
    Ok(out)
}

/// A file, or the YAML/JSON files under a directory, sorted.
pub(crate) fn manifest_files(path: &Path) -> Result<Vec<std::path::PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("reading directory {}", dir.display()), e))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| Error::io(format!("reading directory {}", dir.display()), e))?;
            let p = entry.path();
            let ft = entry
                .file_type()
                .map_err(|e| Error::io(format!("reading {}", p.display()), e))?;
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file()
                && p.extension()
                    .and_then(|e| e.to_str())
                    .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
            {
                files.push(p);
            }
            if files.len() > MAX_FILES {
                return Err(Error::LimitExceeded {
                    what: "files in a directory",
                    limit: MAX_FILES as u64,
                });
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a UTF-8 file of at most `limit` bytes.
pub(crate) fn read_text(path: &Path, limit: u64) -> Result<String> {
    let bytes = leo_artifact::fsutil::read_capped(path, limit).map_err(|e| match e {
        leo_artifact::Error::FileTooLarge { limit, .. } => Error::LimitExceeded {
            what: "bytes in one file",
            limit,
        },
        leo_artifact::Error::Io { context, source } => Error::io(context, source),
        other => Error::io(
            format!("reading {}", path.display()),
            std::io::Error::other(other.to_string()),
        ),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        Error::io(
            format!("reading {}", path.display()),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parser_never_panics(text in "[a-z:{}\\[\\], \n-]{0,120}") {
            let _ = parse_resources(&text, "t");
        }

        #[test]
        fn images_round_trip(images in proptest::collection::vec("[a-z0-9./:@-]{1,40}", 0..5)) {
            let list: Vec<String> = images.iter().map(|i| format!("{{name: c, image: {}}}", serde_json::to_string(i).unwrap())).collect();
            let yaml = format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n  containers: [{}]\n", list.join(", "));
            let r = parse_resources(&yaml, "t").unwrap();
            let got: Vec<&str> = r[0].images.iter().map(|i| i.image.as_str()).collect();
            prop_assert_eq!(got, images.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    #[test]
    fn every_pod_template_and_container_list() {
        let yaml = r#"
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          initContainers: [{name: i, image: "busybox"}]
          containers: [{name: a, image: "a:1"}]
          ephemeralContainers: [{name: e, image: "e:1"}]
---
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: n}
spec: {ports: [{port: 80}]}
"#;
        let r = parse_resources(yaml, "t").unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].workload, Workload::CronJob);
        let lists: Vec<_> = r[0].images.iter().map(|i| i.list).collect();
        assert_eq!(
            lists,
            [
                ContainerList::InitContainers,
                ContainerList::Containers,
                ContainerList::EphemeralContainers
            ]
        );
        assert_eq!(r[1].workload, Workload::Other);
        assert_eq!(r[1].id.namespace.as_deref(), Some("n"));
    }

    #[test]
    fn parallel_parse_equals_sequential() {
        let mut text = String::from("# leading comment\n");
        for i in 0..(PARALLEL_MIN_DOCUMENTS + 3) {
            text.push_str(&format!(
                "---\nkind: Pod\nmetadata: {{name: p{i}}}\nspec:\n  containers: [{{name: c, image: \"i{i}\"}}]\n"
            ));
        }
        let parallel = parse_resources(&text, "t").unwrap();
        let mut sequential = Vec::new();
        parse_stream(&text, "t", 0, &mut sequential).unwrap();
        assert_eq!(parallel, sequential);
        assert_eq!(parallel.len(), PARALLEL_MIN_DOCUMENTS + 3);
        text.push_str("---\nkind: Pod\nmetadata: {}\n");
        let err = parse_resources(&text, "t").unwrap_err();
        assert!(
            matches!(err, Error::MissingIdentity { document, .. } if document == PARALLEL_MIN_DOCUMENTS + 4)
        );
        assert_eq!(split_documents("%YAML 1.2\n---\na: 1\n"), None);
    }

    #[test]
    fn kubectl_lists_and_missing_identity() {
        let json = r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},
             "spec":{"template":{"spec":{"containers":[{"name":"x","image":"x"}]}}}}]}"#;
        let r = parse_resources(json, "t").unwrap();
        assert_eq!(r[0].workload, Workload::Controller);
        assert_eq!(r[0].images[0].image, "x");
        let typed = r#"{"kind":"PodList","items":[{"metadata":{"name":"p"}}]}"#;
        assert_eq!(parse_resources(typed, "t").unwrap()[0].id.kind, "Pod");
        let err = parse_resources("kind: Pod\nmetadata: {}\n", "t").unwrap_err();
        assert!(matches!(
            err,
            Error::MissingIdentity {
                field: "metadata.name",
                ..
            }
        ));
        let err = parse_resources("kind: [\n", "t").unwrap_err();
        assert!(matches!(err, Error::Syntax { .. }));
    }
}
