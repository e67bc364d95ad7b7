"""Model-wide structural run (`--operations`): selection, generated requirements, a small run on moto."""

from __future__ import annotations

import re

import pytest

from conformance.cli import main
from conformance.errors import UsageError
from conformance.report.model_scores import deviations, scores
from conformance.runner.options import RunOptions
from conformance.runner.run import run_suite
from conformance.spec import edition_model
from conformance.spec.editions import _edition_cached
from conformance.spec.model_wide import model_requirements, select_operations

ANSWER = r"\d{3} (success|[A-Za-z]+)"  # "400 ValidationException", "200 success", "500 InternalFailure"


@pytest.fixture(scope="module")
def moto_run(tmp_path_factory):
    """Two operations against moto in-process: one moto implements with crashes on bad input
    (DescribeKey, needing a real key for its valid cases), one with no required member (GenerateRandom)."""
    out = tmp_path_factory.mktemp("mw")
    outcome = run_suite(RunOptions(target="moto", operations="DescribeKey,GenerateRandom", report_dir=str(out),
                                   progress=False))
    return outcome.results


def test_a_model_wide_run_on_moto_has_no_error_and_every_fail_names_expected_and_observed(moto_run):
    cases = moto_run["cases"]
    assert {c["operation"] for c in cases} == {"DescribeKey", "GenerateRandom"}
    assert moto_run["operations"] == ["DescribeKey", "GenerateRandom"]
    verdicts = {c["verdict"] for c in cases}
    assert "ERROR" not in verdicts and "UNIMPLEMENTED" not in verdicts, verdicts
    fails = [c for c in cases if c["verdict"] == "FAIL"]
    assert fails  # moto 5.2.5 does not validate DescribeKey's KeyId length
    for case in fails:
        assert re.search(rf"expected {ANSWER}.*observed {ANSWER}", case["detail"]), case["detail"]
    # Valid values went past validation with a key the run made (DescribeKey found it).
    valid = next(c for c in cases if c["id"] == "DescribeKey/structural/GrantTokens/length-max")
    assert valid["verdict"] == "PASS" and valid["observed"]["status"] == 200
    # Generated requirements are cited and judged like hand-written ones (blame works unchanged).
    bad_len = next(c for c in cases if c["id"] == "DescribeKey/structural/KeyId/length-above-max")
    assert "MW-DescribeKey-KeyId-length" in bad_len["requirements"]
    assert bad_len["blame"]["MW-DescribeKey-KeyId-length"]["verdict"] == "FAIL"
    row = next(r for r in moto_run["requirements"] if r["id"] == "MW-DescribeKey-KeyId-length")
    assert row["verdict"] == "FAIL"
    # The moto crash on a wrong JSON type is judged as its 500, not retried as infrastructure.
    crash = next(c for c in cases if c["id"] == "DescribeKey/structural/KeyId/type-number")
    assert crash["verdict"] == "FAIL" and crash["observed"]["status"] == 500 and crash["observed"]["attempts"] == 1
    assert any("key(s) it made are scheduled for deletion" in n for n in moto_run.get("notes") or [])
    total, per = scores(moto_run)
    assert total.judged == len(cases) and set(per) == {"DescribeKey", "GenerateRandom"}
    top = deviations(moto_run, 5)
    assert top and top[0].count >= top[-1].count and top[0].reproduce.startswith("curl ")


def test_generated_requirement_ids_are_stable_across_loads():
    ops = ["Encrypt", "CreateGrant", "DescribeCustomKeyStores"]
    first = [r.id for r in model_requirements(edition_model("current"), ops)]
    _edition_cached.cache_clear()
    second = [r.id for r in model_requirements(edition_model("current"), ops)]
    assert first == second and len(set(first)) == len(first)
    assert not any(i.startswith("MW-DescribeCustomKeyStores") for i in first)  # hand-written ones cover it
    by_id = {r.id: r for r in model_requirements(edition_model("current"), ["Encrypt"])}
    plaintext = by_id["MW-Encrypt-Plaintext-length"]
    assert plaintext.generated == "model" and plaintext.expected["bounds"] == {"min": 1, "max": 4096}
    assert plaintext.expected["order_of_checks"] == "inferred"
    assert by_id["MW-Encrypt-error-NotFoundException"].model_error == "NotFoundException"


def test_operations_lists_and_globs():
    model = edition_model("current")
    assert select_operations(model, "Encrypt") == ["Encrypt"]
    assert select_operations(model, "Create*,Encrypt") == ["CreateAlias", "CreateCustomKeyStore", "CreateGrant",
                                                            "CreateKey", "Encrypt"]
    assert select_operations(model, "all") == sorted(model.operations)
    assert select_operations(model, ["Encrypt", "Encrypt,Decrypt"]) == ["Decrypt", "Encrypt"]
    assert select_operations(model, None) == []
    with pytest.raises(UsageError, match="did you mean Encrypt"):
        select_operations(model, "encrypt")


def test_an_unknown_operation_is_exit_2_with_one_line(tmp_path, capsys):
    code = main(["run", "--no-progress", "--operations", "Encrypt,NoSuchOp*", "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("kms-conformance: --operations: no operation 'NoSuchOp*' in the current model")
