#!/usr/bin/env bash
# The whole test suite: formatting, lints, the SAM template, then every unit and integration
# test, the AWS adapters against a local emulator (moto) over HTTP, then the web front in a
# headless Chromium (scripts/web-tests.sh).
# Needs the Rust toolchain, python3 and Node.js; installs the rest from PyPI into .venv, from
# npm into web/node_modules, and Chromium from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== one HTTP/TLS stack per function"
scripts/check-http-stack.sh

echo "== AWS tooling (.venv: moto, cargo-lambda, SAM translator, cfn-lint)"
scripts/aws-tools.sh

echo "== SAM template: transform, then cfn-lint"
.venv/bin/python scripts/lint_template.py

if [ "${CI:-}" = "true" ] || [ -z "${CASSIOPEE_SKIP_LAMBDA_BUILD:-}" ]; then
  echo "== Lambda bootstraps: cargo lambda build --release --arm64"
  scripts/build-lambdas.sh
else
  echo "== Lambda bootstraps: not built (CASSIOPEE_SKIP_LAMBDA_BUILD is set; CI always builds them)"
fi

echo "== AWS emulator (moto, single-threaded) on 127.0.0.1"
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
moto_log=$(mktemp)
.venv/bin/python scripts/moto_server.py "$port" > "$moto_log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; rm -f "$log" "$moto_log"' EXIT
ready=
for _ in $(seq 1 150); do
  if .venv/bin/python -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$port/moto-api/reset', method='POST'))" 2> /dev/null; then
    ready=1
    break
  fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "the AWS emulator did not start on 127.0.0.1:$port:" >&2
  cat "$moto_log" >&2
  exit 1
fi
export CASSIOPEE_MOTO_ENDPOINT="http://127.0.0.1:$port"
echo "moto at $CASSIOPEE_MOTO_ENDPOINT"

echo "== cargo test"
set +e
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

echo "== every function through cargo lambda watch + invoke, on the emulator"
set +e
PATH="$PWD/.venv/bin:$PATH" .venv/bin/python tests/lambda_invoke.py 2>&1 | tee -a "$log"
invoke_status=${PIPESTATUS[0]}
set -e
[ "$invoke_status" -eq 0 ] || status=$invoke_status

echo "== Web front: vendored DSFR, browser tests in Chromium"
set +e
scripts/web-tests.sh 2>&1 | tee -a "$log"
web_status=${PIPESTATUS[0]}
set -e
[ "$web_status" -eq 0 ] || [ "$status" -ne 0 ] || status=$web_status

# One closing line for the whole suite (cargo prints one per test binary, the last of which is
# often an empty doc-test run; the other runners print `<name>: N passed, M failed`).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     /^[a-z ]+: [0-9]+ passed, [0-9]+ failed$/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "total: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
