//! Finding bundles by hash: every `*.tar.gz` under a directory, hashed once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use leo_artifact::{Sha256Digest, hash_file};

use super::MAX_BUNDLE_DIR_DEPTH;
use crate::error::{Error, Result};

/// Bundle files by the SHA-256 of their bytes (the marker hash).
pub(super) type BundleIndex = HashMap<Sha256Digest, PathBuf>;

const SUFFIX: &str = ".tar.gz";

fn io_err(context: String, source: std::io::Error) -> Error {
    Error::Artifact(leo_artifact::Error::Io { context, source })
}

/// Hashes every regular `*.tar.gz` file under `dir` (at most `max` files, at most
/// [`MAX_BUNDLE_DIR_DEPTH`] directories deep). Symbolic links are not followed, so a link
/// cannot make the search loop or leave the directory.
pub(super) fn index(dir: &Path, max: usize) -> Result<BundleIndex> {
    let mut out = BundleIndex::new();
    let mut files = 0usize;
    let mut pending = vec![(dir.to_path_buf(), 0usize)];
    while let Some((current, depth)) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .map_err(|e| io_err(format!("listing {}", current.display()), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_err(format!("listing {}", current.display()), e))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| io_err(format!("inspecting {}", path.display()), e))?;
            if kind.is_dir() {
                if depth < MAX_BUNDLE_DIR_DEPTH {
                    pending.push((path, depth + 1));
                }
                continue;
            }
            let is_bundle = kind.is_file()
                && entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| n.ends_with(SUFFIX));
            if !is_bundle {
                continue;
            }
            files += 1;
            if files > max {
                return Err(Error::TooMany {
                    field: "bundle files",
                    max,
                });
            }
            let (digest, _) = hash_file(&path)?;
            out.entry(digest).or_insert(path);
        }
    }
    Ok(out)
}
