//! [`Confidence`]: a percentage with two exact decimals (no floating point in verdicts).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, snippet};

/// Hundredths of a percent in 100 %.
pub const FULL_BP: u16 = 10_000;

/// A confidence from 0.00 % to 100.00 %, stored exactly as hundredths of a percent
/// (`84.9 %` is `8490`). Serialized as that integer.
///
/// ```
/// use leo_gates::Confidence;
/// let c: Confidence = "84.9".parse()?;
/// assert_eq!(c.hundredths(), 8490);
/// assert!(c < Confidence::percent(85)?);
/// assert_eq!(c.to_string(), "84.90 %");
/// # Ok::<(), leo_gates::Error>(())
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(try_from = "u16", into = "u16")]
pub struct Confidence(u16);

impl Confidence {
    /// 0 %.
    pub const ZERO: Confidence = Confidence(0);
    /// 100 %.
    pub const FULL: Confidence = Confidence(FULL_BP);

    /// From hundredths of a percent; refuses more than 100 %.
    pub fn from_hundredths(h: u16) -> Result<Self> {
        if h > FULL_BP {
            return Err(Error::InvalidConfidence {
                input: h.to_string(),
                reason: "above 100 % (10000 hundredths)",
            });
        }
        Ok(Confidence(h))
    }

    /// From a whole percentage; refuses more than 100.
    pub fn percent(p: u8) -> Result<Self> {
        Confidence::from_hundredths(u16::from(p).saturating_mul(100))
    }

    /// Hundredths of a percent.
    pub const fn hundredths(self) -> u16 {
        self.0
    }

    /// The whole percentage rounded down (the audit trail's `Confidence` is whole percent;
    /// rounding down never turns a value below a threshold into one at it).
    pub const fn whole_percent_floor(self) -> u8 {
        // 10000 / 100 = 100 fits a u8.
        (self.0 / 100) as u8
    }

    /// `self - other`, or zero.
    pub const fn saturating_sub(self, other: Confidence) -> Confidence {
        Confidence(self.0.saturating_sub(other.0))
    }
}

impl TryFrom<u16> for Confidence {
    type Error = Error;

    fn try_from(h: u16) -> Result<Self> {
        Confidence::from_hundredths(h)
    }
}

impl From<Confidence> for u16 {
    fn from(c: Confidence) -> u16 {
        c.0
    }
}

impl FromStr for Confidence {
    type Err = Error;

    /// Parses `85`, `84.9`, `84.95` or `100.00` (an optional trailing `%` is accepted).
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason| Error::InvalidConfidence {
            input: snippet(s),
            reason,
        };
        let t = s.trim().trim_end_matches('%').trim_end();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || whole.len() > 3 || !digits(whole) || !digits(frac) {
            return Err(bad("expected a percentage like 85, 84.9 or 84.95"));
        }
        if frac.len() > 2 || (t.contains('.') && frac.is_empty()) {
            return Err(bad("at most two decimals, and at least one after a '.'"));
        }
        let w: u16 = whole.parse().map_err(|_| bad("bad whole part"))?;
        let f: u16 = if frac.is_empty() {
            0
        } else {
            let v: u16 = frac.parse().map_err(|_| bad("bad decimals"))?;
            if frac.len() == 1 { v * 10 } else { v }
        };
        let h = w
            .checked_mul(100)
            .and_then(|x| x.checked_add(f))
            .ok_or_else(|| bad("above 100 %"))?;
        Confidence::from_hundredths(h).map_err(|_| bad("above 100 %"))
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} %", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_sop_spellings() {
        let h = |s: &str| s.parse::<Confidence>().unwrap().hundredths();
        assert_eq!(h("85"), 8500);
        assert_eq!(h("85.0"), 8500);
        assert_eq!(h("84.9"), 8490);
        assert_eq!(h("84.99"), 8499);
        assert_eq!(h("100.00 %"), 10_000);
        assert_eq!(h("0"), 0);
        for bad in [
            "", "85.", ".5", "84.999", "100.01", "101", "-1", "1e2", "８５", "1000",
        ] {
            assert!(
                matches!(
                    bad.parse::<Confidence>(),
                    Err(Error::InvalidConfidence { .. })
                ),
                "{bad}"
            );
        }
        assert!(serde_json::from_str::<Confidence>("10001").is_err());
        assert_eq!(
            serde_json::to_string(&Confidence::percent(85).unwrap()).unwrap(),
            "8500"
        );
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(h in 0u16..=FULL_BP) {
            let c = Confidence::from_hundredths(h).unwrap();
            prop_assert_eq!(c.to_string().parse::<Confidence>().unwrap(), c);
            prop_assert!(u16::from(c.whole_percent_floor()) * 100 <= h);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,12}") {
            if let Ok(c) = s.parse::<Confidence>() {
                prop_assert!(c <= Confidence::FULL);
            }
        }
    }
}
