# promtool (Debian's `prometheus` package) for the leo-score tests: `promtool check metrics`
# parses the exposition and `promtool check rules` the alert rules file
# (crates/leo-score/tests/observability.rs, crates/leo-cli/tests/score.rs).
# Sourced by scripts/test; idempotent; exports LEO_PROMTOOL.
if ! promtool --version >/dev/null 2>&1; then
  echo "==> installing prometheus (for promtool)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
LEO_PROMTOOL="$(command -v promtool)"
export LEO_PROMTOOL
