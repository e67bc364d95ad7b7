"""The live guard judges where the calls would go, not the adapter's name (issue 11, Why 1).

Every refusal must come before any DNS lookup or connection: the `no_network`
fixture makes both raise, so a test that passes proves nothing was resolved.
Nothing here reaches AWS.
"""

from __future__ import annotations

import socket

import pytest
import yaml

from conformance.cli import main
from conformance.errors import ConfigError, UsageError
from conformance.targets import config_from_options, open_target, parse_config
from conformance.targets.adapters import _endpoint_credentials
from conformance.targets.live import is_aws_host, live_guard, require_allow_live

AWS_HOST_FORMS = [
    "https://kms.us-east-1.amazonaws.com",
    "https://kms-fips.us-east-1.amazonaws.com",  # FIPS
    "https://KMS.US-EAST-1.AMAZONAWS.COM.",  # any case, trailing dot
    "https://kms.us-east-1.amazonaws.com../",  # several trailing dots
    "https://kms.us-east-1.api.aws",  # dual-stack
    "https://kms-fips.us-gov-west-1.api.aws",  # FIPS dual-stack, GovCloud
    "https://kms.cn-north-1.amazonaws.com.cn",  # China
    "https://kms.cn-north-1.api.amazonwebservices.com.cn",  # China dual-stack
    "https://kms.us-iso-east-1.c2s.ic.gov",  # an ISO partition (from botocore's partition data)
    "https://user:pw@kms.eu-west-1.amazonaws.com:443/path",  # user info and port
    "https://kms\uff0eus-east-1\uff0eamazonaws\uff0ecom",  # full-width dots: a resolver maps them to "."
    "http://amazonaws.com",
]
NOT_AWS = [
    "http://127.0.0.1:4599",
    "http://localhost:4566",
    "https://notamazonaws.com",
    "https://amazonaws.com.example.org",
    "https://kms.example.api.aws.example",
]


@pytest.fixture
def no_network(monkeypatch):
    """Any DNS lookup or connection fails the test loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network touched: {args[:2]}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


@pytest.mark.parametrize("url", AWS_HOST_FORMS)
def test_every_aws_host_form_is_live(url, no_network):
    assert is_aws_host(url)
    with pytest.raises(UsageError, match="--allow-live"):
        open_target(config_from_options(endpoint_url=url))


@pytest.mark.parametrize("url", NOT_AWS)
def test_other_hosts_are_not_live(url):
    assert not is_aws_host(url)
    require_allow_live(parse_config({"target": {"adapter": "endpoint", "endpoint_url": url}}), False)


@pytest.mark.parametrize("env", ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KMS", "AWS_ENDPOINT_URL_CLOUDHSMV2"])
def test_endpoint_from_the_environment_is_guarded(env, monkeypatch, no_network):
    monkeypatch.setenv(env, "https://kms.us-west-2.amazonaws.com")
    if env == "AWS_ENDPOINT_URL_CLOUDHSMV2":  # the KMS URL is local; the CloudHSM calls would go to AWS
        monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:9")
    with pytest.raises(UsageError, match="kms.us-west-2.amazonaws.com is live AWS"):
        open_target(config_from_options(target="endpoint"))


def test_run_refuses_an_aws_endpoint_flag_before_any_lookup(no_network, tmp_path, capsys):
    code = main(["run", "--no-progress", "--endpoint-url", "https://KMS-FIPS.us-east-1.amazonaws.com.",
                 "--report-dir", str(tmp_path / "r"), "-k", "nothing_matches_this or DescribeCustomKeyStores"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == ["kms-conformance: endpoint kms-fips.us-east-1.amazonaws.com is live AWS (creates and deletes "
                   "custom key stores in a real account): refusing to run without --allow-live"]


def test_cleanup_refuses_an_aws_endpoint_from_a_config_file(no_network, tmp_path, capsys):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"target": {"adapter": "endpoint",
                                               "endpoint_url": "https://kms.eu-central-1.api.aws"}}))
    assert main(["cleanup", "--config", str(path)]) == 2
    assert "--allow-live" in capsys.readouterr().err


def test_plan_marks_an_aws_endpoint_as_live(no_network, capsys):
    assert main(["plan", "--brief", "--endpoint-url", "https://kms.us-east-1.amazonaws.com"]) == 0
    assert "[LIVE AWS: `run` and `cleanup` need --allow-live]" in capsys.readouterr().out


def test_non_aws_endpoint_never_uses_the_default_credential_chain(served_reference, monkeypatch):
    """Real-looking credentials in the environment must not be sent to a local endpoint."""
    url, app = served_reference
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALUSERKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "real-secret-from-the-chain")
    lines: list[str] = []
    target = open_target(config_from_options(endpoint_url=url), announce=lines.append)
    try:
        # The served reference accepts only the example credentials: a 200 proves they, not the chain's, were used.
        assert target.call("DescribeCustomKeyStores", {}).status == 200
        assert "example credentials" in lines[0] and "default AWS credential chain is not used" in lines[0]
    finally:
        target.close()


def test_aws_endpoint_with_allow_live_uses_the_chain_never_example_credentials(monkeypatch, no_aws_env):
    cfg = config_from_options(endpoint_url="https://kms.us-east-1.amazonaws.com")
    with pytest.raises(ConfigError, match="example credentials are never sent to AWS"):
        _endpoint_credentials(cfg, cfg.target.endpoint_url, live=True, announce=lambda line: None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACHAINKEY0000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "chain-secret")
    creds = _endpoint_credentials(cfg, cfg.target.endpoint_url, live=True, announce=lambda line: None)
    assert creds.access_key == "AKIACHAINKEY0000000"


def test_aws_endpoint_gets_the_live_allowlist(monkeypatch):
    """With --allow-live, an endpoint target on an AWS host is guarded like the aws adapter."""
    import conformance.targets.adapters as adapters

    monkeypatch.setattr(adapters, "tcp_reachable", lambda url: None)  # nothing is called below
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACHAINKEY0000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "chain-secret")
    target = open_target(config_from_options(endpoint_url="https://kms.us-east-1.amazonaws.com"), allow_live=True)
    try:
        assert target._guard is live_guard
        assert target.abilities.world_control is None  # no control-surface probing of AWS
    finally:
        target.close()


def test_only_the_urls_the_target_would_call_count(monkeypatch):
    """The generic variable is not used when the KMS one is set; in-process adapters call nothing."""
    from conformance.targets.live import is_live

    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://kms.us-east-1.amazonaws.com")
    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", "http://127.0.0.1:4599")
    assert not is_live(config_from_options(target="endpoint"))
    monkeypatch.delenv("AWS_ENDPOINT_URL_KMS")
    assert is_live(config_from_options(target="endpoint"))
    assert not is_live(config_from_options(target="reference"))
    assert not is_live(config_from_options(target="moto"))
