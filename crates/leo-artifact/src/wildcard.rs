//! Wildcard matching for the crates above this one: required-check contexts and branch
//! names in `leo-gates` (`*` only) and Kyverno image and namespace patterns in `leo-policy`
//! (`*` and `?`). One iterative walk that backtracks only to the last `*`: at worst
//! O(pattern × text), no recursion and nothing compiled, so a hostile pattern cannot blow up.
//!
//! ```
//! use leo_artifact::wildcard::{glob, kyverno};
//! assert!(glob("Run Gate 3 for PRD-*", "Run Gate 3 for PRD-42"));
//! assert!(!glob("kube-?ublic", "kube-public")); // `?` is literal here
//! assert!(kyverno("kube-?ublic", "kube-public"));
//! assert!(kyverno("ghcr.io/kyverno/*", "ghcr.io/kyverno/test-verify-image:v1"));
//! assert!(!kyverno("dev", "development"));
//! ```

/// Whether `text` matches `pattern` as a whole, where `*` matches any run of characters and
/// every other character only itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    walk(pattern.as_bytes(), text.as_bytes(), false)
}

/// Whether `text` matches `pattern` as a whole with Kyverno's wildcards: `*` matches any run
/// of characters, `?` exactly one.
pub fn kyverno(pattern: &str, text: &str) -> bool {
    walk(pattern.as_bytes(), text.as_bytes(), true)
}

fn walk(p: &[u8], t: &[u8], question_mark: bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    // Position of the last `*` in the pattern and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if question_mark && c == b'?' => {
                // `?` consumes one whole UTF-8 character, not one byte.
                ti += utf8_len(t, ti);
                pi += 1;
            }
            Some(&c) if Some(&c) == t.get(ti) => {
                ti += 1;
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

/// The length of the UTF-8 character starting at `t[i]` (1 past the end).
fn utf8_len(t: &[u8], i: usize) -> usize {
    match t.get(i) {
        Some(&b) if b >= 0xF0 => 4,
        Some(&b) if b >= 0xE0 => 3,
        Some(&b) if b >= 0xC0 => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars() {
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "a-x-b-y-c"));
        assert!(!glob("PRD-*", "PRD"));
        assert!(!glob("a*b", "a-x-c"));
        assert!(glob("**a", "bba"));
        assert!(glob("?", "?"));
        assert!(!glob("?", "x"));
    }

    #[test]
    fn kyverno_examples() {
        assert!(kyverno("*@*", "nginx@sha256:abc"));
        assert!(!kyverno("*@*", "nginx:latest"));
        assert!(kyverno("?*", "x"));
        assert!(!kyverno("?*", ""));
        assert!(!kyverno("a*b*c", "aXXbYY"));
        assert!(kyverno("é?", "éü"));
        assert!(kyverno("*ü", "éü"));
    }
}
