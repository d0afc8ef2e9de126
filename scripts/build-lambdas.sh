#!/usr/bin/env bash
# Release builds of every function for AWS Lambda (arm64, provided.al2023) with cargo-lambda,
# offline but for crates.io, then prints each stripped bootstrap's size.
#
# Functions link only the adapters their `cassiopee-api` features name (see each
# functions/*/Cargo.toml). Cargo unifies the features of a package over everything one
# invocation builds, so the functions are built in groups of equal features: one invocation per
# group, sharing every compiled dependency.
#
# `scripts/build-lambdas.sh --x86-64` builds for this machine's architecture instead (into
# target/lambda-x86_64), so that the benchmarks can start the very bootstraps Lambda would run.
set -euo pipefail
cd "$(dirname "$0")/.."

arch=arm64
arch_flag=--arm64
if [[ "${1:-}" == "--x86-64" ]]; then
  arch=x86_64
  arch_flag=--x86-64
fi
lambda_dir="${CARGO_TARGET_DIR:-target}/lambda-$arch"

scripts/aws-tools.sh
export PATH="$PWD/.venv/bin:$PATH"   # cargo-lambda finds zig through the venv's python
if [[ "$arch" == arm64 ]] && ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi

declare -A groups=()
for dir in functions/*/; do
  name=$(basename "$dir")
  features=$(sed -n 's/^cassiopee-api = .*features = \[\(.*\)\].*/\1/p' "$dir/Cargo.toml")
  if [[ -z "$features" ]]; then
    echo "functions/$name/Cargo.toml names no cassiopee-api features" >&2
    exit 1
  fi
  groups["$features"]+=" -p $name"
done

for features in "${!groups[@]}"; do
  echo "building with cassiopee-api features [$features]:${groups[$features]}"
  # shellcheck disable=SC2086
  cargo lambda build --release "$arch_flag" --lambda-dir "$lambda_dir" ${groups[$features]}
done

echo "function                 bootstrap ($arch, stripped)  cassiopee-api features"
for dir in functions/*/; do
  name=$(basename "$dir")
  bytes=$(stat -c %s "$lambda_dir/$name/bootstrap")
  features=$(sed -n 's/^cassiopee-api = .*features = \[\(.*\)\].*/\1/p' "$dir/Cargo.toml")
  awk -v n="$name" -v b="$bytes" -v f="$features" \
    'BEGIN { printf "%-24s %6.2f MiB                   %s\n", n, b / 1048576, f }'
done
