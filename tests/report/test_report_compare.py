"""compare: equal runs exit 0, different runs exit 1 at the strictness where the difference matters."""

from __future__ import annotations

import copy
import json

import pytest

from report_synthetic import META, case, write_run
from conformance.cli import main
from conformance.observation import Observation
from conformance.report.compare import compare_results, json_diff, message_shape, normalise_text, normalise_value
from conformance.report.results import load_results

CID = "DescribeCustomKeyStores/scenario/after-create"


def _describe(store_id="cks-0123456789abcdef0", created=1764423000.5, name="kmsconf-20261129-a1b2-store-1",
              state="DISCONNECTED", extra=None, status=200, code=None, message=None):
    body = {"CustomKeyStores": [{"CustomKeyStoreId": store_id, "CustomKeyStoreName": name,
                                 "ConnectionState": state, "CreationDate": created,
                                 "CloudHsmClusterId": "cluster-1234567abcd"}]}
    if extra:
        body["CustomKeyStores"][0].update(extra)
    if code:
        body = {"__type": code, "message": message}
    return Observation(operation="DescribeCustomKeyStores", status=status, error_code=code, message=message,
                       body=body, raw_body="", latency_s=0.01,
                       headers={"x-amzn-requestid": "1b4f7c2e-0000-4000-8000-000000000001"}).to_dict()


def _results(tmp_path, name, observed, run_prefix=None, more=()):
    meta = dict(META)
    if run_prefix:
        meta["run_prefix"] = run_prefix
    cases = [case(CID, "PASS", reqs=("DES-001",), observed=observed)] + list(more)
    return write_run(tmp_path, cases=cases, name=name, meta=meta)[1]


def _levels(cmp):
    return sorted({d.level for d in cmp.differences})


def test_same_behaviour_with_other_ids_timestamps_and_latency_is_equal(tmp_path):
    a = _results(tmp_path, "a", _describe(), run_prefix="kmsconf-20261129-a1b2")
    b_obs = _describe(store_id="cks-fedcba98765432100", created=1800000000.0, name="kmsconf-20261130-ffff-store-1")
    b_obs["latency_s"] = 3.0
    b_obs["headers"]["x-amzn-requestid"] = "99999999-0000-4000-8000-000000000009"
    b = _results(tmp_path, "b", b_obs, run_prefix="kmsconf-20261130-ffff")
    cmp = compare_results(a, b, "exact")
    assert cmp.differences == [] and cmp.exit_code == 0 and cmp.compared == 1
    assert "no difference" in cmp.summary_line()


def test_a_different_error_code_counts_at_every_strictness(tmp_path):
    a = _results(tmp_path, "a", _describe(status=400, code="CustomKeyStoreNotFoundException", message="gone"))
    b = _results(tmp_path, "b", _describe(status=400, code="ValidationException", message="gone"))
    for strictness in ("code", "regex", "exact"):
        cmp = compare_results(a, b, strictness)
        assert cmp.exit_code == 1 and cmp.differing_cases == [CID]
    d = next(d for d in cmp.differences if d.path == "error_code")
    assert (d.a, d.b, d.level) == ("CustomKeyStoreNotFoundException", "ValidationException", "code")


def test_message_differences_count_from_regex_or_exact(tmp_path):
    base = _results(tmp_path, "a", _describe(status=400, code="ValidationException",
                                             message="1 validation error detected: Value at 'limit' failed to satisfy constraint"))
    reworded = _results(tmp_path, "b", _describe(status=400, code="ValidationException", message="Limit is out of range"))
    renumbered = _results(tmp_path, "c", _describe(status=400, code="ValidationException",
                                                   message="2 validation error detected: Value at 'marker' failed to satisfy constraint"))
    assert [compare_results(base, reworded, s).exit_code for s in ("code", "regex", "exact")] == [0, 1, 1]
    assert [compare_results(base, renumbered, s).exit_code for s in ("code", "regex", "exact")] == [0, 0, 1]


def test_body_differences_are_reported_at_json_path_level(tmp_path):
    a = _results(tmp_path, "a", _describe())
    b = _results(tmp_path, "b", _describe(state="CONNECTED", extra={"ConnectionErrorCode": "NETWORK_ERRORS"}))
    cmp = compare_results(a, b, "regex")
    paths = {d.path: d for d in cmp.differences}
    assert paths["$.CustomKeyStores[0].ConnectionState"].level == "exact"
    assert paths["$.CustomKeyStores[0].ConnectionState"].b == "CONNECTED"
    assert paths["$.CustomKeyStores[0].ConnectionErrorCode"].level == "regex"
    assert paths["$.CustomKeyStores[0].ConnectionErrorCode"].a == "(absent)"
    assert [compare_results(a, b, s).exit_code for s in ("code", "regex", "exact")] == [0, 1, 1]


def test_missing_cases_and_steps_count(tmp_path):
    extra = case("UpdateCustomKeyStore/structural/x", "PASS")
    a = _results(tmp_path, "a", _describe(), more=[extra])
    b = _results(tmp_path, "b", _describe())
    cmp = compare_results(a, b, "code")
    assert cmp.only_a == ["UpdateCustomKeyStore/structural/x"] and cmp.exit_code == 1
    c = copy.deepcopy(a)
    c["cases"][0]["steps"] = [{"label": "describe", "request": {}, "observed": _describe()}]
    assert any(d.where == "steps" and d.level == "code" for d in compare_results(a, c, "code").differences)


def test_check_steps_compare_what_they_found_not_timing(tmp_path):
    a = _results(tmp_path, "a", _describe())
    b = copy.deepcopy(a)
    a["cases"][0]["steps"] = [{"label": "wait", "request": {}, "observed": {"ConnectionState": "FAILED", "polls": 3}}]
    b["cases"][0]["steps"] = [{"label": "wait", "request": {}, "observed": {"ConnectionState": "FAILED", "polls": 9}}]
    assert compare_results(a, b, "exact").differences == []
    b["cases"][0]["steps"][0]["observed"]["ConnectionState"] = "CONNECTED"
    assert compare_results(a, b, "exact").exit_code == 1


def test_a_verdict_change_counts_at_every_strictness_even_with_equal_observations(tmp_path):
    a = _results(tmp_path, "a", _describe())
    for verdict in ("ERROR", "NON_STRICT", "FAIL"):
        b = copy.deepcopy(a)
        b["cases"][0]["verdict"], b["cases"][0]["detail"] = verdict, f"why {verdict}"
        for strictness in ("code", "regex", "exact"):
            cmp = compare_results(a, b, strictness)
            assert cmp.differences == [] and cmp.exit_code == 1
            assert [(c.case_id, c.a, c.b, c.detail) for c in cmp.verdict_changes] == [(CID, "PASS", verdict, f"why {verdict}")]
            assert "1 verdict change," in cmp.summary_line() and "no difference" not in cmp.summary_line()
    # FAIL -> PASS: the detail shown is the failing side's
    fail, fixed = copy.deepcopy(a), a
    fail["cases"][0]["verdict"], fail["cases"][0]["detail"] = "FAIL", "expected 400, observed 200"
    assert [c.detail for c in compare_results(fail, fixed).verdict_changes] == ["expected 400, observed 200"]


def test_a_case_present_in_one_run_only_is_a_verdict_change(tmp_path):
    extra = case("UpdateCustomKeyStore/structural/x", "PASS")
    a = _results(tmp_path, "a", _describe())
    b = _results(tmp_path, "b", _describe(), more=[extra])
    cmp = compare_results(a, b, "exact")
    assert cmp.only_b == ["UpdateCustomKeyStore/structural/x"] and cmp.differences == []
    assert [c.to_dict()["a"] for c in cmp.verdict_changes] == ["(absent)"] and cmp.exit_code == 1


def test_verdict_changes_have_their_own_section_in_terminal_and_html(tmp_path, capsys):
    a = _results(tmp_path, "a", _describe())
    b = _results(tmp_path, "b", _describe(status=400, code="ValidationException", message="no"))
    b["cases"][0]["verdict"], b["cases"][0]["detail"] = "ERROR", "replay: no recorded response for it"
    pa, pb = tmp_path / "a" / "results.json", tmp_path / "b" / "results.json"
    pb.write_text(json.dumps(b))  # B with the verdict changed
    assert main(["compare", str(pa), str(pb), "--strictness", "code", "--html", str(tmp_path / "cmp.html")]) == 1
    out = capsys.readouterr().out
    changes, observations = out.index("Verdict changes (1):"), out.index("Observation differences")
    assert changes < observations
    assert "replay: no recorded response" in out[changes:observations] and "ERROR" in out[changes:observations]
    assert "error_code" in out[observations:]
    assert "1 verdict change, 1 differ at strictness code" in out
    page = (tmp_path / "cmp.html").read_text()
    section = page[page.index('id="verdict-changes"'):page.index("Observation differences")]
    assert CID in section and "PASS" in section and "ERROR" in section and "replay: no recorded response" in section
    # no verdict change: no such section
    assert main(["compare", str(pa), str(pa), "--html", str(tmp_path / "same.html")]) == 0
    assert 'id="verdict-changes"' not in (tmp_path / "same.html").read_text()
    assert "Verdict changes" not in capsys.readouterr().out


def test_compare_of_a_clean_run_and_a_seeded_fault_run_lists_the_verdict_changes(tmp_path, capsys):
    from conformance.runner import RunOptions, run_suite

    keyword = "UpdateCustomKeyStore and scenario and (rename-applied or not-found or state-disconnected)"
    for name, faults in (("clean", ()), ("fault", ("update-not-applied",))):
        run_suite(RunOptions(report_dir=str(tmp_path / name), keyword=keyword, progress=False, faults=faults))
    clean, fault = (load_results(tmp_path / n) for n in ("clean", "fault"))
    failed = {c["id"] for c in fault["cases"] if c["verdict"] == "FAIL"}
    assert failed and all(c["verdict"] == "PASS" for c in clean["cases"])
    assert main(["compare", str(tmp_path / "clean"), str(tmp_path / "fault")]) == 1
    out = capsys.readouterr().out
    listed = out[out.index("Verdict changes"):]
    assert all(cid in listed for cid in failed)
    cmp = compare_results(clean, fault)
    assert {c.case_id for c in cmp.verdict_changes} == failed
    assert {(c.a, c.b) for c in cmp.verdict_changes} == {("PASS", "FAIL")}


def test_normalisation_helpers():
    assert normalise_text("store cks-0123456789abcdef0 at 2026-11-29T14:00:00Z in arn:aws:kms:us-east-1:111122223333:key/x") \
        == "store cks-<id> at <timestamp> in <arn>"
    assert normalise_text("kmsconf-20261129T141347-ff59-store-37") == "<run>-store-37"
    assert normalise_text("Signature expired: 20151120T200815Z is now earlier than 20151120T201846Z") \
        == "Signature expired: <timestamp> is now earlier than <timestamp>"
    assert normalise_text("CreationDate 1796211610.885 is a JSON number") == "CreationDate <timestamp> is a JSON number"
    assert normalise_text("limit 1000, size 4096") == "limit 1000, size 4096"
    assert normalise_value({"Plaintext": "F7ncWAgT", "KeyId": "x"}) == {"Plaintext": "<random>", "KeyId": "x"}
    assert message_shape("Value 'abc' at 'limit' must be <= 1000") == message_shape("Value 'zz' at 'marker' must be <= 5")
    assert json_diff({"a": [1, {"b": "x"}]}, {"a": [1, {"b": 2}], "c": None}) == [
        ("$.a[1].b", "x", 2, "regex"), ("$.c", "(absent)", None, "regex")]


def test_compare_cli_exit_codes_and_html(tmp_path, capsys):
    a = _results(tmp_path, "a", _describe())
    b = _results(tmp_path, "b", _describe(status=400, code="ValidationException", message="no"))
    pa, pb = tmp_path / "a" / "results.json", tmp_path / "b" / "results.json"
    assert main(["compare", str(pa), str(pa)]) == 0
    assert main(["compare", str(tmp_path / "a"), str(pb), "--strictness", "code", "--html", str(tmp_path / "cmp.html")]) == 1
    out = capsys.readouterr().out
    assert CID in out and "error_code" in out and "differ at strictness code" in out
    page = (tmp_path / "cmp.html").read_text()
    assert CID in page and "ValidationException" in page and "<script>" in page
    assert a and b


@pytest.mark.parametrize("content", ["{garbage", '{"cases": 3}'])
def test_compare_cli_unreadable_input_is_exit_2_with_one_line(tmp_path, capsys, content):
    good = write_run(tmp_path, name="good")[0].path
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["compare", str(good), str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kms-conformance: ") and "\n" not in err and "Traceback" not in err
    assert main(["compare", str(good), str(tmp_path / "missing.json")]) == 2
