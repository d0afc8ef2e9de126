#!/usr/bin/env bash
# Each function links one HTTP/TLS stack: `cargo tree -d` (duplicates) of its normal
# dependencies on the Lambda target must show no second version of hyper, h2, rustls or their
# glue crates. Prints each function's stack and fails on a duplicate.
set -euo pipefail
cd "$(dirname "$0")/.."

stack='^(hyper|hyper-util|hyper-rustls|h2|rustls|tokio-rustls|rustls-webpki|aws-lc-rs|ring) '
failed=0
for dir in functions/*/; do
  name=$(basename "$dir")
  # Depth 0 of `cargo tree -d` lists the packages present in more than one version.
  dups=$(cargo tree --locked -p "$name" -d -e normal --target aarch64-unknown-linux-gnu \
    --prefix depth --format '{p}' | sed -n 's/^0//p' | grep -E "$stack" | sort -u || true)
  linked=$(cargo tree --locked -p "$name" -e normal --target aarch64-unknown-linux-gnu \
    --prefix none --format '{p}' | grep -E "$stack" | cut -d' ' -f1-2 | sort -u | tr '\n' ' ')
  if [[ -n "$dups" ]]; then
    echo "$name links two versions of: $dups" >&2
    failed=1
  else
    echo "$name: $linked"
  fi
done
exit "$failed"
