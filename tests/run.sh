#!/usr/bin/env bash
# Runs every test of the project: README's test command, also run by CI.
# Installs what the tests need first, so it works on a fresh machine.
# Ends with one line totalling every runner's results.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
summarise() {
    local status=$?
    # cargo: "test result: ok. 5 passed; 0 failed; ..."; pytest: "== 12 passed, 1 failed, 2 errors in 3.1s =="
    local passed failed
    passed=$(grep -oE '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
    # pytest reports tests that broke in a fixture as "errors": failures too.
    failed=$(grep -oE '[0-9]+ (failed|errors?)\b' "$log" | awk '{s+=$1} END {print s+0}')
    rm -f "$log"
    echo
    echo "total: ${passed} passed, ${failed} failed"
    exit "$status"
}
trap summarise EXIT

# Runs a test command, keeping its output for the summary.
run() {
    "$@" 2>&1 | tee -a "$log"
    return "${PIPESTATUS[0]}"
}

# rustup does not install targets by itself here (RUSTUP_AUTO_INSTALL=0).
rustup target add wasm32-unknown-unknown

# The harness (tests/) builds the wasm artifacts itself and runs every
# fixture through the native core and through wasmtime.
run cargo test --locked

# --- pipeline-configs (Python) ---
# The generated Fluent Bit / nginx configs and the Firehose front are tested
# with pytest against a real nginx + njs (Debian packages). Install only what
# is missing, so a machine that has everything does not touch the network.
if [ ! -x /usr/sbin/nginx ] || [ ! -e /usr/share/nginx/modules-available/mod-http-js.conf ] \
    || ! command -v openssl >/dev/null; then
  # The package would start the stock nginx service on port 80; the tests run
  # their own nginx on a free high port, so keep the service from starting.
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  install_status=0
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    nginx libnginx-mod-http-js openssl || install_status=$?
  if [ -n "$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$install_status" -eq 0 ] || exit "$install_status"
  service nginx stop >/dev/null 2>&1 || true
fi
if ! python3 -c 'import pytest, yaml' 2>/dev/null; then
  python3 -m pip install --quiet pytest pyyaml
fi
# `run` counts the results in the closing total; no bytecode or cache
# directories are left in the work tree.
run env PYTHONDONTWRITEBYTECODE=1 python3 -m pytest -q -p no:cacheprovider pipeline-configs/tests
# --- end pipeline-configs (Python) ---
