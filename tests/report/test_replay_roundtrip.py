"""Record the full default suite on the in-process reference target, replay the cassette, compare: no differences.

Also: no secret of the config reaches the cassette or the reports, a request the
cassette lacks is an ERROR (not a crash), and a bad cassette is a one-line exit 2.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest
import yaml

from conformance import cli
from redaction_scan import misplaced_markers_in

from conformance.targets.adapters import open_target
from conformance.targets.cassette import INTERACTIONS_FILE, META_FILE, RecordingTarget, load_cassette
from conformance.targets.config import load_config
from conformance.targets.driving import StoreDriver, make_run_prefix
from conformance.targets.replay import MISSING
from conformance.report.compare import compare_files
from conformance.report.results import load_results
from conformance.runner import RunOptions, run_suite

KMSUSER_PASSWORD = "Kmsuser-RoundTrip-7731"
ACCESS_KEY_ID = "AKIAROUNDTRIPTEST001"
SECRET_ACCESS_KEY = "RoundTrip/Secret+Key00000000000000000007"

def _configs(root: Path) -> tuple[Path, Path]:
    from conformance.reference import default_world

    world = default_world()
    cloudhsm = {role: getattr(world, role) for role in (
        "active_cluster_id", "related_cluster_id", "unrelated_cluster_id", "inactive_cluster_id",
        "invalid_config_cluster_id", "trust_anchor_certificate", "unrelated_trust_anchor_certificate")}
    cloudhsm["kmsuser_password"] = KMSUSER_PASSWORD
    live_config = root / "reference.yaml"
    live_config.write_text(yaml.safe_dump({
        "target": {"adapter": "reference", "access_key_id": ACCESS_KEY_ID, "secret_access_key": SECRET_ACCESS_KEY},
        "world": {"cloudhsm": cloudhsm},
    }))
    replay_config = root / "replay.yaml"  # a relative cassette path is taken beside the config file
    replay_config.write_text(yaml.safe_dump({"target": {"adapter": "replay", "cassette": "cassette"}}))
    return live_config, replay_config


@pytest.mark.slow  # the full default suite, recorded then replayed: two runs of ~10 s CPU per edition
@pytest.mark.parametrize("edition", ["current", "2019-12"])
def test_record_replay_of_the_default_suite_round_trips_with_no_difference_and_no_secret(tmp_path, edition):
    live_config, replay_config = _configs(tmp_path)
    live = run_suite(RunOptions(config=str(live_config), edition=edition, report_dir=str(tmp_path / "live"),
                                record=str(tmp_path / "cassette"), progress=False))
    replayed = run_suite(RunOptions(config=str(replay_config), edition=edition,
                                    report_dir=str(tmp_path / "replayed"), progress=False))

    # the same verdict for every case, none ERROR, and the replay says what it is
    a, b = load_results(tmp_path / "live"), load_results(tmp_path / "replayed")
    verdicts = {c["id"]: c["verdict"] for c in a["cases"]}
    assert a["summary"]["ERROR"] == b["summary"]["ERROR"] == 0 and a["summary"]["FAIL"] == 0
    assert a["summary"]["SKIPPED"] == 0  # every world role given: the whole default suite is recorded
    assert {"scenario", "structural", "protocol", "property", "stateful", "schemathesis"} <= {c["kind"] for c in a["cases"]}
    assert {c["id"]: c["verdict"] for c in b["cases"]} == verdicts
    assert not [c["id"] for c in b["cases"] if MISSING in str(c)]
    assert live.exit_code == replayed.exit_code == 0
    assert b["target"]["adapter"] == "replay" and b["target"]["version"] == a["target"]["version"]

    # compare (at the run's strictness) finds nothing between the live run and its replay
    comparison = compare_files(tmp_path / "live" / "results.json", tmp_path / "replayed" / "results.json", "regex")
    assert comparison.only_a == [] and comparison.only_b == [] and comparison.verdict_changes == []
    assert comparison.counting == [], [d.to_dict() for d in comparison.counting[:5]]
    assert comparison.exit_code == 0 and "no difference" in comparison.summary_line()

    # the cassette holds every case that made a request, and the run scope (capability probing)
    cassette = load_cassette(tmp_path / "cassette")
    assert "__run__" in cassette.cases
    scenario_ids = {c["id"] for c in a["cases"] if c["kind"] == "scenario" and c["verdict"] == "PASS"}
    assert scenario_ids and scenario_ids <= set(cassette.cases)

    # no secret of the config anywhere in the cassette or the reports, and no report shows the
    # redaction marker inside a value that is not secret
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".yaml"]
    assert {INTERACTIONS_FILE, META_FILE, "results.json", "report.html", "junit.xml", "report.md"} <= {p.name for p in files}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in (KMSUSER_PASSWORD, SECRET_ACCESS_KEY):
            assert secret not in text, f"{secret!r} leaked into {path.relative_to(tmp_path)}"
    for folder in ("live", "replayed"):
        assert misplaced_markers_in(tmp_path / folder) == {}


def test_a_case_the_cassette_lacks_is_an_error_and_the_run_goes_on(tmp_path):
    live_config, replay_config = _configs(tmp_path)
    run_suite(RunOptions(config=str(live_config), keyword="DescribeCustomKeyStores/scenario/unknown-id",
                         report_dir=str(tmp_path / "live"), record=str(tmp_path / "cassette"), progress=False))
    outcome = run_suite(RunOptions(config=str(replay_config), keyword="DeleteCustomKeyStore/scenario/not-found",
                                   report_dir=str(tmp_path / "out"), progress=False))
    results = load_results(tmp_path / "out")
    assert results["cases"], "the keyword selected no case"
    for case in results["cases"]:
        assert case["verdict"] == "ERROR"
        assert "replay: no recorded response for case DeleteCustomKeyStore/scenario/not-found" in case["detail"]
    assert outcome.exit_code == 1


def test_a_missing_cassette_is_one_line_and_exit_2(tmp_path, capsys):
    config = tmp_path / "replay.yaml"
    config.write_text(yaml.safe_dump({"target": {"adapter": "replay", "cassette": "nowhere"}}))
    code = cli.main(["run", "--config", str(config), "--report-dir", str(tmp_path / "out"),
                     "--case", "DescribeCustomKeyStores/structural/empty-object"])
    err = capsys.readouterr().err
    assert code == 2
    assert "target.cassette" in err and "not a cassette" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def _leave_a_key_then_delete_the_store(target, ledger_dir: Path) -> StoreDriver:
    """A store holding a key its case did not delete: the driver's cleanup retires the key, then deletes it."""
    target.begin_case("DeleteCustomKeyStore/scenario/cleanup-retires-keys")
    driver = StoreDriver(target, ledger_dir, make_run_prefix())
    sid = driver.create_store()
    driver.bring_to_state(sid, "CONNECTED")
    made = target.call("CreateKey", {"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": sid})
    assert made.ok, made.to_dict()
    driver.delete_store(sid)
    return driver


def test_the_cleanup_of_a_store_holding_a_key_replays_the_requests_it_recorded(tmp_path):
    """The driver's cleanup finds a store's keys through the target's `created_keys`: a recording wrapper
    forwards the recorded target's, so a replay keeps its own from what it serves, or its cleanup asks
    otherwise (a miss, the store quarantined, and every later case on that cluster lineage an ERROR)."""
    live_config, replay_config = _configs(tmp_path)
    recorder = RecordingTarget(open_target(load_config(live_config)), tmp_path / "cassette")
    live = _leave_a_key_then_delete_the_store(recorder, tmp_path / "ledger")
    recorder.close()
    assert any(s.label == "cleanup: schedule key deletion" for s in live.steps)  # the path under test was taken
    replay = open_target(load_config(replay_config))
    replayed = _leave_a_key_then_delete_the_store(replay, tmp_path / "ledger")
    assert replay.misses == [] and replayed.quarantine == {}
    assert [s.label for s in replayed.steps] == [s.label for s in live.steps]


@contextlib.contextmanager
def serve_wsgi(app):
    """The app on 127.0.0.1:<free port> in a thread (as tests/targets/targethelpers.py does); yields the URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_store_the_recording_machine_held_at_the_start_is_held_on_replay_too(tmp_path, monkeypatch):
    """A recorded run found, in its machine's cleanup ledger, a store holding a key pending deletion: the
    cases on its lineage were NOT_TRIGGERABLE. The replay (another machine: no such ledger) holds it too."""
    from conformance.reference import ReferenceConfig, make_app

    monkeypatch.setenv("KMS_CONFORMANCE_STATE_DIR", str(tmp_path / "state"))
    cases = ("DeleteCustomKeyStore/scenario/has-keys", "ConnectCustomKeyStore/scenario/connects")
    with serve_wsgi(make_app(ReferenceConfig())) as url:  # no control surface: the waiting period stays
        run_suite(RunOptions(endpoint_url=url, report_dir=str(tmp_path / "r1"), cases=cases, progress=False))
        run_suite(RunOptions(endpoint_url=url, report_dir=str(tmp_path / "r2"), cases=cases, progress=False,
                             record=str(tmp_path / "cassette")))
    _, replay_config = _configs(tmp_path)
    monkeypatch.setenv("KMS_CONFORMANCE_STATE_DIR", str(tmp_path / "elsewhere"))  # the replaying machine's own
    run_suite(RunOptions(config=str(replay_config), report_dir=str(tmp_path / "replayed"), cases=cases,
                         progress=False))
    recorded, replayed = load_results(tmp_path / "r2"), load_results(tmp_path / "replayed")
    assert {c["verdict"] for c in recorded["cases"]} == {"NOT_TRIGGERABLE"}  # held by run 1's store
    assert {c["id"]: (c["verdict"], c["detail"]) for c in replayed["cases"]} == \
        {c["id"]: (c["verdict"], c["detail"]) for c in recorded["cases"]}
    assert replayed.get("notes") == recorded.get("notes") and recorded.get("notes")
