#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Properties: the loader never panics, an object never drifts from itself, server additions
//! are never drift outside strict mode, and policies survive YAML and JSON.

use leo_drift::{DriftPolicy, Manifest, diff_pair, parse_str};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z0-9 ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,6}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn object(spec: Value) -> Manifest {
    Manifest::from_value(
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": spec}),
        "prop",
        1,
    )
    .unwrap()
}

/// Adds a key to every map of `v` (what a defaulting server does).
fn add_server_fields(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.values_mut().for_each(add_server_fields);
            m.entry("zzServerDefault").or_insert(json!("x"));
        }
        Value::Array(a) => a.iter_mut().for_each(add_server_fields),
        _ => {}
    }
}

proptest! {
    #[test]
    fn loader_never_panics(text in "\\PC{0,200}") {
        let _ = parse_str(&text, "prop");
    }

    #[test]
    fn an_object_never_drifts_from_itself(spec in json_value(), strict in any::<bool>()) {
        let mut policy = DriftPolicy::default();
        policy.spec.strict = strict;
        let d = object(spec);
        prop_assert!(diff_pair(&d, &d, &policy).is_empty());
    }

    #[test]
    fn server_added_fields_are_not_drift(spec in json_value()) {
        let mut live_spec = spec.clone();
        add_server_fields(&mut live_spec);
        let diffs = diff_pair(&object(spec), &object(live_spec), &DriftPolicy::default());
        prop_assert!(diffs.is_empty(), "{:?}", diffs);
    }

    #[test]
    fn policy_roundtrips(strict in any::<bool>(), prune in any::<bool>(), minutes in 1u64..600, ns in "[a-z]{1,10}") {
        let mut p = DriftPolicy::default();
        p.spec.strict = strict;
        p.spec.prune = prune;
        p.spec.default_namespace = ns;
        p.spec.check_interval = format!("{minutes}m").parse().unwrap();
        prop_assert_eq!(&DriftPolicy::parse(&p.to_yaml().unwrap()).unwrap(), &p);
        prop_assert_eq!(&DriftPolicy::parse(&p.to_json().unwrap()).unwrap(), &p);
    }
}
