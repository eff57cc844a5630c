//! Reading `metadata.managedFields` (`fieldsV1`): which manager owns which field.
//!
//! Used two ways: fields owned by an ignored manager (an HPA, a mutating webhook) are never
//! drift, and fields an applying manager (Argo CD's `argocd-controller`) set earlier but the
//! desired state no longer sets are drift (server-side apply would remove them).

use serde_json::{Map, Value};

use crate::normalize::ManagedEntry;

#[derive(Debug, Clone, Copy)]
enum Node<'a> {
    /// The manager owns this field and everything below it.
    All,
    /// The manager owns the listed children.
    Tree(&'a Map<String, Value>),
}

/// The union of the field sets of some managers, positioned at one path of the object.
#[derive(Debug, Clone, Default)]
pub struct Ownership<'a> {
    nodes: Vec<Node<'a>>,
}

impl<'a> Ownership<'a> {
    /// The root field sets of the entries `select` accepts.
    pub fn of(entries: &'a [ManagedEntry], select: impl Fn(&ManagedEntry) -> bool) -> Self {
        let nodes = entries
            .iter()
            .filter(|e| select(e))
            .filter_map(|e| e.fields.as_object().map(node))
            .collect();
        Self { nodes }
    }

    /// Whether some selected manager owns the current path.
    pub fn owned(&self) -> bool {
        !self.nodes.is_empty()
    }

    /// Moves to the map field `name`.
    pub fn field(&self, name: &str) -> Self {
        if self.nodes.is_empty() {
            return Self::default();
        }
        let key = format!("f:{name}");
        self.descend(|m| m.get(&key))
    }

    /// Moves to the list element `item` at position `index` of the live list.
    pub fn item(&self, item: &Value, index: usize) -> Self {
        if self.nodes.is_empty() {
            return Self::default();
        }
        self.descend(|m| {
            m.iter()
                .find(|(k, _)| element_matches(k, item, index))
                .map(|(_, v)| v)
        })
    }

    fn descend(&self, pick: impl Fn(&'a Map<String, Value>) -> Option<&'a Value>) -> Self {
        let nodes = self
            .nodes
            .iter()
            .filter_map(|n| match n {
                Node::All => Some(Node::All),
                Node::Tree(m) => pick(m).and_then(Value::as_object).map(node),
            })
            .collect();
        Self { nodes }
    }
}

fn node(m: &Map<String, Value>) -> Node<'_> {
    if m.is_empty() {
        Node::All
    } else {
        Node::Tree(m)
    }
}

/// Whether a `fieldsV1` list key (`k:{...}`, `v:...`, `i:N`) names this element.
fn element_matches(key: &str, item: &Value, index: usize) -> bool {
    if let Some(fields) = key.strip_prefix("k:") {
        let Ok(Value::Object(wanted)) = serde_json::from_str::<Value>(fields) else {
            return false;
        };
        wanted
            .iter()
            .all(|(k, v)| item.get(k).is_some_and(|have| json_eq(have, v)))
    } else if let Some(value) = key.strip_prefix("v:") {
        serde_json::from_str::<Value>(value).is_ok_and(|v| json_eq(&v, item))
    } else if let Some(i) = key.strip_prefix("i:") {
        i.parse::<usize>().is_ok_and(|i| i == index)
    } else {
        false
    }
}

/// JSON equality with numbers compared by value (`80` == `80.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(manager: &str, fields: Value) -> ManagedEntry {
        ManagedEntry {
            manager: manager.into(),
            operation: "Apply".into(),
            time: None,
            fields,
        }
    }

    #[test]
    fn fields_keys_and_leaves_resolve() {
        let entries = [entry(
            "m",
            json!({"f:metadata": {"f:labels": {"f:a": {}}},
                   "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:name": {}}},
                              "f:selector": {}}}),
        )];
        let own = Ownership::of(&entries, |_| true);
        assert!(own.field("metadata").field("labels").field("a").owned());
        assert!(!own.field("metadata").field("labels").field("b").owned());
        assert!(
            own.field("spec")
                .field("selector")
                .field("anything")
                .owned()
        );
        let port = json!({"port": 80, "protocol": "TCP", "name": "http"});
        assert!(
            own.field("spec")
                .field("ports")
                .item(&port, 3)
                .field("name")
                .owned()
        );
        let other = json!({"port": 81, "protocol": "TCP"});
        assert!(!own.field("spec").field("ports").item(&other, 0).owned());
        assert!(!Ownership::of(&entries, |_| false).owned());
    }
}
