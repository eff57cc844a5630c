//! `leo metrics`, `leo alerts`, `leo report`: the security posture (SOP §12) computed from
//! the audit trail by leo-score.
//!
//! Every command reads the trail (`--db`, default `sqlite:./leo.db`) once, over a window
//! `[--since, --until)` (default: everything up to now). Exit 0 ok, 1 an alert fires
//! (`leo alerts`), 2 usage or I/O error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use leo_drift::DriftReport;
use leo_score::alerts::{AlertState, LOW_SCORE_FOR_MINUTES, evaluate, rules_yaml};
use leo_score::report::{Month, MonthTally};
use leo_score::serve::MetricsServer;
use leo_score::{DriftPosture, PostureScore, Snapshot, Tally, Window, exposition, scan};
use leo_store::{BuilderHandle, Location, Timestamp};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::output::{exit_failed, print_json};

/// Where and over which window to read.
#[derive(Debug, Args)]
pub struct Source {
    /// The audit trail: `sqlite:PATH`, a path, or `postgres://user@host/db`.
    #[arg(long, default_value = "sqlite:./leo.db", env = "LEO_DB")]
    db: String,
    /// Window start, RFC 3339 (default: the beginning of the trail).
    #[arg(long, value_parser = parse_time)]
    since: Option<Timestamp>,
    /// Window end (exclusive), RFC 3339 (default: now).
    #[arg(long, value_parser = parse_time)]
    until: Option<Timestamp>,
    /// DriftReport files (YAML or JSON) for the drift compliance score and MTTD/MTTR.
    #[arg(long = "drift-report", value_name = "FILE")]
    drift_reports: Vec<PathBuf>,
}

fn parse_time(s: &str) -> Result<Timestamp, String> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("not RFC 3339: {e}"))?;
    i64::try_from(t.unix_timestamp_nanos() / 1000)
        .map(Timestamp::from_unix_micros)
        .map_err(|_| "out of range".to_owned())
}

impl Source {
    fn window(&self) -> anyhow::Result<Window> {
        let until = self.until.unwrap_or_else(Timestamp::now);
        Ok(match self.since {
            Some(since) => Window::new(since, until)?,
            None => Window::until(until),
        })
    }

    fn open(&self) -> anyhow::Result<BuilderHandle> {
        let loc: Location = self.db.parse()?;
        BuilderHandle::open(&loc).with_context(|| format!("opening {loc}"))
    }

    fn drift(&self) -> anyhow::Result<Option<DriftPosture>> {
        let reports = self
            .drift_reports
            .iter()
            .map(|p| read_drift_report(p))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(DriftPosture::from_reports(&reports))
    }

    /// Reads the trail once, showing every fact to `visit`.
    fn scan(
        &self,
        window: Window,
        visit: impl FnMut(&leo_score::Observation<'_>),
    ) -> anyhow::Result<u64> {
        let mut reader = self.open()?;
        let spinner = ProgressBar::new_spinner();
        spinner.set_message("reading the audit trail");
        let read = scan(&mut reader, window, visit).context("reading the audit trail")?;
        spinner.finish_and_clear();
        Ok(read)
    }

    fn posture(&self) -> anyhow::Result<Posture> {
        let window = self.window()?;
        let mut tally = Tally::new(window);
        self.scan(window, |o| tally.observe(o))?;
        Ok(Posture {
            score: tally.score()?,
            tally,
            drift: self.drift()?,
        })
    }
}

fn read_drift_report(path: &Path) -> anyhow::Result<DriftReport> {
    // The same size limit leo-drift puts on the manifests a report is made from.
    let bytes = leo_artifact::fsutil::read_capped(path, leo_drift::load::MAX_FILE_BYTES)?;
    let text = String::from_utf8(bytes).with_context(|| format!("reading {}", path.display()))?;
    DriftReport::parse(&text).with_context(|| format!("drift report {}", path.display()))
}

/// Subcommands of `leo metrics`.
#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// Print the Prometheus exposition once (text format 0.0.4); `--json` prints the score
    /// and its inputs instead.
    Dump {
        #[command(flatten)]
        source: Source,
        /// The `environment` label of `ehg_slsa_coverage_ratio`.
        #[arg(long, default_value = "production")]
        environment: String,
    },
    /// Serve `GET /metrics` over HTTP, computed from the trail at every scrape.
    Serve {
        #[command(flatten)]
        source: Source,
        /// The `environment` label of `ehg_slsa_coverage_ratio`.
        #[arg(long, default_value = "production")]
        environment: String,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9464")]
        listen: String,
        /// Stop after this many requests (for tests).
        #[arg(long, hide = true)]
        max_requests: Option<u64>,
    },
    /// Print the security posture score (SOP §12.6) with its components.
    Score {
        #[command(flatten)]
        source: Source,
    },
}

/// Runs `leo metrics`.
pub fn run_metrics(command: &MetricsCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        MetricsCommand::Dump {
            source,
            environment,
        } => {
            let p = source.posture()?;
            if json {
                print_json(&p.to_json()?);
            } else {
                print!("{}", p.exposition(environment)?);
            }
            Ok(ExitCode::SUCCESS)
        }
        MetricsCommand::Serve {
            source,
            environment,
            listen,
            max_requests,
        } => {
            let server = MetricsServer::bind(listen)?;
            let addr = server
                .local_addr()
                .map_or_else(|| listen.clone(), |a| a.to_string());
            if json {
                print_json(&json!({ "listening": addr, "path": "/metrics" }));
            } else {
                println!("serving http://{addr}/metrics");
            }
            // Each scrape re-reads the trail: the window ends now unless --until is set.
            server.run(
                || {
                    source
                        .posture()
                        .and_then(|p| p.exposition(environment))
                        .map_err(|e| leo_score::Error::Serve {
                            listen: listen.clone(),
                            message: format!("{e:#}"),
                        })
                },
                *max_requests,
            )?;
            Ok(ExitCode::SUCCESS)
        }
        MetricsCommand::Score { source } => {
            let p = source.posture()?;
            let (score, drift) = (&p.score, &p.drift);
            if json {
                print_json(&p.to_json()?);
            } else {
                println!(
                    "security score v{}: {:.2}{} — {} ({} % of the weight known)",
                    score.version,
                    score.score,
                    if score.is_complete() {
                        String::new()
                    } else {
                        format!(" to {:.2}", score.max_score)
                    },
                    score.band,
                    score.known_weight
                );
                for c in &score.components {
                    match c.ratio {
                        Some(r) => println!(
                            "  {:<18} weight {:>2}: {}/{} = {:.1} %",
                            c.component.as_str(),
                            c.weight,
                            r.numerator(),
                            r.denominator(),
                            r.as_f64() * 100.0
                        ),
                        None => println!(
                            "  {:<18} weight {:>2}: unknown (no data)",
                            c.component.as_str(),
                            c.weight
                        ),
                    }
                }
                if let Some(d) = drift {
                    println!(
                        "drift compliance score: {:.1} ({})",
                        d.compliance.score, d.compliance.grade
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One window's tally, score and drift figures.
struct Posture {
    tally: Tally,
    score: PostureScore,
    drift: Option<DriftPosture>,
}

impl Posture {
    fn exposition(&self, environment: &str) -> anyhow::Result<String> {
        Ok(exposition(&Snapshot {
            tally: &self.tally,
            score: &self.score,
            drift: self.drift.as_ref(),
            environment,
        })?)
    }

    fn to_json(&self) -> anyhow::Result<serde_json::Value> {
        Ok(json!({
            "window": self.tally.window(),
            "inputs": self.tally.inputs(),
            "score": self.score,
            "drift": self.drift,
        }))
    }
}

/// Arguments of `leo alerts`.
#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    source: Source,
    /// Print the Prometheus rules file instead (observability/prometheus/leo-alerts.yml).
    #[arg(long)]
    rules: bool,
}

/// Runs `leo alerts`: exit 1 when an alert fires.
pub fn run_alerts(args: &AlertsArgs, json: bool) -> anyhow::Result<ExitCode> {
    if args.rules {
        print!("{}", rules_yaml());
        return Ok(ExitCode::SUCCESS);
    }
    let window = args.source.window()?;
    let earlier_end =
        Timestamp::from_unix_micros(window.to().unix_micros() - LOW_SCORE_FOR_MINUTES * 60_000_000);
    let mut now = Tally::new(window);
    let mut earlier = window.ending(earlier_end).map(Tally::new);
    args.source.scan(window, |o| {
        now.observe(o);
        if let Some(e) = &mut earlier {
            e.observe(o);
        }
    })?;
    let alerts = evaluate(&now, earlier.as_ref())?;
    let firing: Vec<&str> = alerts
        .iter()
        .filter(|a| a.state == AlertState::Firing)
        .map(|a| a.rule.name)
        .collect();
    if json {
        print_json(&json!({ "window": window, "alerts": alerts, "firing": firing }));
    } else {
        for a in &alerts {
            let state = match a.state {
                AlertState::Firing => "FIRING",
                AlertState::Inactive => "ok",
                AlertState::NoData => "no data",
            };
            println!(
                "{:<8} {:<28} [{}] {}",
                state,
                a.rule.name,
                a.rule.severity.as_str(),
                a.detail
            );
        }
    }
    if firing.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !json {
        eprintln!(
            "leo: {} alert(s) firing: {}",
            firing.len(),
            firing.join(", ")
        );
    }
    Ok(exit_failed())
}

/// Arguments of `leo report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The month, `YYYY-MM`.
    #[arg(long)]
    month: String,
    /// Directory to write `leo-report-YYYY-MM.md` and `.html` into.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// The audit trail: `sqlite:PATH`, a path, or `postgres://user@host/db`.
    #[arg(long, default_value = "sqlite:./leo.db", env = "LEO_DB")]
    db: String,
    /// DriftReport files (YAML or JSON).
    #[arg(long = "drift-report", value_name = "FILE")]
    drift_reports: Vec<PathBuf>,
}

/// Runs `leo report`.
pub fn run_report(args: &ReportArgs, json: bool) -> anyhow::Result<ExitCode> {
    let month: Month = args.month.parse()?;
    let source = Source {
        db: args.db.clone(),
        since: None,
        until: None,
        drift_reports: args.drift_reports.clone(),
    };
    let mut tally = MonthTally::new(month)?;
    source.scan(month.window()?, |o| tally.observe(o))?;
    let report = tally.finish(source.drift()?)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let md = args.out.join(format!("leo-report-{month}.md"));
    let html = args.out.join(format!("leo-report-{month}.html"));
    leo_artifact::fsutil::write_bytes_atomically(&md, report.to_markdown().as_bytes())
        .with_context(|| format!("writing {}", md.display()))?;
    leo_artifact::fsutil::write_bytes_atomically(&html, report.to_html().as_bytes())
        .with_context(|| format!("writing {}", html.display()))?;
    if json {
        print_json(&json!({
            "month": month.to_string(),
            "markdown": md,
            "html": html,
            "total": report.total,
        }));
    } else {
        println!("wrote {} and {}", md.display(), html.display());
    }
    Ok(ExitCode::SUCCESS)
}
