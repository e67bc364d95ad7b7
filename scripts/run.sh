#!/usr/bin/env bash
# Set up .venv with the suite, then run the main job: `kms-conformance run` (extra args pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "run.sh: $*" >&2; }
if [ ! -x .venv/bin/kms-conformance ]; then
  # The first time takes a minute or two (botocore, hypothesis, schemathesis, moto); say so.
  say "first run: creating .venv and installing kms-conformance and its dependencies (about 1-2 minutes)..."
  start=$SECONDS
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --progress-bar off -e . \
    || { say "installing failed (see pip's message above); remove .venv and try again"; exit 2; }
  say "installed in $((SECONDS - start)) s"
fi
say "running: kms-conformance run $*"
exec .venv/bin/kms-conformance run "$@"
