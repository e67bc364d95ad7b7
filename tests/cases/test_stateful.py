"""The stateful differential case: quiet on the reference, a shrunk replayable sequence on a fault."""

from __future__ import annotations

import pytest

from conformance.cases import stateful
from conformance.verdicts import Verdict

from test_scenarios_support import collect_context, reference_context, run, stores_left

SMALL = {"stateful_examples": 6, "stateful_steps": 10, "stateful_shrink_budget_s": 8}



def _case(edition="current"):
    (case,) = stateful.collect(collect_context(edition))
    assert case.kind == "stateful" and set(stateful.OPERATIONS) <= set(case.needs_operations)
    return case


@pytest.mark.parametrize("edition", ["current", "2019-12"])
def test_no_divergence_from_the_model_on_the_reference(tmp_path, edition):
    with reference_context(tmp_path, edition, options=SMALL) as ctx:
        result = run(_case(edition), ctx)
        assert not stores_left(ctx)
    assert result.verdict == Verdict.PASS, result.detail
    assert "no divergence" in result.detail


# Seed 0 and a shrink budget long enough for shrinking to finish, so the sequence is the minimal one.
FULL_SHRINK = {"stateful_shrink_budget_s": 60}


def _fault_run(tmp_path, fault):
    with reference_context(tmp_path, faults=[fault], seed=0, options=FULL_SHRINK) as ctx:
        result = run(_case(), ctx)
        assert not stores_left(ctx)
    return result


def test_a_fault_gives_the_shrunk_replayable_sequence_deterministically(tmp_path):
    first, second = (_fault_run(tmp_path, "disconnect-idempotent") for _ in range(2))
    for result in (first, second):
        assert result.verdict == Verdict.FAIL, result.detail
    assert first.detail == second.detail
    sequence = first.detail.split("minimal sequence (shrunk):", 1)[1]
    assert "first_store()" in sequence and "state.disconnect(" in sequence  # as Hypothesis prints it
    assert first.steps and first.steps[-1].verdict == "FAIL"
    last = first.steps[-1]
    assert last.observed["target"]["status"] == 200 and last.observed["model"]["status"] == 400
    # Blame: the disconnect rule whose answer differed (DIS-002), not the twelve ids the case cites.
    failing = {rid for rid, e in first.blame.items() if e["verdict"] == "FAIL"}
    assert failing == {"DIS-002"}, first.blame
    assert first.blame["CRE-001"]["verdict"] is None  # not decided by a sequence that failed elsewhere


def test_an_update_state_fault_blames_the_update_state_rules_never_create(tmp_path):
    """The issue's example: with Update ignoring connection state, the stateful case blames the Update
    state requirements (UPD-036 and the member's rule), never CRE-001, CON-001, DIS-001 or DEL-001."""
    result = _fault_run(tmp_path, "update-skips-state-check")
    assert result.verdict == Verdict.FAIL, result.detail
    failing = {rid for rid, e in result.blame.items() if e["verdict"] == "FAIL"}
    assert "UPD-036" in failing and failing <= {"UPD-036", "UPD-010", "UPD-011", "UPD-012", "UPD-014", "UPD-015"}, failing
    assert result.requirements == list(stateful.REQUIREMENTS + stateful.XKS_REQUIREMENTS)  # the case's ids do not change


def test_answer_rules_follow_the_models_answer():
    rules = stateful.answer_rules
    assert rules("CreateCustomKeyStore", {}, None, None, "current") == ("CRE-001",)
    assert rules("CreateCustomKeyStore", {}, "CustomKeyStoreNameInUseException", None, "current") == ("CRE-032",)
    assert rules("UpdateCustomKeyStore", {"KeyStorePassword": "x"}, "CustomKeyStoreInvalidStateException",
                 "CONNECTED", "current") == ("UPD-036", "UPD-011")
    assert rules("UpdateCustomKeyStore", {"NewCustomKeyStoreName": "n"}, None, "CONNECTED", "current") == ("UPD-013",)
    assert rules("UpdateCustomKeyStore", {"NewCustomKeyStoreName": "n"}, "CustomKeyStoreInvalidStateException",
                 "FAILED", "2019-12") == ("UPD-036", "UPD-010")
    assert rules("DisconnectCustomKeyStore", {}, "CustomKeyStoreInvalidStateException", "DISCONNECTED", "current") == ("DIS-002",)
    assert rules("DescribeCustomKeyStores", {"CustomKeyStoreName": "n"}, None, None, "current") == ("DES-003",)


def test_sequences_hold_external_key_stores_beside_cloudhsm_ones(tmp_path):
    """The model reaches the reference's proxy double as the target does, so XKS stores join the sequences
    (made, and answered like the model) beside CloudHSM ones."""
    made = []
    with reference_context(tmp_path, "current", options=SMALL) as ctx:
        call = ctx.target.call

        def spy(operation, params, **kw):
            obs = call(operation, params, **kw)
            if operation == "CreateCustomKeyStore" and obs.ok:
                made.append(params.get("CustomKeyStoreType", "AWS_CLOUDHSM"))
            return obs

        ctx.target.call = spy
        result = run(_case("current"), ctx)
    assert result.verdict == Verdict.PASS, result.detail
    assert "EXTERNAL_KEY_STORE" in made and "AWS_CLOUDHSM" in made, made
