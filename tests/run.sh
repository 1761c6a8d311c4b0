#!/usr/bin/env bash
# Runs every test of the project: README's test command, also run by CI.
# Installs what the tests need first, so it works on a fresh machine.
# Ends with one line totalling every runner's results.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
summarise() {
    local status=$?
    # cargo: "test result: ok. 5 passed; 0 failed; ..."; pytest: "== 12 passed, 1 failed in 3.1s =="
    local passed failed
    passed=$(grep -oE '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
    failed=$(grep -oE '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
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
