"""The endpoint adapter against the served reference emulator, and its credential / URL rules."""

from __future__ import annotations

import time

import pytest

from conformance.cli import main
from conformance.errors import ConfigError, TargetUnreachable
from conformance.errors import NotTriggerable
from conformance.targets import StoreDriver, config_from_options, open_target, probe_capabilities


def test_served_reference_through_endpoint_adapter(served_reference, tmp_path):
    url, app = served_reference
    lines: list[str] = []
    target = open_target(config_from_options(endpoint_url=url), announce=lines.append)
    try:
        assert target.identity.adapter == "endpoint" and target.identity.endpoint == url
        # Without a config the served reference's default world is assumed.
        assert target.world.active_cluster_id == "cluster-refactivea2b3"
        assert probe_capabilities(target) == {}
        driver = StoreDriver(target, tmp_path)
        store = driver.create_store()
        assert driver.connect(store) == "CONNECTED"
        # Instant emulator, nothing configured: CONNECTING is NOT_TRIGGERABLE, not faked.
        with pytest.raises(NotTriggerable):
            driver.bring_to_state(store, "DISCONNECTING")
        driver.bring_to_state(store, "FAILED")
        assert driver.describe(store)["ConnectionErrorCode"] == "INVALID_CREDENTIALS"
        raw = target.send_raw(b'{"CustomKeyStoreId": 5}', amz_target="TrentService.DescribeCustomKeyStores")
        assert raw.status == 400 and raw.error_code == "SerializationException"
        assert driver.cleanup().ok
        assert target.call("DescribeCustomKeyStores", {}).body["CustomKeyStores"] == []
        assert any(t.startswith("TrentService.") for t in app.requests)
    finally:
        target.close()


def test_env_endpoint_and_example_credentials_announced_once(served_reference, monkeypatch, no_aws_env):
    url, _ = served_reference
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", url)
    lines: list[str] = []
    cfg = config_from_options(target="endpoint")
    first = open_target(cfg, announce=lines.append)
    second = open_target(config_from_options(target="endpoint"), announce=lines.append)
    try:
        assert first.endpoint_url == url
        # The served reference only accepts the example credentials: a 200 proves they were used.
        assert first.call("DescribeCustomKeyStores", {}).status == 200
        assert len(lines) == 1 and "example credentials" in lines[0] and "AKIAIOSFODNN7EXAMPLE" in lines[0]
        assert "wJalrXUtnFEMI" not in lines[0]
    finally:
        first.close()
        second.close()


def test_configured_credentials_are_used(served_reference):
    from conformance.targets import parse_config

    url, _ = served_reference
    cfg = parse_config({"target": {"adapter": "endpoint", "endpoint_url": url,
                                   "access_key_id": "AKIAOTHERKEYEXAMPLE", "secret_access_key": "other-Secret-1"}})
    target = open_target(cfg)
    try:
        obs = target.call("DescribeCustomKeyStores", {})
        assert obs.error_code == "UnrecognizedClientException"  # not silently replaced by example credentials
    finally:
        target.close()


def test_endpoint_needs_a_url(no_aws_env):
    with pytest.raises(ConfigError, match="target.endpoint_url"):
        open_target(config_from_options(target="endpoint"))


def test_refused_is_unreachable_fast(refused_url):
    started = time.monotonic()
    with pytest.raises(TargetUnreachable) as info:
        open_target(config_from_options(endpoint_url=refused_url))
    assert time.monotonic() - started < 2
    assert str(info.value).startswith(f"target unreachable at {refused_url}")
    assert info.value.exit_code == 3


def test_cli_unreachable_is_exit_3_one_line(refused_url, capsys):
    code = main(["cleanup", "--endpoint-url", refused_url])
    err = capsys.readouterr().err
    assert code == 3
    assert err.strip() == f"kms-conformance: target unreachable at {refused_url} (connection refused)"


def test_reference_control_lets_cleanup_delete_a_store_with_keys(tmp_path):
    """A served reference with --enable-control: cleanup can pass the key waiting period, as in-process."""
    from conformance.reference import ReferenceConfig, make_app
    from conformance.targets import parse_config
    from targethelpers import serve_wsgi

    with serve_wsgi(make_app(ReferenceConfig(control_api=True))) as url:
        for control in (False, None):  # None: the default, tried
            settings = {"adapter": "endpoint", "endpoint_url": url}
            if control is not None:
                settings["reference_control"] = control
            cfg = parse_config({"target": settings})
            target = open_target(cfg, announce=lambda line: None)
            try:
                driver = StoreDriver(target, tmp_path / str(control))
                store = driver.create_store()
                driver.bring_to_state(store, "CONNECTED")
                assert target.call("CreateKey", {"Origin": "AWS_CLOUDHSM", "CustomKeyStoreId": store}).ok
                outcome = driver.cleanup()
                if control is None:
                    assert outcome.ok and driver.describe(store) is None
                else:  # AWS-faithful: keys pending deletion keep the store; the ledger says why
                    assert not outcome.ok and "waiting period" in outcome.left[0]
                    target.send_raw("{}", amz_target="ReferenceControl.Reset")
            finally:
                target.close()
