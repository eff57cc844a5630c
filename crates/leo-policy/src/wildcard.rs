//! Kyverno's wildcards: `*` matches any run of characters, `?` exactly one. Matched by a
//! linear backtracking walk, so no pattern is compiled per resource.

/// Whether `text` matches the wildcard `pattern` as a whole.
///
/// ```
/// use leo_policy::wildcard::matches;
/// assert!(matches("ghcr.io/kyverno/*", "ghcr.io/kyverno/test-verify-image:v1"));
/// assert!(matches("kube-?ublic", "kube-public"));
/// assert!(!matches("dev", "development"));
/// ```
pub fn matches(pattern: &str, text: &str) -> bool {
    let p = pattern.as_bytes();
    let t = text.as_bytes();
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` in the pattern and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || Some(&c) == t.get(ti) => {
                // `?` consumes one whole UTF-8 character, not one byte.
                ti += if c == b'?' { utf8_len(t, ti) } else { 1 };
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    let next = st + utf8_len(t, st);
                    star = Some((sp, next));
                    pi = sp + 1;
                    ti = next;
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == b'*'))
}

/// Whether any of `patterns` matches `text`.
pub fn any_matches(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| matches(p, text))
}

fn utf8_len(t: &[u8], i: usize) -> usize {
    match t.get(i) {
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(&b) if b >= 0xC0 => 2,
        _ => 1,
    }
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
