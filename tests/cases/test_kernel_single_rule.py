"""Every verdict of every case kind comes from conformance.verdicts: a rule planted there applies everywhere.

The rule is planted in `verdicts.conclude`, the one place a check that held or did not
hold becomes PASS / NON_STRICT / FAIL; a scenario's effect check, a property run and the
stateful run must all change verdict with it.
"""

from __future__ import annotations

import pytest

from conformance import verdicts
from conformance.cases import auth, collect_cases, properties, scenarios, stateful
from conformance.cases.common import Citations, UnknownCitation
from conformance.verdicts import Verdict

from test_scenarios_support import collect_context, reference_context, run


def plant(monkeypatch, refuse):
    """A rule in verdicts: a check `refuse(name, detail)` names does not hold, whatever it saw."""
    original = verdicts.conclude

    def conclude(name, held, detail, **kw):
        return original(name, held and not refuse(name, detail), detail, **kw)

    monkeypatch.setattr(verdicts, "conclude", conclude)


def _case(module, case_id, edition="current"):
    return {c.id: c for c in module.collect(collect_context(edition))}[case_id]


def test_a_rule_planted_in_verdicts_reaches_a_scenarios_effect_check(tmp_path, monkeypatch):
    case = _case(scenarios, "UpdateCustomKeyStore/scenario/rename-applied")
    with reference_context(tmp_path) as ctx:
        assert run(case, ctx).verdict == Verdict.PASS
        plant(monkeypatch, lambda name, detail: name == "effect" and detail.startswith("Describe shows the new name"))
        result = run(case, ctx)
    assert result.verdict == Verdict.FAIL
    assert result.detail.startswith("Describe shows the new name")
    assert [s.verdict for s in result.steps if s.label == "Describe shows the new name"] == ["FAIL"]


def test_a_rule_planted_in_verdicts_reaches_a_property_run(tmp_path, monkeypatch):
    case = _case(properties, "UpdateCustomKeyStore/property/valid-accepted")
    options = {"property_examples": 4}
    with reference_context(tmp_path, options=options) as ctx:
        assert run(case, ctx).verdict == Verdict.PASS
        plant(monkeypatch, lambda name, detail: name == "code")  # the judge's error-code check
        result = run(case, ctx)
    assert result.verdict == Verdict.FAIL
    assert result.detail.startswith("falsified (shrunk)") and "CustomKeyStoreNotFoundException" in result.detail


def test_a_rule_planted_in_verdicts_reaches_the_stateful_run(tmp_path, monkeypatch):
    (case,) = stateful.collect(collect_context("current"))
    options = {"stateful_examples": 2, "stateful_steps": 3, "stateful_shrink_budget_s": 5}
    with reference_context(tmp_path, options=options) as ctx:
        assert run(case, ctx).verdict == Verdict.PASS
        plant(monkeypatch, lambda name, detail: name == "model agreement" and "Describe views differ" in detail)
        result = run(case, ctx)
    assert result.verdict == Verdict.FAIL
    assert result.detail.startswith("target diverged from the model: describe all: Describe views differ")
    assert result.steps and result.steps[-1].verdict == "FAIL"


def test_a_typo_in_a_generated_citation_fails_collection(monkeypatch):
    with pytest.raises(UnknownCitation, match="AUTH-0O1"):
        Citations([{"id": "AUTH-001", "editions": ["current"]}], "current").generic("AUTH-0O1")

    original = auth.collect

    def typo(cc):
        return original(cc)[:1] + [
            auth.single_request_case(id="DescribeCustomKeyStores/auth/typo", operation="DescribeCustomKeyStores",
                                     kind="auth", requirements=Citations(cc.requirements, cc.edition).generic("AUTH-0O1"),
                                     title="t", request={}, expected=auth.error("X"))]

    monkeypatch.setattr(auth, "collect", typo)
    with pytest.raises(Exception, match=r"conformance\.cases\.auth.*AUTH-0O1"):
        collect_cases("current")


def test_a_case_citing_an_id_the_catalogue_lacks_fails_collection_naming_both(monkeypatch):
    original = auth.collect

    def typo(cc):
        cases = original(cc)
        cases[0].requirements = ("AUTH-001", "PROTO-0O5")
        return cases

    monkeypatch.setattr(auth, "collect", typo)
    with pytest.raises(Exception, match=r"DescribeCustomKeyStores/auth/unsigned cites .*PROTO-0O5"):
        collect_cases("current")
