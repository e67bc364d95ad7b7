#!/usr/bin/env bash
# Set up a fresh virtualenv (.venv) with the suite and its test extras, then run the project's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -n 2 -q "$@"
