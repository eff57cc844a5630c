//! `leo policy`: admission policies (SOP §11) evaluated offline with Kyverno's semantics, and
//! the signed policy bundle.
//!
//! - `apply`: exit 0 when every result passes (or warns/skips), 1 on any `fail` or `error`
//!   (as `kyverno apply`; `--audit-warn` turns Audit failures into warnings), 2 usage/I/O.
//! - `test`: runs `kyverno-test.yaml` files; exit 1 when any row differs.
//! - `bundle` / `verify`: `policies-YYYYMMDD-HHMMSS.tar.gz`, its in-toto statement, the
//!   signature over the statement, and `VERIFY_POLICIES.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use leo_policy::bundle::{self, VERIFY_FILE_NAME};
use leo_policy::kyverno_test::{find_test_files, run_test_file};
use leo_policy::{AttestationStore, Engine, EngineOptions, Exemptions, Status};
use leo_sign::sigstore::{
    CosignKeyPair, KeyPolicy, KeyedSigner, KeylessSigner, Password, SigstorePolicy,
    SigstoreVerifier, TrustRoot,
};
use leo_sign::{
    Backend, DetachedSignature, PgpCert, PgpVerifier, RawKeyPair, RawKeyVerifier, RawPublicKey,
    Signer, Verifier, VerifyOptions,
};
use time::OffsetDateTime;

use super::keys::RingArg;
use crate::output::{VerificationFailed, print_json};

/// Largest key or signature file read.
const MAX_SMALL_FILE: u64 = 1024 * 1024;
/// Largest bundle read for verification.
const MAX_BUNDLE_FILE: u64 = 256 * 1024 * 1024;
/// The builder id written when none is given.
const DEFAULT_BUILDER_ID: &str = "https://leo.dev/policy-bundler/v1";

/// `leo policy` subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Evaluate policies against manifests: exit 1 on any fail or error (as `kyverno apply`).
    Apply(ApplyArgs),
    /// Run Kyverno `kyverno-test.yaml` files under DIR: exit 1 when any row differs.
    Test(TestArgs),
    /// Bundle and sign a policy directory (SOP §11.3).
    Bundle(BundleArgs),
    /// Verify a signed policy bundle before use (SOP §11.4): exit 1 when rejected.
    Verify(VerifyArgs),
}

/// Which namespace exemptions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExemptionsArg {
    /// SOP §11.7: system namespaces always, dev namespaces for digest and SLSA rules.
    Sop,
    /// None (Kyverno's own behaviour).
    None,
}

/// Evaluation options shared by `apply` and `test`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Attestation store (signatures and attestations keyed by digest; docs/policies.md).
    #[arg(long, env = "LEO_ATTESTATION_STORE")]
    store: Option<PathBuf>,
    /// Namespace exemptions.
    #[arg(long, value_enum, default_value = "sop")]
    exemptions: ExemptionsArg,
    /// Also exempt this namespace from every rule (repeatable).
    #[arg(long = "exempt-namespace")]
    exempt_namespace: Vec<String>,
    /// Report Audit-mode failures as warnings (exit 0), as `kyverno apply --audit-warn`.
    #[arg(long)]
    audit_warn: bool,
}

impl EvalArgs {
    fn options(&self) -> EngineOptions {
        let mut exemptions = match self.exemptions {
            ExemptionsArg::Sop => Exemptions::sop(),
            ExemptionsArg::None => Exemptions::none(),
        };
        exemptions
            .system
            .extend(self.exempt_namespace.iter().cloned());
        EngineOptions {
            exemptions,
            audit_warn: self.audit_warn,
            store: self.store.as_ref().map(AttestationStore::open),
        }
    }
}

/// Arguments of `leo policy apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Policy file or directory (repeatable).
    #[arg(long = "policy", required = true)]
    policies: Vec<PathBuf>,
    /// Manifest file or directory (repeatable): YAML, JSON, `kubectl get -o json` lists.
    #[arg(long = "resource", required = true)]
    resources: Vec<PathBuf>,
    #[command(flatten)]
    eval: EvalArgs,
    /// Also record every result in this audit trail (`leo_policy_evaluations`, appended as
    /// the enforcer in one transaction): `sqlite:PATH`, a path, or `postgres://...`.
    #[arg(long, value_name = "DB")]
    record: Option<String>,
    /// The enforcer's checkpoint key for `--record` (a signed checkpoint follows the batch;
    /// `leo audit checkpoint --init NAME --key FILE` makes one).
    #[arg(long, value_name = "FILE", requires = "record")]
    record_key: Option<PathBuf>,
}

/// Arguments of `leo policy test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Directory searched for `kyverno-test.yaml` (or one such file).
    dir: PathBuf,
    #[command(flatten)]
    eval: EvalArgs,
}

/// Signing backends for the policy bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BundleBackend {
    /// OpenPGP with the key ring's current key (`.asc`).
    Pgp,
    /// A raw Ed25519/ECDSA P-256 key (`.sig`).
    Key,
    /// A cosign key pair, offline Sigstore bundle (`.sigstore.json`; `$COSIGN_PASSWORD`).
    Cosign,
    /// Sigstore keyless when an identity token and Fulcio/Rekor are reachable, else OpenPGP.
    Auto,
}

/// Arguments of `leo policy bundle`.
#[derive(Debug, Args)]
pub struct BundleArgs {
    /// The policy directory.
    dir: PathBuf,
    /// Where the bundle, statement, signature and VERIFY_POLICIES.md are written.
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
    /// Signing backend.
    #[arg(long, value_enum, default_value = "pgp")]
    backend: BundleBackend,
    #[command(flatten)]
    ring: RingArg,
    /// Secret key: PKCS#8 for `--backend key`, cosign key file for `--backend cosign`.
    #[arg(long)]
    key: Option<PathBuf>,
    /// The builder id recorded in the statement.
    #[arg(long, default_value = DEFAULT_BUILDER_ID)]
    builder_id: String,
    /// With `--backend cosign` and no `$COSIGN_PASSWORD`: decrypt the key with the empty
    /// password (otherwise that is an error).
    #[arg(long)]
    allow_empty_password: bool,
}

/// Verification backends for the policy bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyBackend {
    /// OpenPGP (`--cert` or the key ring).
    Pgp,
    /// Raw key (`--public-key` `.pub.json`).
    Key,
    /// Sigstore bundle signed by a cosign key (`--public-key` PEM).
    Cosign,
    /// Sigstore keyless (`--identity`, `--issuer`).
    Sigstore,
}

/// Arguments of `leo policy verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle (`policies-YYYYMMDD-HHMMSS.tar.gz`).
    bundle: PathBuf,
    /// The statement (default: `<bundle>.intoto.json`).
    #[arg(long)]
    statement: Option<PathBuf>,
    /// The signature over the statement (default: by backend, beside the statement).
    #[arg(long)]
    signature: Option<PathBuf>,
    /// Signature backend.
    #[arg(long, value_enum, default_value = "pgp")]
    backend: VerifyBackend,
    #[command(flatten)]
    ring: RingArg,
    /// Pin these armored OpenPGP certificates instead of the key ring.
    #[arg(long)]
    cert: Vec<PathBuf>,
    /// Public key (`.pub.json` for `key`, PEM for `cosign`).
    #[arg(long)]
    public_key: Vec<PathBuf>,
    /// Sigstore keyless: the certificate identity.
    #[arg(long, required_if_eq("backend", "sigstore"))]
    identity: Option<String>,
    /// Sigstore keyless: the OIDC issuer.
    #[arg(long, required_if_eq("backend", "sigstore"))]
    issuer: Option<String>,
}

/// Runs `leo policy ...`.
pub fn run(command: &PolicyCommand, json: bool) -> anyhow::Result<ExitCode> {
    match command {
        PolicyCommand::Apply(args) => apply(args, json),
        PolicyCommand::Test(args) => test(args, json),
        PolicyCommand::Bundle(args) => make_bundle(args, json),
        PolicyCommand::Verify(args) => verify(args, json),
    }
}

fn apply(args: &ApplyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let mut policies = Vec::new();
    for p in &args.policies {
        policies.extend(leo_policy::load_policies(p)?);
    }
    let mut resources = Vec::new();
    for r in &args.resources {
        resources.extend(leo_policy::read_resources(r)?);
    }
    let report = Engine::new(policies, args.eval.options()).evaluate(&resources);
    let summary = report.summary();
    let recorded = match &args.record {
        Some(db) => Some(record(db, args.record_key.as_deref(), &report.results)?),
        None => None,
    };
    if json {
        print_json(&serde_json::json!({
            "ok": !report.blocks(),
            "summary": summary,
            "results": report.results,
            "recorded": recorded,
        }));
    } else {
        for r in &report.results {
            if r.status != Status::Pass {
                println!(
                    "{}: {}/{} {}: {}",
                    r.status.as_str(),
                    r.policy,
                    r.rule,
                    r.resource,
                    r.message
                );
            }
        }
        println!(
            "pass: {}, fail: {}, warn: {}, error: {}, skip: {}",
            summary.pass, summary.fail, summary.warn, summary.error, summary.skip
        );
    }
    Ok(if report.blocks() {
        crate::output::exit_failed()
    } else {
        ExitCode::SUCCESS
    })
}

/// Appends one `PolicyEvaluation` per result, as the enforcer (SOP §5: it triggers the
/// workflows that run the policies), in one transaction. Returns how many were new.
fn record(
    db: &str,
    key: Option<&Path>,
    results: &[leo_policy::RuleResult],
) -> anyhow::Result<usize> {
    use leo_store::{Action, EnforcerHandle, Event, PolicyEvaluation, PolicyMode, PolicyResult};

    let loc: leo_store::Location = db.parse()?;
    let signer = key.map(leo_store::load_secret_key).transpose()?;
    let at = leo_store::Timestamp::now();
    let run = leo_artifact::Sha256Digest::of(
        format!("{}/{}", at.to_rfc3339(), std::process::id()).as_bytes(),
    );
    let mut events = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        let resource = format!(
            "{}/{}/{}",
            r.resource.kind,
            r.resource.namespace.as_deref().unwrap_or(""),
            r.resource.name
        );
        let record = PolicyEvaluation {
            policy: leo_store::Text::new("policy", &r.policy)?,
            rule: leo_store::Text::new("rule", &r.rule)?,
            resource: leo_store::Text::new("resource", &resource)?,
            result: match r.status {
                Status::Pass => PolicyResult::Pass,
                Status::Fail => PolicyResult::Fail,
                Status::Warn => PolicyResult::Warn,
                Status::Skip => PolicyResult::Skip,
                Status::Error => PolicyResult::Error,
            },
            mode: match r.action {
                leo_policy::FailureAction::Audit => PolicyMode::Audit,
                leo_policy::FailureAction::Enforce => PolicyMode::Enforce,
            },
            // Only a result about exactly one image digest names it.
            image_digest: r.image_digest(),
        };
        // One id per run and result: a retried append of this batch is recognised, a new
        // run is a new evaluation.
        let id = format!("policy:{}:{i}", &run.to_string()[..32]).parse()?;
        events.push(Event::new(id, Action::TriggerWorkflows, at, record));
    }
    let mut handle = EnforcerHandle::open(&loc, signer)?;
    let receipts = handle.append_batch(events)?;
    Ok(receipts.iter().filter(|r| !r.duplicate).count())
}

fn test(args: &TestArgs, json: bool) -> anyhow::Result<ExitCode> {
    let files = find_test_files(&args.dir)?;
    if files.is_empty() {
        anyhow::bail!("no kyverno-test.yaml under {}", args.dir.display());
    }
    // A test file LEO cannot run (e.g. a namespaceSelector fixture) fails that file, not
    // the whole run; if no file can run at all, that error is the answer (exit 2).
    let mut runs = Vec::new();
    let mut errors = Vec::new();
    for f in &files {
        match run_test_file(f, args.eval.options()) {
            Ok(run) => runs.push(run),
            Err(e) => errors.push((f.display().to_string(), e)),
        }
    }
    if runs.is_empty() {
        if let Some((_, e)) = errors.pop() {
            return Err(e.into());
        }
    }
    let ok = errors.is_empty() && runs.iter().all(|r| r.passed());
    if json {
        let errors: Vec<_> = errors
            .iter()
            .map(|(file, e)| serde_json::json!({"file": file, "error": e.to_string()}))
            .collect();
        print_json(&serde_json::json!({"ok": ok, "tests": runs, "errors": errors}));
    } else {
        for run in &runs {
            println!("{} ({})", run.name, run.file.display());
            for c in &run.cases {
                println!(
                    "  {} {} {} {} {}: expected {}, got {}",
                    if c.passed() { "PASS" } else { "FAIL" },
                    c.policy,
                    c.actual_rule.as_deref().unwrap_or(&c.rule),
                    c.kind,
                    c.resource,
                    c.expected.as_str(),
                    c.actual.map_or("no result", Status::as_str)
                );
            }
        }
        let failed: usize = runs
            .iter()
            .map(|r| r.cases.iter().filter(|c| !c.passed()).count())
            .sum();
        let total: usize = runs.iter().map(|r| r.cases.len()).sum();
        for (file, e) in &errors {
            println!("ERROR {file}: {e}");
        }
        println!("{} of {total} rows passed", total - failed);
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        crate::output::exit_failed()
    })
}

fn read_small(path: &Path, limit: u64) -> anyhow::Result<Vec<u8>> {
    Ok(leo_artifact::fsutil::read_capped(path, limit)?)
}

/// `SOURCE_DATE_EPOCH` if set (reproducible builds), else now.
fn created_at() -> anyhow::Result<OffsetDateTime> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => {
            let secs: i64 = s
                .trim()
                .parse()
                .context("SOURCE_DATE_EPOCH is not an integer")?;
            Ok(OffsetDateTime::from_unix_timestamp(secs)?)
        }
        Err(_) => Ok(OffsetDateTime::now_utc()),
    }
}

fn extension(backend: Backend) -> &'static str {
    match backend {
        Backend::OpenPgp => "asc",
        Backend::RawKey => "sig",
        _ => "sigstore.json",
    }
}

fn make_bundle(args: &BundleArgs, json: bool) -> anyhow::Result<ExitCode> {
    let files = bundle::collect_policy_files(&args.dir)?;
    let built = bundle::build(files, created_at()?, &args.builder_id)?;
    let now = OffsetDateTime::now_utc();
    let open_ring = || -> anyhow::Result<leo_sign::PgpKey> {
        let ring = leo_sign::KeyRing::open(&args.ring.ring)
            .with_context(|| format!("opening key ring {}", args.ring.ring.display()))?;
        Ok(ring.signer(now)?)
    };
    let key_path = || args.key.as_ref().context("this backend needs --key");
    let password = || -> anyhow::Result<Password> {
        match Password::from_env() {
            Some(p) => Ok(p),
            None if args.allow_empty_password => Ok(Password::new("")),
            None => anyhow::bail!(
                "--backend cosign: COSIGN_PASSWORD is not set (pass --allow-empty-password for a key with an empty password)"
            ),
        }
    };
    let mut fallback_reason = None;
    let signed = match args.backend {
        BundleBackend::Pgp => built.sign(&open_ring()?)?,
        BundleBackend::Key => built.sign(&RawKeyPair::from_pkcs8_any(&read_small(
            key_path()?,
            MAX_SMALL_FILE,
        )?)?)?,
        BundleBackend::Cosign => {
            let key = CosignKeyPair::from_encrypted_file(key_path()?, &password()?)?;
            built.sign(&KeyedSigner::new(key))?
        }
        BundleBackend::Auto => {
            let pgp = open_ring()?;
            let keyless = KeylessSigner::production_services()
                .ok()
                .and_then(|s| KeylessSigner::ambient(s).ok().flatten());
            let choice = leo_sign::select_signer(keyless.as_ref().map(|k| k as &dyn Signer), &pgp);
            fallback_reason = choice.selection.fallback_reason.clone();
            built.sign(choice.signer)?
        }
    };
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("creating {}", args.out_dir.display()))?;
    let bundle_path = args.out_dir.join(&built.file_name);
    let statement_name = bundle::statement_file_name(&built.file_name);
    let signature_name = format!("{statement_name}.{}", extension(signed.signature.backend));
    // The bundle is written last (and never over an existing one): a run that stops half way
    // leaves a statement and signature with no bundle, which does not verify, never a bundle
    // without its matching statement and signature. Each file is written atomically.
    if bundle_path.exists() {
        anyhow::bail!(
            "{} exists; refusing to replace a bundle",
            bundle_path.display()
        );
    }
    leo_artifact::fsutil::write_bytes_atomically(
        &args.out_dir.join(&statement_name),
        &built.statement_bytes(),
    )?;
    leo_artifact::fsutil::write_bytes_atomically(
        &args.out_dir.join(&signature_name),
        &signed.signature.bytes,
    )?;
    let command = match signed.signature.backend {
        Backend::OpenPgp => format!(
            "leo policy verify {} --backend pgp --cert signer.asc",
            built.file_name
        ),
        Backend::RawKey => format!(
            "leo policy verify {} --backend key --public-key signer.pub.json",
            built.file_name
        ),
        _ if args.backend == BundleBackend::Cosign => format!(
            "leo policy verify {} --backend cosign --public-key cosign.pub",
            built.file_name
        ),
        _ => format!(
            "leo policy verify {} --backend sigstore --identity <signer identity> --issuer <OIDC issuer>",
            built.file_name
        ),
    };
    let md = bundle::verify_instructions(&built, &signature_name, &command);
    leo_artifact::fsutil::write_bytes_atomically(
        &args.out_dir.join(VERIFY_FILE_NAME),
        md.as_bytes(),
    )?;
    leo_artifact::fsutil::write_new_atomically(&bundle_path, &built.archive)?;
    if json {
        print_json(&serde_json::json!({
            "ok": true,
            "bundle": bundle_path.display().to_string(),
            "digest": built.digest.to_prefixed(),
            "statement": statement_name,
            "signature": signature_name,
            "backend": signed.signature.backend,
            "fallback_reason": fallback_reason,
            "members": built.members.iter().map(|(p, d)| serde_json::json!({"path": p, "sha256": d.to_string()})).collect::<Vec<_>>(),
            "signer": signed.report.signer,
        }));
    } else {
        println!(
            "bundle: {} (sha256:{})",
            bundle_path.display(),
            built.digest
        );
        println!(
            "statement: {statement_name}; signature: {signature_name} [{}]",
            signed.signature.backend
        );
        if let Some(reason) = fallback_reason {
            println!("sigstore not used: {reason}");
        }
        println!(
            "instructions: {}",
            args.out_dir.join(VERIFY_FILE_NAME).display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(args: &VerifyArgs, json: bool) -> anyhow::Result<ExitCode> {
    let file_name = args
        .bundle
        .file_name()
        .and_then(|n| n.to_str())
        .context("the bundle path has no file name")?
        .to_owned();
    let statement_path = args.statement.clone().unwrap_or_else(|| {
        args.bundle
            .with_file_name(bundle::statement_file_name(&file_name))
    });
    let (verifier, backend): (Box<dyn Verifier>, Backend) = match args.backend {
        VerifyBackend::Pgp if !args.cert.is_empty() => {
            let certs = args
                .cert
                .iter()
                .map(|p| Ok(PgpCert::from_bytes(&read_small(p, MAX_SMALL_FILE)?)?))
                .collect::<anyhow::Result<Vec<_>>>()?;
            (Box::new(PgpVerifier::new(certs)), Backend::OpenPgp)
        }
        VerifyBackend::Pgp => (
            Box::new(
                leo_sign::KeyRing::open(&args.ring.ring)
                    .with_context(|| format!("opening key ring {}", args.ring.ring.display()))?
                    .verifier()?,
            ),
            Backend::OpenPgp,
        ),
        VerifyBackend::Key => {
            let keys = args
                .public_key
                .iter()
                .map(|p| {
                    serde_json::from_slice::<RawPublicKey>(&read_small(p, MAX_SMALL_FILE)?)
                        .with_context(|| format!("parsing raw public key {}", p.display()))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            (Box::new(RawKeyVerifier::new(keys)), Backend::RawKey)
        }
        VerifyBackend::Cosign => {
            // One key: a Sigstore bundle is verified under one key policy, and silently using
            // only the first of several keys would ignore the others.
            let path = match args.public_key.as_slice() {
                [one] => one,
                [] => anyhow::bail!("--backend cosign needs --public-key"),
                more => anyhow::bail!(
                    "--backend cosign takes exactly one --public-key ({} given)",
                    more.len()
                ),
            };
            let policy = SigstorePolicy::key(KeyPolicy::from_file(path)?.allow_offline());
            (
                Box::new(SigstoreVerifier::new(
                    TrustRoot::embedded_production()?,
                    policy,
                )),
                Backend::Sigstore,
            )
        }
        VerifyBackend::Sigstore => {
            let policy = SigstorePolicy::identity(
                args.identity.clone().unwrap_or_default(),
                args.issuer.clone().unwrap_or_default(),
            );
            (
                Box::new(SigstoreVerifier::new(
                    TrustRoot::embedded_production()?,
                    policy,
                )),
                Backend::Sigstore,
            )
        }
    };
    let signature_path = args.signature.clone().unwrap_or_else(|| {
        let mut s = statement_path.clone().into_os_string();
        s.push(".");
        s.push(extension(backend));
        PathBuf::from(s)
    });
    let archive = read_small(&args.bundle, MAX_BUNDLE_FILE)?;
    let statement = read_small(&statement_path, MAX_BUNDLE_FILE)?;
    let signature = DetachedSignature {
        backend,
        bytes: read_small(&signature_path, MAX_SMALL_FILE)?,
    };
    let verified = bundle::verify(
        &archive,
        &file_name,
        &statement,
        &signature,
        verifier.as_ref(),
        &VerifyOptions::now(),
    )
    .map_err(|e| match e {
        leo_policy::Error::Io { .. } => anyhow::Error::new(e),
        other => anyhow::Error::new(VerificationFailed(format!(
            "{}: {other}",
            args.bundle.display()
        ))),
    })?;
    if json {
        print_json(&serde_json::json!({"ok": true, "verified": verified}));
    } else {
        println!(
            "verified {} ({}) built by {}: {} policy files, signed [{}]",
            args.bundle.display(),
            verified.digest,
            verified.builder_id,
            verified.members.len(),
            verified.signature.backend
        );
    }
    Ok(ExitCode::SUCCESS)
}
