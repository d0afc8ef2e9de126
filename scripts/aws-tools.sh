#!/usr/bin/env bash
# Installs the local AWS tooling into .venv (PyPI only): moto's server (the AWS emulator),
# cargo-lambda (with zig, for arm64 builds), cfn-lint and the SAM translator.
# Idempotent: a second run with the same versions installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO="moto[server]==5.2.5"
CARGO_LAMBDA="cargo-lambda==1.9.2"
SAM_TRANSLATOR="aws-sam-translator==1.115.0"
CFN_LINT="cfn-lint==1.58.0"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
stamp=".venv/.cassiopee-tools"
wanted="$MOTO $CARGO_LAMBDA $SAM_TRANSLATOR $CFN_LINT"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/pip install --quiet --disable-pip-version-check $wanted
  echo "$wanted" > "$stamp"
fi
