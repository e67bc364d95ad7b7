"""Keys in stores (issue 15): the key cases run on every target that can hold keys, a store they leave
is in the cleanup ledger with the date its key's deletion completes, and live AWS needs an opt-in.

Every target here is 127.0.0.1 (the served reference, without its control surface).
"""

from __future__ import annotations

import json
import time

import pytest
import yaml

from conformance.cli import main
from conformance.reference import ReferenceConfig, default_world, make_app
from conformance.runner import RunOptions, run_suite
from conformance.targets.ledger import ledger_files, outstanding_entries
from targethelpers import CountingApp, serve_wsgi
from test_live_aws import live_config

HAS_KEYS = "DeleteCustomKeyStore/scenario/has-keys"
KEY_CASES = (HAS_KEYS, "CreateKey/scenario/connected-store")


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("KMS_CONFORMANCE_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def verdicts(report_dir) -> dict[str, tuple[str, str]]:
    res = json.loads((report_dir / "results.json").read_text())
    return {c["id"]: (c["verdict"], c.get("detail") or "") for c in res["cases"]}


def run(url, out, cases=(HAS_KEYS,), **kw):
    return run_suite(RunOptions(endpoint_url=url, report_dir=str(out), cases=cases, progress=False, **kw))


def test_served_reference_runs_the_key_cases_and_leaves_the_store_in_the_ledger(tmp_path, state, capsys):
    with serve_wsgi(make_app(ReferenceConfig())) as url:
        run(url, tmp_path / "r", cases=KEY_CASES)
        got = verdicts(tmp_path / "r")
        assert got[HAS_KEYS][0] == "PASS", got
        assert got["CreateKey/scenario/connected-store"][0] == "PASS", got  # in the store has-keys left
        left = outstanding_entries(ledger_files(next(state.glob("ledger/*"))))
        held = [e for e in left if e.keys_until]
        assert held, left
        week = time.time() + 7 * 86400
        assert all(abs(e.keys_until - week) < 3600 for e in held)  # ScheduleKeyDeletion's 7-day DeletionDate
        # cleanup cannot delete it yet: it says until when, one line per store, and exits non-zero.
        capsys.readouterr()
        assert main(["cleanup", "--endpoint-url", url]) != 0
        out = capsys.readouterr()
        text = out.out + out.err
        day = time.strftime("%Y-%m-%d", time.gmtime(held[0].keys_until))
        assert held[0].store_id in text and day in text, text


def test_cleanup_deletes_the_store_once_the_target_allows_it(tmp_path, state, capsys):
    reference = make_app(ReferenceConfig())
    with serve_wsgi(reference) as url:
        run(url, tmp_path / "r")
        left = [e for e in outstanding_entries(ledger_files(next(state.glob("ledger/*")))) if e.keys_until]
        assert left
        reference.backend.complete_pending_deletions()  # the waiting period passes on the target's side
        capsys.readouterr()
        assert main(["cleanup", "--endpoint-url", url]) == 0, capsys.readouterr()
        assert not [e for e in outstanding_entries(ledger_files(state / "ledger")) if e.keys_until]
        assert not any(outstanding_entries(ledger_files(d)) for d in state.glob("ledger/*"))


def test_delete_that_ignores_keys_is_detected_on_a_served_target(tmp_path, state):
    with serve_wsgi(make_app(ReferenceConfig(faults=("delete-ignores-keys",)))) as url:
        run(url, tmp_path / "f")
    verdict, detail = verdicts(tmp_path / "f")[HAS_KEYS]
    assert verdict == "FAIL", detail
    assert "CustomKeyStoreHasCMKsException" in detail


@pytest.mark.parametrize("opt_in", [None, "flag", "config"])
def test_live_looking_target_needs_the_opt_in(tmp_path, state, opt_in):
    app = CountingApp(make_app(ReferenceConfig()))
    with serve_wsgi(app) as url:
        path = live_config(tmp_path, url)
        if opt_in == "config":
            data = yaml.safe_load(path.read_text())
            path.write_text(yaml.safe_dump({**data, "run": {"create_keys": True}}))
        run_suite(RunOptions(config=str(path), allow_live=True, create_keys=opt_in == "flag",
                             report_dir=str(tmp_path / "l"), cases=(HAS_KEYS,), progress=False))
    verdict, detail = verdicts(tmp_path / "l")[HAS_KEYS]
    if opt_in is None:
        assert verdict == "NOT_TRIGGERABLE"
        assert "--create-keys" in detail and "run.create_keys" in detail
        assert not any("CreateKey" in r for r in app.requests)  # no key was made
    else:
        assert verdict == "PASS", detail


def test_config_run_section_is_checked():
    from conformance.errors import ConfigError
    from conformance.targets.config import parse_config

    assert parse_config({"run": {"create_keys": True}}).create_keys is True
    assert parse_config({}).create_keys is False
    with pytest.raises(ConfigError, match="run.create_key"):
        parse_config({"run": {"create_key": True}})
    with pytest.raises(ConfigError, match="run.create_keys"):
        parse_config({"run": {"create_keys": "yes"}})


def test_plan_says_what_the_key_cases_leave(tmp_path, capsys):
    path = live_config(tmp_path, "https://kms.us-east-1.amazonaws.com")
    assert main(["plan", "--config", str(path), "-k", "has-keys", "--brief"]) == 0
    assert "unless you opt in with --create-keys" in capsys.readouterr().out
    days = {time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 86400))}
    assert main(["plan", "--config", str(path), "-k", "has-keys", "--brief", "--create-keys"]) == 0
    days.add(time.strftime("%Y-%m-%d", time.gmtime(time.time() + 7 * 86400)))  # a run across midnight
    out = capsys.readouterr().out
    assert any(f"stay in use until about {d}" in out for d in days), out
    assert main(["plan", "-k", "has-keys", "--brief"]) == 0  # in-process reference: not live
    assert "the run leaves a store holding a key pending deletion" in capsys.readouterr().out


def test_a_later_run_finds_the_lineage_held_and_a_control_surface_frees_it(tmp_path, state, capsys):
    """Run 1 leaves a store holding a key pending deletion. Run 2 (no control surface) knows it from the
    ledger: the cases on that lineage are NOT_TRIGGERABLE naming the store, not ERROR; a ledger store that
    is gone is dropped. Run 3, once the target has a control surface, deletes the store and runs them."""
    from conformance.targets.ledger import Ledger

    cases = (HAS_KEYS, "ConnectCustomKeyStore/scenario/connects")
    reference = make_app(ReferenceConfig())
    app = CountingApp(reference)
    with serve_wsgi(app) as url:
        run(url, tmp_path / "r1", cases=cases)
        ledger_dir = next(state.glob("ledger/*"))
        [held] = [e for e in outstanding_entries(ledger_files(ledger_dir)) if e.keys_until]
        gone = Ledger(ledger_dir, "kmsconf-20200101T000000-abcd", held.target)  # a store deleted meanwhile
        gone.created("kmsconf-20200101T000000-abcd-store-1", "cks-0123456789abcdef0")
        gone.keys_pending(None, "cks-0123456789abcdef0", ["k"], held.keys_until)
        day = time.strftime("%Y-%m-%d", time.gmtime(held.keys_until))

        calls = len(app.requests)
        assert main(["plan", "--endpoint-url", url, "-k", "has-keys", "--brief"]) == 0
        plan = capsys.readouterr().out
        assert held.store_id in plan and day in plan, plan
        assert len(app.requests) == calls  # plan reads the ledger only

        run(url, tmp_path / "r2", cases=cases)
        got = verdicts(tmp_path / "r2")
        assert {v for v, _ in got.values()} == {"NOT_TRIGGERABLE"}, got
        cluster = default_world().active_cluster_id
        for _, detail in got.values():
            assert held.store_id in detail and day in detail and "kms-conformance cleanup" in detail, detail
            assert cluster in detail, detail
        notes = json.loads((tmp_path / "r2" / "results.json").read_text()).get("notes") or []
        assert sum(held.store_id in n for n in notes) == 1, notes
        assert held.store_id in capsys.readouterr().err
        stores = {e.store_id for e in outstanding_entries(ledger_files(ledger_dir))}
        assert "cks-0123456789abcdef0" not in stores and held.store_id in stores

        reference.config.control_api = True  # the same target, now with `serve --enable-control`
        run(url, tmp_path / "r3", cases=cases)
        got = verdicts(tmp_path / "r3")
        assert {v for v, _ in got.values()} == {"PASS"}, got
        assert not [e for e in outstanding_entries(ledger_files(ledger_dir)) if e.keys_until]
