//! The demo's keys: one per role, all fresh, saved under `keys/` (secrets 0600).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use leo_artifact::fsutil::{write_bytes_atomically, write_secret_atomically};
use leo_sign::{KeySpec, PgpAlgorithm, PgpKey, RawKeyAlgorithm, RawKeyPair};

use super::super::sink::RoleNoteSigners;
use super::io;
use crate::authz::{Actor, Role};
use crate::error::{Error, Result};
use crate::text::Identity;

fn sign_err(backend: leo_sign::Backend) -> impl FnOnce(leo_sign::Error) -> Error {
    move |source| Error::SigningFailed { backend, source }
}

/// The keys of every role, saved under `keys/`.
pub(super) struct Keys {
    pub(super) builder: leo_attest::SigningKey,
    pub(super) enforcer: PgpKey,
    pub(super) identities: BTreeMap<Role, Identity>,
    pub(super) notes: RoleNoteSigners,
    pub(super) trust_files: Vec<PathBuf>,
}

pub(super) fn make_keys(dir: &Path) -> Result<Keys> {
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let (builder, pem) = leo_attest::SigningKey::generate_ed25519()
        .map_err(|source| Error::BuildFailed { source })?;
    write_secret_atomically(&dir.join("builder.pem"), pem.expose_secret().as_bytes())?;
    write_bytes_atomically(
        &dir.join("builder.pub.pem"),
        builder.public_key().to_pem().as_bytes(),
    )?;

    let pgp = leo_sign::Backend::OpenPgp;
    let spec = KeySpec::new(
        PgpAlgorithm::Ed25519,
        "LEO Enforcer (Claude/EXEC)",
        "claude@leo.invalid",
    );
    let enforcer = PgpKey::generate(&spec).map_err(sign_err(pgp))?;
    enforcer
        .save_secret(&dir.join("enforcer.sec.asc"))
        .map_err(sign_err(pgp))?;
    let public = enforcer.public().to_armored().map_err(sign_err(pgp))?;
    write_bytes_atomically(&dir.join("enforcer.pub.asc"), public.as_bytes())?;

    let mut identities = BTreeMap::new();
    identities.insert(
        Role::Codex,
        crate::builder::key_identity(builder.public_key())?,
    );
    identities.insert(
        Role::ClaudeExec,
        Identity::new(enforcer.fingerprint().as_str())?,
    );
    for (role, name) in [
        (Role::Plan, "plan"),
        (Role::Lead, "lead"),
        (Role::System, "merge"),
    ] {
        let raw = leo_sign::Backend::RawKey;
        let key = RawKeyPair::generate(RawKeyAlgorithm::Ed25519).map_err(sign_err(raw))?;
        key.save_secret(&dir.join(format!("{name}.key")))
            .map_err(sign_err(raw))?;
        identities.insert(
            role,
            Identity::new(key.public_key().fingerprint().as_str())?,
        );
    }

    let notes = RoleNoteSigners::generate("leo-demo.invalid/audit")?;
    let mut trust_files = Vec::new();
    for (name, verifier) in ["enforcer", "supervisor", "lead", "system"]
        .iter()
        .zip(notes.verifiers())
    {
        let path = dir.join(format!("audit-{name}.vkey"));
        write_bytes_atomically(&path, format!("{verifier}\n").as_bytes())?;
        trust_files.push(path);
    }
    Ok(Keys {
        builder,
        enforcer,
        identities,
        notes,
        trust_files,
    })
}

pub(super) fn actor(keys: &Keys, role: Role) -> Result<Actor> {
    let identity = keys
        .identities
        .get(&role)
        .cloned()
        .ok_or_else(|| Error::InvalidText {
            field: "identity",
            reason: format!("no key for {role}"),
        })?;
    Ok(Actor::new(role, identity))
}
