# GnuPG for the OpenPGP interop tests (crates/leo-sign/tests/gpg_interop.rs,
# crates/leo-cli/tests/sign.rs): they drive the real gpg 2.2 with temporary GNUPGHOMEs and
# stop their own gpg-agents. The stock image ships gnupg; install it only where it is missing.
# Sourced by scripts/test; idempotent.
if ! gpg --version >/dev/null 2>&1 || ! gpgconf --version >/dev/null 2>&1; then
  echo "==> installing gnupg for the OpenPGP interop tests"
  apt-get update -qq && apt-get install -y -qq gnupg >/dev/null
fi
