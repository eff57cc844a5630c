//! Progress bars on stderr for long work; hidden automatically when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish too fast for a bar to be worth drawing.
const MIN_BYTES_FOR_BAR: u64 = 64 * 1024 * 1024;

/// A byte-progress bar for `total` bytes labelled `what`, or a hidden one for small inputs.
pub fn bytes(total: u64, what: &str) -> ProgressBar {
    if total < MIN_BYTES_FOR_BAR {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_owned());
    bar
}
