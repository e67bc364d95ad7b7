"""`kms-conformance serve` end to end: boto3 and the real AWS CLI over loopback, options, config, shutdown."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conformance.reference import EXAMPLE_SECRET_ACCESS_KEY
from conformance.reference.world import DEFAULT_KMSUSER_PASSWORD
from refhelpers import ANCHOR, PASSWORD, PYTHON, REPO, ROLES, create_params, served, url_client

AWS = str(Path(PYTHON).with_name("aws"))


def wait_state(kms, sid, want, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = kms.describe_custom_key_stores(CustomKeyStoreId=sid)["CustomKeyStores"][0]["ConnectionState"]
        if state == want:
            return state
        time.sleep(0.05)
    raise AssertionError(f"store {sid} never reached {want} (last {state})")


@pytest.mark.slow
@pytest.mark.parametrize("edition", ["current", "2019-12"])
def test_boto3_lifecycle_against_served_target(edition):
    with served("--edition", edition, "--connect-delay", "0.3", "--disconnect-delay", "0.2") as (endpoint, _, banner):
        assert f"edition       : {edition}" in banner
        kms = url_client(endpoint)
        sid = kms.create_custom_key_store(**create_params("served"))["CustomKeyStoreId"]
        kms.connect_custom_key_store(CustomKeyStoreId=sid)
        assert kms.describe_custom_key_stores(CustomKeyStoreId=sid)["CustomKeyStores"][0]["ConnectionState"] == "CONNECTING"
        wait_state(kms, sid, "CONNECTED")
        with pytest.raises(ClientError) as e:
            kms.update_custom_key_store(CustomKeyStoreId=sid, KeyStorePassword="pass-word-2")
        assert e.value.response["Error"]["Code"] == "CustomKeyStoreInvalidStateException"
        kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
        wait_state(kms, sid, "DISCONNECTED")
        kms.update_custom_key_store(CustomKeyStoreId=sid, NewCustomKeyStoreName="served-2",
                                    KeyStorePassword="pass-word-2", CloudHsmClusterId=ROLES["related_cluster_id"])
        entry = kms.describe_custom_key_stores(CustomKeyStoreName="served-2")["CustomKeyStores"][0]
        assert (entry["CustomKeyStoreId"], entry["CloudHsmClusterId"]) == (sid, ROLES["related_cluster_id"])
        # the stored password is now wrong for the cluster: connect ends FAILED (INVALID_CREDENTIALS)
        kms.connect_custom_key_store(CustomKeyStoreId=sid)
        wait_state(kms, sid, "FAILED")
        kms.disconnect_custom_key_store(CustomKeyStoreId=sid)
        wait_state(kms, sid, "DISCONNECTED")
        kms.delete_custom_key_store(CustomKeyStoreId=sid)
        assert kms.describe_custom_key_stores()["CustomKeyStores"] == []


CLI_ENV = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": EXAMPLE_SECRET_ACCESS_KEY,
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": ""}


def aws_binary(endpoint: str, *args: str):
    """The installed `aws` executable in a subprocess (slow to start: used for the entry-point check)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(CLI_ENV)
    proc = subprocess.run([AWS, "--endpoint-url", endpoint, "--output", "json", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, (json.loads(proc.stdout) if proc.stdout.strip() else None), proc.stderr


@pytest.fixture
def aws_cli(monkeypatch):
    """The AWS CLI's own driver (what `aws` runs), in this process: the same code path without the start-up cost."""
    from awscli.clidriver import create_clidriver

    for k in [k for k in os.environ if k.startswith("AWS_") and k != "AWS_DATA_PATH"]:  # awscli sets DATA_PATH
        monkeypatch.delenv(k)
    for k, v in CLI_ENV.items():
        monkeypatch.setenv(k, v)

    def run(endpoint: str, *args: str, secret: str | None = None):
        if secret:
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = create_clidriver().main(["--endpoint-url", endpoint, "--output", "json", *args])
        finally:
            monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CLI_ENV["AWS_SECRET_ACCESS_KEY"])
        text = out.getvalue()
        return rc, (json.loads(text) if text.strip() else None), err.getvalue()

    return run


@pytest.mark.slow
def test_aws_cli_lifecycle_and_errors(tmp_path, aws_cli):
    with served() as (endpoint, _, _):
        rc, out, err = aws_binary(endpoint, "kms", "describe-custom-key-stores")
        assert (rc, out) == (0, {"CustomKeyStores": []}), err  # the CLI paginates and drops Truncated
        anchor = tmp_path / "anchor.pem"
        anchor.write_text(ANCHOR)
        rc, out, err = aws_cli(endpoint, "kms", "create-custom-key-store", "--custom-key-store-name", "cli",
                               "--cloud-hsm-cluster-id", ROLES["active_cluster_id"],
                               "--trust-anchor-certificate", f"file://{anchor}", "--key-store-password", PASSWORD)
        assert rc == 0, err
        sid = out["CustomKeyStoreId"]
        assert aws_cli(endpoint, "kms", "connect-custom-key-store", "--custom-key-store-id", sid)[0] == 0
        rc, out, _ = aws_cli(endpoint, "kms", "describe-custom-key-stores", "--custom-key-store-id", sid)
        assert out["CustomKeyStores"][0]["ConnectionState"] == "CONNECTED"
        assert aws_cli(endpoint, "kms", "disconnect-custom-key-store", "--custom-key-store-id", sid)[0] == 0
        rc, out, err = aws_cli(endpoint, "kms", "update-custom-key-store", "--custom-key-store-id", sid,
                               "--new-custom-key-store-name", "cli-2", "--key-store-password", "pass-word-2",
                               "--cloud-hsm-cluster-id", ROLES["related_cluster_id"])
        assert (rc, out) == (0, None), err  # the CLI prints nothing for an empty result
        rc, out, _ = aws_cli(endpoint, "kms", "describe-custom-key-stores", "--custom-key-store-name", "cli-2")
        entry = out["CustomKeyStores"][0]
        assert (entry["CustomKeyStoreId"], entry["CloudHsmClusterId"]) == (sid, ROLES["related_cluster_id"])
        assert "pass-word-2" not in json.dumps(out)
        rc, _, err = aws_cli(endpoint, "kms", "update-custom-key-store", "--custom-key-store-id", sid,
                             "--cloud-hsm-cluster-id", ROLES["unrelated_cluster_id"])
        assert rc != 0 and "CloudHsmClusterNotRelatedException" in err
        rc, _, err = aws_cli(endpoint, "kms", "describe-custom-key-stores", secret="wrong-secret")
        assert rc != 0 and "InvalidSignatureException" in err
        rc, out, _ = aws_cli(endpoint, "cloudhsmv2", "describe-clusters")
        assert {c["ClusterId"] for c in out["Clusters"]} == set(ROLES.values())
        assert aws_cli(endpoint, "kms", "delete-custom-key-store", "--custom-key-store-id", sid)[0] == 0
        rc, _, err = aws_cli(endpoint, "kms", "delete-custom-key-store", "--custom-key-store-id", sid)
        assert rc != 0 and "CustomKeyStoreNotFoundException" in err


@pytest.mark.slow
def test_serve_with_config_file_credentials_and_world(tmp_path):
    secret = "config-secret-Abc123456789"
    kmsuser = "config-kmsuser-pw"
    cfg = tmp_path / "target.yaml"
    cfg.write_text(
        "target:\n  adapter: endpoint\n  endpoint_url: http://127.0.0.1:4599\n  region: us-west-2\n"
        f"  access_key_id: AKIACONFIGKEY0000001\n  secret_access_key: {secret}\n"
        "world:\n  cloudhsm:\n    active_cluster_id: cluster-configactive2\n"
        "    unrelated_cluster_id: cluster-configother23\n"
        f"    trust_anchor_certificate: |\n" + "".join(f"      {line}\n" for line in ANCHOR.splitlines())
        + f"    kmsuser_password: {kmsuser}\n"
    )
    with served("--config", str(cfg)) as (endpoint, proc, banner):
        assert "AKIACONFIGKEY0000001" in banner and "cluster-configactive2" in banner
        assert secret not in banner and kmsuser not in banner and EXAMPLE_SECRET_ACCESS_KEY not in banner
        import boto3

        from refhelpers import NO_VALIDATION

        kms = boto3.session.Session().client("kms", endpoint_url=endpoint, region_name="us-west-2",
                                             aws_access_key_id="AKIACONFIGKEY0000001", aws_secret_access_key=secret,
                                             config=NO_VALIDATION)
        sid = kms.create_custom_key_store(CustomKeyStoreName="c", CloudHsmClusterId="cluster-configactive2",
                                          TrustAnchorCertificate=ANCHOR, KeyStorePassword=kmsuser)["CustomKeyStoreId"]
        kms.connect_custom_key_store(CustomKeyStoreId=sid)
        assert kms.describe_custom_key_stores()["CustomKeyStores"][0]["ConnectionState"] == "CONNECTED"
        with pytest.raises(ClientError) as e:  # the role not configured does not exist
            kms.create_custom_key_store(CustomKeyStoreName="d", CloudHsmClusterId=ROLES["related_cluster_id"],
                                        TrustAnchorCertificate=ANCHOR, KeyStorePassword=kmsuser)
        assert e.value.response["Error"]["Code"] == "CloudHsmClusterNotFoundException"
        default_creds = url_client(endpoint)  # example credentials are not accepted any more
        with pytest.raises(ClientError) as e:
            default_creds.describe_custom_key_stores()
        assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0 and "stopped" in out
        assert secret not in out + err and kmsuser not in out + err


def run_cli(capsys, *args: str):
    from conformance.cli import main

    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_list_faults_and_bad_options(capsys):
    rc, out, _ = run_cli(capsys, "serve", "--list-faults")
    assert rc == 0
    assert "update-skips-state-check" in out and "UPD-036" in out
    rc, _, err = run_cli(capsys, "serve", "--host", "0.0.0.0", "--port", "0")
    assert rc == 2 and "loopback" in err
    rc, _, err = run_cli(capsys, "serve", "--port", "0", "--fault", "no-such-fault")
    assert rc == 2 and "no-such-fault" in err
    rc, _, err = run_cli(capsys, "serve", "--port", "0", "--config", "/nonexistent/target.yaml")
    assert rc == 2 and "not found" in err
    rc, _, err = run_cli(capsys, "serve", "--port", "0", "--connect-delay", "-1")
    assert rc == 2 and "negative" in err


def test_banner_shows_the_public_defaults_and_how_to_connect():
    with served("--fault", "password-echoed") as (endpoint, proc, banner):
        assert "AKIAIOSFODNN7EXAMPLE" in banner and "password-echoed" in banner
        for cluster_id in ROLES.values():
            assert cluster_id in banner
        # the defaults are public example values: printed, and said to be
        assert f"{EXAMPLE_SECRET_ACCESS_KEY}  (AWS's public example key)" in banner
        assert f"{DEFAULT_KMSUSER_PASSWORD}  (public example value)" in banner
        export = next(line for line in banner.splitlines() if "export " in line).split("export ", 1)[1]
        env = dict(part.split("=", 1) for part in export.split())
        assert env == {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": EXAMPLE_SECRET_ACCESS_KEY,
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint}
        assert "kms-conformance serve --print-trust-anchor > anchor.pem" in banner
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=10)
        assert proc.returncode == 0


def test_banner_never_prints_configured_secrets(tmp_path):
    """A secret key or kmsuser password the user chose is never printed; the export line says where it is."""
    from conformance.cli.serve import banner, build_config
    from conformance.cli import build_parser

    cfg = tmp_path / "t.yaml"
    cfg.write_text("target:\n  adapter: endpoint\n  access_key_id: AKIACONFIGKEY0000001\n"
                   "  secret_access_key: my-own-Secret-123456\n"
                   "world:\n  cloudhsm:\n    active_cluster_id: cluster-configactive2\n"
                   "    kmsuser_password: my-own-kmsuser-pw\n")
    args = build_parser().parse_args(["serve", "--config", str(cfg)])
    config, _ = build_config(args)
    text = banner(config, "http://127.0.0.1:1", str(cfg))
    assert "my-own-Secret-123456" not in text and "my-own-kmsuser-pw" not in text
    assert text.count("the configured one, not shown") == 2
    assert "AWS_SECRET_ACCESS_KEY=" not in text.split("#")[0] and f"secret_access_key of {cfg}" in text
    assert f"--print-trust-anchor --config {cfg}" in text


def test_print_trust_anchor_writes_the_served_worlds_certificate(capsys, tmp_path):
    rc, out, _ = run_cli(capsys, "serve", "--print-trust-anchor")
    assert rc == 0 and out.strip() == ANCHOR.strip()
    other = ANCHOR.replace("MIIB", "MIIC", 1)  # any PEM-looking text: the world takes it as given
    cfg = tmp_path / "t.yaml"
    cfg.write_text("target:\n  adapter: endpoint\nworld:\n  cloudhsm:\n    active_cluster_id: cluster-configactive2\n"
                   "    trust_anchor_certificate: |\n" + "".join(f"      {line}\n" for line in other.splitlines()))
    rc, out, _ = run_cli(capsys, "serve", "--print-trust-anchor", "--config", str(cfg))
    assert rc == 0 and out.strip() == other.strip()


def test_busy_port_is_one_line_and_exit_2(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        rc, out, err = run_cli(capsys, "serve", "--port", str(port))
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and f"127.0.0.1:{port}" in err and "in use" in err and "Traceback" not in err
