//! `leo audit`: read, prove and verify the audit trail (SOP §7), and sign checkpoints.
//!
//! `--db sqlite:PATH` (default `./leo.db`) or `--db postgres://...`. Exit 0 ok, 1 tampering
//! or a proof that does not verify, 2 usage or I/O error.
//!
//! `leo audit history` checks a git history against SOP §7.1 ([`leo_gates::history`]); it
//! reads an audit trail only when `--db` (or `LEO_DB`) names one, and exits 1 when it finds
//! violations.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use leo_store::{
    BuilderHandle, CheckpointRow, EnforcerHandle, Entry, EventId, LeadHandle, Location, NoteSigner,
    NoteVerifier, SupervisorHandle,
};
use serde_json::json;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use leo_gates::history::{HistoryOptions, TrailSource, audit_history_with_progress};

use crate::output::{VerificationFailed, print_json};

/// Arguments of `leo audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The audit trail: `sqlite:PATH`, a path, or `postgres://user@host/db` [default:
    /// sqlite:./leo.db, except for `history`, which then checks no records].
    #[arg(long, global = true, env = "LEO_DB")]
    db: Option<String>,
    #[command(subcommand)]
    command: AuditCommand,
}

/// Subcommands of `leo audit`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List records in log order.
    Log {
        /// First log position.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// How many records.
        #[arg(long, default_value_t = 50)]
        limit: u64,
    },
    /// Show one record: a log position or a client event id.
    Show {
        /// Log position (seq) or event id.
        id: String,
    },
    /// Recompute leaves, hash chain, Merkle tree and checkpoint signatures; exit 1 naming
    /// the first tampered row.
    Verify {
        /// Trusted checkpoint verifier keys (files holding `name+id+key`).
        #[arg(long = "trust", value_name = "FILE", required = true)]
        trust: Vec<PathBuf>,
    },
    /// An inclusion proof for one record against a stored checkpoint.
    Prove {
        /// Log position (seq) or event id.
        id: String,
        /// Tree size to prove against (default: the newest checkpoint covering the record).
        #[arg(long)]
        size: Option<u64>,
        /// Check the proof against the checkpoint's signature with these verifier keys.
        #[arg(long = "trust", value_name = "FILE")]
        trust: Vec<PathBuf>,
    },
    /// Sign and store a checkpoint of the current log.
    Checkpoint {
        /// The secret checkpoint key (mode 0600).
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Create the key (and `FILE.pub`) with this name if FILE does not exist.
        #[arg(long, value_name = "NAME")]
        init: Option<String>,
        /// The writer role to append the checkpoint as.
        #[arg(long, value_enum, default_value_t = WriterRoleArg::ClaudeExec)]
        role: WriterRoleArg,
    },
    /// Check a git history against SOP §7.1: handoff markers in order, bundles, lane
    /// branches, handoff records and verdicts (with `--db`), role separation. Exit 1 listing
    /// every violation.
    History(HistoryArgs),
}

/// Arguments of `leo audit history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The git repository.
    #[arg(long, value_name = "DIR", default_value = ".")]
    repo: PathBuf,
    /// Audit only this revision or range (`main`, `v1..main`) instead of every branch.
    #[arg(long)]
    rev: Option<String>,
    /// Directory holding the bundles (`*.tar.gz`, searched recursively and found by hash).
    #[arg(long, value_name = "DIR")]
    bundles: Option<PathBuf>,
    /// Also verify every bundle a marker names with the hardened reader.
    #[arg(long, requires = "bundles")]
    verify_bundles: bool,
    /// A checkpoint verifier key (note format), repeatable: with `--db`, the whole trail is
    /// verified against these before any record is read (exit 1 if it fails). Without it
    /// the records are taken as stored and the report says `store_verified: false`.
    #[arg(long = "trust", value_name = "FILE")]
    trust: Vec<PathBuf>,
    /// The branch changes are merged into.
    #[arg(long, default_value = leo_gates::history::DEFAULT_MAIN_BRANCH)]
    main_branch: String,
    /// Most commits walked before giving up (exit 2).
    #[arg(long, default_value_t = leo_gates::history::DEFAULT_MAX_COMMITS)]
    max_commits: usize,
}

/// Writer roles selectable on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum WriterRoleArg {
    /// Claude/EXEC.
    ClaudeExec,
    /// PLAN.
    Plan,
    /// LEAD.
    Lead,
}

/// The trail the commands read when `--db` is not given.
const DEFAULT_DB: &str = "sqlite:./leo.db";

/// Runs `leo audit`.
pub fn run(args: &AuditArgs, json: bool) -> anyhow::Result<ExitCode> {
    let loc =
        || -> anyhow::Result<Location> { Ok(args.db.as_deref().unwrap_or(DEFAULT_DB).parse()?) };
    match &args.command {
        AuditCommand::Log { from, limit } => log(&mut open(&loc()?)?, *from, *limit, json),
        AuditCommand::Show { id } => show(&mut open(&loc()?)?, id, json),
        AuditCommand::Verify { trust } => verify(&mut open(&loc()?)?, &load_trust(trust)?, json),
        AuditCommand::Prove { id, size, trust } => {
            prove(&mut open(&loc()?)?, id, *size, &load_trust(trust)?, json)
        }
        AuditCommand::Checkpoint { key, init, role } => {
            checkpoint(&loc()?, key, init.as_deref(), *role, json)
        }
        // `history` reads a trail only when `--db` is given.
        AuditCommand::History(h) => history(h, args.db.as_deref(), json),
    }
}

fn open(loc: &Location) -> anyhow::Result<BuilderHandle> {
    BuilderHandle::open(loc).with_context(|| format!("opening {loc}"))
}

fn load_trust(files: &[PathBuf]) -> anyhow::Result<Vec<NoteVerifier>> {
    files
        .iter()
        .map(|f| {
            let text =
                std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
            text.trim()
                .parse()
                .with_context(|| format!("parsing verifier key {}", f.display()))
        })
        .collect()
}

fn entry_json(e: &Entry) -> serde_json::Value {
    json!({
        "seq": e.seq,
        "event_id": e.event.id.as_str(),
        "kind": e.event.record.kind().as_str(),
        "table": e.event.record.kind().table(),
        "actor": e.actor.as_str(),
        "action": e.event.action.as_str(),
        "recorded_at": e.event.recorded_at.to_rfc3339(),
        "leaf_hash": hex_of(&e.leaf_hash),
        "chain_hash": hex_of(&e.chain_hash),
        "record": serde_json::to_value(&e.event.record).unwrap_or_default(),
    })
}

fn hex_of(h: &[u8]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

fn log(r: &mut BuilderHandle, from: u64, limit: u64, json: bool) -> anyhow::Result<ExitCode> {
    let entries = r.entries(from, limit)?;
    if json {
        print_json(&json!({
            "size": r.size()?,
            "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
        }));
    } else {
        for e in &entries {
            println!(
                "{:>6}  {}  {:<11}  {:<17}  {:<24}  {}",
                e.seq,
                e.event.recorded_at,
                e.actor.as_str(),
                e.event.action.as_str(),
                e.event.record.kind().table(),
                e.event.id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn find(r: &mut BuilderHandle, id: &str) -> anyhow::Result<Entry> {
    Ok(match id.parse::<u64>() {
        Ok(seq) => r.entry(seq)?,
        Err(_) => r.find(&id.parse::<EventId>()?)?,
    })
}

fn show(r: &mut BuilderHandle, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let e = find(r, id)?;
    let value = entry_json(&e);
    if json {
        print_json(&value);
    } else {
        println!("{}", serde_json::to_string_pretty(&value)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Tampering and invalid proofs exit 1; everything else is an error (exit 2).
fn as_failure(e: leo_store::Error) -> anyhow::Error {
    match e {
        leo_store::Error::Tampered { .. }
        | leo_store::Error::CheckpointInvalid { .. }
        | leo_store::Error::ProofInvalid { .. } => VerificationFailed(e.to_string()).into(),
        other => other.into(),
    }
}

fn verify(r: &mut BuilderHandle, trusted: &[NoteVerifier], json: bool) -> anyhow::Result<ExitCode> {
    let report = r.verify(trusted).map_err(as_failure)?;
    if json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("ok".into(), true.into());
        }
        print_json(&v);
    } else {
        println!(
            "OK: {} records; {} checkpoints verified (signed by {}); root {}",
            report.entries,
            report.checkpoints,
            if report.signers.is_empty() {
                "nobody".to_owned()
            } else {
                report.signers.join(", ")
            },
            report.root
        );
        if report.unsigned_tail > 0 {
            eprintln!(
                "warning: the last {} records are covered by the hash chain only; run `leo audit checkpoint`",
                report.unsigned_tail
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn pick_checkpoint(cps: &[CheckpointRow], seq: u64, size: Option<u64>) -> Option<&CheckpointRow> {
    match size {
        Some(s) => cps.iter().find(|c| c.tree_size == s),
        None => cps.iter().rev().find(|c| c.tree_size > seq),
    }
}

fn prove(
    r: &mut BuilderHandle,
    id: &str,
    size: Option<u64>,
    trusted: &[NoteVerifier],
    json: bool,
) -> anyhow::Result<ExitCode> {
    let e = find(r, id)?;
    let cps = r.checkpoints()?;
    let cp = pick_checkpoint(&cps, e.seq, size);
    let tree_size = match (size, cp) {
        (Some(s), _) => s,
        (None, Some(c)) => c.tree_size,
        (None, None) => r.size()?,
    };
    let proof = r.inclusion_proof(e.seq, tree_size)?;
    proof.verify().map_err(as_failure)?;
    let signed = match (cp, trusted.is_empty()) {
        (Some(c), false) => {
            proof.verify_against(&c.note, trusted).map_err(as_failure)?;
            true
        }
        (None, false) => {
            return Err(VerificationFailed(format!(
                "no stored checkpoint of size {tree_size} to check the proof against"
            ))
            .into());
        }
        (_, true) => false,
    };
    if json {
        print_json(&json!({
            "event_id": e.event.id.as_str(),
            "proof": proof,
            "checkpoint": cp.map(|c| c.note.clone()),
            "signature_verified": signed,
        }));
    } else {
        println!(
            "record {} ({}) is leaf {} of {}",
            e.seq, e.event.id, proof.index, proof.size
        );
        println!("leaf hash  {}", hex_of(&proof.leaf_hash));
        for (i, h) in proof.path.iter().enumerate() {
            println!("path[{i:>2}]   {}", hex_of(h));
        }
        println!("root       {}", hex_of(&proof.root));
        match cp {
            Some(c) => print!(
                "checkpoint{}:\n{}",
                if signed { " (signature verified)" } else { "" },
                c.note
            ),
            None => println!("no signed checkpoint covers this size yet"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn load_or_init_key(key: &Path, init: Option<&str>) -> anyhow::Result<NoteSigner> {
    if let (Some(name), false) = (init, key.exists()) {
        let signer = NoteSigner::generate(name)?;
        leo_store::save_secret_key(key, &signer)?;
        let mut pub_path = key.as_os_str().to_owned();
        pub_path.push(".pub");
        let vkey = format!("{}\n", signer.verifier());
        leo_artifact::fsutil::write_bytes_atomically(Path::new(&pub_path), vkey.as_bytes())?;
        eprintln!(
            "created {} and {}",
            key.display(),
            Path::new(&pub_path).display()
        );
        return Ok(signer);
    }
    Ok(leo_store::load_secret_key(key)?)
}

fn checkpoint(
    loc: &Location,
    key: &Path,
    init: Option<&str>,
    role: WriterRoleArg,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let signer = Some(load_or_init_key(key, init)?);
    let note = match role {
        WriterRoleArg::ClaudeExec => EnforcerHandle::open(loc, signer)?.checkpoint()?,
        WriterRoleArg::Plan => SupervisorHandle::open(loc, signer)?.checkpoint()?,
        WriterRoleArg::Lead => LeadHandle::open(loc, signer)?.checkpoint()?,
    };
    if json {
        print_json(&json!({ "ok": true, "checkpoint": note }));
    } else {
        match note {
            Some(n) => print!("{n}"),
            None => println!("the log is empty: nothing to sign"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Histories shorter than this are walked without a progress bar.
const MIN_COMMITS_FOR_BAR: u64 = 10_000;

fn history(args: &HistoryArgs, db: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let opts = HistoryOptions {
        rev: args.rev.clone(),
        bundles: args.bundles.clone(),
        verify_bundles: args.verify_bundles,
        main_branch: args.main_branch.clone(),
        max_commits: args.max_commits,
        ..HistoryOptions::default()
    };
    if db.is_none() && !args.trust.is_empty() {
        anyhow::bail!("--trust verifies the trail given with --db, and no --db was given");
    }
    let trusted = load_trust(&args.trust)?;
    let mut store = match db {
        Some(db) => Some(open(&db.parse()?)?),
        None => None,
    };
    let source = store.as_deref_mut().map(|reader| TrailSource {
        reader,
        trusted: (!trusted.is_empty()).then_some(trusted.as_slice()),
    });
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} auditing history: {pos} commits {per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let mut progress = |walked: u64| {
        if walked >= MIN_COMMITS_FOR_BAR {
            bar.set_position(walked);
        }
    };
    let report = match audit_history_with_progress(&args.repo, source, &opts, &mut progress) {
        Ok(r) => r,
        // A trail that fails verification is a verification failure (exit 1).
        Err(leo_gates::Error::Store(e)) => return Err(as_failure(e)),
        Err(e) => {
            return Err(anyhow::Error::new(e)
                .context(format!("auditing the history of {}", args.repo.display())));
        }
    };
    bar.finish_and_clear();
    if json {
        let mut v = serde_json::to_value(&report)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("ok".into(), report.is_clean().into());
        }
        print_json(&v);
    } else {
        for violation in &report.violations {
            println!("{violation}");
        }
        println!(
            "{}: {} commits, {} [CODEX-READY], {} [CLAUDE-APPLIED] ({} merged), {} violations",
            if report.is_clean() { "OK" } else { "FAILED" },
            report.commits_walked,
            report.codex_ready,
            report.claude_applied,
            report.merged,
            report.violations.len()
        );
        let c = report.coverage;
        if c.store && !c.store_verified {
            eprintln!(
                "warning: the audit trail was NOT verified (no --trust): its records were taken as stored"
            );
        }
        for (ran, what) in [
            (c.store, "handoff records and verdicts (no --db)"),
            (c.bundles, "bundle files (no --bundles)"),
            (c.merges, "merged changes (main branch not found)"),
        ] {
            if !ran {
                eprintln!("note: not checked: {what}");
            }
        }
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        crate::output::exit_failed()
    })
}
