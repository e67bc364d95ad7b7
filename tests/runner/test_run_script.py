"""scripts/run.sh says what it is doing before the long first install, and passes arguments on."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "run.sh"

# Stand-ins for python3 (makes the venv), the venv's pip and kms-conformance: each logs its call.
FAKE_PYTHON3 = """#!/usr/bin/env bash
echo "python3 $*" >> "$LOG"
mkdir -p .venv/bin && cp "$FAKES/venv-python" .venv/bin/python
"""
FAKE_VENV_PYTHON = """#!/usr/bin/env bash
echo "pip $*" >> "$LOG"
cp "$FAKES/kms-conformance" .venv/bin/kms-conformance
"""
FAKE_TOOL = """#!/usr/bin/env bash
echo "kms-conformance $*" >> "$LOG"
"""


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_first_run_announces_the_install_before_it_starts_and_then_runs(tmp_path):
    repo, bin_dir, log = tmp_path / "repo", tmp_path / "bin", tmp_path / "log"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(SCRIPT, repo / "scripts" / "run.sh")
    bin_dir.mkdir()
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    _executable(bin_dir / "python3", FAKE_PYTHON3)
    _executable(fakes / "venv-python", FAKE_VENV_PYTHON)
    _executable(fakes / "kms-conformance", FAKE_TOOL)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "LOG": str(log), "FAKES": str(fakes)}
    proc = subprocess.run(["bash", str(repo / "scripts" / "run.sh"), "--target", "moto"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    said = proc.stderr.splitlines()
    assert said[0].startswith("run.sh: first run: creating .venv and installing")
    assert said[1].startswith("run.sh: installed in ") and said[2] == "run.sh: running: kms-conformance run --target moto"
    calls = log.read_text().splitlines()
    assert calls[0] == "python3 -m venv .venv" and calls[1].startswith("pip -m pip install")
    assert calls[2] == "kms-conformance run --target moto"
    # the second run skips the install and says only what it runs
    again = subprocess.run(["bash", str(repo / "scripts" / "run.sh")], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=30)
    assert again.stderr.splitlines() == ["run.sh: running: kms-conformance run "]
