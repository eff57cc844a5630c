//! Reading desired and live state: multi-document YAML, JSON, `kubectl get -o json` lists and
//! directories of manifests.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::object::Manifest;

/// Largest manifest file read (bytes).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Most objects read from one input (a file, a stream or a whole directory).
pub const MAX_OBJECTS: usize = 200_000;
/// Most files read from one directory tree.
pub const MAX_FILES: usize = 20_000;
/// Deepest directory nesting followed.
pub const MAX_DIR_DEPTH: usize = 16;

/// File names in a directory that are build inputs, not Kubernetes objects.
const NOT_OBJECTS: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Parses a stream of objects: JSON (one object or a `List`), or YAML with any number of
/// `---`-separated documents. Empty documents are skipped; `List` objects (kind `List` or
/// `*List`, or a bare `{"items": [...]}`) are flattened into their items.
pub fn parse_str(text: &str, origin: &str) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            push_document(value, origin, 1, &mut out)?;
            return Ok(out);
        }
    }
    for (i, document) in serde_norway::Deserializer::from_str(text).enumerate() {
        let index = i.saturating_add(1);
        let value = Value::deserialize(document).map_err(|e| Error::Syntax {
            origin: origin.to_owned(),
            document: index,
            reason: e.to_string(),
        })?;
        push_document(value, origin, index, &mut out)?;
    }
    Ok(out)
}

fn push_document(
    value: Value,
    origin: &str,
    document: usize,
    out: &mut Vec<Manifest>,
) -> Result<()> {
    match value {
        Value::Null => Ok(()),
        Value::Object(mut map) => {
            let is_list = map.get("items").is_some_and(Value::is_array)
                && map
                    .get("kind")
                    .and_then(Value::as_str)
                    .is_none_or(|k| k.ends_with("List"));
            if !is_list {
                return push_object(Value::Object(map), origin, out);
            }
            // Items of a typed list (`DeploymentList`) may omit their own kind and version.
            let item_kind = map
                .get("kind")
                .and_then(Value::as_str)
                .and_then(|k| k.strip_suffix("List"))
                .filter(|k| !k.is_empty())
                .map(str::to_owned);
            let api_version = map.get("apiVersion").cloned();
            let Some(Value::Array(items)) = map.remove("items") else {
                return Ok(());
            };
            for item in items {
                let item = match item {
                    Value::Object(mut obj) => {
                        if let Some(kind) = &item_kind {
                            obj.entry("kind")
                                .or_insert_with(|| Value::String(kind.clone()));
                            if let Some(v) = &api_version {
                                obj.entry("apiVersion").or_insert_with(|| v.clone());
                            }
                        }
                        Value::Object(obj)
                    }
                    Value::Null => continue,
                    _ => {
                        return Err(Error::NotAnObject {
                            origin: origin.to_owned(),
                            document,
                        });
                    }
                };
                push_object(item, origin, out)?;
            }
            Ok(())
        }
        _ => Err(Error::NotAnObject {
            origin: origin.to_owned(),
            document,
        }),
    }
}

fn push_object(value: Value, origin: &str, out: &mut Vec<Manifest>) -> Result<()> {
    if out.len() >= MAX_OBJECTS {
        return Err(Error::LimitExceeded {
            what: "objects in one input",
            limit: MAX_OBJECTS as u64,
        });
    }
    let index = out.len().saturating_add(1);
    out.push(Manifest::from_value(value, origin, index)?);
    Ok(())
}

/// Reads a file (any of the formats of [`parse_str`]) or a directory tree of `*.yaml`,
/// `*.yml` and `*.json` files (sorted by path; hidden entries and `kustomization.yaml` skipped).
pub fn load_path(path: &Path) -> Result<Vec<Manifest>> {
    let meta =
        fs::metadata(path).map_err(|e| Error::io("reading", Some(&path.to_path_buf()), e))?;
    if !meta.is_dir() {
        return load_file(path);
    }
    let mut files = Vec::new();
    collect_files(path, 0, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let objects = load_file(&file)?;
        if out.len().saturating_add(objects.len()) > MAX_OBJECTS {
            return Err(Error::LimitExceeded {
                what: "objects in one input",
                limit: MAX_OBJECTS as u64,
            });
        }
        out.extend(objects);
    }
    Ok(out)
}

fn load_file(path: &Path) -> Result<Vec<Manifest>> {
    let owned = path.to_path_buf();
    let meta = fs::metadata(path).map_err(|e| Error::io("reading", Some(&owned), e))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Error::LimitExceeded {
            what: "manifest file size",
            limit: MAX_FILE_BYTES,
        });
    }
    let text = fs::read_to_string(path).map_err(|e| Error::io("reading", Some(&owned), e))?;
    parse_str(&text, &path.display().to_string())
}

fn collect_files(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> Result<()> {
    if depth > MAX_DIR_DEPTH {
        return Err(Error::LimitExceeded {
            what: "directory depth",
            limit: MAX_DIR_DEPTH as u64,
        });
    }
    let owned = dir.to_path_buf();
    let entries = fs::read_dir(dir).map_err(|e| Error::io("listing", Some(&owned), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("listing", Some(&owned), e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || NOT_OBJECTS.contains(&name.as_ref()) {
            continue;
        }
        let path = entry.path();
        let kind = entry
            .file_type()
            .map_err(|e| Error::io("inspecting", Some(&path), e))?;
        if kind.is_dir() {
            collect_files(&path, depth.saturating_add(1), files)?;
        } else if [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            if files.len() >= MAX_FILES {
                return Err(Error::LimitExceeded {
                    what: "files in one directory tree",
                    limit: MAX_FILES as u64,
                });
            }
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_skips_empty_documents() {
        let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# only a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b, namespace: x}\n";
        let objects = parse_str(text, "t").unwrap();
        let names: Vec<_> = objects.iter().map(Manifest::name).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(objects[1].namespace(), Some("x"));
    }

    #[test]
    fn kubectl_list_is_flattened_and_typed_lists_lend_their_kind() {
        let text = r#"{"apiVersion":"v1","kind":"List","items":[
            {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}},
            {"apiVersion":"v1","kind":"Secret","metadata":{"name":"b"}}]}"#;
        assert_eq!(parse_str(text, "t").unwrap().len(), 2);
        let typed = r#"{"apiVersion":"apps/v1","kind":"DeploymentList","items":[{"metadata":{"name":"d"}}]}"#;
        let objects = parse_str(typed, "t").unwrap();
        assert_eq!(objects[0].kind(), "Deployment");
        assert_eq!(objects[0].api_version(), "apps/v1");
    }

    #[test]
    fn object_without_name_is_rejected_with_the_field() {
        let err = parse_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "t").unwrap_err();
        assert!(matches!(
            err,
            Error::MissingIdentity {
                field: "metadata.name",
                ..
            }
        ));
    }

    #[test]
    fn scalar_document_is_not_an_object() {
        let err = parse_str("just a string\n", "t").unwrap_err();
        assert!(matches!(err, Error::NotAnObject { document: 1, .. }));
    }

    #[test]
    fn broken_yaml_is_a_syntax_error_with_document_index() {
        let err = parse_str(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkey: [unclosed\n",
            "t",
        )
        .unwrap_err();
        assert!(matches!(err, Error::Syntax { document: 2, .. }));
    }
}
