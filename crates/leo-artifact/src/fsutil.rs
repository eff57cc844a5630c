//! Atomic file writes: a temporary file in the target's directory, fsync, then rename, so a
//! reader never sees a half-written file and a crash leaves either the old file or the new.
//! And the one bounded read every crate uses for files of untrusted size.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `path` atomically with `fill`; on any error the temporary file is removed and
/// `path` is untouched. The file gets mode 0644; use [`write_atomically_with_mode`] for 0600.
pub fn write_atomically<T>(path: &Path, fill: impl FnOnce(&mut File) -> Result<T>) -> Result<T> {
    write_atomically_with_mode(path, None, fill)
}

/// As [`write_atomically`], setting the Unix permission bits of the result (e.g. `0o600` for
/// secret keys) before it becomes visible under its name.
pub fn write_atomically_with_mode<T>(
    path: &Path,
    mode: Option<u32>,
    fill: impl FnOnce(&mut File) -> Result<T>,
) -> Result<T> {
    write_impl(path, mode, true, fill)
}

/// Writes bytes to a new file at `path` atomically; fails with [`Error::WouldOverwrite`] if
/// `path` exists when the file is renamed into place (no check-then-write race).
pub fn write_new_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_impl(path, None, false, |f| {
        f.write_all(bytes)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    })
}

fn write_impl<T>(
    path: &Path,
    mode: Option<u32>,
    clobber: bool,
    fill: impl FnOnce(&mut File) -> Result<T>,
) -> Result<T> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".leo-tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(format!("creating a temporary file in {}", dir.display()), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let bits = mode.unwrap_or(0o644);
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(bits)).map_err(
            |e| {
                Error::io(
                    format!("setting permissions on {}", tmp.path().display()),
                    e,
                )
            },
        )?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    let value = fill(tmp.as_file_mut())?;
    tmp.as_file_mut()
        .flush()
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(format!("syncing {}", tmp.path().display()), e))?;
    let persisted = if clobber {
        tmp.persist(path)
    } else {
        tmp.persist_noclobber(path)
    };
    persisted.map_err(|e| {
        if !clobber && e.error.kind() == std::io::ErrorKind::AlreadyExists {
            Error::WouldOverwrite {
                path: path.to_path_buf(),
            }
        } else {
            Error::io(format!("renaming into {}", path.display()), e.error)
        }
    })?;
    if let Ok(d) = File::open(dir) {
        // Make the rename durable; a failure here does not undo the write.
        let _ = d.sync_all();
    }
    Ok(value)
}

/// Writes bytes to `path` atomically.
pub fn write_bytes_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_bytes_with_mode(path, None, bytes)
}

/// The Unix permission bits of every secret file LEO writes (private keys, Kubernetes
/// Secret manifests).
pub const SECRET_FILE_MODE: u32 = 0o600;

/// Writes secret bytes (a private key, a Secret manifest) to `path` atomically with mode
/// [`SECRET_FILE_MODE`], set before the file becomes visible under its name.
pub fn write_secret_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    write_bytes_with_mode(path, Some(SECRET_FILE_MODE), bytes)
}

fn write_bytes_with_mode(path: &Path, mode: Option<u32>, bytes: &[u8]) -> Result<()> {
    write_atomically_with_mode(path, mode, |f| {
        f.write_all(bytes)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    })
}

/// Reads all of `path`, refusing a file larger than `limit` bytes with
/// [`Error::FileTooLarge`] without reading past `limit + 1` bytes (a FIFO or a growing file
/// cannot make it allocate more).
pub fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::FileTooLarge {
            path: path.display().to_string(),
            limit,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_one_byte_more() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"12345").unwrap();
        assert_eq!(read_capped(&p, 5).unwrap(), b"12345");
        assert!(matches!(
            read_capped(&p, 4),
            Err(Error::FileTooLarge { limit: 4, .. })
        ));
        assert!(matches!(
            read_capped(&dir.path().join("missing"), 4),
            Err(Error::Io { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn secrets_are_0600_and_a_failed_write_leaves_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        write_secret_atomically(&p, b"secret").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, SECRET_FILE_MODE);
        write_bytes_atomically(&dir.path().join("pub"), b"public").unwrap();
        let mode = std::fs::metadata(dir.path().join("pub"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644);
        // The rename fails (the name is a non-empty directory) after the bytes are written.
        let occupied = dir.path().join("occupied");
        std::fs::create_dir(&occupied).unwrap();
        std::fs::write(occupied.join("f"), b"").unwrap();
        assert!(matches!(
            write_secret_atomically(&occupied, b"x"),
            Err(Error::Io { .. })
        ));
        // The filler fails after the temporary file exists.
        let failed = dir.path().join("failed");
        assert!(matches!(
            write_atomically_with_mode(&failed, Some(SECRET_FILE_MODE), |f| {
                f.write_all(b"half").unwrap();
                Err::<(), _>(Error::io("filling", std::io::Error::other("boom")))
            }),
            Err(Error::Io { .. })
        ));
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["key", "occupied", "pub"]);
    }
}
