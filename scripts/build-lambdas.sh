#!/usr/bin/env bash
# Release builds of every function for AWS Lambda (arm64, provided.al2023) with cargo-lambda,
# offline but for crates.io, then prints each stripped bootstrap's size.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/aws-tools.sh
export PATH="$PWD/.venv/bin:$PATH"   # cargo-lambda finds zig through the venv's python
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi

packages=()
for dir in functions/*/; do
  packages+=(-p "$(basename "$dir")")
done
cargo lambda build --release --arm64 --lambda-dir target/lambda-arm64 "${packages[@]}"

echo "function                 bootstrap (arm64, stripped)"
for dir in functions/*/; do
  name=$(basename "$dir")
  bytes=$(stat -c %s "target/lambda-arm64/$name/bootstrap")
  awk -v n="$name" -v b="$bytes" 'BEGIN { printf "%-24s %6.2f MiB\n", n, b / 1048576 }'
done
