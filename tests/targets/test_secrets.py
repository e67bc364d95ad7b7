"""No secret from the config (secret key, kmsuser password) reaches logs, ledgers, steps, output or errors."""

from __future__ import annotations

import json
import logging

import pytest
import yaml

from conformance.cli import main
from conformance.redact import redact
from conformance.reference.world import DEFAULT_ROLE_IDS, LINEAGE_A_CERT
from conformance.targets import DriverError, StoreDriver, load_config, open_target

SECRET_KEY = "Cfg/Secret+AccessKey0987zyx"
PASSWORD = "S3cret-Kmsuser-Pw"
SECRETS = (SECRET_KEY, PASSWORD)


@pytest.fixture
def config_path(tmp_path):
    data = {
        "target": {"adapter": "reference", "access_key_id": "AKIASECRETTESTKEY01", "secret_access_key": SECRET_KEY},
        "world": {"cloudhsm": {**DEFAULT_ROLE_IDS, "trust_anchor_certificate": LINEAGE_A_CERT,
                               "kmsuser_password": PASSWORD}},
    }
    path = tmp_path / "secret.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"secret leaked into {where}"


def test_no_secret_in_logs_ledger_steps_or_errors(config_path, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)  # botocore logs whole request bodies at DEBUG
    # A fault that makes the target echo the password: even then nothing we write may carry it.
    target = open_target(load_config(config_path), faults=["password-echoed"])
    try:
        driver = StoreDriver(target, tmp_path / "ledger")
        store = driver.create_store()  # sends KeyStorePassword = the configured password
        entry = driver.describe(store)
        assert entry.get("KeyStorePassword") == PASSWORD  # the fault really echoes it...
        driver.bring_to_state(store, "FAILED")
        driver.bring_to_state(store, "CONNECTED")  # restores the configured password
        raw = target.send_raw(json.dumps({"CustomKeyStoreId": store, "KeyStorePassword": PASSWORD}),
                              amz_target="TrentService.UpdateCustomKeyStore", signing="wrong-secret")
        assert raw.error_code == "InvalidSignatureException"
        with pytest.raises(DriverError) as info:
            driver.create_store(KeyStorePassword=PASSWORD, CloudHsmClusterId="cluster-zzzzzzzzzzzzz")
        assert_clean(str(info.value), "a DriverError")
        steps = driver.take_steps()
        assert_clean(json.dumps([s.__dict__ for s in steps], default=str), "driver steps")
        assert_clean(json.dumps(redact(driver.describe(store)), default=str), "a redacted describe entry")
        assert driver.cleanup().ok
    finally:
        target.close()
    # botocore did log the request bodies (scrubbed), so the check below is not vacuous.
    assert "***REDACTED***" in caplog.text and "KeyStorePassword" in caplog.text
    assert_clean(caplog.text, "logs")
    for path in (tmp_path / "ledger").glob("*"):
        assert_clean(path.read_text(), f"ledger {path.name}")
    out = capsys.readouterr()
    assert_clean(out.out + out.err, "stdout/stderr")


def test_no_secret_in_plan_output_or_config_errors(config_path, tmp_path, capsys):
    assert main(["plan", "--config", str(config_path), "--brief"]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(config_path.read_text() + "oops: 1\n")
    assert main(["plan", "--config", str(bad)]) == 2
    out = capsys.readouterr()
    assert_clean(out.out + out.err, "plan output")
    assert "oops" in out.err


def test_settings_repr_hides_secrets(config_path):
    cfg = load_config(config_path)
    assert_clean(repr(cfg.target), "repr(TargetSettings)")
    assert_clean(repr(cfg.world), "repr(World)")
