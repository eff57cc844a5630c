//! Argo CD-style normalization: what the API server adds or rewrites is removed or put in a
//! canonical form before desired and live are compared.

use base64::Engine as _;
use serde_json::{Map, Value};

/// The annotation `kubectl apply` (and Argo CD's client-side apply) writes.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Metadata fields the API server owns; never drift.
pub const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
];

/// One `metadata.managedFields` entry, kept aside for ignore rules and removal detection.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedEntry {
    /// The field manager (`kube-controller-manager`, `argocd-controller`, ...).
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    /// When the manager last wrote (RFC 3339), if recorded.
    pub time: Option<String>,
    /// The `fieldsV1` tree.
    pub fields: Value,
}

/// An object after normalization, with what was taken out of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The comparable body (without `apiVersion`, `kind`, `metadata.name`/`namespace`).
    pub body: Value,
    /// The parsed and normalized last-applied configuration, if the object carried one.
    pub last_applied: Option<Value>,
    /// The managed-fields entries, if any.
    pub managed: Vec<ManagedEntry>,
}

/// Normalizes one object of the given group and kind.
pub fn normalize(group: &str, kind: &str, body: &Value) -> Normalized {
    let mut body = body.clone();
    let mut last_applied = None;
    let mut managed = Vec::new();
    if let Some(obj) = body.as_object_mut() {
        obj.shift_remove("status");
        if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
            if let Some(Value::Array(entries)) = meta.shift_remove("managedFields") {
                managed = entries.iter().filter_map(managed_entry).collect();
            }
            for field in SERVER_METADATA {
                meta.shift_remove(*field);
            }
            if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
                if let Some(Value::String(text)) = annotations.shift_remove(LAST_APPLIED) {
                    last_applied = serde_json::from_str::<Value>(&text)
                        .ok()
                        .filter(Value::is_object)
                        .map(|v| normalize_body(group, kind, v));
                }
            }
            if meta.get("annotations").is_some_and(is_empty) {
                meta.shift_remove("annotations");
            }
        }
    }
    Normalized {
        body: strip_identity(normalize_body(group, kind, body)),
        last_applied: last_applied.map(strip_identity),
        managed,
    }
}

/// Identity fields are settled by matching (and `apiVersion` may differ by conversion), so
/// they are not compared.
fn strip_identity(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.shift_remove("apiVersion");
        obj.shift_remove("kind");
        if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
            meta.shift_remove("name");
            meta.shift_remove("namespace");
            if meta.is_empty() {
                obj.shift_remove("metadata");
            }
        }
    }
    v
}

fn normalize_body(group: &str, kind: &str, mut body: Value) -> Value {
    if let Some(obj) = body.as_object_mut() {
        if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
            meta.shift_remove("creationTimestamp");
        }
        match (group, kind) {
            ("", "Secret") => fold_secret(obj),
            ("", "Endpoints") => sort_endpoints(obj),
            _ => {}
        }
    }
    body
}

fn managed_entry(entry: &Value) -> Option<ManagedEntry> {
    let text = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(ManagedEntry {
        manager: text("manager")?,
        operation: text("operation").unwrap_or_default(),
        time: text("time"),
        fields: entry.get("fieldsV1").cloned().unwrap_or(Value::Null),
    })
}

/// Whether a value counts as "not set": null, `{}`, `[]`.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// `stringData` is write-only: the server base64-encodes it into `data`. A null data value
/// reads back as the empty string.
fn fold_secret(obj: &mut Map<String, Value>) {
    let string_data = obj.shift_remove("stringData");
    let mut data = match obj.shift_remove("data") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for v in data.values_mut() {
        if v.is_null() {
            *v = Value::String(String::new());
        }
    }
    if let Some(Value::Object(strings)) = string_data {
        for (k, v) in strings {
            let plain = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            let encoded = base64::engine::general_purpose::STANDARD.encode(plain.as_bytes());
            data.insert(k, Value::String(encoded));
        }
    }
    if !data.is_empty() {
        obj.insert("data".to_owned(), Value::Object(data));
    }
}

/// Endpoints are stored repacked: addresses sorted by IP, ports sorted, protocol defaulted.
fn sort_endpoints(obj: &mut Map<String, Value>) {
    let Some(Value::Array(subsets)) = obj.get_mut("subsets") else {
        return;
    };
    for subset in subsets.iter_mut().filter_map(Value::as_object_mut) {
        for field in ["addresses", "notReadyAddresses"] {
            if let Some(Value::Array(addresses)) = subset.get_mut(field) {
                addresses.sort_by_key(|a| string_field(a, "ip"));
            }
        }
        if let Some(Value::Array(ports)) = subset.get_mut("ports") {
            for port in ports.iter_mut().filter_map(Value::as_object_mut) {
                port.entry("protocol")
                    .or_insert_with(|| Value::String("TCP".to_owned()));
            }
            ports.sort_by_key(|p| {
                (
                    p.get("port").and_then(Value::as_i64).unwrap_or(0),
                    string_field(p, "protocol"),
                    string_field(p, "name"),
                )
            });
        }
    }
}

fn string_field(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn server_metadata_and_status_are_dropped_and_last_applied_extracted() {
        let live = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "uid": "u", "resourceVersion": "1", "generation": 2,
                "creationTimestamp": "2020-01-01T00:00:00Z",
                "annotations": {LAST_APPLIED: "{\"data\":{\"k\":\"v\"}}"},
                "managedFields": [{"manager": "kubectl", "operation": "Update", "fieldsV1": {}}]},
            "status": {"x": 1}});
        let n = normalize("", "ConfigMap", &live);
        // Identity fields go too: matching settled them.
        assert_eq!(n.body, json!({}));
        assert_eq!(n.last_applied, Some(json!({"data": {"k": "v"}})));
        assert_eq!(n.managed.len(), 1);
    }

    #[test]
    fn secret_string_data_is_folded_and_null_data_is_empty() {
        let s = json!({"kind": "Secret", "stringData": {"foo": "bar"}, "data": {"n": null}});
        let n = normalize("", "Secret", &s);
        assert_eq!(n.body["data"], json!({"n": "", "foo": "YmFy"}));
        assert!(n.body.get("stringData").is_none());
    }
}
