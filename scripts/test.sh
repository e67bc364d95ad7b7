#!/usr/bin/env bash
# Set up a fresh virtualenv (.venv) with the suite and its test extras, then run the project's own tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# The HTML report is checked in headless Chromium (Debian package); install it when missing and we can.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "warning: could not install chromium; the browser tests will fail" >&2
  else
    echo "warning: chromium is not installed (apt-get install chromium); the browser tests will fail" >&2
  fi
fi
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# Editable, so source edits take effect at once. The non-editable path is not left to chance:
# tests/packaging builds the wheel and runs it from a fresh venv, and `tox` runs this suite
# against a non-editable install.
.venv/bin/python -m pip install -q -e '.[test]'
exec .venv/bin/python -m pytest -n 2 -q "$@"
