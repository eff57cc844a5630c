//! Kubernetes resource quantities (`500m`, `1Gi`, `0.5`, `1e3`): the API server rewrites them
//! into a canonical form, so `cpu: 0.5` in Git and `cpu: 500m` live are the same value.

use serde_json::Value;

/// Longest quantity string considered (longer strings are never quantities).
pub const MAX_QUANTITY_LEN: usize = 64;

/// Parses a quantity string to its numeric value; `None` when it is not a quantity.
pub fn parse(text: &str) -> Option<f64> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_QUANTITY_LEN {
        return None;
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    if number.is_empty() || number.matches('.').count() > 1 {
        return None;
    }
    let digits = number.trim_start_matches(['+', '-']);
    if digits.is_empty() || digits.contains(['+', '-']) || number.len() - digits.len() > 1 {
        return None;
    }
    let base: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        exp if exp.starts_with(['e', 'E']) => {
            let power: i32 = exp.get(1..)?.parse().ok()?;
            if !(-30..=30).contains(&power) {
                return None;
            }
            10f64.powi(power)
        }
        _ => return None,
    };
    Some(base * factor)
}

/// A JSON value read as a quantity (numbers and quantity strings).
pub fn of_value(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse(s),
        _ => None,
    }
}

/// Whether two values denote the same quantity (relative tolerance 1e-9).
pub fn same(a: &Value, b: &Value) -> bool {
    match (of_value(a), of_value(b)) {
        (Some(x), Some(y)) => {
            let scale = x.abs().max(y.abs()).max(f64::MIN_POSITIVE);
            (x - y).abs() / scale <= 1e-9
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn canonical_forms_compare_equal() {
        assert!(same(&json!(0.5), &json!("500m")));
        assert!(same(&json!("1"), &json!(1)));
        assert!(same(&json!("1Gi"), &json!("1024Mi")));
        assert!(same(&json!("1e3"), &json!("1k")));
        assert!(!same(&json!("1G"), &json!("1Gi")));
        assert!(!same(&json!("abc"), &json!("abc")));
    }

    #[test]
    fn malformed_quantities_are_rejected() {
        for bad in ["", "m", "1.2.3", "--1", "1x", "1e99", "Gi1", "1+"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn milli_roundtrip(n in 0u32..10_000_000) {
            let milli = format!("{n}m");
            let plain = json!(f64::from(n) / 1000.0);
            prop_assert!(same(&json!(milli), &plain));
        }

        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = parse(&s);
        }
    }
}
