//! Fixtures for the enforcer and flow integration tests: a scratch repository made with
//! libgit2, fresh keys per role, and a SQLite audit trail.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use leo_gates::builder::{BundleSpec, Handoff, hand_off, key_identity};
use leo_gates::enforcer::demo::scratch::{self, Scratch};
use leo_gates::enforcer::signers::SigstoreUnavailable;
use leo_gates::enforcer::sink::RoleNoteSigners;
use leo_gates::*;
use leo_sign::{KeySpec, PgpAlgorithm, PgpKey, RawKeyAlgorithm, RawKeyPair};
use leo_store::{
    BuilderHandle, Entry, Location, NoteSigner, NoteVerifier, PrNumber, Record, RecordKind,
    Timestamp,
};

pub const BUILDER_ID: &str = "urn:leo:builder:codex";

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub repo: PathBuf,
    pub scratch: Scratch,
    pub builder: leo_attest::SigningKey,
    pub enforcer: PgpKey,
    pub loc: Location,
    note_secrets: Vec<String>,
    pub verifiers: Vec<NoteVerifier>,
    pub codex: Actor,
    pub claude: Actor,
    pub plan: Actor,
    pub lead: Actor,
    pub system: Actor,
    pub sigstore: SigstoreUnavailable,
    clock: std::cell::Cell<i64>,
}

fn raw_identity() -> Identity {
    let k = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).unwrap();
    Identity::new(k.public_key().fingerprint().as_str()).unwrap()
}

impl Fixture {
    pub fn new() -> Self {
        Self::with_builder_key(leo_attest::SigningKey::generate_ed25519().unwrap().0)
    }

    pub fn with_builder_key(builder: leo_attest::SigningKey) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        let scratch = scratch::create(&repo).unwrap();
        let spec = KeySpec::new(PgpAlgorithm::Ed25519, "Enforcer", "claude@leo.invalid");
        let enforcer = PgpKey::generate(&spec).unwrap();
        let notes = RoleNoteSigners::generate("leo-test/audit").unwrap();
        let note_secrets = [
            &notes.enforcer,
            &notes.supervisor,
            &notes.lead,
            &notes.system,
        ]
        .iter()
        .map(|n| n.secret_key())
        .collect();
        let codex = Actor::new(Role::Codex, key_identity(builder.public_key()).unwrap());
        let claude = Actor::new(
            Role::ClaudeExec,
            Identity::new(enforcer.fingerprint().as_str()).unwrap(),
        );
        Fixture {
            loc: Location::Sqlite(dir.path().join("leo.db")),
            verifiers: notes.verifiers(),
            note_secrets,
            repo,
            scratch,
            builder,
            enforcer,
            codex,
            claude,
            plan: Actor::new(Role::Plan, raw_identity()),
            lead: Actor::new(Role::Lead, raw_identity()),
            system: Actor::new(Role::System, raw_identity()),
            sigstore: SigstoreUnavailable {
                reason: "offline test".into(),
            },
            clock: std::cell::Cell::new(1_800_000_000_000_000),
            dir,
        }
    }

    /// Strictly increasing test times.
    pub fn now(&self) -> Timestamp {
        let t = self.clock.get() + 1_000;
        self.clock.set(t);
        Timestamp::from_unix_micros(t)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn sink(&self, pr: u32) -> StoreSink {
        let s = |i: usize| NoteSigner::from_secret_key(&self.note_secrets[i]).unwrap();
        let signers = RoleNoteSigners {
            enforcer: s(0),
            supervisor: s(1),
            lead: s(2),
            system: s(3),
        };
        StoreSink::new(
            StoreHandles::open(&self.loc, signers).unwrap(),
            PrNumber::new(pr).unwrap(),
        )
    }

    pub fn spec(&self, head: &str) -> BundleSpec {
        BundleSpec {
            base: scratch::MAIN.into(),
            head: head.into(),
            builder_id: BUILDER_ID.into(),
            repository: "https://example.invalid/hello".into(),
            supplier: "LEO tests".into(),
            name: "hello".into(),
            started_on: time::OffsetDateTime::now_utc(),
            created_at: None,
            reproducible: false,
            sbom_resolver: leo_gates::builder::lockfile_resolver(),
            sbom: None,
        }
    }

    pub fn trust(&self) -> Trust {
        Trust::builder(self.builder.public_key().clone(), BUILDER_ID)
    }

    pub fn lane<'a>(&'a self, trust: &'a Trust) -> EnforcerLane<'a> {
        EnforcerLane {
            actor: self.claude.clone(),
            trust,
            preferred: Some(&self.sigstore),
            fallback: &self.enforcer,
        }
    }

    /// Starts `change` and hands off the scratch change (on `branch`, created at the change
    /// commit unless it is the scratch staging branch) into `bundle`.
    pub fn hand_off(
        &self,
        change: &str,
        branch: &str,
        bundle: &str,
        sink: &mut dyn FlowSink,
    ) -> (Workflow, Handoff) {
        if branch != scratch::STAGING {
            scratch::branch_at(&self.repo, branch, &self.scratch.head).unwrap();
        }
        let mut wf = Workflow::start(
            change.parse().unwrap(),
            WorkflowConfig::default(),
            &self.codex,
            self.now(),
            sink.as_audit(),
        )
        .unwrap();
        let handoff = hand_off(
            &self.repo,
            &self.spec(branch),
            &self.builder,
            &self.path(bundle),
            "Print a number",
            &mut wf,
            &self.codex,
            self.now(),
            sink,
        )
        .unwrap();
        (wf, handoff)
    }

    pub fn request<'a>(
        &'a self,
        bundle: &'a std::path::Path,
        branch: &'a str,
    ) -> EnforceRequest<'a> {
        EnforceRequest {
            repo: &self.repo,
            bundle_path: bundle,
            feature_branch: branch,
            summary: "Print a number",
            signature_path: None,
        }
    }

    /// The enforcer's step on `bundle` onto `branch`, with the fixture's lane.
    pub fn enforce(
        &self,
        trust: &Trust,
        wf: &mut Workflow,
        bundle: &std::path::Path,
        branch: &str,
        sink: &mut dyn FlowSink,
    ) -> leo_gates::Result<Enforced> {
        self.lane(trust)
            .enforce(&self.request(bundle, branch), wf, self.now(), sink)
    }

    /// Every stored record of `kind`.
    pub fn records(&self, kind: RecordKind) -> Vec<Entry> {
        let mut r = BuilderHandle::open(&self.loc).unwrap();
        r.entries_of_kind(
            kind,
            Timestamp::from_unix_micros(0),
            Timestamp::from_unix_micros(i64::MAX),
        )
        .unwrap()
    }

    /// The stored refusals of `change`.
    pub fn refusals(&self, change: &str) -> Vec<leo_store::Refusal> {
        self.records(RecordKind::Refusal)
            .into_iter()
            .filter_map(|e| match e.event.record {
                Record::Refusal(r) if r.change.as_str() == change => Some(r),
                _ => None,
            })
            .collect()
    }

    /// The typed causes of `change`'s refusals (as the score reads them: with the action
    /// each is filed under).
    pub fn causes(&self, change: &str) -> Vec<leo_store::RefusalCause> {
        self.records(RecordKind::Refusal)
            .into_iter()
            .filter_map(|e| match &e.event.record {
                Record::Refusal(r) if r.change.as_str() == change => Some(r.cause(e.event.action)),
                _ => None,
            })
            .collect()
    }

    pub fn branch_exists(&self, branch: &str) -> bool {
        leo_gates::enforcer::git::branch_exists(&self.repo, branch).unwrap()
    }
}
