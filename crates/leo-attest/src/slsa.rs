//! SLSA Provenance predicates: v0.2 (what LEO's builder emits) and v1.0 (GitHub, GCB, witness).
//!
//! Typed where policy needs a field, `serde_json::Value` where the spec leaves it free-form,
//! and every struct keeps unknown fields in `extra`, so a parsed predicate re-serialises
//! without losing anything.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result, snippet};
use crate::statement::{DigestSet, ResourceDescriptor, Statement};

/// `predicateType` of SLSA Provenance v0.2.
pub const PROVENANCE_V0_2: &str = "https://slsa.dev/provenance/v0.2";
/// `predicateType` of SLSA Provenance v1.
pub const PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

/// An RFC 3339 timestamp, kept as written (so round-trips are exact) but checked on parse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Timestamp(String);

impl Timestamp {
    /// Formats a time as RFC 3339 UTC with second precision (`2026-01-01T00:00:00Z`).
    pub fn from_datetime(t: time::OffsetDateTime) -> Self {
        let t = t.to_offset(time::UtcOffset::UTC);
        Timestamp(format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ))
    }

    /// The time it denotes.
    pub fn to_datetime(&self) -> Result<time::OffsetDateTime> {
        time::OffsetDateTime::parse(&self.0, &time::format_description::well_known::Rfc3339)
            .map_err(|_| Error::InvalidTimestamp {
                value: snippet(&self.0),
            })
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let t = Timestamp(String::deserialize(d)?);
        t.to_datetime().map_err(serde::de::Error::custom)?;
        Ok(t)
    }
}

/// The builder of a v0.2 provenance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Builder {
    /// The builder's identity URI.
    pub id: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `invocation.configSource` (v0.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfigSource {
    /// Where the build configuration came from (e.g. `git+https://host/repo@refs/heads/main`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Its digest.
    #[serde(default, skip_serializing_if = "DigestSet::is_empty")]
    pub digest: DigestSet,
    /// The entry point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `invocation` (v0.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Invocation {
    /// Where the configuration came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_source: Option<ConfigSource>,
    /// User-controlled parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Builder-controlled environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `metadata.completeness` (v0.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Completeness {
    /// Parameters are complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<bool>,
    /// Environment is complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<bool>,
    /// Materials are complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub materials: Option<bool>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `metadata` (v0.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataV0_2 {
    /// Build invocation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_invocation_id: Option<String>,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_started_on: Option<Timestamp>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_finished_on: Option<Timestamp>,
    /// Completeness claims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completeness: Option<Completeness>,
    /// Whether rebuilding gives bit-identical output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reproducible: Option<bool>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A v0.2 material.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Material {
    /// The material's URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Its digests.
    #[serde(default, skip_serializing_if = "DigestSet::is_empty")]
    pub digest: DigestSet,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// SLSA Provenance v0.2.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceV0_2 {
    /// The builder.
    pub builder: Builder,
    /// The build type URI.
    pub build_type: String,
    /// How the build was invoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation: Option<Invocation>,
    /// Free-form build configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_config: Option<Value>,
    /// Build metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<MetadataV0_2>,
    /// Inputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub materials: Vec<Material>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `buildDefinition` (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    /// The build type URI.
    pub build_type: String,
    /// Externally controlled parameters.
    pub external_parameters: Value,
    /// Builder-controlled parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_parameters: Option<Value>,
    /// Resolved inputs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved_dependencies: Vec<ResourceDescriptor>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `runDetails.builder` (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuilderV1 {
    /// The builder's identity URI.
    pub id: String,
    /// Versions of builder components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Map<String, Value>>,
    /// The builder's own dependencies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builder_dependencies: Vec<ResourceDescriptor>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `runDetails.metadata` (v1).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildMetadataV1 {
    /// Invocation id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invocation_id: Option<String>,
    /// Start time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_on: Option<Timestamp>,
    /// End time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<Timestamp>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `runDetails` (v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// The builder.
    pub builder: BuilderV1,
    /// Run metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BuildMetadataV1>,
    /// Byproducts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub byproducts: Vec<ResourceDescriptor>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// SLSA Provenance v1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvenanceV1 {
    /// What was built and how.
    pub build_definition: BuildDefinition,
    /// Who built it, when.
    pub run_details: RunDetails,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Either provenance version, as found in a statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Provenance {
    /// SLSA v0.2.
    V0_2(ProvenanceV0_2),
    /// SLSA v1.
    V1(ProvenanceV1),
}

/// A source location: repository and optional ref, from `git+<repo>@<ref>` URIs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    /// The repository URI without `git+` and without a trailing `.git`.
    pub repository: String,
    /// The ref (`refs/heads/main`) or commit, if the URI names one.
    pub git_ref: Option<String>,
}

impl SourceLocation {
    /// Parses `git+https://host/repo@refs/heads/main` (also without `git+` or `@ref`).
    pub fn parse(uri: &str) -> Self {
        let uri = uri.strip_prefix("git+").unwrap_or(uri);
        // The ref follows the last '@' in the path (an '@' in the authority is `user@host`).
        let authority_start = uri.find("://").map_or(0, |i| i + 3);
        let path_start = uri
            .get(authority_start..)
            .and_then(|rest| rest.find('/'))
            .map_or(uri.len(), |i| authority_start + i);
        let at = uri
            .get(path_start..)
            .and_then(|path| path.rfind('@'))
            .map(|i| path_start + i);
        let (repo, git_ref) = match at {
            Some(at) => (
                uri.get(..at).unwrap_or(uri),
                uri.get(at + 1..).map(str::to_owned),
            ),
            None => (uri, None),
        };
        SourceLocation {
            repository: normalize_repository(repo),
            git_ref,
        }
    }
}

/// A repository URI compared loosely: no `git+`, no trailing `/` or `.git`.
pub fn normalize_repository(repo: &str) -> String {
    let repo = repo.strip_prefix("git+").unwrap_or(repo);
    let repo = repo.trim_end_matches('/');
    repo.strip_suffix(".git").unwrap_or(repo).to_owned()
}

impl Provenance {
    /// Reads the predicate of a statement whose `predicateType` is SLSA v0.2 or v1.
    pub fn from_statement(statement: &Statement) -> Result<Self> {
        const WHAT: &str = "SLSA provenance predicate";
        let predicate = statement.predicate.clone().unwrap_or(Value::Null);
        match statement.predicate_type.as_str() {
            PROVENANCE_V0_2 => Ok(Provenance::V0_2(crate::json::typed(predicate, WHAT)?)),
            PROVENANCE_V1 => Ok(Provenance::V1(crate::json::typed(predicate, WHAT)?)),
            other => Err(Error::UnsupportedPredicateType {
                found: snippet(other),
                expected: vec![PROVENANCE_V0_2.into(), PROVENANCE_V1.into()],
            }),
        }
    }

    /// `builder.id`.
    pub fn builder_id(&self) -> &str {
        match self {
            Provenance::V0_2(p) => &p.builder.id,
            Provenance::V1(p) => &p.run_details.builder.id,
        }
    }

    /// `buildType`.
    pub fn build_type(&self) -> &str {
        match self {
            Provenance::V0_2(p) => &p.build_type,
            Provenance::V1(p) => &p.build_definition.build_type,
        }
    }

    /// The source the build ran from: v0.2 `invocation.configSource.uri`, else the first
    /// material; v1 `externalParameters.workflow` (GitHub) or `.buildConfigSource` (GCB)
    /// `{repository, ref}`, else the first
    /// resolved dependency.
    pub fn source(&self) -> Option<SourceLocation> {
        match self {
            Provenance::V0_2(p) => p
                .invocation
                .as_ref()
                .and_then(|i| i.config_source.as_ref())
                .and_then(|c| c.uri.as_deref())
                .or_else(|| p.materials.first().and_then(|m| m.uri.as_deref()))
                .map(SourceLocation::parse),
            Provenance::V1(p) => {
                // GitHub Actions: `workflow`; Google Cloud Build: `buildConfigSource`.
                let params = &p.build_definition.external_parameters;
                let workflow = params
                    .get("workflow")
                    .or_else(|| params.get("buildConfigSource"));
                let repo = workflow
                    .and_then(|w| w.get("repository"))
                    .and_then(Value::as_str);
                match repo {
                    Some(repo) => Some(SourceLocation {
                        repository: normalize_repository(repo),
                        git_ref: workflow
                            .and_then(|w| w.get("ref"))
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    }),
                    None => p
                        .build_definition
                        .resolved_dependencies
                        .first()
                        .and_then(|d| d.uri.as_deref())
                        .map(SourceLocation::parse),
                }
            }
        }
    }

    /// The digest sets of the inputs: v0.2 materials, v1 resolved dependencies.
    pub fn material_digests(&self) -> Vec<&DigestSet> {
        match self {
            Provenance::V0_2(p) => p.materials.iter().map(|m| &m.digest).collect(),
            Provenance::V1(p) => p
                .build_definition
                .resolved_dependencies
                .iter()
                .map(|d| &d.digest)
                .collect(),
        }
    }

    /// The predicate as JSON.
    pub fn to_value(&self) -> Value {
        let v = match self {
            Provenance::V0_2(p) => serde_json::to_value(p),
            Provenance::V1(p) => serde_json::to_value(p),
        };
        v.unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_location_parsing() {
        let s = SourceLocation::parse("git+https://github.com/org/repo@refs/heads/main");
        assert_eq!(s.repository, "https://github.com/org/repo");
        assert_eq!(s.git_ref.as_deref(), Some("refs/heads/main"));
        let s = SourceLocation::parse("git+ssh://git@host/org/repo.git");
        assert_eq!(s.repository, "ssh://git@host/org/repo");
        assert_eq!(s.git_ref, None);
        let s = SourceLocation::parse("https://github.com/org/repo");
        assert_eq!(s.git_ref, None);
    }

    #[test]
    fn timestamps_are_checked_and_kept_verbatim() {
        let t: Timestamp = serde_json::from_str("\"2023-01-01T10:00:00.123+02:00\"").unwrap();
        assert_eq!(t.as_str(), "2023-01-01T10:00:00.123+02:00");
        assert!(serde_json::from_str::<Timestamp>("\"yesterday\"").is_err());
        let t = Timestamp::from_datetime(time::macros::datetime!(2026-01-02 03:04:05.9 UTC));
        assert_eq!(t.as_str(), "2026-01-02T03:04:05Z");
    }
}
