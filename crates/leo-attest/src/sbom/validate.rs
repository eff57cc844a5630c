//! SBOM validation: the official CycloneDX 1.5 JSON schema (`jsonschema`) *and*
//! `cyclonedx-bom`'s model parser + `validate()`. The schema catches shape, enum, pattern and
//! format errors; the model catches what a schema cannot express (unique `bom-ref`s,
//! dependency references that resolve).
//!
//! The schema files are not part of LEO: they are read from a directory the caller gives
//! (`bom-1.5.schema.json`, with `spdx.schema.json` and `jsf-0.82.schema.json` beside it for
//! its relative `$ref`s, served from memory: validation never touches the network).

use std::path::{Path, PathBuf};

use cyclonedx_bom::models::bom::{Bom, SpecVersion};
use cyclonedx_bom::validation::{Validate, ValidationErrorsKind, ValidationResult};
use jsonschema::{Retrieve, Uri};
use serde_json::Value;

use crate::error::{Error, Result};

/// The environment variable naming the schema directory.
pub const SCHEMA_DIR_ENV: &str = "LEO_CYCLONEDX_SCHEMA";
/// The main schema's file name.
pub const SCHEMA_FILE: &str = "bom-1.5.schema.json";
/// The schemas it references, by file name.
pub const REFERENCED_SCHEMAS: [&str; 2] = ["spdx.schema.json", "jsf-0.82.schema.json"];
/// The largest SBOM accepted, in bytes.
pub const MAX_SBOM_SIZE: usize = 64 * 1024 * 1024;
/// At most this many violations are reported.
pub const MAX_REPORTED_ERRORS: usize = 20;

/// Serves the referenced schemas from memory.
struct LocalSchemas {
    files: Vec<(&'static str, Value)>,
}

impl Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> std::result::Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let s = uri.as_str();
        let file = s.rsplit('/').next().unwrap_or(s);
        let file = file.split('#').next().unwrap_or(file);
        self.files
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| format!("schema {s} is not available offline").into())
    }
}

/// A compiled CycloneDX 1.5 validator.
pub struct SbomValidator {
    schema: jsonschema::Validator,
}

impl std::fmt::Debug for SbomValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SbomValidator(CycloneDX 1.5)")
    }
}

fn read_schema(dir: &Path, file: &str) -> Result<Value> {
    let path = dir.join(file);
    let unavailable = |reason: String| Error::SchemaUnavailable {
        path: dir.to_owned(),
        reason,
    };
    let bytes = std::fs::read(&path).map_err(|e| unavailable(format!("{file}: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| unavailable(format!("{file}: {e}")))
}

impl SbomValidator {
    /// Loads and compiles the schema from `dir`.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let main = read_schema(dir, SCHEMA_FILE)?;
        let files = REFERENCED_SCHEMAS
            .iter()
            .map(|f| Ok((*f, read_schema(dir, f)?)))
            .collect::<Result<Vec<_>>>()?;
        let schema = jsonschema::draft7::options()
            .should_validate_formats(true)
            .with_retriever(LocalSchemas { files })
            .build(&main)
            .map_err(|e| Error::SchemaUnavailable {
                path: dir.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(SbomValidator { schema })
    }

    /// Loads the schema from `$LEO_CYCLONEDX_SCHEMA`.
    pub fn from_env() -> Result<Self> {
        let dir = std::env::var_os(SCHEMA_DIR_ENV)
            .map(PathBuf::from)
            .ok_or_else(|| Error::SchemaUnavailable {
                path: PathBuf::new(),
                reason: format!("{SCHEMA_DIR_ENV} is not set"),
            })?;
        Self::from_dir(&dir)
    }

    /// Validates SBOM JSON: strict JSON (no duplicate keys), `specVersion` 1.5, the official
    /// schema, then the `cyclonedx-bom` model. Returns the parsed model.
    pub fn validate(&self, bytes: &[u8]) -> Result<Bom> {
        let value = crate::json::parse_strict(bytes, "CycloneDX SBOM", MAX_SBOM_SIZE)?;
        let version = value
            .get("specVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if version != "1.5" {
            return Err(Error::UnsupportedSbomVersion {
                found: crate::error::snippet(version),
            });
        }
        let errors: Vec<String> = self
            .schema
            .iter_errors(&value)
            .take(MAX_REPORTED_ERRORS)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        if !errors.is_empty() {
            return Err(Error::SbomSchemaViolation { errors });
        }
        validate_model(value)
    }
}

/// `cyclonedx-bom` parse + `validate_version(1.5)` only (no schema).
pub fn validate_model(value: Value) -> Result<Bom> {
    // cyclonedx-bom asserts internal invariants with panics; a hostile document must come
    // back as an error, not abort the verifier.
    let outcome = std::panic::catch_unwind(move || {
        let bom = Bom::parse_json_value(value).map_err(|e| vec![e.to_string()])?;
        let result = bom.validate_version(SpecVersion::V1_5);
        if result.passed() {
            Ok(bom)
        } else {
            let mut errors = Vec::new();
            flatten("", result, &mut errors);
            Err(errors)
        }
    });
    match outcome {
        Ok(Ok(bom)) => Ok(bom),
        Ok(Err(errors)) => Err(Error::SbomModelViolation { errors }),
        Err(_) => Err(Error::SbomModelViolation {
            errors: vec!["cyclonedx-bom panicked on this document".into()],
        }),
    }
}

fn flatten(prefix: &str, result: ValidationResult, out: &mut Vec<String>) {
    for (name, kind) in result.errors() {
        if out.len() >= MAX_REPORTED_ERRORS {
            return;
        }
        let path = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        match kind {
            ValidationErrorsKind::Struct(inner) => flatten(&path, inner, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    flatten(&format!("{path}[{i}]"), inner, out);
                }
            }
            ValidationErrorsKind::Field(errs) | ValidationErrorsKind::Custom(errs) => {
                out.extend(errs.into_iter().map(|e| format!("{path}: {}", e.message)));
            }
            ValidationErrorsKind::Enum(e) => out.push(format!("{path}: {}", e.message)),
        }
    }
}
