"""results.json: schema, incremental writing, crash safety, summaries and requirement verdicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from report_synthetic import META, REQUIREMENTS, case, synthetic_cases, write_run
from conformance.errors import UsageError
from conformance.report.results import NOT_RUN, ResultsWriter, load_results, results_schema, validate_results


def test_finished_run_matches_the_shipped_schema(tmp_path):
    writer, results = write_run(tmp_path)
    validate_results(results)
    on_disk = json.loads(writer.path.read_text())
    validate_results(on_disk)
    assert on_disk["finished"] and on_disk["started"] == META["started"]
    assert on_disk["target"] == META["target"]
    assert {"junit.xml", "report.md", "report.html"} <= {p.name for p in writer.report_dir.iterdir()}


def test_schema_rejects_a_malformed_results_file(tmp_path):
    _, results = write_run(tmp_path)
    broken = json.loads(json.dumps({k: v for k, v in results.items() if not k.startswith("_")}))
    broken["cases"][0]["verdict"] = "MAYBE"
    with pytest.raises(jsonschema.ValidationError):
        validate_results(broken)
    del broken["summary"]
    with pytest.raises(jsonschema.ValidationError):
        validate_results(broken)
    assert results_schema()["$defs"]["verdict"]["enum"]  # shipped as package data


def test_results_file_is_valid_after_every_add(tmp_path):
    cases = synthetic_cases()
    writer = ResultsWriter(tmp_path / "run", META, REQUIREMENTS, min_interval_s=0)
    first = json.loads(writer.path.read_text())
    validate_results(first)
    assert first["cases"] == [] and first["finished"] is None
    for n, c in enumerate(cases, 1):
        writer.add(c)
        data = json.loads(writer.path.read_text())
        validate_results(data)
        assert [x["id"] for x in data["cases"]] == [x.id for x in cases[:n]]
        assert data["summary"]["total"] == n
        assert data["finished"] is None


def test_a_crash_mid_run_keeps_the_cases_already_written(tmp_path, monkeypatch):
    cases = synthetic_cases()
    writer = ResultsWriter(tmp_path / "run", META, REQUIREMENTS, min_interval_s=0)
    for c in cases[:3]:
        writer.add(c)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("conformance.report.results.os.replace", disk_full)
    with pytest.raises(OSError):
        writer.add(cases[3])
    monkeypatch.undo()
    # The process "dies" here: no finish(). The file on disk is the 3-case version, intact.
    data = load_results(writer.path)
    validate_results(data)
    assert [c["id"] for c in data["cases"]] == [c.id for c in cases[:3]]
    assert data["finished"] is None
    assert [p.name for p in writer.report_dir.iterdir() if p.name.endswith(".tmp")] == []
    # The partial run still renders (a crashed run's report says it is incomplete).
    from conformance.report.render import render_all

    render_all(writer.path)
    assert "not finished" in (writer.report_dir / "report.md").read_text()


def test_a_run_killed_by_an_exception_still_leaves_every_added_case(tmp_path):
    """Throttled rewrites (the default) are flushed at interpreter exit, e.g. an uncaught exception."""
    script = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from report_synthetic import META, REQUIREMENTS, synthetic_cases
from conformance.report.results import ResultsWriter
w = ResultsWriter({str(tmp_path / "run")!r}, META, REQUIREMENTS, min_interval_s=3600)
for c in synthetic_cases():
    w.add(c)
raise RuntimeError("the runner crashed")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "the runner crashed" in proc.stderr
    data = load_results(tmp_path / "run")
    validate_results(data)
    assert len(data["cases"]) == len(synthetic_cases()) and data["finished"] is None


def test_flush_writes_pending_cases(tmp_path):
    writer = ResultsWriter(tmp_path / "run", META, REQUIREMENTS, min_interval_s=3600)
    for c in synthetic_cases()[:2]:
        writer.add(c)
    assert len(load_results(writer.path)["cases"]) <= 1  # throttled
    writer.flush()
    assert len(load_results(writer.path)["cases"]) == 2


def test_summary_counts_every_verdict_and_requirements_take_the_worst_case(tmp_path):
    _, results = write_run(tmp_path)
    s = results["summary"]
    assert (s["PASS"], s["NON_STRICT"], s["FAIL"], s["ERROR"], s["SKIPPED"], s["NOT_TRIGGERABLE"]) == (3, 1, 2, 1, 1, 1)
    assert s["UNIMPLEMENTED"] == 0 and s["total"] == 9
    reqs = {r["id"]: r for r in results["requirements"]}
    assert reqs["UPD-001"]["verdict"] == "FAIL"  # PASS, NON_STRICT, FAIL, PASS -> FAIL
    assert reqs["UPD-003"]["verdict"] == "FAIL"
    assert reqs["DES-001"]["verdict"] == "ERROR"  # PASS + ERROR
    assert reqs["CON-001"]["verdict"] == "SKIPPED"  # SKIPPED beats NOT_TRIGGERABLE
    assert len(reqs["UPD-001"]["cases"]) == 4
    assert "DEL-009" not in reqs  # 2019-12 only; this run is edition current


def test_requirement_no_case_ran_is_not_run(tmp_path):
    _, results = write_run(tmp_path, cases=[case("UpdateCustomKeyStore/structural/a", "PASS")])
    reqs = {r["id"]: r for r in results["requirements"]}
    assert reqs["UPD-001"]["verdict"] == "PASS"
    assert reqs["UPD-002"]["verdict"] == NOT_RUN and reqs["UPD-002"]["cases"] == []
    assert results["requirements_summary"][NOT_RUN] == 4
    validate_results(results)


def test_unknown_requirement_cited_by_a_case_still_gets_a_row(tmp_path):
    _, results = write_run(tmp_path, cases=[case("UpdateCustomKeyStore/x/y", "FAIL", reqs=("ZZZ-999",))])
    row = next(r for r in results["requirements"] if r["id"] == "ZZZ-999")
    assert row["verdict"] == "FAIL" and row["operation"] == "UpdateCustomKeyStore"


def test_results_file_is_readable_by_others(tmp_path):
    writer, _ = write_run(tmp_path)
    assert os.stat(writer.path).st_mode & 0o044  # not the 0600 of a bare temp file


@pytest.mark.parametrize("content, message", [
    (None, "not found"),
    ("{not json", "not valid JSON"),
    ('{"cases": "nope"}', "not a kms-conformance results file"),
    ('[1, 2]', "not a kms-conformance results file"),
])
def test_unreadable_results_are_one_line_usage_errors(tmp_path, content, message):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError) as exc:
        load_results(path)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_an_unwritable_report_dir_is_a_usage_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UsageError, match="cannot write the report in"):
        ResultsWriter(blocker / "run", META, REQUIREMENTS)


def _blamed_case(cid, reqs, checks, outcome=None):
    """A case whose blame comes from real verdicts.Check objects, as the kernel makes it."""
    from conformance.verdicts import case_verdict, requirement_blame

    result = case(cid, str(case_verdict(checks, outcome)), reqs=reqs)
    result.blame = requirement_blame(reqs, checks, outcome)
    return result


def test_a_requirement_is_fail_only_when_a_check_citing_it_failed(tmp_path):
    from conformance.verdicts import Check, Verdict

    state = Check("code", Verdict.FAIL, "update while CONNECTED: observed 200", ("UPD-002",))
    unchanged = Check("effect", Verdict.PASS, "nothing changed", ("UPD-001",))
    scenario = _blamed_case("UpdateCustomKeyStore/scenario/s", ("UPD-001", "UPD-002"), [unchanged, state])
    assert str(scenario.verdict) == "FAIL"  # the case verdict is still the worst of its checks
    _, results = write_run(tmp_path, cases=[scenario])
    validate_results(results)
    reqs = {r["id"]: r for r in results["requirements"]}
    assert reqs["UPD-002"]["verdict"] == "FAIL" and reqs["UPD-001"]["verdict"] == "PASS"
    assert reqs["UPD-002"]["checks"] == [{"case": scenario.id, "name": "code", "verdict": "FAIL",
                                          "detail": "update while CONNECTED: observed 200"}]
    assert reqs["UPD-001"]["checks"] == [] and reqs["UPD-001"]["cases"] == [scenario.id]
    stored = results["cases"][0]["blame"]
    assert stored["UPD-002"]["verdict"] == "FAIL" and stored["UPD-001"]["verdict"] == "PASS"


def test_a_setup_error_is_error_for_every_cited_requirement_never_fail(tmp_path):
    from conformance.errors import SetupFailed
    from conformance.verdicts import Check, Verdict, verdict_for_outcome

    held = Check("code", Verdict.PASS, "refused as expected", ("UPD-001",))
    outcome = verdict_for_outcome(SetupFailed("setup: could not bring the store to CONNECTED"), ("UPD-001", "UPD-002"))
    errored = _blamed_case("UpdateCustomKeyStore/scenario/e", ("UPD-001", "UPD-002"), [held], outcome)
    _, results = write_run(tmp_path, cases=[errored])
    reqs = {r["id"]: r for r in results["requirements"]}
    assert reqs["UPD-001"]["verdict"] == reqs["UPD-002"]["verdict"] == "ERROR"
    assert results["requirements_summary"]["FAIL"] == 0


def test_a_requirement_no_check_reached_is_not_decided_by_that_case(tmp_path):
    from conformance.verdicts import Check, Verdict

    failed = Check("model agreement", Verdict.FAIL, "delete: target 200, model 400", ("UPD-002",))
    stopped = _blamed_case("UpdateCustomKeyStore/stateful/x", ("UPD-001", "UPD-002"), [failed])
    assert stopped.blame["UPD-001"] == {"verdict": None, "checks": []}
    passing = case("UpdateCustomKeyStore/structural/a", "PASS", reqs=("UPD-003",))
    _, results = write_run(tmp_path, cases=[stopped, passing])
    validate_results(results)
    reqs = {r["id"]: r for r in results["requirements"]}
    assert reqs["UPD-001"]["verdict"] == NOT_RUN and reqs["UPD-001"]["cases"] == [stopped.id]
    assert reqs["UPD-002"]["verdict"] == "FAIL"


def test_expectations_carry_over_to_the_blamed_requirement_only(tmp_path):
    from conformance.report.expectations import apply_expectations, parse_expectations
    from conformance.verdicts import Check, Verdict

    checks = [Check("effect", Verdict.PASS, "unchanged", ("UPD-001",)), Check("code", Verdict.FAIL, "x", ("UPD-002",))]
    known = _blamed_case("UpdateCustomKeyStore/scenario/k", ("UPD-001", "UPD-002"), checks)
    _, results = write_run(tmp_path, cases=[known])
    for doc in ({"cases": {known.id: {"verdict": "FAIL", "reason": "known"}}},
                {"requirements": {"UPD-002": {"verdict": "FAIL", "reason": "known"}}}):
        out = apply_expectations(results, parse_expectations(doc))
        reqs = {r["id"]: r["verdict"] for r in out["requirements"]}
        assert out["cases"][0]["verdict"] == "EXPECTED_FAIL"
        assert reqs["UPD-002"] == "EXPECTED_FAIL" and reqs["UPD-001"] == "PASS"
        validate_results(out)


def test_results_of_an_older_suite_without_blame_still_take_the_case_verdict(tmp_path):
    from conformance.report.results import requirement_verdicts

    rows = requirement_verdicts([], [{"id": "A/b/c", "verdict": "FAIL", "requirements": ["UPD-001"]}], "current")
    assert rows[0]["verdict"] == "FAIL" and rows[0]["checks"] == []
