//! `ROLLBACK.md`: how to undo an applied bundle.

use std::fmt::Write;

use crate::patch::FileChange;
use crate::writer::Revisions;

/// Renders the rollback notes for a change.
pub fn rollback_notes(revisions: &Revisions, files: &[FileChange]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Rollback notes\n");
    let _ = writeln!(s, "| revision | commit |\n|---|---|");
    let _ = writeln!(s, "| base | `{}` |", revisions.base);
    let _ = writeln!(s, "| head | `{}` |", revisions.head);
    let _ = writeln!(s, "| merge-base | `{}` |\n", revisions.merge_base);
    let _ = writeln!(s, "## Files touched ({})\n", files.len());
    for f in files {
        let path = match (&f.old_path, &f.new_path) {
            (Some(o), Some(n)) if o != n => format!("{o} → {n}"),
            (_, Some(n)) => n.clone(),
            (Some(o), None) => o.clone(),
            (None, None) => "?".into(),
        };
        let bin = if f.binary { " (binary)" } else { "" };
        let _ = writeln!(s, "- {}: `{}`{}", f.status, path, bin);
    }
    let _ = writeln!(
        s,
        "\n## Revert the applied patch\n\nOn the branch the enforcer applied this bundle to, with a clean work tree:\n\n```sh\ngit apply --check -R changes.patch\ngit apply -R changes.patch\ngit commit -am \"Revert bundle applied on merge-base {}\"\n```\n",
        revisions.merge_base.short(12)
    );
    let _ = writeln!(
        s,
        "## Return to the merge-base\n\nIf the branch holds nothing else, reset it to where the change started:\n\n```sh\ngit reset --hard {}\n```",
        revisions.merge_base
    );
    s
}
