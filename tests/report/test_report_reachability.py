"""The exception-reachability ledger, from synthetic results: every state, what it says, where it shows."""

from __future__ import annotations

import json

import pytest

from conformance.report.reachability import NEVER, NOT_TRIGGERABLE, OTHERWISE, RIGHT, WRONG, reachability


def expected(code, status=400, alternatives=()):
    return {"status": status, "error_code": code, "alternatives": list(alternatives)}


def observed(code, status=400):
    return {"status": status, "error_code": code}


def step(op, exp, obs):
    return {"label": "x", "request": {"via": "boto3", "operation": op, "params": {}}, "expected": exp,
            "observed": obs, "verdict": "PASS"}


def case(cid, op, verdict="PASS", steps=(), requirements=(), detail="", **kw):
    return {"id": cid, "operation": op, "kind": cid.split("/")[1], "requirements": list(requirements),
            "verdict": verdict, "detail": detail, "request": None, "expected": None, "observed": None,
            "reproduce": None, "steps": list(steps), **kw}


@pytest.fixture
def results():
    ks = "CustomKeyStoreInvalidStateException"
    return {
        "schema_version": 1,
        "target": {"name": "t", "adapter": "reference", "version": None, "endpoint": None},
        "edition": "current",
        "strictness": "regex",
        "suite_version": "0",
        "started": "2026-01-01T00:00:00Z",
        "finished": "2026-01-01T00:00:01Z",
        "requirements": [],
        "cases": [
            # right: expected and got code and status
            case("UpdateCustomKeyStore/scenario/while-connected", "UpdateCustomKeyStore",
                 steps=[step("UpdateCustomKeyStore", expected(ks), observed(ks))], requirements=["UPD-036"]),
            # wrong: the right code with the wrong status
            case("DeleteCustomKeyStore/scenario/while-connected", "DeleteCustomKeyStore", verdict="FAIL",
                 steps=[step("DeleteCustomKeyStore", expected(ks), observed(ks, 409))]),
            # a step-less case is its own expected/observed; a wrong answer of another code
            {**case("ConnectCustomKeyStore/structural/id/pattern", "ConnectCustomKeyStore", verdict="FAIL"),
             "request": {"via": "boto3", "operation": "ConnectCustomKeyStore", "params": {}},
             "expected": expected("ValidationException"), "observed": observed("SerializationException")},
            # otherwise: an allowed alternative answered
            case("DescribeCustomKeyStores/combination/id-and-name", "DescribeCustomKeyStores",
                 steps=[step("DescribeCustomKeyStores",
                             expected("InvalidMarkerException",
                                      alternatives=[expected("CustomKeyStoreNotFoundException")]),
                             observed("CustomKeyStoreNotFoundException"))]),
            # not triggerable: no request, the requirement names the error
            case("UpdateCustomKeyStore/scenario/not-triggerable-upd-040", "UpdateCustomKeyStore",
                 verdict="NOT_TRIGGERABLE", requirements=["UPD-040"], detail="no XKS store can be made here"),
        ],
    }


def rows_by_key(ledger):
    return {(r["operation"], r["error"]): r for r in ledger["rows"]}


def test_every_state_from_expected_and_observed(results):
    ledger = reachability(results)
    assert ledger["available"] and ledger["operations"] == [
        "UpdateCustomKeyStore", "DeleteCustomKeyStore", "ConnectCustomKeyStore", "DescribeCustomKeyStores"]
    rows = rows_by_key(ledger)
    ks = "CustomKeyStoreInvalidStateException"
    assert rows[("UpdateCustomKeyStore", ks)]["state"] == RIGHT
    assert rows[("UpdateCustomKeyStore", ks)]["cases"] == ["UpdateCustomKeyStore/scenario/while-connected"]
    wrong = rows[("DeleteCustomKeyStore", ks)]
    assert wrong["state"] == WRONG and wrong["source"] == "model"
    assert wrong["wrong_answers"] == [{"case": "DeleteCustomKeyStore/scenario/while-connected",
                                       "expected": f"400 {ks}", "observed": f"409 {ks}"}]
    assert "got 409" in wrong["detail"]
    # ValidationException is a protocol-wide error (VAL-*): one row for any operation
    validation = rows[("*", "ValidationException")]
    assert validation["state"] == WRONG and validation["source"] == "protocol"
    assert validation["wrong_answers"][0]["observed"] == "400 SerializationException"
    marker = rows[("DescribeCustomKeyStores", "InvalidMarkerException")]
    assert marker["state"] == OTHERWISE and "CustomKeyStoreNotFoundException" in marker["detail"]
    # the alternative that answered was reached
    assert rows[("DescribeCustomKeyStores", "CustomKeyStoreNotFoundException")]["state"] == RIGHT
    xks = rows[("UpdateCustomKeyStore", "XksProxyUriInUseException")]
    assert xks["state"] == NOT_TRIGGERABLE and xks["cases"] == ["UpdateCustomKeyStore/scenario/not-triggerable-upd-040"]
    assert xks["not_triggerable"][0]["reason"] == "NOT_TRIGGERABLE: no XKS store can be made here"
    # a modelled error no case expects, and an operation the run does not cover
    assert rows[("ConnectCustomKeyStore", "CloudHsmClusterNotActiveException")]["state"] == NEVER
    assert not any(op == "CreateCustomKeyStore" for op, _ in rows)
    assert ledger["summary"]["total"] == len(ledger["rows"])
    assert sum(ledger["summary"][s] for s in (RIGHT, WRONG, OTHERWISE, NOT_TRIGGERABLE, NEVER)) == len(ledger["rows"])
    # problems first
    assert ledger["rows"][0]["state"] == WRONG


def test_a_wrong_answer_outranks_right_ones(results):
    ks = "CustomKeyStoreInvalidStateException"
    results["cases"][1]["steps"].append(step("DeleteCustomKeyStore", expected(ks), observed(ks)))
    row = rows_by_key(reachability(results))[("DeleteCustomKeyStore", ks)]
    assert row["state"] == WRONG and row["counts"][RIGHT] == 1 and row["counts"][WRONG] == 1
    assert "right in 1" in row["detail"]


def test_results_without_the_data_degrade_with_a_note(results, tmp_path):
    from conformance.report.markdown import render_markdown
    from conformance.report.render import render_all
    from conformance.report.results import load_results, write_results

    write_results(results, tmp_path / "results.json")
    old = json.loads((tmp_path / "results.json").read_text())
    del old["reachability"]  # as a results.json of an older suite, whose cases had no answers recorded
    for c in old["cases"]:
        for key in ("steps", "expected", "observed"):
            c.pop(key, None)
    (tmp_path / "results.json").write_text(json.dumps(old))
    ledger = reachability(old)
    assert ledger == {"available": False, "operations": [], "rows": [], "summary": ledger["summary"],
                      "note": "no reachability ledger: its cases carry no expected/observed answers "
                              "(an older results.json)"}
    assert ledger["summary"]["total"] == 0
    assert "no reachability ledger: its cases carry no expected/observed" in render_markdown(load_results(tmp_path))
    # `report render` of such a file still writes every report
    written = render_all(tmp_path / "results.json")
    assert "no reachability ledger" in written["report.html"].read_text()


def test_ledger_in_every_report_of_a_run(results, tmp_path):
    """results.json (schema-valid), report.md, report.html and the terminal summary all carry it."""
    import io

    from rich.console import Console

    from conformance.report.html import render_html
    from conformance.report.markdown import render_markdown
    from conformance.report.results import load_results, validate_results, write_results
    from conformance.report.terminal import print_summary

    results["cases"] = results["cases"][:2]
    write_results(results, tmp_path / "results.json")
    stored = load_results(tmp_path / "results.json")
    validate_results(stored)
    assert stored["reachability"]["summary"][WRONG] == 1
    md = render_markdown(stored)
    assert "## Exception reachability" in md
    assert "| triggered wrong | DeleteCustomKeyStore | CustomKeyStoreInvalidStateException |" in md
    html = render_html([stored])
    assert 'id="ledger-matrix"' in html and 'class="cell s-wrong"' in html
    out = io.StringIO()
    print_summary(stored, console=Console(file=out, width=200))
    assert "errors reached: 1 triggered right, 1 triggered wrong" in out.getvalue()
