"""The report stage on a real (small) run: the runner's results.json matches the schema, and the
update-expectations -> gate loop works through `run_suite` with a seeded fault of the reference target."""

from __future__ import annotations

import pytest
import yaml
from junitparser import JUnitXml

from conformance.report.results import load_results, validate_results
from conformance.runner import RunOptions, run_suite

KEYWORD = "DescribeCustomKeyStores and structural"


def test_runner_results_validate_and_render(tmp_path):
    outcome = run_suite(RunOptions(report_dir=str(tmp_path / "run"), keyword=KEYWORD, progress=False))
    results = load_results(tmp_path / "run")
    validate_results(results)
    assert outcome.exit_code == 0 and results["finished"] and results["summary"]["total"] > 5
    assert all(c["operation"] == "DescribeCustomKeyStores" for c in results["cases"])
    xml = JUnitXml.fromfile(str(tmp_path / "run" / "junit.xml"))
    xml.update_statistics()
    assert xml.tests == results["summary"]["total"] and xml.failures == 0


@pytest.mark.slow
def test_update_expectations_then_gate_through_the_runner(tmp_path):
    """Record known failures of a faulty target, then gate: known -> 0, fixed -> 1, new fault -> 1."""
    exp = tmp_path / "exp.yaml"
    exp.write_text("cases: {}\n")

    def run(name, faults, update=False):
        return run_suite(RunOptions(report_dir=str(tmp_path / name), keyword="DescribeCustomKeyStores and scenario",
                                    progress=False, faults=faults, expectations=str(exp),
                                    update_expectations=update))

    known = ("describe-unknown-empty-list",)
    assert run("record", known, update=True).exit_code == 0
    entries = yaml.safe_load(exp.read_text())["cases"]
    assert entries and all(e["verdict"] == "FAIL" and e["reason"] for e in entries.values())
    gated = run("gate", known)
    assert gated.exit_code == 0
    assert gated.results["summary"]["EXPECTED_FAIL"] == len(entries) and gated.results["summary"]["FAIL"] == 0
    assert load_results(tmp_path / "gate")["summary"]["EXPECTED_FAIL"] == len(entries)  # the file says so too
    fixed = run("fixed", ())
    assert fixed.exit_code == 1 and fixed.results["summary"]["UNEXPECTED_PASS"] == len(entries)
    regressed = run("regressed", known + ("invalid-marker-ignored",))
    assert regressed.exit_code == 1 and regressed.results["summary"]["FAIL"] >= 1


def test_a_target_that_leaks_passwords_fails_but_the_report_does_not_leak(tmp_path):
    """Seeded faults make the reference echo the password in Describe and quote it in messages."""
    import re

    from conformance.redact import REDACTED, registered_secrets

    for edition in ("current", "2019-12"):  # 2019-12 allows one-character passwords
        outcome = run_suite(RunOptions(
            report_dir=str(tmp_path / edition), edition=edition, progress=False,
            keyword="KeyStorePassword or password-never-returned",
            faults=("password-echoed", "password-in-validation-message")))
        assert outcome.exit_code == 1  # the leaks are found
        validate_results(load_results(tmp_path / edition))
    # Every secret registered in this process (an earlier test in the same worker may have
    # registered some of them first, so do not count only the new ones).
    from conformance.reference import default_world

    secrets = set(registered_secrets()) - {REDACTED}
    assert default_world().kmsuser_password in secrets, "the run registered the passwords it sent"
    texts = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("results.json"))
    assert "Value '***REDACTED***' at 'keyStorePassword'" in texts  # the quoted password was blanked
    echoed = [c for r in tmp_path.rglob("results.json") for c in load_results(r)["cases"]
              if c["id"].endswith("password-never-returned")]
    assert echoed and all(c["verdict"] == "FAIL" for c in echoed)  # the echo was seen and judged
    quoted = re.compile(r"Value '(?!\*\*\*REDACTED\*\*\*')[^']*' at 'keyStorePassword'")
    member = re.compile(r'\\?"KeyStorePassword\\?":\s*\\?"(?!\*\*\*REDACTED\*\*\*)')
    for path in tmp_path.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            for secret in secrets:
                assert secret not in text, f"a password leaked into {path}"
            assert not quoted.search(text), path
            assert not member.search(text), path
