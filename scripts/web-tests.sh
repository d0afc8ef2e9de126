#!/usr/bin/env bash
# The web front's checks: the vendored design system is byte-identical to the pinned npm
# package, then the browser tests (web/tests, playwright-core driving Debian's Chromium against
# the demo server). Installs what is missing: Chromium with apt-get (root, or sudo), the node
# packages with `npm ci`. Never skips: a missing tool is a failure, with what to do.
# Ends with one cargo-style `test result:` line, which scripts/test.sh adds to its total.
# Screenshots: target/web-artifacts/ (CASSIOPEE_WEB_ARTIFACTS to change).
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
result() {
  local word=ok
  [ "$failed" -eq 0 ] || word=FAILED
  echo "test result: $word. $passed passed; $failed failed; 0 ignored; 0 measured; 0 filtered out (web front)"
}
give_up() {
  echo "web front: $1" >&2
  failed=$((failed + 1))
  result
  exit 1
}

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "== Chromium is missing: installing Debian's package"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
  fi
  [ -x "$chromium" ] || give_up "Chromium is not installed at $chromium and cannot be installed here (run as root: apt-get update && apt-get install -y chromium)"
fi
"$chromium" --version 2> /dev/null

for tool in node npm; do
  command -v "$tool" > /dev/null || give_up "$tool is missing on PATH (Node.js 20 with npm)"
done
node --version

if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "== npm ci (web/)"
  (cd web && npm ci --no-audit --no-fund) || give_up "npm ci failed in web/"
fi

echo "== Vendored DSFR against the pinned package"
if node web/scripts/vendor-dsfr.mjs --check; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
fi

echo "== The demo server for the browser tests (cargo build -p cassiopee-local)"
cargo build -p cassiopee-local --locked || give_up "the demo server does not build"
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
export CASSIOPEE_BIN="$target_dir/debug/cassiopee-local"

echo "== Browser tests (node --test web/tests)"
log=$(mktemp)
start=$(date +%s)
(cd web && node --test --test-concurrency=1 --test-reporter=tap tests/) 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo "browser tests took $(($(date +%s) - start)) s; screenshots in ${CASSIOPEE_WEB_ARTIFACTS:-target/web-artifacts}"
pass=$(awk '/^# pass / { print $3 }' "$log" | tail -1)
fail=$(awk '/^# fail / { print $3 }' "$log" | tail -1)
rm -f "$log"
if [ -z "$pass" ] || [ -z "$fail" ]; then
  give_up "the browser tests did not run to their summary"
fi
passed=$((passed + pass))
failed=$((failed + fail))
[ "$status" -eq 0 ] || [ "$fail" -gt 0 ] || failed=$((failed + 1))
result
[ "$failed" -eq 0 ]
