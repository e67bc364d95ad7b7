"""The in-process reference adapter and the StoreDriver on it (states, ledger, cleanup)."""

from __future__ import annotations

import json

import pytest

from conformance.errors import NotTriggerable, UsageError
from conformance.targets import (
    StoreDriver,
    config_from_options,
    open_target,
    parse_config,
    probe_capabilities,
)
from conformance.errors import MissingRole
from conformance.targets.driving import DriverError, cleanup_ledger
from conformance.targets.ledger import outstanding_entries, ledger_files


@pytest.fixture
def target():
    t = open_target(config_from_options())
    yield t
    t.close()


def test_call_returns_observation_from_the_wire(target):
    obs = target.call("DescribeCustomKeyStores", {})
    assert obs.status == 200 and obs.ok
    assert obs.body == {"CustomKeyStores": [], "Truncated": False}
    assert obs.headers["content-type"] == "application/x-amz-json-1.1"
    assert "x-amzn-requestid" in obs.headers
    assert obs.latency_s > 0 and obs.attempts == 1
    # parameter_validation is off: botocore does not stop a missing required member.
    bad = target.call("UpdateCustomKeyStore", {})
    assert (bad.status, bad.error_code) == (400, "ValidationException")
    assert not bad.unimplemented


def test_raw_sender_controls_body_target_and_signature(target):
    ok = target.send_raw(b"{}", amz_target="TrentService.DescribeCustomKeyStores")
    assert ok.status == 200 and ok.operation == "DescribeCustomKeyStores"
    codes = {mode: target.send_raw("{}", amz_target="TrentService.DescribeCustomKeyStores", signing=mode).error_code
             for mode in ("none", "wrong-secret", "unknown-key", "expired", "malformed")}
    assert codes == {
        "none": "MissingAuthenticationTokenException",
        "wrong-secret": "InvalidSignatureException",
        "unknown-key": "UnrecognizedClientException",
        "expired": "InvalidSignatureException",
        "malformed": "IncompleteSignatureException",
    }
    unknown = target.send_raw("{}", amz_target="TrentService.NoSuchOperation")
    assert unknown.error_code == "UnknownOperationException"
    assert not unknown.unimplemented  # not a modelled operation: that answer is right, not a gap
    garbage = target.send_raw(b"{not json", amz_target="TrentService.DescribeCustomKeyStores")
    assert garbage.error_code == "SerializationException"


def test_cloudhsm_describe_clusters_through_the_same_target(target):
    obs = target.call("DescribeClusters", {}, service="cloudhsmv2")
    assert obs.status == 200
    ids = {c["ClusterId"] for c in obs.body["Clusters"]}
    assert target.world.active_cluster_id in ids


def test_probe_finds_nothing_missing(target):
    assert probe_capabilities(target) == {}
    assert target.capabilities.speaks_json is True
    # The probe made no store.
    assert target.call("DescribeCustomKeyStores", {}).body["CustomKeyStores"] == []


def test_driver_walks_every_state_without_sleeping(target, tmp_path, monkeypatch):
    import conformance.targets.driving as driving

    slept: list[float] = []
    monkeypatch.setattr(driving.time, "sleep", lambda s: slept.append(s))
    driver = StoreDriver(target, tmp_path, "kmsconf-test-run")
    store = driver.create_store()
    assert driver.describe(store)["CustomKeyStoreName"] == "kmsconf-test-run-store-1"
    for state in ("CONNECTED", "DISCONNECTING", "DISCONNECTED", "CONNECTING", "CONNECTED", "FAILED",
                  "CONNECTED", "DISCONNECTED"):
        driver.bring_to_state(store, state)
        entry = driver.describe(store)
        assert entry["ConnectionState"] == state
        if state == "FAILED":
            assert entry["ConnectionErrorCode"] == "INVALID_CREDENTIALS"
    # Waits advanced the emulator's manual clock: the driver never slept through the 30 s virtual connects.
    assert slept == []
    steps = driver.take_steps()
    assert any(s.label.startswith("setup: wait for") for s in steps)
    assert driver.take_steps() == []
    outcome = driver.cleanup()
    assert outcome.ok and len(outcome.removed) == 1
    assert driver.describe(store) is None


def test_ledger_written_before_use_and_cleared_after_cleanup(target, tmp_path):
    driver = StoreDriver(target, tmp_path, "kmsconf-ledger-run")
    store = driver.create_store()
    lines = [json.loads(line) for line in (tmp_path / "kmsconf-ledger-run.jsonl").read_text().splitlines()]
    assert [r["event"] for r in lines] == ["intent", "created"]
    assert lines[1]["store_id"] == store and lines[0]["name"] == lines[1]["name"]
    assert [e.store_id for e in outstanding_entries(ledger_files(tmp_path))] == [store]
    driver.delete_store(store)
    assert outstanding_entries(ledger_files(tmp_path)) == []


def test_cleanup_removes_connected_and_failed_stores(target, tmp_path):
    from conformance.reference.world import LINEAGE_B_CERT

    driver = StoreDriver(target, tmp_path)
    # One store per cluster lineage: the second one lives on the unrelated (other lineage) cluster.
    a = driver.create_store()
    b = driver.create_store(CloudHsmClusterId=target.world.unrelated_cluster_id, TrustAnchorCertificate=LINEAGE_B_CERT)
    driver.bring_to_state(a, "CONNECTED")
    driver.bring_to_state(b, "FAILED")
    # A key in the connected store blocks its deletion until the key is scheduled and gone.
    key = target.call("CreateKey", {"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": a})
    assert key.ok, key
    outcome = driver.cleanup()
    assert outcome.ok, outcome.left
    assert target.call("DescribeCustomKeyStores", {}).body["CustomKeyStores"] == []


def test_crashed_run_is_cleaned_up_by_the_ledger(target, tmp_path):
    crashed = StoreDriver(target, tmp_path, "kmsconf-crashed")
    store = crashed.create_store()
    crashed.bring_to_state(store, "CONNECTED")
    del crashed  # the process "died" without cleaning up
    outcome = cleanup_ledger(target, tmp_path)
    assert outcome.removed and outcome.ok
    assert target.call("DescribeCustomKeyStores", {}).body["CustomKeyStores"] == []
    assert outstanding_entries(ledger_files(tmp_path)) == []


def test_cleanup_on_ctrl_c(target, tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with StoreDriver(target, tmp_path) as driver:
            driver.create_store()
            raise KeyboardInterrupt
    assert target.call("DescribeCustomKeyStores", {}).body["CustomKeyStores"] == []


def test_intent_without_id_is_found_by_name(target, tmp_path):
    """A crash between CreateCustomKeyStore and writing its id: cleanup finds the store by name."""
    driver = StoreDriver(target, tmp_path, "kmsconf-torn")
    name = driver.name("store")
    driver.ledger.intent(name)
    obs = target.call("CreateCustomKeyStore", {"CustomKeyStoreName": name,
                                               "CloudHsmClusterId": target.world.active_cluster_id,
                                               "TrustAnchorCertificate": target.world.trust_anchor_certificate,
                                               "KeyStorePassword": target.world.kmsuser_password})
    assert obs.ok
    outcome = cleanup_ledger(target, tmp_path)
    assert outcome.ok and outcome.removed
    assert target.call("DescribeCustomKeyStores", {}).body["CustomKeyStores"] == []


def test_missing_role_and_failed_setup(tmp_path):
    cfg = parse_config({"world": {"cloudhsm": {"active_cluster_id": "cluster-refactivea2b3"}}})
    target = open_target(cfg)
    try:
        driver = StoreDriver(target, tmp_path)
        with pytest.raises(MissingRole, match="trust_anchor_certificate"):
            driver.create_store()
        with pytest.raises(DriverError, match="CreateCustomKeyStore failed: 400"):
            driver.create_store(TrustAnchorCertificate="-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----",
                                KeyStorePassword="kmsuser-Passw0rd", CloudHsmClusterId="cluster-zzzzzzzzzzzzz")
        assert outstanding_entries(ledger_files(tmp_path)) == []  # a refused create is closed in the ledger
    finally:
        target.close()


def test_instant_transitions_are_not_triggerable(tmp_path):
    cfg = parse_config({"target": {"connect_delay_s": 0, "disconnect_delay_s": 0}})
    target = open_target(cfg)
    try:
        assert target.capabilities.observable_transitions is False
        driver = StoreDriver(target, tmp_path)
        store = driver.create_store()
        for state in ("CONNECTING", "DISCONNECTING"):
            with pytest.raises(NotTriggerable, match=state):
                driver.bring_to_state(store, state)
        driver.bring_to_state(store, "CONNECTED")
        assert driver.state(store) == "CONNECTED"
        driver.cleanup()
    finally:
        target.close()


def test_faults_reach_the_emulator_and_unknown_fault_is_usage_error():
    from conformance.reference import FAULTS

    name = sorted(FAULTS)[0]
    target = open_target(config_from_options(), faults=[name])
    try:
        assert target.capabilities.faults == (name,)
    finally:
        target.close()
    with pytest.raises(UsageError, match="no-such-fault"):
        open_target(config_from_options(), faults=["no-such-fault"])
    with pytest.raises(UsageError, match="reference target only"):
        open_target(config_from_options(target="moto"), faults=[name])


def test_edition_and_call_timeout_are_applied():
    target = open_target(config_from_options(), edition="2019-12", call_timeout_s=3)
    try:
        assert target.timeouts.call_s == 3
        # 2019-12: KeyStorePassword has no maximum (current: 32), so a 40-char password is not a length error.
        obs = target.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-0000000000000dead",
                                                   "KeyStorePassword": "p" * 40})
        assert obs.error_code == "CustomKeyStoreNotFoundException"
    finally:
        target.close()


def test_unknown_member_via_call_is_a_clear_harness_error(target):
    with pytest.raises(ValueError, match="send_raw"):
        target.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1", "Bogus": 1})
    with pytest.raises(ValueError, match="no operation"):
        target.call("NoSuchOperation", {})


def test_an_emulator_bug_is_answered_as_kms_internal_exception(target, monkeypatch):
    backend = target.abilities.pending_deletions  # the in-process reference's backend itself

    def boom(*args, **kwargs):
        raise RuntimeError("emulator bug")

    monkeypatch.setattr(backend, "dispatch", boom)  # the app runs operations through dispatch
    obs = target.call("DescribeCustomKeyStores", {})
    assert obs.status == 500 and obs.error_code == "KMSInternalException"
    assert "emulator bug" not in obs.raw_body  # internals stay in the emulator's log


def test_a_crash_of_the_in_process_app_is_a_500_not_a_crashed_run(target, monkeypatch):
    client = target._transport._client

    def boom(environ, start_response):
        raise RuntimeError("wsgi app bug")

    monkeypatch.setattr(client, "application", boom)
    obs = target.call("DescribeCustomKeyStores", {})
    assert obs.status == 500 and obs.body is None
    assert "RuntimeError: wsgi app bug" in obs.raw_body


def test_raw_headers_override_defaults_case_insensitively(target):
    obs = target.send_raw("{}", amz_target="TrentService.DescribeCustomKeyStores",
                          headers={"content-type": "application/json"})
    assert obs.status is not None
    from conformance.targets.wire import build_raw_request
    from botocore.credentials import Credentials

    req = build_raw_request(endpoint_url="http://x.test", body="{}", amz_target="TrentService.ListKeys",
                            content_type="application/x-amz-json-1.1", headers={"content-type": "text/plain",
                                                                              "X-Amz-Target": None},
                            signing="valid", method="POST", path="/", credentials=Credentials("AKIAX", "s3cr3tkey"),
                            region="us-east-1")
    lowered = {k.lower(): v for k, v in req.headers.items()}
    assert lowered["content-type"] == "text/plain" and "x-amz-target" not in lowered
    assert sum(1 for k in req.headers if k.lower() == "content-type") == 1
    assert "content-type" in lowered["authorization"]  # still signed over the final headers


def test_a_config_with_world_xks_alone_keeps_it_beside_the_default_cloudhsm_world():
    """A served reference run with only `world.xks` in its config: the XKS cases get the proxy's roles."""
    from conformance.reference.config import default_world
    from conformance.targets.adapters import _world
    from conformance.targets.config import parse_config
    from conformance.world import Timeouts

    config = parse_config({"target": {"adapter": "endpoint", "endpoint_url": "http://127.0.0.1:4599"},
                           "world": {"xks": {"uri_endpoint": "https://xks.example.test", "uri_path": "/kms/xks/v1"}}})
    world = _world(config, default_timeouts=Timeouts(), fallback=default_world())
    assert world.get("xks.uri_endpoint") == "https://xks.example.test"
    assert world.get("active_cluster_id") == default_world().active_cluster_id
