# cargo-cyclonedx, the peer for the SBOM parity tests (crates/leo-attest/tests/sbom_cargo.rs):
# LEO's Cargo SBOM must list exactly the purls `cargo cyclonedx` lists. Pinned to 0.5.9, the
# version the parity was established with. A cold `cargo install --locked` compiles ~250
# crates: several minutes on a 2-core runner (see the timing in the script's log line); it
# runs only where the binary is missing or another version is installed.
# Sourced by scripts/test; idempotent.
LEO_CYCLONEDX_VERSION=0.5.9
if ! cargo cyclonedx --version 2>/dev/null | grep -q " ${LEO_CYCLONEDX_VERSION}\$"; then
  echo "==> installing cargo-cyclonedx ${LEO_CYCLONEDX_VERSION} for the SBOM parity tests"
  leo_cdx_start=$SECONDS
  cargo install --quiet --locked --force cargo-cyclonedx --version "${LEO_CYCLONEDX_VERSION}"
  echo "==> cargo-cyclonedx installed in $((SECONDS - leo_cdx_start))s"
fi
