"""The live `aws` adapter against a local endpoint posing as AWS (served reference + an STS stand-in).

Nothing here reaches AWS: every URL is 127.0.0.1.
"""

from __future__ import annotations

import pytest
import yaml

from conformance.cli import main
from conformance.errors import ConfigError, UsageError
from conformance.reference.world import DEFAULT_KMSUSER_PASSWORD, DEFAULT_ROLE_IDS, LINEAGE_A_CERT
from conformance.targets import StoreDriver, load_config, open_target
from conformance.targets.ledger import ledger_files, outstanding_entries
from conformance.targets.live import LiveSafetyError


def live_config(tmp_path, url, **target_extra):
    data = {
        "target": {"adapter": "aws", "endpoint_url": url, "region": "us-east-1",
                   "access_key_id": "AKIAIOSFODNN7EXAMPLE",
                   "secret_access_key": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", **target_extra},
        "world": {"cloudhsm": {**DEFAULT_ROLE_IDS, "trust_anchor_certificate": LINEAGE_A_CERT,
                               "kmsuser_password": DEFAULT_KMSUSER_PASSWORD},
                  "timeouts": {"connect_s": 5, "disconnect_s": 5, "poll_interval_s": 0.05}},
    }
    path = tmp_path / "live.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_refuses_without_allow_live(tmp_path, served_reference, capsys):
    url, app = served_reference
    path = live_config(tmp_path, url)
    with pytest.raises(UsageError, match="--allow-live"):
        open_target(load_config(path))
    assert main(["cleanup", "--config", str(path)]) == 2
    assert "--allow-live" in capsys.readouterr().err
    assert app.requests == []  # refused before any request


def test_no_fallback_credentials(tmp_path, served_reference, no_aws_env):
    url, app = served_reference
    path = tmp_path / "nocreds.yaml"
    path.write_text(yaml.safe_dump({"target": {"adapter": "aws", "endpoint_url": url}}))
    with pytest.raises(ConfigError, match="never falls back"):
        open_target(load_config(path), allow_live=True)
    assert app.requests == []


def test_prints_account_and_region_first_then_works(tmp_path, served_reference):
    url, app = served_reference
    lines: list[str] = []
    target = open_target(load_config(live_config(tmp_path, url)), allow_live=True, announce=lines.append)
    try:
        assert lines == [f"kms-conformance: LIVE AWS account 123456789012, region us-east-1 "
                         f"(as arn:aws:iam::123456789012:user/conformance) via {url}"]
        assert app.requests[0].startswith("Action=GetCallerIdentity")  # the very first request
        assert target.capabilities.observable_transitions is True
        assert target.call("DescribeCustomKeyStores", {}).status == 200
        assert target.call("DescribeClusters", {}, service="cloudhsmv2").status == 200
    finally:
        target.close()


@pytest.mark.parametrize(
    "service, operation",
    [("cloudhsmv2", "CreateCluster"), ("cloudhsmv2", "DeleteCluster"), ("cloudhsmv2", "CreateHsm"),
     ("cloudhsmv2", "DeleteHsm"), ("kms", "DisableKey"), ("kms", "PutKeyPolicy")],
)
def test_guard_refuses_calls_outside_the_allowlist(tmp_path, served_reference, service, operation):
    url, app = served_reference
    target = open_target(load_config(live_config(tmp_path, url)), allow_live=True, announce=lambda line: None)
    try:
        before = len(app.requests)
        with pytest.raises(LiveSafetyError):
            target.call(operation, {}, service=service)
        prefix = "BaldrApiService" if service == "cloudhsmv2" else "TrentService"
        with pytest.raises(LiveSafetyError):
            target.send_raw("{}", amz_target=f"{prefix}.{operation}")
        assert len(app.requests) == before  # nothing was sent
        # Unknown targets (the protocol cases) cannot change anything and are allowed.
        assert target.send_raw("{}", amz_target="TrentService.NoSuchOperation").error_code == \
            "UnknownOperationException"
    finally:
        target.close()


@pytest.mark.slow
def test_plan_calls_nothing_and_orders_connect_cycles_last(tmp_path, served_reference, capsys):
    url, app = served_reference
    code = main(["plan", "--config", str(live_config(tmp_path, url))])
    out = capsys.readouterr().out
    assert code == 0
    assert app.requests == []  # not even STS
    assert "LIVE AWS" in out and "connect/disconnect cycles:" in out and "HSM-hours" in out
    groups = [line.strip() for line in out.splitlines() if line.startswith("  [")]
    # Cases that may leave a key in a store run after everything else, whatever their cost (schedule.py).
    tail = [g for g in groups if "may leave a key" in g]
    assert tail and groups[-len(tail):] == tail, groups
    groups = groups[:-len(tail)]
    # Live AWS: the state groups run as one tour of shared stores, after every other group.
    assert "state phases: on (auto: live AWS)" in out
    phases = [g for g in groups if g.startswith("[phase ")]
    # (the disconnect of a CONNECTING store would end CONNECTING for the phases after it: it runs last)
    assert [g.split("]")[0] for g in phases] == ["[phase CONNECTING", "[phase CONNECTED", "[phase DISCONNECTING",
                                                 "[phase FAILED", "[phase CONNECTING"]
    assert groups[-len(phases):] == phases, groups
    groups = groups[:-len(phases)]
    cycles = [int(g.split("]")[-1].split(",")[2].split()[0]) for g in groups]
    first_connecting = next(i for i, c in enumerate(cycles) if c)
    assert not any(cycles[:first_connecting]) and first_connecting > 0, groups  # groups that connect nothing first
    assert "UpdateCustomKeyStore" in out


def test_cleanup_command_removes_what_a_crashed_live_run_left(tmp_path, served_reference):
    url, app = served_reference
    path = live_config(tmp_path, url)
    ledger = tmp_path / "ledger"
    target = open_target(load_config(path), allow_live=True, announce=lambda line: None)
    try:
        driver = StoreDriver(target, ledger)
        store = driver.create_store()
        driver.bring_to_state(store, "CONNECTED")
        # The live target shows CONNECTING while the connect is in progress (served reference: instant).
    finally:
        target.close()  # "crash": no driver.cleanup()
    assert len(outstanding_entries(ledger_files(ledger))) == 1
    assert main(["cleanup", "--config", str(path), "--ledger-dir", str(ledger)]) == 2  # needs --allow-live
    assert main(["cleanup", "--config", str(path), "--ledger-dir", str(ledger), "--allow-live"]) == 0
    assert outstanding_entries(ledger_files(ledger)) == []
    assert app.inner.backend.snapshot() == []


def test_cleanup_leaves_other_targets_entries_alone(tmp_path, served_reference):
    url, app = served_reference
    ledger = tmp_path / "ledger"
    other = open_target(load_config(live_config(tmp_path, url, region="eu-west-1")), allow_live=True,
                        announce=lambda line: None)
    try:
        StoreDriver(other, ledger, "kmsconf-other-region").ledger.created("kmsconf-other-region-store-1",
                                                                          "cks-0123456789abcdef0")
    finally:
        other.close()
    assert main(["cleanup", "--config", str(live_config(tmp_path, url)), "--ledger-dir", str(ledger),
                 "--allow-live"]) == 0
    assert len(outstanding_entries(ledger_files(ledger))) == 1  # a different Region's store: untouched
