//! `leo hash`: sha256sum-compatible hashing and checking.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use leo_artifact::Sha256Digest;
use leo_artifact::digest::hash_reader_with_progress;

use crate::output::{exit_failed, print_json};
use crate::progress;

/// Arguments of `leo hash`.
#[derive(Debug, Args)]
pub struct HashArgs {
    /// Files to hash (`-` for standard input). With `--check`, checksum lists to verify.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Read SHA-256 sums from the files and check them (like `sha256sum -c`).
    #[arg(short = 'c', long)]
    check: bool,
    /// With `--check`: print nothing for files that verify.
    #[arg(long, requires = "check")]
    quiet: bool,
}

/// Runs `leo hash`.
pub fn run(args: &HashArgs, json: bool) -> anyhow::Result<ExitCode> {
    if args.check {
        return check(args, json);
    }
    let mut rows = Vec::new();
    for path in &args.files {
        let (digest, size) = hash_path(path)?;
        if json {
            rows.push(serde_json::json!({
                "path": path.display().to_string(), "sha256": digest.to_string(), "size": size,
            }));
        } else {
            println!("{}", format_line(&digest, &path.display().to_string()));
        }
    }
    if json {
        print_json(&serde_json::json!({ "ok": true, "files": rows }));
    }
    Ok(ExitCode::SUCCESS)
}

fn hash_path(path: &Path) -> anyhow::Result<(Sha256Digest, u64)> {
    if path.as_os_str() == "-" {
        return hash_reader_with_progress(io::stdin().lock(), |_| {})
            .context("reading standard input");
    }
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress::bytes(total, &path.display().to_string());
    let result = hash_reader_with_progress(file, |n| bar.set_position(n))
        .with_context(|| format!("reading {}", path.display()));
    bar.finish_and_clear();
    result
}

/// One output line in sha256sum's format, escaping names as coreutils does.
fn format_line(digest: &Sha256Digest, name: &str) -> String {
    if name.contains(['\\', '\n', '\r']) {
        let escaped = name
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
            .replace('\r', "\\r");
        format!("\\{digest}  {escaped}")
    } else {
        format!("{digest}  {name}")
    }
}

/// Parses one `sha256sum` line: `<hex>  <name>` or `<hex> *<name>`, with an optional leading
/// backslash marking an escaped name.
fn parse_line(line: &str) -> Option<(Sha256Digest, String)> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let hex = line.get(..64)?;
    let rest = line.get(64..)?;
    let name = rest
        .strip_prefix("  ")
        .or_else(|| rest.strip_prefix(" *"))?;
    if name.is_empty() {
        return None;
    }
    let digest: Sha256Digest = hex.to_ascii_lowercase().parse().ok()?;
    let name = if escaped {
        unescape(name)?
    } else {
        name.to_owned()
    };
    Some((digest, name))
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

fn check(args: &HashArgs, json: bool) -> anyhow::Result<ExitCode> {
    let mut results = Vec::new();
    let (mut mismatched, mut unreadable, mut malformed) = (0usize, 0usize, 0usize);
    for list in &args.files {
        let reader: Box<dyn Read> = if list.as_os_str() == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(File::open(list).with_context(|| format!("opening {}", list.display()))?)
        };
        for (i, line) in BufReader::new(reader).lines().enumerate() {
            let line = line.with_context(|| format!("reading {}", list.display()))?;
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((expected, name)) = parse_line(&line) else {
                malformed += 1;
                eprintln!(
                    "leo: {}: {}: improperly formatted SHA256 checksum line",
                    list.display(),
                    i + 1
                );
                continue;
            };
            let outcome = hash_path(Path::new(&name));
            let (status, actual) = match &outcome {
                Ok((d, _)) if *d == expected => ("OK", Some(d.to_string())),
                Ok((d, _)) => {
                    mismatched += 1;
                    ("FAILED", Some(d.to_string()))
                }
                Err(_) => {
                    unreadable += 1;
                    ("FAILED open or read", None)
                }
            };
            if json {
                results.push(serde_json::json!({
                    "path": name, "status": status, "expected": expected.to_string(),
                    "actual": actual,
                    "error": outcome.as_ref().err().map(|e| format!("{e:#}")),
                }));
            } else if !(args.quiet && status == "OK") {
                println!("{name}: {status}");
            }
        }
    }
    let ok = mismatched == 0 && unreadable == 0 && malformed == 0;
    if json {
        print_json(&serde_json::json!({
            "ok": ok, "results": results, "mismatched": mismatched,
            "unreadable": unreadable, "malformed": malformed,
        }));
    } else {
        if mismatched > 0 {
            eprintln!("leo: WARNING: {mismatched} computed checksum(s) did NOT match");
        }
        if unreadable > 0 {
            eprintln!("leo: WARNING: {unreadable} listed file(s) could not be read");
        }
        if malformed > 0 {
            eprintln!("leo: WARNING: {malformed} line(s) are improperly formatted");
        }
    }
    Ok(if ok { ExitCode::SUCCESS } else { exit_failed() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_format_round_trips_including_escapes() {
        let d = Sha256Digest::of(b"x");
        for name in ["a.txt", "dir/with space", "back\\slash", "new\nline"] {
            let line = format_line(&d, name);
            assert_eq!(parse_line(&line), Some((d, name.to_owned())), "{line}");
        }
        assert_eq!(parse_line(&format!("{d} *bin")), Some((d, "bin".into())));
        assert_eq!(parse_line(&format!("{d} one-space")), None);
        assert_eq!(parse_line("zz  file"), None);
    }
}
