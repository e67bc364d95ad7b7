"""State scenarios against a target we did not write, whose transitions settle on their own.

A correct target must never get FAIL or a cascade of ERRORs because its CONNECTING or
DISCONNECTING was shorter than our requests: such cases are PASS (the state was shown to
hold when the request landed) or NOT_TRIGGERABLE saying the state could not be held. A store
that could not be removed is quarantined: later cases retry it or name it, never ERROR.
"""

from __future__ import annotations

import contextlib

import pytest

from conformance.cases import scenarios
from conformance.cases.base import CaseContext
from conformance.runner.schedule import order_cases
from conformance.spec import edition_model
from conformance.targets import StoreDriver
from conformance.verdicts import Verdict

from fake_store_target import FakeStoreTarget
from test_scenarios_support import collect_context, run

ALL = {c.id: c for c in scenarios.collect(collect_context("current"))}
# The cases whose subject is a transitional state (update matrix, connect/disconnect, delete, keys).
TRANSITIONAL = [cid for cid in ALL if "connecting" in cid.split("/")[-1] and "/scenario/" in cid
                and not cid.split("/")[-1].startswith("not-triggerable")]
RENAME_CONNECTING = "UpdateCustomKeyStore/scenario/state-connecting-name"
CREATEKEY_CONNECTING = "CreateKey/scenario/refused-while-connecting"
LATER = ["UpdateCustomKeyStore/scenario/state-disconnected-name", "DeleteCustomKeyStore/scenario/deleted",
         "UpdateCustomKeyStore/scenario/state-disconnected-password"]


@contextlib.contextmanager
def fake_context(tmp_path, **fake):
    target = FakeStoreTarget(**fake)
    driver = StoreDriver(target, ledger_dir=tmp_path / "ledger")
    ctx = CaseContext(target=target, edition="current", strictness="code", seed=0, driver=driver,
                      model=edition_model("current"), options={})
    try:
        yield ctx, target, driver
    finally:
        target.fail_next.clear()
        driver.cleanup()
        target.close()


def _run_all(ctx, ids):
    return {case.id: run(case, ctx) for case in order_cases(ALL[cid] for cid in ids)}


def _no_fail_no_error(results):
    bad = [f"{cid}: {r.verdict} {r.detail}" for cid, r in results.items()
           if r.verdict not in (Verdict.PASS, Verdict.NOT_TRIGGERABLE)]
    assert not bad, "\n".join(bad)


def test_the_selection_covers_both_transitional_states_and_every_family():
    assert {RENAME_CONNECTING, CREATEKEY_CONNECTING, "DeleteCustomKeyStore/scenario/refused-while-disconnecting",
            "ConnectCustomKeyStore/scenario/accepted-while-connecting"} <= set(TRANSITIONAL)
    assert len(TRANSITIONAL) >= 14


def test_a_state_that_is_over_before_the_request_lands_is_never_judged(tmp_path):
    """The adversary: CONNECTING/DISCONNECTING end right after being shown twice, so every request sent
    "in" them lands after them. A correct target: no FAIL, no ERROR; cases whose answer would be the
    same in the next state PASS, the others are NOT_TRIGGERABLE saying the state could not be held."""
    with fake_context(tmp_path, shown_for=2) as (ctx, target, driver):
        results = _run_all(ctx, TRANSITIONAL + LATER)
        _no_fail_no_error(results)
        rename = results[RENAME_CONNECTING]
        assert rename.verdict == Verdict.NOT_TRIGGERABLE
        assert "CONNECTING could not be held" in rename.detail and "not judged" in rename.detail
        # The answer was accepted (the store was CONNECTED by then): recorded, never judged.
        assert any(s.label == "update the name while CONNECTING" and s.verdict is None for s in rename.steps)
        # Disconnect is accepted in CONNECTING and in what CONNECTING becomes: judged, and PASS.
        assert results["DisconnectCustomKeyStore/scenario/disconnects-connecting"].verdict == Verdict.PASS
        assert results["DeleteCustomKeyStore/scenario/refused-while-connecting"].verdict == Verdict.PASS
        # CreateKey landed in CONNECTED and rightly made a key: not judged, and the key keeps its store.
        created = results[CREATEKEY_CONNECTING]
        assert created.verdict == Verdict.NOT_TRIGGERABLE and "could not be held" in created.detail
        assert target.keys and driver.quarantine
        stuck = next(iter(driver.quarantine.values()))
        # It ran last of its lineage (schedule), so nothing after it needed that cluster.
        assert list(results)[-1] in (CREATEKEY_CONNECTING, "CreateKey/scenario/refused-while-disconnecting")
        # A case that needs the lineage now is NOT_TRIGGERABLE naming the stuck store, not ERROR.
        later = run(ALL["UpdateCustomKeyStore/scenario/rename-applied"], ctx)
        assert later.verdict == Verdict.NOT_TRIGGERABLE, later.detail
        assert stuck.store_id in later.detail and "could not be deleted" in later.detail
        assert "CloudHsmClusterInUseException" not in later.detail
    # It stays in the ledger for `kms-conformance cleanup`, with the reason.
    left = driver.ledger.outstanding()
    assert [e.store_id for e in left] == [stuck.store_id] and "keys" in left[0].note


def test_a_teardown_failure_once_is_quarantined_and_retried_not_a_cascade(tmp_path):
    with fake_context(tmp_path, delay_s=0) as (ctx, target, driver):
        target.fail_next["DeleteCustomKeyStore"] = 1  # the first case's cleanup is throttled
        results = _run_all(ctx, LATER + ["UpdateCustomKeyStore/scenario/rename-applied",
                                         "ConnectCustomKeyStore/scenario/connects"])
        assert all(r.verdict == Verdict.PASS for r in results.values()), \
            {cid: f"{r.verdict} {r.detail}" for cid, r in results.items()}
        first = results[order_cases(ALL[c] for c in LATER)[0].id]
        assert "cleanup of" in first.detail and "ThrottlingException" in first.detail
        assert not driver.quarantine and not target.stores  # the next case's retry removed it


def test_a_store_that_stays_stuck_makes_later_cases_not_triggerable_naming_it(tmp_path):
    with fake_context(tmp_path, delay_s=0) as (ctx, target, driver):
        target.fail_next["DeleteCustomKeyStore"] = 10**6
        results = _run_all(ctx, LATER + ["ConnectCustomKeyStore/scenario/connects"])
        stuck = next(iter(driver.quarantine.values()))
        errors = [cid for cid, r in results.items() if r.verdict == Verdict.ERROR]
        assert not errors
        named = [cid for cid, r in results.items() if r.verdict == Verdict.NOT_TRIGGERABLE]
        assert len(named) == len(results) - 1
        for cid in named:
            assert f"is held by store {stuck.name} ({stuck.store_id}) which could not be deleted" in results[cid].detail
        # A case on another lineage (or none) is unaffected.
        assert run(ALL["ConnectCustomKeyStore/scenario/not-found"], ctx).verdict == Verdict.PASS
        target.fail_next.clear()
        outcome = driver.cleanup()  # the end of the run retries it
        assert outcome.ok and not target.stores and not driver.ledger.outstanding()


@pytest.mark.slow
def test_fast_real_transitions_give_pass_or_not_triggerable(tmp_path):
    """0.1 s transitions on a background timer, 20 ms per call: whether a request lands in time varies
    from run to run; the verdicts may not (PASS or NOT_TRIGGERABLE with the reason, never FAIL/ERROR)."""
    ids = [RENAME_CONNECTING, "UpdateCustomKeyStore/scenario/state-connecting-password", CREATEKEY_CONNECTING,
           "ConnectCustomKeyStore/scenario/accepted-while-connecting",
           "DisconnectCustomKeyStore/scenario/disconnects-connecting",
           "ConnectCustomKeyStore/scenario/refused-while-disconnecting"]
    with fake_context(tmp_path, delay_s=0.1, latency_s=0.02) as (ctx, target, driver):
        results = _run_all(ctx, ids)
        _no_fail_no_error(results)
        for cid, r in results.items():
            if r.verdict == Verdict.NOT_TRIGGERABLE:
                assert "could not be held" in r.detail or "not observable" in r.detail, f"{cid}: {r.detail}"


@pytest.mark.slow
def test_slow_transitions_are_judged(tmp_path):
    """A 5 s CONNECTING is held for the few milliseconds our requests take: the case is judged and PASS."""
    with fake_context(tmp_path, delay_s=0.05, connect_s=5.0) as (ctx, target, driver):
        result = run(ALL[RENAME_CONNECTING], ctx)
    assert result.verdict == Verdict.PASS, result.detail
    assert "not judged" not in result.detail


def test_with_state_phases_a_window_that_closes_is_never_judged_either(tmp_path):
    """The same adversary with one shared store per state (PhaseStores): every state group's case is
    PASS or NOT_TRIGGERABLE, never FAIL or ERROR, whatever the order of the phase."""
    from conformance.cases.scenarios.kit import PhaseStores, phase_state
    from conformance.runner.schedule import PHASE_ORDER

    # (The fake's GenerateRandom always answers 3 bytes: its CONNECTED-store case is not about states.)
    members = [cid for cid, case in ALL.items() if phase_state(case) in PHASE_ORDER
               and cid != "GenerateRandom/scenario/connected-store"]
    with fake_context(tmp_path, shown_for=2) as (ctx, target, driver):
        ctx.phases = PhaseStores(driver)
        results = {case.id: run(case, ctx) for case in order_cases((ALL[cid] for cid in members), phased=True)}
        ctx.phases.release()
        _no_fail_no_error(results)
        assert results[RENAME_CONNECTING].verdict == Verdict.NOT_TRIGGERABLE
        assert ctx.phases.stores >= 1 and ctx.phases.entries >= len(PHASE_ORDER)
