# Headless Chromium (Debian's `chromium`) for the monthly report test: it renders the HTML
# report and takes a screenshot (crates/leo-cli/tests/score.rs).
# Sourced by scripts/test; idempotent; exports LEO_CHROMIUM.
if ! chromium --version >/dev/null 2>&1; then
  echo "==> installing chromium (headless report rendering)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
LEO_CHROMIUM="$(command -v chromium)"
export LEO_CHROMIUM
