"""examples/: the CI workflow is well formed and every file it names exists and loads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from conformance.cli import build_parser
from conformance.report.expectations import apply_expectations, exit_code, load_expectations
from conformance.targets import emulators as emulator_tools
from conformance.targets.config import load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
WORKFLOW = EXAMPLES / "github-actions" / "conformance.yml"


def _steps(job: dict) -> list[dict]:
    return job.get("steps") or []


def test_workflow_gates_publishes_junit_and_uploads_the_report():
    flow = yaml.safe_load(WORKFLOW.read_text())
    jobs = flow["jobs"]
    assert {"moto-service", "pip-emulator", "replay-compare"} <= set(jobs)
    assert jobs["moto-service"]["services"]["moto"]["image"].startswith("motoserver/moto:")
    for name in ("moto-service", "pip-emulator"):
        uses = [s.get("uses", "") for s in _steps(jobs[name])]
        assert any(u.startswith("EnricoMi/publish-unit-test-result-action@") for u in uses), name
        assert any(u.startswith("actions/upload-artifact@") for u in uses), name
        runs = " ".join(s.get("run", "") for s in _steps(jobs[name]))
        assert "kms-conformance run" in runs and "--expectations" in runs, name
    assert set(jobs["pip-emulator"]["strategy"]["matrix"]["emulator"]) <= set(emulator_tools.EMULATORS)
    compare = " ".join(s.get("run", "") for s in _steps(jobs["replay-compare"]))
    assert "kms-conformance compare" in compare and "replay.yaml" in compare


def test_every_command_line_in_the_workflow_parses():
    flow = yaml.safe_load(WORKFLOW.read_text())
    parser = build_parser()
    lines = []
    for job in flow["jobs"].values():
        for step in _steps(job):
            for command in re.split(r"\n(?=\S)|&&|;", step.get("run", "")):
                command = " ".join(re.sub(r"\$\{\{[^}]*\}\}", "X", command).split())
                if command.startswith("kms-conformance "):
                    lines.append(command)
    assert len(lines) >= 6
    for line in lines:
        argv = [a.strip('"') for a in line.split()[1:] if a != "&"]
        parser.parse_args(argv)  # SystemExit on an unknown option fails the test


def test_expectation_files_load_and_turn_known_gaps_into_expected_results(tmp_path):
    files = sorted((EXAMPLES.parent / "expectations").glob("*.yaml"))
    assert {f.stem for f in files} >= {"moto-server", "ministack", "localstack"}
    for path in files:
        expectations = load_expectations(path)
        assert expectations.cases and all(e.reason for e in expectations.cases.values())
        def case(verdict: str) -> dict:
            return {"id": "UpdateCustomKeyStore/scenario/x", "operation": "UpdateCustomKeyStore",
                    "kind": "scenario", "requirements": [], "verdict": verdict, "steps": []}

        known = apply_expectations({"cases": [case("UNIMPLEMENTED")], "requirements": []}, expectations)
        assert exit_code(known) == 0 and known["cases"][0]["verdict"] == "UNIMPLEMENTED"
        regression = apply_expectations({"cases": [case("FAIL")], "requirements": []}, expectations)
        assert exit_code(regression) == 1, path.name  # the gate still catches a new failure


def test_example_target_configs_load():
    for path in sorted((EXAMPLES / "targets").glob("*.yaml")):
        config = load_config(path)
        assert config.target.adapter in ("endpoint", "replay"), path
    assert load_config(EXAMPLES / "targets" / "replay.yaml").target.cassette == "../cassettes/aws"
