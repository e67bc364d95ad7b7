"""`cleanup` finds what a run left from any directory, and on the target itself when the ledger is gone (issue 11, Why 6)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_live_aws import live_config

from conformance.cli import main
from conformance.reference.world import DEFAULT_ROLE_IDS, LINEAGE_B_CERT
from conformance.targets import StoreDriver, config_from_options, load_config, open_target
from conformance.targets.ledger import (
    STATE_DIR_ENV,
    ledger_dir_for,
    ledger_files,
    outstanding_entries,
    state_dir,
    target_fingerprint,
)
from conformance.targets.sweep import run_prefix_of


def _names(app) -> list[str]:
    return [s["CustomKeyStoreName"] for s in app.inner.backend.snapshot()]


UNRELATED = {"CloudHsmClusterId": DEFAULT_ROLE_IDS["unrelated_cluster_id"], "TrustAnchorCertificate": LINEAGE_B_CERT}


def _crashed_run(url: str, tmp_path: Path, config=None, *, other_cluster: bool = False, **open_kw) -> tuple[str, Path]:
    """A run that created a store (connected, on the active cluster) and died without cleaning up.

    Returns (run prefix, ledger dir). `other_cluster`: a disconnected store on the unrelated cluster.
    """
    target = open_target(config or config_from_options(endpoint_url=url), announce=lambda line: None, **open_kw)
    try:
        ledger_dir = ledger_dir_for(target_fingerprint(target))  # where a run keeps it (RunSession.ledger_dir)
        driver = StoreDriver(target, ledger_dir)
        if other_cluster:
            driver.create_store(**UNRELATED)
        else:
            driver.bring_to_state(driver.create_store(), "CONNECTED")
        return driver.run_prefix, ledger_dir
    finally:
        target.close()


def test_state_dir_follows_the_override_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "override"))
    assert state_dir() == tmp_path / "override"
    monkeypatch.delenv(STATE_DIR_ENV)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "kms-conformance"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert state_dir() == tmp_path / "home" / ".local" / "state" / "kms-conformance"


def test_ledger_folder_is_keyed_by_target():
    a = {"adapter": "endpoint", "endpoint": "http://127.0.0.1:4599", "region": "us-east-1", "account": None}
    assert ledger_dir_for(a) == ledger_dir_for(dict(a, account="123456789012"))  # the account is learnt late
    assert ledger_dir_for(a) != ledger_dir_for(dict(a, region="eu-west-1"))
    assert ledger_dir_for(a) != ledger_dir_for(dict(a, endpoint="http://127.0.0.1:4600"))


def test_cleanup_from_another_directory_finds_the_ledger(served_reference, tmp_path, monkeypatch, capsys):
    url, app = served_reference
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    prefix, ledger_dir = _crashed_run(url, tmp_path)
    assert len(outstanding_entries(ledger_files(ledger_dir))) == 1
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    assert main(["cleanup", "--endpoint-url", url, "--no-scan"]) == 0  # the ledger alone finds it
    assert f"removed {prefix}-store-1" in capsys.readouterr().out
    assert _names(app) == []
    assert outstanding_entries(ledger_files(ledger_dir)) == []


def test_cleanup_without_ledger_finds_the_suites_stores_on_the_target(served_reference, tmp_path, monkeypatch,
                                                                      capsys):
    url, app = served_reference
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    prefix, _ = _crashed_run(url, tmp_path)
    target = open_target(config_from_options(endpoint_url=url), announce=lambda line: None)
    try:  # a store someone else named: never touched
        assert target.call("CreateCustomKeyStore", {"CustomKeyStoreName": "kmsconf-production-keys", **UNRELATED,
                                                    "KeyStorePassword": target.world.kmsuser_password}).ok
    finally:
        target.close()
    shutil.rmtree(tmp_path / "state")  # the ledger is gone
    assert main(["cleanup", "--endpoint-url", url, "--no-scan"]) == 0
    assert "nothing to clean up" in capsys.readouterr().out
    assert len(_names(app)) == 2
    assert main(["cleanup", "--endpoint-url", url]) == 0
    assert f"removed {prefix}-store-1" in capsys.readouterr().out
    assert _names(app) == ["kmsconf-production-keys"]


def test_live_scan_deletes_only_the_run_it_is_told(served_reference, tmp_path, monkeypatch, capsys):
    url, app = served_reference
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    path = live_config(tmp_path, url)
    first, _ = _crashed_run(url, tmp_path, load_config(path), allow_live=True)
    second, _ = _crashed_run(url, tmp_path, load_config(path), other_cluster=True, allow_live=True)
    shutil.rmtree(tmp_path / "state")
    # Live AWS: another run may be going on in the same account; without --run-prefix nothing is deleted.
    assert main(["cleanup", "--config", str(path), "--allow-live"]) == 1  # stores remain
    out = capsys.readouterr().out
    assert f"FOUND   {first}-store-1" in out and f"--run-prefix {first}" in out
    assert len(_names(app)) == 2
    assert main(["cleanup", "--config", str(path), "--allow-live", "--run-prefix", first]) == 0
    assert _names(app) == [f"{second}-store-1"]


def test_run_prefix_of_accepts_only_the_suites_names():
    assert run_prefix_of("kmsconf-20261202T113000-ab12-store-3") == "kmsconf-20261202T113000-ab12"
    assert run_prefix_of("kmsconf-20261202T113000-ab12") == "kmsconf-20261202T113000-ab12"
    for name in ("kmsconf-production-keys", "kmsconf-20261202T113000-ab12x", "my-kmsconf-20261202T113000-ab12",
                 "kmsconf-20261202T1130-ab12-store-1", ""):
        assert run_prefix_of(name) is None, name


def test_results_name_the_ledger_and_run_prefix(served_reference, tmp_path, monkeypatch):
    url, app = served_reference
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    report = tmp_path / "report"
    code = main(["run", "--no-progress", "--endpoint-url", url, "--report-dir", str(report),
                 "-k", "CreateCustomKeyStore/structural/CustomKeyStoreName/required-missing"])
    results = json.loads((report / "results.json").read_text())
    assert code == 0 and results["summary"]["total"] == 1, results["summary"]
    assert results["run_prefix"].startswith("kmsconf-")
    ledger = Path(results["ledger"])
    assert ledger.parent == ledger_dir_for({"adapter": "endpoint", "endpoint": url, "region": "us-east-1"})
    assert ledger.name == f"{results['run_prefix']}.jsonl"
    assert str(ledger).startswith(str(tmp_path / "state"))


def test_settled_ledger_leaves_no_folder_behind(served_reference, tmp_path, monkeypatch):
    url, _ = served_reference
    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "state"))
    target = open_target(config_from_options(endpoint_url=url), announce=lambda line: None)
    try:
        driver = StoreDriver(target, ledger_dir_for(target_fingerprint(target)))
        driver.create_store()
        assert driver.ledger.path.is_file()
        assert driver.cleanup().ok
    finally:
        target.close()
    assert not driver.ledger.dir.exists()  # one folder per ephemeral port would pile up otherwise
