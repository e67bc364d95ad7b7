"""Expectation files: regressions exit 1, known failures exit 0, unexpected passes exit 1, round trip."""

from __future__ import annotations

import pytest
import yaml

from report_synthetic import case, write_run
from conformance.errors import ConfigError
from conformance.report.expectations import apply_expectations, exit_code, load_expectations, write_expectations
from conformance.report.results import validate_results

FAIL_ID = "UpdateCustomKeyStore/structural/name-max+1"
PASS_ID = "UpdateCustomKeyStore/structural/name-max"


def _run(tmp_path, *pairs):
    return write_run(tmp_path, cases=[case(cid, v, reqs=reqs) for cid, v, reqs in pairs])[1]


def _exp(tmp_path, doc, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc) if not isinstance(doc, str) else doc)
    return load_expectations(path)


def test_without_expectations_a_fail_exits_1_and_a_clean_run_0(tmp_path):
    assert exit_code(_run(tmp_path, (FAIL_ID, "FAIL", ("UPD-001",)))) == 1
    assert exit_code(_run(tmp_path, (PASS_ID, "PASS", ("UPD-001",)), ("X/y/z", "UNIMPLEMENTED", ("UPD-002",)))) == 0


def test_only_expected_failures_exit_0(tmp_path):
    results = _run(tmp_path, (FAIL_ID, "FAIL", ("UPD-001",)), (PASS_ID, "PASS", ("UPD-001",)),
                   ("DescribeCustomKeyStores/x/1", "ERROR", ("DES-001",)))
    exp = _exp(tmp_path, {"cases": {FAIL_ID: {"verdict": "FAIL", "reason": "accepts 257 chars", "link": "https://x/1"}},
                          "requirements": {"DES-001": {"verdict": "ERROR", "reason": "server hangs"}}})
    out = apply_expectations(results, exp)
    cases = {c["id"]: c for c in out["cases"]}
    assert cases[FAIL_ID]["verdict"] == "EXPECTED_FAIL" and cases[FAIL_ID]["raw_verdict"] == "FAIL"
    assert cases[FAIL_ID]["expectation"]["link"] == "https://x/1"
    assert cases["DescribeCustomKeyStores/x/1"]["verdict"] == "EXPECTED_FAIL"
    assert cases[PASS_ID]["verdict"] == "PASS" and "raw_verdict" not in cases[PASS_ID]
    assert out["summary"]["EXPECTED_FAIL"] == 2 and out["summary"]["FAIL"] == 0
    assert {r["id"]: r["verdict"] for r in out["requirements"]}["UPD-001"] == "EXPECTED_FAIL"
    assert out["expectations"]["applied"] == 2
    assert exit_code(out) == 0
    validate_results(out)
    assert results["cases"][0]["verdict"] == "FAIL"  # the input is not modified


def test_a_regression_exits_1(tmp_path):
    results = _run(tmp_path, (FAIL_ID, "FAIL", ("UPD-001",)), ("UpdateCustomKeyStore/new/regression", "FAIL", ("UPD-002",)))
    out = apply_expectations(results, _exp(tmp_path, {"cases": {FAIL_ID: {"verdict": "FAIL", "reason": "known"}}}))
    assert {c["id"]: c["verdict"] for c in out["cases"]} == {FAIL_ID: "EXPECTED_FAIL",
                                                             "UpdateCustomKeyStore/new/regression": "FAIL"}
    assert exit_code(out) == 1


def test_an_expected_fail_that_errors_now_is_not_hidden(tmp_path):
    out = apply_expectations(_run(tmp_path, (FAIL_ID, "ERROR", ("UPD-001",))),
                             _exp(tmp_path, {"cases": {FAIL_ID: {"verdict": "FAIL", "reason": "known"}}}))
    assert out["cases"][0]["verdict"] == "ERROR" and exit_code(out) == 1


@pytest.mark.parametrize("judged", ["PASS", "NON_STRICT"])
def test_unexpected_pass_exits_1(tmp_path, judged):
    out = apply_expectations(_run(tmp_path, (FAIL_ID, judged, ("UPD-001",))),
                             _exp(tmp_path, {"cases": {FAIL_ID: {"verdict": "FAIL", "reason": "known"}}}))
    assert out["cases"][0]["verdict"] == "UNEXPECTED_PASS" and out["cases"][0]["raw_verdict"] == judged
    assert exit_code(out) == 1


def test_wildcards_and_precedence(tmp_path):
    results = _run(tmp_path, ("UpdateCustomKeyStore/structural/a", "UNIMPLEMENTED", ("UPD-001",)),
                   ("UpdateCustomKeyStore/structural/b", "FAIL", ("UPD-001",)),
                   ("UpdateCustomKeyStore/scenario/c", "FAIL", ("UPD-002",)))
    exp = _exp(tmp_path, {"cases": {
        "UpdateCustomKeyStore/*": {"verdict": "UNIMPLEMENTED", "reason": "no custom key stores"},
        "UpdateCustomKeyStore/structural/*": {"verdict": ["UNIMPLEMENTED", "FAIL"], "reason": "validation missing"},
    }, "requirements": {"UPD-002": {"verdict": "FAIL", "reason": "never consulted: a case pattern matches first"}}})
    out = {c["id"]: c for c in apply_expectations(results, exp)["cases"]}
    assert out["UpdateCustomKeyStore/structural/a"]["verdict"] == "UNIMPLEMENTED"
    assert out["UpdateCustomKeyStore/structural/b"]["verdict"] == "EXPECTED_FAIL"
    assert out["UpdateCustomKeyStore/structural/b"]["expectation"]["key"] == "UpdateCustomKeyStore/structural/*"
    assert out["UpdateCustomKeyStore/scenario/c"]["verdict"] == "FAIL"  # the broader pattern says UNIMPLEMENTED
    assert out["UpdateCustomKeyStore/scenario/c"]["expectation"]["key"] == "UpdateCustomKeyStore/*"


def test_applying_twice_gives_the_same_result(tmp_path):
    results = _run(tmp_path, (FAIL_ID, "FAIL", ("UPD-001",)), (PASS_ID, "PASS", ("UPD-001",)))
    exp = _exp(tmp_path, {"cases": {FAIL_ID: {"verdict": "FAIL", "reason": "k"}, PASS_ID: {"verdict": "FAIL", "reason": "k"}}})
    once = apply_expectations(results, exp)
    twice = apply_expectations(once, exp)
    assert [(c["verdict"], c.get("raw_verdict")) for c in twice["cases"]] == \
        [(c["verdict"], c.get("raw_verdict")) for c in once["cases"]] == [("EXPECTED_FAIL", "FAIL"), ("UNEXPECTED_PASS", "PASS")]


def test_update_expectations_round_trip(tmp_path):
    results = _run(tmp_path, (FAIL_ID, "FAIL", ("UPD-001",)), (PASS_ID, "PASS", ("UPD-001",)),
                   ("DescribeCustomKeyStores/x/1", "ERROR", ("DES-001",)),
                   ("ConnectCustomKeyStore/x/1", "UNIMPLEMENTED", ("CON-001",)),
                   ("ConnectCustomKeyStore/x/2", "UNIMPLEMENTED", ("CON-001",)))
    assert exit_code(results) == 1
    path = write_expectations(results, tmp_path / "exp.yaml")
    doc = yaml.safe_load(path.read_text())
    assert set(doc["cases"]) == {FAIL_ID, "DescribeCustomKeyStores/x/1", "ConnectCustomKeyStore/*"}
    assert all(e["reason"] for e in doc["cases"].values())
    applied = apply_expectations(results, load_expectations(path))
    assert exit_code(applied) == 0
    # A human improves a reason and adds a link; a later update keeps them.
    doc["cases"][FAIL_ID].update(reason="name length not checked", link="https://tracker/42")
    path.write_text(yaml.safe_dump(doc))
    write_expectations(applied, path)  # from already-applied results: judged verdicts are used
    again = yaml.safe_load(path.read_text())
    assert again["cases"][FAIL_ID] == {"verdict": "FAIL", "reason": "name length not checked", "link": "https://tracker/42"}
    # The target gets fixed: the next update drops the stale entry, and that run exits 0 with it.
    fixed = _run(tmp_path, (FAIL_ID, "PASS", ("UPD-001",)), (PASS_ID, "PASS", ("UPD-001",)))
    assert exit_code(apply_expectations(fixed, load_expectations(path))) == 1  # UNEXPECTED_PASS
    write_expectations(fixed, path)
    assert yaml.safe_load(path.read_text())["cases"] == {}
    assert exit_code(apply_expectations(fixed, load_expectations(path))) == 0


def test_update_keeps_a_wildcard_only_while_it_still_holds(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({"cases": {"UpdateCustomKeyStore/*": {"verdict": "UNIMPLEMENTED", "reason": "moto"}}}))
    partly = _run(tmp_path, ("UpdateCustomKeyStore/a", "UNIMPLEMENTED", ()), ("UpdateCustomKeyStore/b", "PASS", ()))
    write_expectations(partly, path)
    doc = yaml.safe_load(path.read_text())
    assert doc["cases"] == {"UpdateCustomKeyStore/a": {"verdict": "UNIMPLEMENTED", "reason": doc["cases"]["UpdateCustomKeyStore/a"]["reason"]}}
    assert exit_code(apply_expectations(partly, load_expectations(path))) == 0


@pytest.mark.parametrize("text, message", [
    ("cases: [1, 2]", "'cases' must be a mapping"),
    ("cases:\n  A/b: {verdict: BROKEN, reason: x}", "is not one of"),
    ("cases:\n  A/b: {verdict: FAIL}", "reason is required"),
    ("cases:\n  A/b: {verdict: FAIL, reason: x, colour: red}", "unknown key"),
    ("case:\n  A/b: {verdict: FAIL, reason: x}", "unknown top-level key"),
    ("cases: {A/b: [unclosed", "not valid YAML at line"),
])
def test_bad_expectation_files_are_one_line_config_errors(tmp_path, text, message):
    with pytest.raises(ConfigError) as exc:
        _exp(tmp_path, text)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert exc.value.exit_code == 2


def test_missing_expectation_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_expectations(tmp_path / "nope.yaml")


def test_shipped_example_expectation_files_load():
    from pathlib import Path

    files = sorted((Path(__file__).resolve().parents[2] / "expectations").glob("*.yaml"))
    assert files, "expectations/ should hold example files"
    for path in files:
        exp = load_expectations(path)
        assert exp.cases or exp.requirements, path
