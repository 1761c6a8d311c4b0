#!/usr/bin/env bash
# Runs every test of the project: README's test command, also run by CI.
# Installs what the tests need first, so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."

# rustup does not install targets by itself here (RUSTUP_AUTO_INSTALL=0).
rustup target add wasm32-unknown-unknown

# The harness (tests/) builds the wasm component itself and runs every
# fixture through the native core and through wasmtime.
cargo test --locked
