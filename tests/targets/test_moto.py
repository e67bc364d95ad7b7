"""moto in-process and moto server: all six custom key store operations are UNIMPLEMENTED, never FAIL/ERROR."""

from __future__ import annotations

import pytest

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.targets import StoreDriver, UnimplementedOperation, config_from_options, open_target, probe_capabilities


@pytest.fixture(scope="module")
def moto_target():
    target = open_target(config_from_options(target="moto"))
    yield target
    target.close()


def test_moto_in_process_lacks_all_six(moto_target):
    found = probe_capabilities(moto_target)
    assert set(found) == set(CUSTOM_KEY_STORE_OPERATIONS)
    assert all("NotImplementedError" in evidence for evidence in found.values())
    assert moto_target.identity.adapter == "moto" and moto_target.identity.version


def test_moto_in_process_observations(moto_target):
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        params = {"CustomKeyStoreName": "x"} if op == "CreateCustomKeyStore" else {"CustomKeyStoreId": "cks-1"}
        obs = moto_target.call(op, params)
        assert obs.unimplemented and obs.transport_error is None, (op, obs)
    raw = moto_target.send_raw("{}", amz_target="TrentService.UpdateCustomKeyStore")
    assert raw.unimplemented
    # What moto does implement is answered normally, through the same in-process path.
    keys = moto_target.call("ListKeys", {})
    assert keys.status == 200 and "Keys" in keys.body and not keys.unimplemented


def test_moto_driver_setup_is_unimplemented_not_error(moto_target, tmp_path):
    driver = StoreDriver(moto_target, tmp_path)
    with pytest.raises(UnimplementedOperation):
        driver.create_store()


@pytest.mark.slow
def test_moto_server_through_endpoint_adapter(moto_server_url):
    target = open_target(config_from_options(endpoint_url=moto_server_url), announce=lambda line: None)
    try:
        found = probe_capabilities(target)
        assert target.capabilities.speaks_json is True  # ListKeys answered with JSON
        assert set(found) == set(CUSTOM_KEY_STORE_OPERATIONS)
        assert all("HTML" in evidence for evidence in found.values())
        obs = target.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-0000000000000dead"})
        assert obs.status == 500 and obs.unimplemented
    finally:
        target.close()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["in-process", "server"])
def test_full_run_six_operations_all_unimplemented(how, moto_server_url, tmp_path, monkeypatch):
    """The whole suite through the runner: every case of the six operations is UNIMPLEMENTED, none FAIL/ERROR."""
    from conformance.runner import RunOptions, run_suite

    monkeypatch.chdir(tmp_path)  # the cleanup ledger goes to ./.kms-conformance
    options = RunOptions(target="moto", report_dir=str(tmp_path / "r"), progress=False) if how == "in-process" \
        else RunOptions(endpoint_url=moto_server_url, report_dir=str(tmp_path / "r"), progress=False)
    outcome = run_suite(options)
    cases = outcome.results.get("cases") or []
    six = [c for c in cases if c["operation"] in CUSTOM_KEY_STORE_OPERATIONS]
    assert len(six) > 100
    assert {c["verdict"] for c in six} == {"UNIMPLEMENTED"}, [c["id"] for c in six if c["verdict"] != "UNIMPLEMENTED"]
