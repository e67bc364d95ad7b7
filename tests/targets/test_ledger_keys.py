"""The KMS keys a model-wide run makes are in the cleanup ledger until they are scheduled for deletion,
so `cleanup` finds those a killed run left (issue 14, point 2). Key lines and store lines never mix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto import mock_aws

from conformance.cases import model_resources
from conformance.cli import main
from conformance.runner.options import RunOptions
from conformance.runner.run import run_suite
from conformance.runner.session import RunSession
from conformance.targets import config_from_options, open_target
from conformance.targets.ledger import (
    STATE_DIR_ENV,
    Ledger,
    ledger_dir_for,
    ledger_files,
    outstanding_entries,
    outstanding_key_entries,
    target_fingerprint,
)
from conformance.targets.sweep import cleanup_keys


@pytest.fixture
def state(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)  # no ./.kms-conformance/ledger from elsewhere
    monkeypatch.setattr(model_resources, "_BY_TARGET", {})  # a killed run's resources do not outlive the test
    with mock_aws():  # held open around the run and the cleanup: moto keeps its keys between the two
        yield tmp_path / "state"


def _ledgers(state: Path) -> list[Path]:
    return sorted(state.glob("ledger/*/*.jsonl"))


def _model_wide_run(tmp_path: Path) -> dict:
    return run_suite(RunOptions(target="moto", operations="DescribeKey", report_dir=str(tmp_path / "report"),
                                progress=False)).results


def _key_states(key_ids: list[str]) -> dict[str, str]:
    target = open_target(config_from_options(target="moto"))
    try:
        return {k: target.call("DescribeKey", {"KeyId": k}).body["KeyMetadata"]["KeyState"] for k in key_ids}
    finally:
        target.close()


def test_a_killed_model_wide_run_leaves_its_keys_in_the_ledger_and_cleanup_schedules_their_deletion(
        state, tmp_path, monkeypatch, capsys):
    with monkeypatch.context() as m:
        m.setattr(RunSession, "cleanup", lambda self: None)  # killed after the cases: no cleanup at all
        results = _model_wide_run(tmp_path)
    assert any(c["verdict"] == "PASS" and c["observed"]["status"] == 200 for c in results["cases"])  # a key was used
    keys = outstanding_key_entries(_ledgers(state))
    assert [k.resource for k in keys] == ["key-symmetric"]
    assert keys[0].run_prefix == results["run_prefix"]
    assert keys[0].target["adapter"] == "moto"
    assert not any(e.store_id == keys[0].key_id or not (e.name or e.store_id)
                   for e in outstanding_entries(_ledgers(state)))  # the key line is not read as a store
    assert _key_states([keys[0].key_id]) == {keys[0].key_id: "Enabled"}

    assert main(["cleanup", "--target", "moto", "--no-scan"]) == 0
    out = capsys.readouterr().out
    assert f"key     {keys[0].key_id} (key-symmetric): scheduled for deletion in 7 days" in out, out
    assert _key_states([keys[0].key_id]) == {keys[0].key_id: "PendingDeletion"}
    assert outstanding_key_entries(_ledgers(state)) == []
    assert main(["cleanup", "--target", "moto", "--no-scan"]) == 0
    assert "nothing to clean up" in capsys.readouterr().out


def test_a_model_wide_run_that_ends_normally_leaves_no_key_in_the_ledger(state, tmp_path):
    results = _model_wide_run(tmp_path)
    assert any("key(s) it made are scheduled for deletion" in n for n in results.get("notes") or [])
    assert outstanding_key_entries(_ledgers(state)) == []
    assert _ledgers(state) == []  # nothing outstanding: the run's ledger file went too


def test_key_lines_and_store_lines_never_mix_and_cleanup_drops_keys_already_pending_or_gone(state, capsys):
    target = open_target(config_from_options(target="moto"))
    try:
        fp = target_fingerprint(target)
        ledger = Ledger(ledger_dir_for(fp), "kmsconf-20261202T000000-abcd", fp)
        # A store with keys pending deletion, as a store-key run writes it.
        ledger.intent("kmsconf-20261202T000000-abcd-store-1")
        ledger.created("kmsconf-20261202T000000-abcd-store-1", "cks-0123456789abcdef0")
        ledger.keys_pending("kmsconf-20261202T000000-abcd-store-1", "cks-0123456789abcdef0", ["k-in-store"],
                            until=4_000_000_000.0)
        made = [target.call("CreateKey", {}).body["KeyMetadata"]["KeyId"] for _ in range(3)]
        fresh, pending, released = made
        for key_id, resource in zip(made, ("key-symmetric", "key-hmac", "CreateKey case")):
            ledger.key_created(key_id, resource)
        ledger.key_created("00000000-0000-0000-0000-000000000000", "key-rsa-sign")  # gone from the target
        ledger.key_released(released, note="scheduled for deletion in 7 days")
        assert target.call("ScheduleKeyDeletion", {"KeyId": pending, "PendingWindowInDays": 7}).ok
        # Another target's key in the same folder: never touched.
        other = dict(fp, endpoint="http://127.0.0.1:4599", adapter="endpoint")
        Ledger(ledger.dir, "kmsconf-20261202T000001-abcd", other).key_created(fresh, "key-symmetric")

        stores = outstanding_entries([ledger.path])
        assert [(s.name, s.store_id, s.keys_until) for s in stores] == [
            ("kmsconf-20261202T000000-abcd-store-1", "cks-0123456789abcdef0", 4_000_000_000.0)]
        assert [k.key_id for k in outstanding_key_entries([ledger.path])] == [
            fresh, pending, "00000000-0000-0000-0000-000000000000"]
        kinds = [json.loads(line).get("kind") for line in ledger.path.read_text().splitlines()]
        assert kinds.count("key") == 5 and kinds[:3] == [None, None, None]

        outcome = cleanup_keys(target, ledger.dir)
        assert outcome.ok
        assert sorted(outcome.removed) == sorted([
            f"key {fresh} (key-symmetric): scheduled for deletion in 7 days",
            f"key {pending} (key-hmac): already pending deletion",
            "key 00000000-0000-0000-0000-000000000000 (key-rsa-sign): gone (NotFoundException)"])
        assert outstanding_key_entries([ledger.path]) == []
        assert len(outstanding_key_entries(ledger_files(ledger.dir))) == 1  # the other target's, untouched
        assert outstanding_entries([ledger.path]) == stores  # the store stays for the store cleanup
        assert ledger.path.exists()  # not discarded: its store is still outstanding
    finally:
        target.close()
