//! The SOP §12.8 monthly compliance report, as Markdown and as one self-contained HTML page
//! with inline SVG charts (no scripts, no external resources).
//!
//! Contents: SLSA L3 coverage, unsigned artifacts (count, and whether they were applied),
//! policy violation trend, gate bypass attempts (should be 0), mean time to handoff (MTTH),
//! security score history (one score per day, each over that day's events), and the drift
//! compliance score when drift reports are given.

use std::fmt::Write;
use std::str::FromStr;

use leo_store::Timestamp;
use serde::Serialize;
use time::{Date, Month as TimeMonth};

use crate::drift::DriftPosture;
use crate::error::{Error, Result};
use crate::score::{Band, PostureScore};
use crate::svg::{Rule, bar_chart, esc, line_chart};
use crate::tally::{Fact, MICROS_PER_SEC, Observation, Tally, Window, mean};

/// Microseconds per day.
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;
/// SOP §12.3: the SLSA L3 coverage target.
pub const SLSA_L3_TARGET: f64 = 0.9;

/// A calendar month, `YYYY-MM`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Month {
    year: i32,
    month: u8,
}

impl FromStr for Month {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::InvalidMonth {
            input: leo_artifact::error::snippet(s),
        };
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u8 = m.parse().map_err(|_| bad())?;
        TimeMonth::try_from(month).map_err(|_| bad())?;
        Ok(Month { year, month })
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Month {
    fn first_day(self) -> Result<Date> {
        let m = TimeMonth::try_from(self.month).map_err(|_| Error::InvalidMonth {
            input: self.to_string(),
        })?;
        Date::from_calendar_date(self.year, m, 1).map_err(|_| Error::InvalidMonth {
            input: self.to_string(),
        })
    }

    /// Number of days.
    pub fn days(self) -> Result<u8> {
        Ok(self.first_day()?.month().length(self.year))
    }

    /// `[first day 00:00 UTC, first day of the next month 00:00 UTC)`.
    pub fn window(self) -> Result<Window> {
        let start = self.first_day()?.midnight().assume_utc().unix_timestamp() * MICROS_PER_SEC;
        let end = start + i64::from(self.days()?) * MICROS_PER_DAY;
        Window::new(
            Timestamp::from_unix_micros(start),
            Timestamp::from_unix_micros(end),
        )
    }
}

/// Tallies a month and each of its days in one pass.
#[derive(Debug)]
pub struct MonthTally {
    month: Month,
    window: Window,
    total: Tally,
    days: Vec<Tally>,
}

impl MonthTally {
    /// Empty tallies for `month`.
    pub fn new(month: Month) -> Result<Self> {
        let window = month.window()?;
        let days = (0..i64::from(month.days()?))
            .map(|d| {
                let from = window.from().unix_micros() + d * MICROS_PER_DAY;
                Window::new(
                    Timestamp::from_unix_micros(from),
                    Timestamp::from_unix_micros(from + MICROS_PER_DAY),
                )
                .map(Tally::new)
            })
            .collect::<Result<_>>()?;
        Ok(MonthTally {
            month,
            window,
            total: Tally::new(window),
            days,
        })
    }

    /// Counts one observation. Evidence (attestations, signatures, handoff markers) is also
    /// shown to every later day, since a bundle signed on the 3rd and handed off on the 4th
    /// is a signed bundle of the 4th.
    pub fn observe(&mut self, o: &Observation<'_>) {
        if o.at >= self.window.to() {
            return;
        }
        self.total.observe(o);
        let offset = o.at.unix_micros() - self.window.from().unix_micros();
        let first = usize::try_from(offset.div_euclid(MICROS_PER_DAY)).unwrap_or(0);
        let evidence = matches!(
            o.fact,
            Fact::Attestation { .. } | Fact::Signature { .. } | Fact::Handoff { .. }
        );
        let last = if evidence || offset < 0 {
            self.days.len()
        } else {
            first + 1
        };
        for day in self
            .days
            .iter_mut()
            .take(last)
            .skip(if offset < 0 { 0 } else { first })
        {
            day.observe(o);
        }
    }

    /// The report.
    pub fn finish(&self, drift: Option<DriftPosture>) -> Result<MonthlyReport> {
        let days = self
            .days
            .iter()
            .map(DaySummary::of)
            .collect::<Result<Vec<_>>>()?;
        Ok(MonthlyReport {
            month: self.month,
            total: DaySummary::of(&self.total)?,
            days,
            drift,
        })
    }
}

/// The figures of one day (or of the whole month).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DaySummary {
    /// The posture score.
    pub score: PostureScore,
    /// Bundles handed off.
    pub bundles: u64,
    /// Share of bundles with a verified attestation of any level (`None`: no bundles).
    pub slsa_coverage: Option<f64>,
    /// Share of bundles with a verified SLSA L3 attestation (`None`: no bundles, or the
    /// attestations did not record their level).
    pub slsa_l3_coverage: Option<f64>,
    /// Bundles handed off without a signature.
    pub unsigned: u64,
    /// Unsigned bundles applied (not blocked).
    pub unsigned_applied: u64,
    /// Policy violations.
    pub violations: u64,
    /// Gate bypass attempts.
    pub bypass_attempts: u64,
    /// Mean time to handoff (ready → applied), seconds.
    pub mtth_seconds: Option<f64>,
    /// Gate executions.
    pub gate_runs: u64,
}

impl DaySummary {
    fn of(t: &Tally) -> Result<Self> {
        let bundles = t.bundles_handed_off();
        #[allow(clippy::cast_precision_loss)]
        let share = |n: u64| (bundles > 0).then(|| n as f64 / bundles as f64);
        let slsa = share(t.bundles_attested_at(3)).filter(|_| t.slsa_levels_known());
        let inputs = t.inputs();
        Ok(DaySummary {
            score: t.score()?,
            bundles,
            slsa_coverage: share(t.bundles_attested_at(0)),
            slsa_l3_coverage: slsa,
            unsigned: t.unsigned_bundles(),
            unsigned_applied: t.unsigned_applied(),
            violations: t.violations(),
            bypass_attempts: t.bypass_attempts,
            mtth_seconds: mean(&t.handoff_seconds()),
            gate_runs: inputs.gate_runs,
        })
    }
}

/// A month's report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MonthlyReport {
    /// Which month.
    pub month: Month,
    /// The whole month.
    pub total: DaySummary,
    /// Each day, in order.
    pub days: Vec<DaySummary>,
    /// Drift figures, when drift reports were given.
    pub drift: Option<DriftPosture>,
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{:.1} %", v * 100.0))
}

fn minutes(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |s| format!("{:.1} min", s / 60.0))
}

fn score_text(s: &PostureScore) -> String {
    if s.is_complete() {
        format!("{:.2} ({})", s.score, s.band)
    } else {
        format!(
            "{:.2} to {:.2} ({}; {} % of the weight known)",
            s.score, s.max_score, s.band, s.known_weight
        )
    }
}

impl MonthlyReport {
    /// The headline rows: (what, value, target).
    fn headline(&self) -> Vec<(&'static str, String, &'static str)> {
        let t = &self.total;
        let mut rows = vec![
            ("Security score (v1)", score_text(&t.score), "≥ 85 (Green)"),
            ("SLSA L3 coverage", pct(t.slsa_l3_coverage), "> 90 %"),
            (
                "Verified attestation coverage (any level)",
                pct(t.slsa_coverage),
                "",
            ),
            (
                "Unsigned artifacts",
                format!(
                    "{} handed off unsigned, {} applied unsigned",
                    t.unsigned, t.unsigned_applied
                ),
                "0",
            ),
            ("Policy violations", t.violations.to_string(), "trend down"),
            ("Gate bypass attempts", t.bypass_attempts.to_string(), "0"),
            (
                "Mean time to handoff (MTTH)",
                minutes(t.mtth_seconds),
                "P95 ≤ 10 min",
            ),
            ("Bundles handed off", t.bundles.to_string(), ""),
        ];
        if let Some(d) = &self.drift {
            rows.push((
                "Drift compliance score",
                format!("{:.1} ({})", d.compliance.score, d.compliance.grade),
                "> 90",
            ));
        }
        rows
    }

    /// The report as Markdown.
    pub fn to_markdown(&self) -> String {
        let mut md = format!("# LEO compliance report {}\n\n", self.month);
        md.push_str("Computed from the LEO audit trail (SOP §12.8). Unknown score components count 0 and are reported, never averaged away.\n\n");
        md.push_str("| | value | target |\n|---|---|---|\n");
        for (what, value, target) in self.headline() {
            let _ = writeln!(md, "| {what} | {value} | {target} |");
        }
        md.push_str(
            "\n## Score components (month)\n\n| component | weight | value |\n|---|---|---|\n",
        );
        for c in &self.total.score.components {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                c.component,
                c.weight,
                c.ratio.map_or("unknown (no data)".into(), |r| format!(
                    "{}/{} = {:.1} %",
                    r.numerator(),
                    r.denominator(),
                    r.as_f64() * 100.0
                ))
            );
        }
        md.push_str("\n## Daily history\n\n| day | score | band | SLSA L3 | unsigned | violations | bypass attempts | MTTH |\n|---|---|---|---|---|---|---|---|\n");
        for (i, d) in self.days.iter().enumerate() {
            let _ = writeln!(
                md,
                "| {}-{:02} | {:.2} | {} | {} | {} | {} | {} | {} |",
                self.month,
                i + 1,
                d.score.score,
                d.score.band,
                pct(d.slsa_l3_coverage),
                d.unsigned,
                d.violations,
                d.bypass_attempts,
                minutes(d.mtth_seconds)
            );
        }
        md
    }

    /// The report as one self-contained HTML page.
    pub fn to_html(&self) -> String {
        let days = &self.days;
        let score: Vec<Option<f64>> = days
            .iter()
            .map(|d| (d.score.known_weight > 0).then_some(d.score.score))
            .collect();
        let hollow: Vec<bool> = days.iter().map(|d| !d.score.is_complete()).collect();
        // L3 where attestations recorded their level; any verified attestation otherwise
        // (an empty L3 chart would say "0 %" to a hurried reader).
        let l3 = days.iter().any(|d| d.slsa_l3_coverage.is_some());
        let slsa: Vec<Option<f64>> = days
            .iter()
            .map(|d| {
                if l3 {
                    d.slsa_l3_coverage
                } else {
                    d.slsa_coverage
                }
                .map(|v| v * 100.0)
            })
            .collect();
        let mtth: Vec<Option<f64>> = days
            .iter()
            .map(|d| d.mtth_seconds.map(|s| s / 60.0))
            .collect();
        let mtth_max = mtth
            .iter()
            .flatten()
            .fold(15.0_f64, |a, b| a.max(*b))
            .ceil();
        let charts = [
            (
                "Security score history",
                line_chart(
                    "score",
                    "Security score per day",
                    &score,
                    &hollow,
                    100.0,
                    "",
                    &[
                        Rule {
                            value: 85.0,
                            color: "#1a7f37",
                            label: "Green ≥ 85",
                        },
                        Rule {
                            value: 70.0,
                            color: "#cf222e",
                            label: "Red < 70",
                        },
                    ],
                ),
            ),
            (
                if l3 {
                    "SLSA L3 coverage"
                } else {
                    "Verified attestation coverage (the trail records no SLSA level)"
                },
                line_chart(
                    "slsa",
                    "Attestation coverage per day",
                    &slsa,
                    &[],
                    100.0,
                    "%",
                    &[Rule {
                        value: SLSA_L3_TARGET * 100.0,
                        color: "#1a7f37",
                        label: "target 90 %",
                    }],
                ),
            ),
            (
                "Unsigned artifacts",
                bar_chart(
                    "unsigned",
                    "Unsigned artifacts per day",
                    &days.iter().map(|d| d.unsigned).collect::<Vec<_>>(),
                    "#cf222e",
                ),
            ),
            (
                "Policy violations trend",
                bar_chart(
                    "violations",
                    "Policy violations per day",
                    &days.iter().map(|d| d.violations).collect::<Vec<_>>(),
                    "#bf8700",
                ),
            ),
            (
                "Gate bypass attempts",
                bar_chart(
                    "bypass",
                    "Gate bypass attempts per day",
                    &days.iter().map(|d| d.bypass_attempts).collect::<Vec<_>>(),
                    "#8250df",
                ),
            ),
            (
                "Mean time to handoff",
                line_chart(
                    "mtth",
                    "Mean time to handoff per day (minutes)",
                    &mtth,
                    &[],
                    mtth_max,
                    "",
                    &[Rule {
                        value: 10.0,
                        color: "#cf222e",
                        label: "10 min",
                    }],
                ),
            ),
        ];
        let band_color = match self.total.score.band {
            Band::Green => "#1a7f37",
            Band::Yellow => "#bf8700",
            Band::Red => "#cf222e",
            Band::Unknown => "#57606a",
        };
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>LEO compliance report {m}</title>\
             <style>body{{font-family:system-ui,sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}}\
             h1{{margin:0 0 4px}}.band{{display:inline-block;padding:4px 12px;border-radius:12px;color:#fff;background:{band_color};font-weight:600}}\
             table{{border-collapse:collapse;background:#fff;margin:12px 0}}td,th{{border:1px solid #d0d7de;padding:4px 10px;text-align:left}}\
             section{{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:8px 12px;margin:12px 0}}h2{{font-size:16px;margin:4px 0}}</style></head><body>\
             <h1>LEO compliance report {m}</h1><p>Security score <span class=\"band\">{score}</span> — computed from the LEO audit trail (SOP §12.8); unknown components count 0 and are reported, never averaged away.</p><table><tr><th></th><th>value</th><th>target</th></tr>",
            m = self.month,
            score = esc(&score_text(&self.total.score)),
        );
        for (what, value, target) in self.headline() {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(what),
                esc(&value),
                esc(target)
            );
        }
        h.push_str("</table>");
        for (title, svg) in charts {
            let _ = write!(h, "<section><h2>{}</h2>{svg}</section>", esc(title));
        }
        h.push_str("<p>Open circles: days where part of the score's weight had no data (the point is a lower bound).</p></body></html>\n");
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples::journeys;

    #[test]
    fn months_parse_strictly() {
        let m: Month = "2026-02".parse().unwrap();
        assert_eq!(m.days().unwrap(), 28);
        assert_eq!(m.to_string(), "2026-02");
        let w = m.window().unwrap();
        assert_eq!(w.from().to_string(), "2026-02-01T00:00:00Z");
        assert_eq!(w.to().to_string(), "2026-03-01T00:00:00Z");
        for bad in [
            "2026-13", "2026-1", "26-01", "2026/01", "", "2026-00", "abcd-ef",
        ] {
            assert!(
                matches!(bad.parse::<Month>(), Err(Error::InvalidMonth { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_month_report_has_every_section() {
        let month: Month = "2026-01".parse().unwrap();
        let mut t = MonthTally::new(month).unwrap();
        // 20 days of activity, the rest quiet; some events after the month are ignored.
        let month_facts = journeys(20_000, month.window().unwrap().from(), 20 * 86_400, 1000);
        // 2,000 journeys; a bundle refused by its attestation check is rebuilt as another.
        let handed_off = month_facts
            .iter()
            .filter(|o| {
                matches!(
                    o.fact,
                    crate::Fact::Handoff {
                        stage: leo_store::HandoffStage::CodexReady,
                        ..
                    }
                )
            })
            .count() as u64;
        assert!(handed_off > 2000 && handed_off < 2200, "{handed_off}");
        for o in &month_facts {
            t.observe(o);
        }
        for o in journeys(100, month.window().unwrap().to(), 86_400, 1000) {
            t.observe(&o);
        }
        let r = t.finish(None).unwrap();
        assert_eq!(r.days.len(), 31);
        assert_eq!(r.total.bundles, handed_off);
        assert_eq!(r.days.iter().map(|d| d.bundles).sum::<u64>(), handed_off);
        assert!(r.days.get(25).unwrap().score.known_weight == 0);
        let md = r.to_markdown();
        assert!(md.contains("# LEO compliance report 2026-01"));
        assert!(md.contains("| 2026-01-31 |"));
        let html = r.to_html();
        assert_eq!(html.matches("<svg").count(), 6);
        assert!(
            !html.contains("<script") && !html.contains("http://")
                || html.contains("xmlns=\"http://www.w3.org/2000/svg\"")
        );
        for id in ["score", "slsa", "unsigned", "violations", "bypass", "mtth"] {
            assert!(html.contains(&format!("<svg id=\"{id}\"")), "{id}");
        }
    }
}
