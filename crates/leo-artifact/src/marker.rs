//! Handoff markers (SOP §4.2) inside commit messages.
//!
//! | stage | marker |
//! |---|---|
//! | builder complete | `[CODEX-READY:<hash>]` |
//! | enforcer applied | `[CLAUDE-APPLIED:<hash>]` |
//! | verification | `PLAN-SUPERVISOR: PASS` (or `FAIL`, `CONDITIONAL_PASS`, `ESCALATE`) |
//! | strategic approval | `LEAD-APPROVED: <reason>` |
//!
//! `<hash>` is the full SHA-256 of `artifact.tar.gz`, 64 lowercase hex characters. A marker
//! that is recognised by its prefix but malformed is an error, never silently skipped: a typo
//! in a marker must not make a commit look unmarked.

use std::fmt;
use std::str::FromStr;

use crate::digest::Sha256Digest;
use crate::error::{Error, Result, snippet};

const CODEX_READY: &str = "[CODEX-READY:";
const CLAUDE_APPLIED: &str = "[CLAUDE-APPLIED:";
const PLAN_SUPERVISOR: &str = "PLAN-SUPERVISOR:";
const LEAD_APPROVED: &str = "LEAD-APPROVED:";

/// PLAN's verdict (SOP §2.1).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlanVerdict {
    /// ≥ 85 % confidence and all requirements met.
    Pass,
    /// A critical issue or < 85 % confidence.
    Fail,
    /// Minor issues only; goes to LEAD.
    ConditionalPass,
    /// No consensus; LEAD decides.
    Escalate,
}

impl PlanVerdict {
    /// The SOP's spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            PlanVerdict::Pass => "PASS",
            PlanVerdict::Fail => "FAIL",
            PlanVerdict::ConditionalPass => "CONDITIONAL_PASS",
            PlanVerdict::Escalate => "ESCALATE",
        }
    }
}

impl fmt::Display for PlanVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PlanVerdict {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "PASS" => Ok(PlanVerdict::Pass),
            "FAIL" => Ok(PlanVerdict::Fail),
            "CONDITIONAL_PASS" => Ok(PlanVerdict::ConditionalPass),
            "ESCALATE" => Ok(PlanVerdict::Escalate),
            _ => Err(Error::MalformedMarker {
                input: snippet(s),
                reason: "verdict must be PASS, FAIL, CONDITIONAL_PASS or ESCALATE",
            }),
        }
    }
}

/// One handoff marker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Marker {
    /// `[CODEX-READY:<hash>]`: the builder finished a bundle.
    CodexReady(Sha256Digest),
    /// `[CLAUDE-APPLIED:<hash>]`: the enforcer applied that bundle.
    ClaudeApplied(Sha256Digest),
    /// `PLAN-SUPERVISOR: <verdict>`.
    PlanSupervisor(PlanVerdict),
    /// `LEAD-APPROVED: <reason>`; the reason is a non-empty single line.
    LeadApproved(String),
}

impl Marker {
    /// Builds a `LEAD-APPROVED` marker, refusing an empty or multi-line reason.
    pub fn lead_approved(reason: &str) -> Result<Self> {
        let trimmed = reason.trim();
        if trimmed.is_empty() {
            return Err(Error::MalformedMarker {
                input: reason.to_owned(),
                reason: "LEAD-APPROVED needs a non-empty reason",
            });
        }
        if trimmed.chars().any(|c| c.is_control() && c != '\t') {
            return Err(Error::MalformedMarker {
                input: snippet(reason),
                reason: "LEAD-APPROVED reason must be a single line of printable text",
            });
        }
        // A reason that embeds another marker would make one line carry two markers: a LEAD
        // approval must never smuggle in a builder or enforcer handoff.
        if [CODEX_READY, CLAUDE_APPLIED, PLAN_SUPERVISOR, LEAD_APPROVED]
            .iter()
            .any(|m| trimmed.contains(m))
        {
            return Err(Error::MalformedMarker {
                input: snippet(reason),
                reason: "LEAD-APPROVED reason must not contain another marker",
            });
        }
        Ok(Marker::LeadApproved(trimmed.to_owned()))
    }

    /// The bundle hash a marker names, if any.
    pub fn bundle_hash(&self) -> Option<&Sha256Digest> {
        match self {
            Marker::CodexReady(h) | Marker::ClaudeApplied(h) => Some(h),
            _ => None,
        }
    }

    /// A commit message: the marker, a space, then the summary.
    pub fn commit_message(&self, summary: &str) -> String {
        format!("{self} {summary}")
    }
}

impl fmt::Display for Marker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Marker::CodexReady(h) => write!(f, "{CODEX_READY}{h}]"),
            Marker::ClaudeApplied(h) => write!(f, "{CLAUDE_APPLIED}{h}]"),
            Marker::PlanSupervisor(v) => write!(f, "{PLAN_SUPERVISOR} {v}"),
            Marker::LeadApproved(r) => write!(f, "{LEAD_APPROVED} {r}"),
        }
    }
}

impl FromStr for Marker {
    type Err = Error;

    /// Parses exactly one marker (surrounding whitespace allowed).
    fn from_str(s: &str) -> Result<Self> {
        let mut found = markers_in(s)?;
        match (found.pop(), found.is_empty()) {
            (Some(m), true) if m.to_string() == s.trim() => Ok(m),
            _ => Err(Error::MalformedMarker {
                input: snippet(s),
                reason: "expected exactly one marker and nothing else",
            }),
        }
    }
}

/// Finds every marker in a commit message, in order.
///
/// Bracket markers may stand anywhere in a line; `PLAN-SUPERVISOR:` and `LEAD-APPROVED:` must
/// start a line (after optional whitespace), since they run to its end.
pub fn markers_in(message: &str) -> Result<Vec<Marker>> {
    let mut out = Vec::new();
    for line in message.lines() {
        let trimmed = line.trim_start();
        // A line-marker owns its whole line; its text is checked, not scanned again.
        if let Some(rest) = trimmed.strip_prefix(PLAN_SUPERVISOR) {
            out.push(Marker::PlanSupervisor(rest.trim().parse()?));
        } else if let Some(rest) = trimmed.strip_prefix(LEAD_APPROVED) {
            out.push(Marker::lead_approved(rest)?);
        } else {
            scan_bracket_markers(line, &mut out)?;
        }
    }
    Ok(out)
}

fn scan_bracket_markers(line: &str, out: &mut Vec<Marker>) -> Result<()> {
    let mut rest = line;
    loop {
        let codex = rest.find(CODEX_READY).map(|i| (i, CODEX_READY));
        let claude = rest.find(CLAUDE_APPLIED).map(|i| (i, CLAUDE_APPLIED));
        let next = match (codex, claude) {
            (Some(a), Some(b)) => Some(if a.0 < b.0 { a } else { b }),
            (a, b) => a.or(b),
        };
        let Some((at, prefix)) = next else {
            return Ok(());
        };
        let after = rest.get(at + prefix.len()..).unwrap_or_default();
        let (hash, tail) = match after.find(']') {
            Some(end) => (after.get(..end).unwrap_or_default(), after.get(end + 1..)),
            None => {
                return Err(Error::MalformedMarker {
                    input: snippet(rest.get(at..).unwrap_or_default()),
                    reason: "missing closing `]`",
                });
            }
        };
        let digest: Sha256Digest = hash.parse().map_err(|_| Error::MalformedMarker {
            input: snippet(rest.get(at..).unwrap_or_default()),
            reason: "hash must be the full 64-character lowercase hex SHA-256 of the bundle",
        })?;
        out.push(if prefix == CODEX_READY {
            Marker::CodexReady(digest)
        } else {
            Marker::ClaudeApplied(digest)
        });
        rest = tail.unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn parses_every_marker_kind() {
        let msg = format!(
            "[CODEX-READY:{H}] add feature\n\nbody\n[CLAUDE-APPLIED:{H}]\nPLAN-SUPERVISOR: CONDITIONAL_PASS\nLEAD-APPROVED: risk accepted by lead\n"
        );
        let h: Sha256Digest = H.parse().unwrap();
        assert_eq!(
            markers_in(&msg).unwrap(),
            vec![
                Marker::CodexReady(h),
                Marker::ClaudeApplied(h),
                Marker::PlanSupervisor(PlanVerdict::ConditionalPass),
                Marker::LeadApproved("risk accepted by lead".into()),
            ]
        );
    }

    #[test]
    fn malformed_markers_are_errors() {
        for bad in [
            format!("[CODEX-READY:{}]", &H[..12]),
            format!("[CODEX-READY:{}]", H.to_uppercase()),
            format!("[CLAUDE-APPLIED:{H}"),
            "PLAN-SUPERVISOR: MAYBE".to_owned(),
            "LEAD-APPROVED:   ".to_owned(),
        ] {
            assert!(
                matches!(markers_in(&bad), Err(Error::MalformedMarker { .. })),
                "{bad} should be rejected"
            );
        }
    }

    #[test]
    fn lead_reason_cannot_smuggle_a_marker_or_control_characters() {
        // Found by the marker_parser fuzz target: this line used to yield two markers.
        let line = format!("LEAD-APPROVED: ok [CODEX-READY:{H}]");
        assert!(matches!(
            markers_in(&line),
            Err(Error::MalformedMarker { reason, .. }) if reason.contains("another marker")
        ));
        assert!(matches!(
            Marker::lead_approved("ok\0\0"),
            Err(Error::MalformedMarker { reason, .. }) if reason.contains("printable")
        ));
        assert!(Marker::lead_approved("ok\twith a tab").is_ok());
    }

    #[test]
    fn unmarked_message_has_no_markers() {
        assert!(
            markers_in("fix typo\n\nCODEX-READY is mentioned in prose")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn exact_parse() {
        let m: Marker = format!("  [CODEX-READY:{H}] ").parse().unwrap();
        assert_eq!(m.bundle_hash().unwrap().to_string(), H);
        assert!(
            format!("[CODEX-READY:{H}] extra")
                .parse::<Marker>()
                .is_err()
        );
    }

    proptest::proptest! {
        #[test]
        fn format_parse_round_trip(
            bytes in proptest::array::uniform32(proptest::num::u8::ANY),
            kind in 0u8..4,
            reason in "[a-zA-Z0-9 ,.]{0,40}",
        ) {
            let d = Sha256Digest::from_bytes(bytes);
            let m = match kind {
                0 => Marker::CodexReady(d),
                1 => Marker::ClaudeApplied(d),
                2 => Marker::PlanSupervisor(PlanVerdict::Escalate),
                _ => match Marker::lead_approved(&format!("ok {reason}")) {
                    Ok(m) => m,
                    Err(_) => return Ok(()),
                },
            };
            let back: Marker = m.to_string().parse().unwrap();
            proptest::prop_assert_eq!(m, back);
        }

        #[test]
        fn scanning_never_panics(s in "\\PC*") {
            let _ = markers_in(&s);
        }
    }
}
