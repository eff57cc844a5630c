# Python reference for in-toto/DSSE interop tests (crates/leo-attest/tests/python_interop.rs):
# a venv with securesystemslib (DSSE, keys) and in-toto-attestation (Statement v1) from PyPI,
# pinned to the versions the vectors in ../shared/vectors/intoto were made with.
# Sourced by scripts/test; idempotent; exports LEO_INTOTO_PYTHON.
LEO_INTOTO_VENV="${LEO_INTOTO_VENV:-$PWD/target/python/intoto-venv}"
leo_intoto_ready() {
  "$LEO_INTOTO_VENV/bin/python" -c \
    'import securesystemslib, in_toto_attestation, cryptography; assert securesystemslib.__version__ == "1.6.0"' \
    >/dev/null 2>&1
}
if ! leo_intoto_ready; then
  echo "==> creating Python venv for in-toto interop at $LEO_INTOTO_VENV"
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
  fi
  rm -rf "$LEO_INTOTO_VENV"
  python3 -m venv "$LEO_INTOTO_VENV"
  "$LEO_INTOTO_VENV/bin/pip" install --quiet --disable-pip-version-check \
    'securesystemslib[crypto]==1.6.0' 'in-toto-attestation==0.9.3'
  leo_intoto_ready
fi
export LEO_INTOTO_PYTHON="$LEO_INTOTO_VENV/bin/python"
