"""Hypothesis property cases: spec-derived strategies, deterministic runs, faults found and shrunk."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from conformance.cases import properties
from conformance.spec import edition_model, predict_validation, type_mismatches
from conformance.verdicts import Verdict

from test_scenarios_support import collect_context, reference_context, run, stores_left

OPS = ("CreateCustomKeyStore", "UpdateCustomKeyStore", "DescribeCustomKeyStores", "DeleteCustomKeyStore")


@pytest.mark.parametrize("edition", ["current", "2019-12"])
@pytest.mark.parametrize("operation", OPS)
def test_strategies_agree_with_the_oracle(edition, operation):
    """Valid inputs are valid for the oracle; each invalid part breaks exactly its own member."""
    model = edition_model(edition)

    @settings(max_examples=8, database=None, suppress_health_check=list(HealthCheck))
    @given(properties.valid_input(model, operation))
    def valid(params):
        assert not type_mismatches(operation, params, model=model)
        assert predict_validation(operation, params, model=model, edition=edition) is None, params

    valid()
    for label, strategy in properties.invalid_inputs(model, operation):
        member = label.split(":")[0]

        @settings(max_examples=2, database=None, suppress_health_check=list(HealthCheck))
        @given(strategy)
        def invalid(params):
            prediction = predict_validation(operation, params, model=model, edition=edition)
            assert prediction is not None, (label, params)
            camel = member[:1].lower() + member[1:]
            assert {v.path for v in prediction.violations} == {camel}, (label, prediction.message)

        invalid()


def test_every_property_case_passes_on_the_reference_in_both_editions(tmp_path):
    for edition in ("current", "2019-12"):
        cases = properties.collect(collect_context(edition))
        assert {c.operation for c in cases} == set(properties.CUSTOM_KEY_STORE_OPERATIONS) and len(cases) == 12
        with reference_context(tmp_path, edition, strictness="exact", options={"property_examples": 8}) as ctx:
            for case in cases:
                result = run(case, ctx)
                assert result.verdict == Verdict.PASS, f"{edition} {case.id}: {result.detail}"
                assert "examples held" in result.detail
            assert not stores_left(ctx)


@pytest.mark.parametrize("fault,case_id,member", [
    ("password-max-off-by-one", "UpdateCustomKeyStore/property/invalid-rejected", "KeyStorePassword"),
    ("notfound-before-validation", "DeleteCustomKeyStore/property/invalid-rejected", "CustomKeyStoreId"),
    ("cluster-id-pattern-ignored", "CreateCustomKeyStore/property/invalid-rejected", "CloudHsmClusterId"),
])
def test_a_seeded_validation_fault_is_falsified_with_a_shrunk_example(tmp_path, fault, case_id, member):
    case = {c.id: c for c in properties.collect(collect_context("current"))}[case_id]
    with reference_context(tmp_path, faults=[fault]) as ctx:
        result = run(case, ctx)
    assert result.verdict == Verdict.FAIL, result.detail
    assert "falsified (shrunk)" in result.detail and member in result.detail
    assert result.request["operation"] == case.operation and result.reproduce
    assert result.steps and result.steps[0].label == "falsifying example"
    # Blame: the broken member's own requirement, not every id the property cites.
    failing = {rid for rid, e in result.blame.items() if e["verdict"] == "FAIL"}
    member_ids = set(properties.part_requirements(collect_context("current"), ctx.model, case.operation,
                                                  [label for label, _ in properties.invalid_inputs(ctx.model, case.operation)]
                                                  ).get(result.detail.split("[", 1)[1].split("]", 1)[0], ()))
    assert member_ids and failing - {"VAL-009"} == member_ids, (failing, member_ids)


def test_runs_are_deterministic_for_a_seed(tmp_path):
    case = {c.id: c for c in properties.collect(collect_context("current"))}[
        "UpdateCustomKeyStore/property/invalid-rejected"]
    details = []
    for _ in range(2):
        with reference_context(tmp_path, faults=["store-name-min-zero"], seed=7) as ctx:
            result = run(case, ctx)
        details.append((result.verdict, result.request))
    assert details[0] == details[1] and details[0][0] == Verdict.FAIL


def test_validation_message_differences_are_non_strict_not_fail(tmp_path):
    case = {c.id: c for c in properties.collect(collect_context("current"))}[
        "ConnectCustomKeyStore/property/invalid-rejected"]
    with reference_context(tmp_path, faults=["validation-message-pascalcase"], strictness="regex") as ctx:
        assert run(case, ctx).verdict == Verdict.NON_STRICT
    with reference_context(tmp_path, faults=["validation-message-pascalcase"], strictness="code") as ctx:
        assert run(case, ctx).verdict == Verdict.PASS


def test_a_tiny_time_budget_still_ends_with_a_verdict(tmp_path):
    case = properties.collect(collect_context("current"))[0]
    with reference_context(tmp_path, options={"property_budget_s": 0.0}) as ctx:
        result = run(case, ctx)
    assert result.verdict == Verdict.PASS and "time budget" in result.detail
