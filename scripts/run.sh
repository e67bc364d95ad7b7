#!/usr/bin/env bash
# Set up .venv with the suite, then run the main job: `kms-conformance run` (extra args pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/kms-conformance ] || { python3 -m venv .venv && .venv/bin/python -m pip install -q -e .; }
exec .venv/bin/kms-conformance run "$@"
