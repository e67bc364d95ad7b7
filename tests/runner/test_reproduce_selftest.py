"""The reproduce self-test: every non-PASS case of a seeded-fault run carries a command that,
run by a shell against the same served target, shows the same verdict (or the same observed answer).

The faults are chosen so the run's non-PASS cases include each form of command: an AWS CLI line
(a stateless request the CLI sends unchanged), curl lines (raw wire requests, and answers whose
status the CLI would not show), and `kms-conformance run --case` (setup, state, secrets, a
generated sequence).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import cli
from conformance.reference import EXAMPLE_ACCESS_KEY_ID, EXAMPLE_SECRET_ACCESS_KEY
from conformance.reference.world import DEFAULT_KMSUSER_PASSWORD
from conformance.verdicts import UNEXPECTED, Verdict

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reference"))
from refhelpers import served  # noqa: E402

FAULTS = ("notfound-before-validation", "unknown-operation-500", "update-skips-state-check")
SELECTED = (
    "UpdateCustomKeyStore/structural/XksProxyVpcEndpointServiceOwner/pattern-violation",  # FAIL, aws
    "UpdateCustomKeyStore/structural/CustomKeyStoreId/length-below-min",  # FAIL, curl (the CLI refuses it)
    "UpdateCustomKeyStore/structural/NewCustomKeyStoreName/type-number",  # NON_STRICT, curl
    "DescribeCustomKeyStores/protocol/target-unknown-operation",  # FAIL, curl (status 500)
    "UpdateCustomKeyStore/scenario/state-connected-password",  # FAIL, setup and state
    "UpdateCustomKeyStore/scenario/state-connecting-name",  # NOT_TRIGGERABLE on an instant target
    "UpdateCustomKeyStore/scenario/rename-applied",  # PASS: carries a command too, not re-run here
)
BIN = Path(sys.executable).parent


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """The command as a user pastes it: bash, our executables on PATH, the documented variables set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "KMS_"))}
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", AWS_ACCESS_KEY_ID=EXAMPLE_ACCESS_KEY_ID,
               AWS_SECRET_ACCESS_KEY=EXAMPLE_SECRET_ACCESS_KEY, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="", KMS_KEYSTORE_PASSWORD=DEFAULT_KMSUSER_PASSWORD)
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _error_code(code: str | None) -> str | None:
    return code.rsplit("#", 1)[-1] if code else None


def _check_reproduces(case: dict, proc: subprocess.CompletedProcess, cwd: Path) -> None:
    command = case["reproduce"]
    observed = case["observed"] or {}
    if command.startswith("kms-conformance "):
        rerun = json.loads((cwd / "kms-conformance-rerun" / "results.json").read_text())
        assert [(c["id"], c["verdict"]) for c in rerun["cases"]] == [(case["id"], case["verdict"])], proc.stderr
        assert proc.returncode == (1 if Verdict(case["verdict"]) in UNEXPECTED else 0), proc.stderr
    elif command.startswith("aws "):
        found = re.search(r"An error occurred \((\w+)\)", proc.stderr)
        assert (found.group(1) if found else None) == _error_code(observed.get("error_code")), proc.stderr
        assert (proc.returncode == 0) == (observed.get("status") == 200), proc.stderr  # v1 exits 255, v2 254
    else:
        assert command.startswith("curl "), command
        head, _, body = proc.stdout.replace("\r\n", "\n").partition("\n\n")
        assert int(head.split()[1]) == observed["status"], proc.stdout
        code = json.loads(body).get("__type") if body.strip().startswith("{") else None
        assert _error_code(code) == _error_code(observed.get("error_code")), proc.stdout


def test_every_non_pass_case_reproduces_against_the_same_served_target(tmp_path, capsys):
    fault_args = [arg for fault in FAULTS for arg in ("--fault", fault)]
    with served(*fault_args) as (endpoint, _, _):
        run_args = ["run", "--no-progress", "--endpoint-url", endpoint, "--report-dir", str(tmp_path / "run")]
        assert cli.main(run_args + [arg for cid in SELECTED for arg in ("--case", cid)]) == 1
        capsys.readouterr()
        cases = json.loads((tmp_path / "run" / "results.json").read_text())["cases"]
        assert sorted(c["id"] for c in cases) == sorted(SELECTED)
        non_pass = [c for c in cases if c["verdict"] != "PASS"]
        assert {c["verdict"] for c in non_pass} == {"FAIL", "NON_STRICT", "NOT_TRIGGERABLE"}
        forms = {c["reproduce"].split()[0] for c in non_pass}
        assert forms == {"aws", "curl", "kms-conformance"}
        for case in non_pass:
            command = case["reproduce"]
            assert "REDACTED" not in command and DEFAULT_KMSUSER_PASSWORD not in command
            if command.startswith("kms-conformance "):
                assert f"--endpoint-url {endpoint}" in command  # the same target, not the in-process default
            cwd = tmp_path / re.sub(r"\W+", "-", case["id"])
            _check_reproduces(case, _shell(command, cwd), cwd)


@pytest.mark.parametrize("flags", [[], ["--strictness", "code", "--seed", "7", "--edition", "2019-12"]])
def test_a_rerun_command_repeats_the_run_s_flags(tmp_path, capsys, flags):
    """In-process reference: the command carries the faults, edition, strictness and seed of the run."""
    cid = "DeleteCustomKeyStore/scenario/not-found"
    args = ["run", "--no-progress", "--report-dir", str(tmp_path / "r"), "--case", cid, "--fault", "notfound-404",
            *flags]
    assert cli.main(args) == 1
    capsys.readouterr()
    case = json.loads((tmp_path / "r" / "results.json").read_text())["cases"][0]
    expected = ["--fault", "notfound-404", "--edition", flags[5] if flags else "current",
                "--strictness", flags[1] if flags else "regex", "--seed", flags[3] if flags else "0"]
    words = case["reproduce"].split()
    assert words[:4] == ["kms-conformance", "run", "--case", cid]
    assert all(f"{a} {b}" in case["reproduce"] for a, b in zip(expected[::2], expected[1::2]))
    assert cli.main(words[1:-2] + ["--no-progress", "--report-dir", str(tmp_path / "again")]) == 1
    capsys.readouterr()
    again = json.loads((tmp_path / "again" / "results.json").read_text())["cases"]
    assert [(c["id"], c["verdict"]) for c in again] == [(cid, case["verdict"])]
