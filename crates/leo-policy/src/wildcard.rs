//! Kyverno's wildcards: `*` matches any run of characters, `?` exactly one. The matcher is
//! leo-artifact's (shared with leo-gates' required-check globs); nothing is compiled per
//! resource.

/// Whether `text` matches the wildcard `pattern` as a whole: [`leo_artifact::wildcard::kyverno`].
///
/// ```
/// use leo_policy::wildcard::matches;
/// assert!(matches("ghcr.io/kyverno/*", "ghcr.io/kyverno/test-verify-image:v1"));
/// assert!(matches("kube-?ublic", "kube-public"));
/// assert!(!matches("dev", "development"));
/// ```
pub use leo_artifact::wildcard::kyverno as matches;

/// Whether any of `patterns` matches `text`.
pub fn any_matches(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| matches(p, text))
}

/// Translates a wildcard pattern into an anchored regular expression source (for the
/// Sigstore identity policy, which takes a regex).
pub fn to_regex(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    for c in pattern.chars() {
        match c {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kyverno_examples() {
        assert!(matches("*", ""));
        assert!(matches("*@*", "nginx@sha256:abc"));
        assert!(!matches("*@*", "nginx:latest"));
        assert!(matches("?*", "x"));
        assert!(!matches("?*", ""));
        assert!(matches("a*b*c", "aXXbYYc"));
        assert!(!matches("a*b*c", "aXXbYY"));
        assert!(matches("é?", "éü"));
    }

    proptest! {
        #[test]
        fn agrees_with_regex(pattern in "[ab*?]{0,6}", text in "[ab]{0,8}") {
            let re = regex::Regex::new(&format!("^(?s:{})$", to_regex(&pattern))).unwrap();
            prop_assert_eq!(matches(&pattern, &text), re.is_match(&text));
        }
    }
}
