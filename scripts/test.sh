#!/usr/bin/env bash
# The whole test suite: formatting, lints, then every unit and integration test.
# Needs only the Rust toolchain (cargo, rustfmt, clippy); no network beyond crates.io.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== cargo test"
cargo test --workspace --locked
