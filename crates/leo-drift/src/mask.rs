//! Secret values are never printed: like `kubectl diff`, values under a Secret's `data` are
//! replaced by `***`, with `(desired)`/`(live)` marking which side a changed value came from.

use serde_json::Value;

use crate::compare::FieldDiff;

/// The mask for a value that is the same on both sides (or shown on one side only).
pub const MASK: &str = "***";

/// Masks every value of the Secret-data fields in `diffs` (paths under `/data` or `/stringData`).
pub fn mask_secret_diffs(diffs: &mut [FieldDiff]) {
    for diff in diffs {
        let whole = diff.path.is_empty();
        let under_data = diff.path == "/data"
            || diff.path.starts_with("/data/")
            || diff.path == "/stringData"
            || diff.path.starts_with("/stringData/");
        if !(whole || under_data) {
            continue;
        }
        let both = diff.desired.is_some() && diff.live.is_some();
        let tag = |side: &str| {
            if both {
                format!("{MASK} ({side})")
            } else {
                MASK.to_owned()
            }
        };
        if let Some(v) = diff.desired.as_mut() {
            mask_value(v, whole, &tag("desired"));
        }
        if let Some(v) = diff.live.as_mut() {
            mask_value(v, whole, &tag("live"));
        }
    }
}

/// Masks a whole Secret object (its `data` and `stringData` values), e.g. for a missing one.
pub fn mask_secret_object(obj: &mut Value) {
    mask_value(obj, true, MASK);
}

fn mask_value(v: &mut Value, whole_object: bool, mask: &str) {
    if whole_object {
        if let Some(obj) = v.as_object_mut() {
            for field in ["data", "stringData"] {
                if let Some(inner) = obj.get_mut(field) {
                    mask_leaves(inner, mask);
                }
            }
            if let Some(Value::Object(meta)) = obj.get_mut("metadata") {
                if let Some(Value::Object(ann)) = meta.get_mut("annotations") {
                    ann.shift_remove(crate::normalize::LAST_APPLIED);
                }
            }
        }
    } else {
        mask_leaves(v, mask);
    }
}

fn mask_leaves(v: &mut Value, mask: &str) {
    match v {
        Value::Object(m) => m.values_mut().for_each(|x| mask_leaves(x, mask)),
        Value::Array(a) => a.iter_mut().for_each(|x| mask_leaves(x, mask)),
        Value::Null => {}
        other => *other = Value::String(mask.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::DiffKind;
    use serde_json::json;

    #[test]
    fn changed_values_are_masked_per_side_and_other_fields_kept() {
        let mut diffs = vec![
            FieldDiff {
                path: "/data/password".into(),
                kind: DiffKind::Changed,
                desired: Some(json!("c2VjcmV0")),
                live: Some(json!("b3RoZXI=")),
            },
            FieldDiff {
                path: "/data".into(),
                kind: DiffKind::MissingInLive,
                desired: Some(json!({"k": "dg=="})),
                live: None,
            },
            FieldDiff {
                path: "/metadata/labels/app".into(),
                kind: DiffKind::Changed,
                desired: Some(json!("a")),
                live: Some(json!("b")),
            },
        ];
        mask_secret_diffs(&mut diffs);
        assert_eq!(diffs[0].desired, Some(json!("*** (desired)")));
        assert_eq!(diffs[0].live, Some(json!("*** (live)")));
        assert_eq!(diffs[1].desired, Some(json!({"k": "***"})));
        assert_eq!(diffs[2].live, Some(json!("b")));
    }
}
