"""State phases: the state groups share one store per connection state, and no verdict depends on it.

Every run here is the in-process reference (virtual clock, so no wall time) with the state-group
cases only, once with `--state-phases on` and once with `off`; the reference's backend records
each transition it starts.
"""

from __future__ import annotations

import json

import pytest

from conformance.cases import collect_cases
from conformance.cases.scenarios.kit import MAY_LEAVE_KEY, left_state, phase_state
from conformance.reference.backend import ReferenceBackend
from conformance.runner import RunOptions, run_suite
from conformance.runner.schedule import PHASE_ORDER, order_cases, tour_transitions

CURRENT = collect_cases("current")
MEMBERS = [c for c in CURRENT if phase_state(c) in PHASE_ORDER]
# A case of the tail after the tour: it needs the active lineage, so the shared store must be gone by then.
AFTER = "CreateKey/scenario/connected-store"


@pytest.fixture
def transitions(monkeypatch):
    """Every (store id, state) transition the reference backend starts, in order."""
    seen: list[tuple[str, str]] = []
    start = ReferenceBackend._start

    def recording(self, store, state, delay):
        seen.append((store.id, state))
        return start(self, store, state, delay)

    monkeypatch.setattr(ReferenceBackend, "_start", recording)
    return seen


def run(tmp, name: str, phases: str, faults=()) -> dict:
    outcome = run_suite(RunOptions(report_dir=str(tmp / name), cases=(*[c.id for c in MEMBERS], AFTER),
                                   state_phases=phases, faults=tuple(faults), progress=False))
    return json.loads((tmp / name / "results.json").read_text()) | {"_exit": outcome.exit_code}


def verdicts(results: dict) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in results["cases"]}


def test_the_tour_opens_each_phase_with_its_own_transition_and_ends_it_with_the_case_that_moves_on():
    from itertools import groupby

    from conformance.cases.scenarios.kit import entered_state

    tour = [c for c in order_cases(CURRENT, phased=True) if phase_state(c) in PHASE_ORDER]
    blocks = [(state, list(cases)) for state, cases in groupby(tour, key=phase_state)]
    # The four phases in order; a case that would end a phase's state for the next phase runs after them.
    assert [state for state, _ in blocks][:4] == list(PHASE_ORDER)
    assert [c.id for _, cases in blocks[4:] for c in cases] == ["DisconnectCustomKeyStore/scenario/disconnects-connecting"]
    for state, cases in blocks[:4]:
        openers = [i for i, c in enumerate(cases) if entered_state(c)]
        movers = [i for i, c in enumerate(cases) if left_state(c)]
        assert openers in ([], [0]) and movers == list(range(len(cases) - len(movers), len(cases))), state
    opener = {state: cases[0].id for state, cases in blocks[:4] if entered_state(cases[0])}
    # The connect-success case's connect opens CONNECTING; the disconnect of a CONNECTED store DISCONNECTING.
    assert opener == {"CONNECTING": "ConnectCustomKeyStore/scenario/connects",
                      "DISCONNECTING": "DisconnectCustomKeyStore/scenario/disconnects-connected"}
    # The estimate plan prints: the opening connect serves CONNECTING and (waited out) CONNECTED, the opening
    # disconnect DISCONNECTING, one failed connect FAILED, one connect the disconnect-while-CONNECTING case.
    assert sum(c for _, c, _ in tour_transitions(tour)) == 3
    # The tour runs after every other group but the tail of cases that may leave a key (which has connect
    # cases too: CreateKey in a connected external key store).
    ordered = order_cases(CURRENT, phased=True)
    assert ordered.index(tour[0]) > max(ordered.index(c) for c in CURRENT
                                        if c.schedule_group == "connect" and c not in tour
                                        and MAY_LEAVE_KEY not in c.tags)
    assert ordered.index(tour[-1]) < min(ordered.index(c) for c in CURRENT if MAY_LEAVE_KEY in c.tags
                                         and c not in tour)


def test_phases_share_one_store_and_every_state_case_still_passes(tmp_path, in_tmp, transitions):
    on = run(tmp_path, "on", "on")
    assert set(verdicts(on).values()) == {"PASS"} and on["_exit"] == 0  # as without phases (baseline)
    connects = [t for t in transitions if t[1] == "CONNECTING"]
    # The tour's three connects (see the estimate above), the case after it one of its own.
    assert len([t for t in connects if t[0] == connects[0][0]]) == 3
    assert len({store for store, _ in transitions}) == 2  # one shared store served every phase
    phases = on["state_phases"]
    assert (phases["on"], phases["phases"], phases["rebuilds"], phases["shared_stores"]) == (True, 5, 0, 1)


def test_a_wrongly_accepted_request_fails_only_its_case_and_the_phase_recovers(tmp_path, in_tmp, transitions):
    """A delete accepted while CONNECTING/CONNECTED/DISCONNECTING/FAILED removes the shared store; a connect
    accepted while FAILED moves it on: only those cases FAIL, the next case gets its state again."""
    faults = ("delete-connected-allowed", "connect-failed-allowed")
    off = run(tmp_path, "off", "off", faults)
    on = run(tmp_path, "on", "on", faults)
    assert verdicts(on) == verdicts(off)
    failed = {cid for cid, v in verdicts(on).items() if v == "FAIL"}
    assert failed == {"DeleteCustomKeyStore/scenario/refused-while-connecting",
                      "DeleteCustomKeyStore/scenario/refused-while-connected",
                      "DeleteCustomKeyStore/scenario/refused-while-disconnecting",
                      "DeleteCustomKeyStore/scenario/refused-while-failed",
                      "ConnectCustomKeyStore/scenario/refused-while-failed"}
    phases = on["state_phases"]
    assert phases["rebuilds"] >= 4 and phases["shared_stores"] >= 4  # each deleted store was replaced
    notes = [c["detail"] for c in on["cases"] if "re-established" in c["detail"] or "is gone" in c["detail"]]
    assert notes  # the case after the one that moved the store says so
    # The cases that opened CONNECTING and DISCONNECTING held the store that was deleted under them: each
    # was run again on a store of its own, so what it checked after its hold is about its own transition.
    detail = {c["id"]: c["detail"] for c in on["cases"]}
    for opener in ("ConnectCustomKeyStore/scenario/connects", "DisconnectCustomKeyStore/scenario/disconnects-connected"):
        assert "run again on a store of its own" in detail[opener]


def test_plan_prices_the_phased_and_the_naive_order_of_the_example_live_config(monkeypatch):
    from importlib.resources import files

    from conformance.cli.targets import case_cost, render_plan
    from conformance.targets.config import parse_config
    from conformance.yamlfile import read_yaml

    example = files("conformance.targets") / "target-config.example.yaml"
    raw = read_yaml(example, "example config")
    pem = "-----BEGIN CERTIFICATE-----\nZXhhbXBsZQ==\n-----END CERTIFICATE-----\n"
    for role in ("trust_anchor_certificate", "unrelated_trust_anchor_certificate"):
        raw["world"]["cloudhsm"].pop(f"{role}_file")
        raw["world"]["cloudhsm"][role] = pem
    monkeypatch.setenv("KMSUSER_PASSWORD", "kmsuser-pw")
    monkeypatch.setenv("XKS_ACCESS_KEY_ID", "KMSCONFORMANCEPLANID2")  # the example's world.xks credential
    monkeypatch.setenv("XKS_SECRET_ACCESS_KEY", "a" * 43)
    lines = render_plan(parse_config(raw), CURRENT, edition="current", brief=True)
    text = "\n".join(lines)
    assert "state phases: on (auto: live AWS)" in text
    assert "stateful run: its connect/disconnect rules are off here" in text and "--stateful-transitions N" in text
    blocks = [(line.split("]")[0].strip(" ["), int(line.split(",")[2].split()[0]))
              for line in lines if line.startswith("  [")]
    assert sum(n for name, n in blocks if name.startswith("phase ")) == 3  # the tour
    others = sum(case_cost(c, live=True, stateful_budget=0)[0] for c in CURRENT if phase_state(c) not in PHASE_ORDER)
    row = {line.split()[0]: int(line.split()[3]) for line in lines if line.startswith("    phased (")
           or line.startswith("    naive (")}
    assert row["phased"] == 3 + others == sum(n for _, n in blocks)
    naive = sum(case_cost(c, live=True, stateful_budget=0)[0] for c in CURRENT)
    assert row["naive"] == naive > row["phased"]
    # CreateKey in an external key store refuses (NOT_TRIGGERABLE) before its connect on live AWS unless the
    # run opts in, as the CloudHSM key cases do; the other XKS connects count as cycles (though no HSM is used).
    xks_keys = [c for c in CURRENT if "xks" in c.tags and MAY_LEAVE_KEY in c.tags and c.connect_cycles]
    assert xks_keys and all(case_cost(c, live=True, stateful_budget=0) == (0, 0) for c in xks_keys)
    assert all(case_cost(c, live=True, stateful_budget=0, create_keys=True)[0] == c.connect_cycles for c in xks_keys)
    xks_cycles = sum(case_cost(c, live=True, stateful_budget=0)[0] for c in CURRENT if "xks" in c.tags)
    assert xks_cycles and f"; {xks_cycles} of them external key stores, which use no HSM" in text
    # A world without world.xks: the XKS cases that make a store are SKIPPED (they check their roles as they
    # run), so they cost nothing.
    raw["world"].pop("xks")
    bare = "\n".join(render_plan(parse_config(raw), CURRENT, edition="current", brief=True))
    skipped = [c for c in CURRENT if "xks" in c.tags and c.connect_cycles]
    assert f"world roles missing: world.xks -> {len(skipped)} case(s) SKIPPED" in bare
    assert "external key stores" not in bare
