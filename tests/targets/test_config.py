"""The target config file: the contract shape loads; every bad file is one ConfigError naming the key."""

from __future__ import annotations

import textwrap

import pytest

from conformance.cli import main
from conformance.errors import ConfigError
from conformance.redact import registered_secrets
from conformance.targets.config import config_from_options, load_config, parse_config

CERT = "-----BEGIN CERTIFICATE-----\nMIIBexample\n-----END CERTIFICATE-----\n"

FULL = textwrap.dedent(
    """
    target:
      adapter: endpoint
      endpoint_url: http://127.0.0.1:4599
      region: eu-west-1
      access_key_id: AKIACONFIGEXAMPLE01
      secret_access_key: cfg-Secret-Key-0001
    world:
      cloudhsm:
        active_cluster_id: cluster-activeaaaaaa
        related_cluster_id: cluster-relatedaaaaa
        unrelated_cluster_id: cluster-unrelatedaaa
        inactive_cluster_id: cluster-inactiveaaaa
        invalid_config_cluster_id: cluster-invalidaaaaa
        trust_anchor_certificate: "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"
        kmsuser_password: cfg-Kmsuser-Pass-1
      timeouts: {connect_s: 1200, disconnect_s: 600, poll_interval_s: 5}
    """
)


def write(tmp_path, text, name="target.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_full_contract_shape_loads(tmp_path):
    cfg = load_config(write(tmp_path, FULL))
    assert cfg.target.adapter == "endpoint"
    assert cfg.target.endpoint_url == "http://127.0.0.1:4599"
    assert cfg.target.region == "eu-west-1"
    assert cfg.world.active_cluster_id == "cluster-activeaaaaaa"
    assert cfg.world.invalid_config_cluster_id == "cluster-invalidaaaaa"
    assert cfg.world.get("kmsuser_password") == "cfg-Kmsuser-Pass-1"
    assert cfg.world.timeouts.connect_s == 1200 and cfg.world.timeouts.poll_interval_s == 5
    assert cfg.world_given and cfg.timeouts_given
    # Secrets are registered for scrubbing as soon as the file is read.
    assert {"cfg-Secret-Key-0001", "cfg-Kmsuser-Pass-1"} <= set(registered_secrets())
    # ...and never shown by repr (tracebacks, debuggers).
    assert "cfg-Secret-Key-0001" not in repr(cfg.target)


def test_missing_roles_are_none_not_errors(tmp_path):
    cfg = load_config(write(tmp_path, "target: {adapter: aws}\nworld:\n  cloudhsm:\n    active_cluster_id: cluster-abcdefghijk\n"))
    assert cfg.world.active_cluster_id == "cluster-abcdefghijk"
    assert cfg.world.missing(["active_cluster_id", "related_cluster_id"]) == ["related_cluster_id"]


@pytest.mark.parametrize(
    "text, key",
    [
        ("target: {adapter: nope}", "target.adapter"),
        ("target: {adapter: endpoint, endpoint_url: 'ftp://x'}", "target.endpoint_url"),
        ("target: {adapter: endpoint, endpoint_url: 'http://h:notaport'}", "target.endpoint_url"),
        ("target: {region: 42}", "target.region"),
        ("target: {region: Not-A-Region}", "target.region"),
        ("target: {adpter: reference}", "target.adpter"),
        ("target: {access_key_id: AKIAX}", "target.secret_access_key"),
        ("target: {adapter: replay}", "target.cassette"),
        ("target: {observable_transitions: maybe}", "target.observable_transitions"),
        ("target: {faults: {a: 1}}", "target.faults"),
        ("target: [1, 2]", "target"),
        ("world: {cloudhsm: {active_cluster: cluster-abcdefghijk}}", "world.cloudhsm.active_cluster"),
        ("world: {cloudhsm: {active_cluster_id: [1]}}", "world.cloudhsm.active_cluster_id"),
        ("world: {cloudhsm: {trust_anchor_certificate: hello}}", "world.cloudhsm.trust_anchor_certificate"),
        ("world: {cloudhsm: {active_cluster_id: cluster-abcdefghijk, related_cluster_id: cluster-abcdefghijk}}",
         "world.cloudhsm.related_cluster_id"),
        ("world: {timeouts: {connect_s: -1}}", "world.timeouts.connect_s"),
        ("world: {timeouts: {poll_interval_s: soon}}", "world.timeouts.poll_interval_s"),
        ("world: {timeouts: {hang_s: 3}}", "world.timeouts.hang_s"),
        ("world: {clusters: {}}", "world.clusters"),
        ("world: {cloudhsm: {kmsuser_password: ''}}", "world.cloudhsm.kmsuser_password"),
        ("extra: 1", "extra"),
    ],
)
def test_bad_file_names_the_key(tmp_path, text, key):
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert key in str(info.value)


def test_yaml_syntax_error_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+, column \d+"):
        load_config(write(tmp_path, "target:\n  adapter: [unclosed\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "absent.yaml")


def test_env_references_and_certificate_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KMSCONF_TEST_PW", "env-Kmsuser-Pass-7")
    (tmp_path / "anchor.pem").write_text(CERT)
    cfg = load_config(write(tmp_path, """
        world:
          cloudhsm:
            kmsuser_password: ${KMSCONF_TEST_PW}
            trust_anchor_certificate_file: anchor.pem
        """))
    assert cfg.world.kmsuser_password == "env-Kmsuser-Pass-7"
    assert "env-Kmsuser-Pass-7" in registered_secrets()
    assert cfg.world.trust_anchor_certificate == CERT
    with pytest.raises(ConfigError, match="world.cloudhsm.kmsuser_password: environment variable NOT_SET_XYZ"):
        parse_config({"world": {"cloudhsm": {"kmsuser_password": "${NOT_SET_XYZ}"}}})


def test_secret_never_echoed_in_errors(tmp_path):
    # The password is registered before the (later) bad key is reported; no error repeats it anyway.
    text = "target: {secret_access_key: leak-Me-Secret-99, access_key_id: AKIAX, region: 7}\n"
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    assert "leak-Me-Secret-99" not in str(info.value)
    assert "leak-Me-Secret-99" in registered_secrets()


def test_config_from_options():
    assert config_from_options().target.adapter == "reference"
    cfg = config_from_options(endpoint_url="http://127.0.0.1:4599/")
    assert cfg.target.adapter == "endpoint" and cfg.target.endpoint_url == "http://127.0.0.1:4599"
    assert config_from_options(target="moto").target.adapter == "moto"
    with pytest.raises(ConfigError, match="--target"):
        config_from_options(target="localstackz")


def test_config_override_by_options(tmp_path):
    path = write(tmp_path, "target: {adapter: endpoint, endpoint_url: 'http://127.0.0.1:1'}\n")
    cfg = config_from_options(target="reference", config_path=path, endpoint_url="http://127.0.0.1:2")
    assert cfg.target.adapter == "reference" and cfg.target.endpoint_url == "http://127.0.0.1:2"


def test_cli_bad_config_is_exit_2_one_line(tmp_path, capsys):
    path = write(tmp_path, "target: {adapter: endpoint, endpoint_url: 'http://x', bogus: 1}\n")
    code = main(["plan", "--config", str(path), "--brief"])
    err = capsys.readouterr().err
    assert code == 2
    assert "target.bogus" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_shipped_example_config_loads(tmp_path, monkeypatch):
    from pathlib import Path

    import conformance.targets

    example = Path(conformance.targets.__file__).parent / "target-config.example.yaml"
    copy = tmp_path / "example.yaml"
    copy.write_text(example.read_text())
    (tmp_path / "customerCA.crt").write_text(CERT)
    (tmp_path / "otherCA.crt").write_text(CERT.replace("MII", "MIJ"))
    monkeypatch.setenv("KMSUSER_PASSWORD", "example-Pw-123")
    monkeypatch.setenv("XKS_ACCESS_KEY_ID", "XKSEXAMPLEACCESSKEY2")
    monkeypatch.setenv("XKS_SECRET_ACCESS_KEY", "x" * 43)
    cfg = load_config(copy)
    assert cfg.target.adapter == "aws" and not cfg.world.missing(
        ["active_cluster_id", "related_cluster_id", "unrelated_cluster_id", "inactive_cluster_id",
         "invalid_config_cluster_id", "trust_anchor_certificate", "unrelated_trust_anchor_certificate",
         "kmsuser_password"])
    assert cfg.world.unrelated_trust_anchor_certificate != cfg.world.trust_anchor_certificate
    from conformance.world import XKS_ROLES

    # Every XKS role is shown, except the private DNS name of the two services that have none.
    assert cfg.world.missing(XKS_ROLES) == ["xks.vpc_endpoint_services.not_found.uri_endpoint",
                                            "xks.vpc_endpoint_services.no_private_dns.uri_endpoint"]


def test_unrelated_trust_anchor_role_must_be_pem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("target: {adapter: reference}\nworld:\n  cloudhsm:\n    unrelated_trust_anchor_certificate: nope\n")
    with pytest.raises(ConfigError, match="world.cloudhsm.unrelated_trust_anchor_certificate: not a PEM"):
        load_config(bad)
