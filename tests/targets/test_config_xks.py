"""world.xks in the target config: roles by dotted path, the credential as a secret, one-line errors."""

from __future__ import annotations

import pytest

from conformance.errors import ConfigError, MissingRole
from conformance.redact import scrub
from conformance.targets.config import parse_config

SECRET = "s3cretXksProxyKeyForTests0123456789abcdefghij"


def xks(**kw):
    return {"world": {"xks": kw}}


def test_roles_by_dotted_path_and_missing_ones_named():
    cfg = parse_config(xks(uri_endpoint="https://xks.example.com", uri_path="/kms/xks/v1",
                           keys={"usable": "k1"}, faulty_paths={"timeout": "/t/kms/xks/v1"},
                           vpc_endpoint_services={"not_found": "com.amazonaws.vpce.us-east-1.vpce-svc-1"}))
    w = cfg.world
    assert cfg.xks_given and not cfg.world_given
    assert w.get("xks.keys.usable") == "k1"
    assert w.get("xks.faulty_paths.timeout") == "/t/kms/xks/v1"
    assert w.get("xks.vpc_endpoint_services.not_found.service_name").endswith("svc-1")
    assert w.missing(["xks.uri_endpoint", "xks.keys.disabled", "xks.credential.access_key_id"]) == [
        "xks.keys.disabled", "xks.credential.access_key_id"]
    with pytest.raises(MissingRole, match=r"world\.xks\.keys\.disabled"):
        w.get("xks.keys.disabled")
    with pytest.raises(MissingRole, match=r"world\.cloudhsm\.active_cluster_id"):
        w.get("active_cluster_id")


def test_credential_is_a_secret_and_both_parts_go_together():
    cfg = parse_config(xks(credential={"access_key_id": "XKSEXAMPLEACCESSKEY2", "secret_access_key": SECRET}))
    assert cfg.world.xks_credential() == {"AccessKeyId": "XKSEXAMPLEACCESSKEY2", "RawSecretAccessKey": SECRET}
    assert SECRET not in repr(cfg.world) and SECRET not in scrub(f"echo {SECRET}")
    with pytest.raises(ConfigError, match=r"world\.xks\.credential\.secret_access_key: required together"):
        parse_config(xks(credential={"access_key_id": "XKSEXAMPLEACCESSKEY2"}))


def test_vpc_connectivity_makes_the_main_endpoint_the_private_dns_name():
    cfg = parse_config(xks(connectivity="VPC_ENDPOINT_SERVICE", uri_endpoint="https://p.example.com"))
    assert cfg.world.get("xks.vpc_uri_endpoint") == "https://p.example.com"


@pytest.mark.parametrize("raw, key", [
    ({"connectivity": "PRIVATE"}, "world.xks.connectivity"),
    ({"uri_endpoint": "https://xks.example.com/kms"}, "world.xks.uri_endpoint"),
    ({"uri_path": "kms/xks/v1"}, "world.xks.uri_path"),
    ({"vpc_endpoint_service_owner": "12345"}, "world.xks.vpc_endpoint_service_owner"),
    ({"keys": {"usable": "k", "favourite": "k2"}}, "world.xks.keys.favourite"),
    ({"faulty_paths": {"slow": "/slow/kms/xks/v1"}}, "world.xks.faulty_paths.slow"),
    ({"vpc_endpoint_services": {"broken": "x"}}, "world.xks.vpc_endpoint_services.broken"),
    ({"vpc_endpoint_services": {"second": {"name": "x"}}}, "world.xks.vpc_endpoint_services.second.name"),
    ({"bogus": 1}, "world.xks.bogus"),
])
def test_bad_xks_keys_are_named(raw, key):
    with pytest.raises(ConfigError) as err:
        parse_config(xks(**raw))
    assert key in str(err.value) and "\n" not in str(err.value)
