"""The XKS proxy double: SigV4 with the spec's service name, the documented bodies, every mode."""

from __future__ import annotations

import base64
import json

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.test import Client

from conformance.cli import main
from conformance.xksproxy import (
    EXAMPLE_XKS_ACCESS_KEY_ID,
    EXAMPLE_XKS_SECRET_ACCESS_KEY,
    MODES,
    ProxyConfig,
    XksProxyApp,
    mode_path,
    proxy_world,
    world_block,
)

META = {"requestMetadata": {"kmsRequestId": "r-1", "kmsOperation": "CreateCustomKeyStore"}}


@pytest.fixture(scope="module")
def proxy():
    return Client(XksProxyApp(ProxyConfig(hang_s=0.01)))


def send(client, path, body=META, *, service="kms-xks-proxy", key=EXAMPLE_XKS_ACCESS_KEY_ID,
         secret=EXAMPLE_XKS_SECRET_ACCESS_KEY, method="POST", sign=True):
    data = json.dumps(body).encode()
    req = AWSRequest(method=method, url=f"https://xks.example.com{path}", data=data,
                     headers={"Content-Type": "application/json"})
    if sign:
        SigV4Auth(Credentials(key, secret), service, "eu-west-1").add_auth(req)
    resp = client.open(path=path, method=method, data=data, base_url="https://xks.example.com",
                       headers=list(req.headers.items()))
    text = resp.get_data(as_text=True)
    try:
        return resp.status_code, json.loads(text)
    except ValueError:
        return resp.status_code, text


def test_health_status_has_every_documented_member(proxy):
    status, body = send(proxy, "/kms/xks/v1/health")
    assert status == 200
    assert body["xksProxyFleetSize"] >= 1 and {"xksProxyVendor", "xksProxyModel", "ekmVendor"} <= set(body)
    assert 1 <= len(body["ekmFleetDetails"]) <= 10
    assert {e["healthStatus"] for e in body["ekmFleetDetails"]} == {"ACTIVE"}


@pytest.mark.parametrize("how", ["wrong secret", "wrong key id", "service kms", "unsigned"])
def test_sigv4_is_checked_with_the_service_name_kms_xks_proxy(proxy, how):
    kw = {"wrong secret": {"secret": "x" * 43}, "wrong key id": {"key": "XKSSOMEOTHERKEYID234"},
          "service kms": {"service": "kms"}, "unsigned": {"sign": False}}[how]
    assert send(proxy, "/kms/xks/v1/health", **kw) == (401, {
        "errorName": "AuthenticationFailedException", "errorMessage": "The request signature could not be verified."})


def test_key_metadata_by_key_and_unknown_key(proxy):
    assert send(proxy, "/kms/xks/v1/keys/xks-key-usable-1/metadata") == (
        200, {"keySpec": "AES_256", "keyUsage": ["ENCRYPT", "DECRYPT"], "keyStatus": "ENABLED"})
    assert send(proxy, "/kms/xks/v1/keys/xks-key-disabled/metadata")[1]["keyStatus"] == "DISABLED"
    assert send(proxy, "/kms/xks/v1/keys/xks-key-not-aes/metadata")[1]["keySpec"] != "AES_256"
    status, body = send(proxy, "/kms/xks/v1/keys/no-such-key/metadata")
    assert (status, body["errorName"]) == (404, "KeyNotFoundException")


def test_encrypt_then_decrypt_round_trips_and_checks_the_aad(proxy):
    aad = base64.b64encode(b"context").decode()
    status, sealed = send(proxy, "/kms/xks/v1/keys/xks-key-usable-1/encrypt", {
        **META, "plaintext": base64.b64encode(b"hello").decode(), "encryptionAlgorithm": "AES_GCM",
        "additionalAuthenticatedData": aad, "ciphertextDataIntegrityValueAlgorithm": "SHA_256"})
    assert status == 200 and {"ciphertext", "initializationVector", "authenticationTag",
                              "ciphertextDataIntegrityValue"} <= set(sealed)
    opened = {k: sealed[k] for k in ("ciphertext", "initializationVector", "authenticationTag")}
    decrypt = {**META, **opened, "encryptionAlgorithm": "AES_GCM"}
    path = "/kms/xks/v1/keys/xks-key-usable-1/decrypt"
    assert send(proxy, path, {**decrypt, "additionalAuthenticatedData": aad}) == (
        200, {"plaintext": base64.b64encode(b"hello").decode()})
    assert send(proxy, path, decrypt)[1]["errorName"] == "InvalidCiphertextException"
    assert send(proxy, "/kms/xks/v1/keys/xks-key-disabled/decrypt", decrypt)[1]["errorName"] == "InvalidStateException"
    assert send(proxy, "/kms/xks/v1/keys/xks-key-encrypt-only/decrypt", decrypt)[1]["errorName"] == (
        "InvalidKeyUsageException")


def test_malformed_requests_get_the_documented_errors(proxy):
    assert send(proxy, "/kms/xks/v1/health", {"no": "metadata"})[1]["errorName"] == "ValidationException"
    assert send(proxy, "/kms/xks/v1/health", method="GET")[0] == 405
    assert send(proxy, "/kms/xks/v1/nothing")[:1] == (404,)
    assert send(proxy, "/nobody/kms/xks/v1/health")[1]["errorName"] == "InvalidUriPathException"


EXPECTED = {
    "correct": (200, None),
    "wrong-credential": (401, "AuthenticationFailedException"),
    "unknown-path": (404, "InvalidUriPathException"),
    "timeout": (200, None),  # answered, after the hang time
    "invalid-response": (200, None),
    "malformed-json": (200, None),
    "unavailable": (200, None),
    "throttled": (429, "ThrottlingException"),
    "internal-error": (500, "InternalException"),
    "key-not-found": (200, None),
    "key-disabled": (200, None),
    "key-not-usable": (200, None),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_on_its_path_and_as_the_bare_path(proxy, mode):
    on_path = send(proxy, mode_path(mode) + "/health")
    bare = send(Client(XksProxyApp(ProxyConfig(mode=mode, hang_s=0.01))), "/kms/xks/v1/health")
    assert on_path == bare
    status, body = on_path
    assert (status, body.get("errorName") if isinstance(body, dict) else None) == EXPECTED[mode]
    if mode == "malformed-json":
        assert isinstance(body, str)
    if mode == "invalid-response":
        assert body["xksProxyFleetSize"] < 1
    if mode == "unavailable":
        assert {e["healthStatus"] for e in body["ekmFleetDetails"]} == {"UNAVAILABLE"}
    metadata = send(proxy, mode_path(mode) + "/keys/xks-key-usable-1/metadata")
    if mode == "key-not-found":
        assert metadata[1]["errorName"] == "KeyNotFoundException"
    if mode == "key-disabled":
        assert metadata[1]["keyStatus"] == "DISABLED"
    if mode == "key-not-usable":
        assert metadata[1]["keyUsage"] == ["ENCRYPT"]


def test_any_suffix_after_the_mode_is_the_same_mode(proxy):
    assert send(proxy, "/correct/tenant-2/kms/xks/v1/health")[0] == 200
    assert send(proxy, "/wrong-credential/tenant-2/kms/xks/v1/health")[0] == 401


def test_printed_world_block_never_holds_the_secret():
    block = world_block(proxy_world(ProxyConfig()))
    assert EXAMPLE_XKS_SECRET_ACCESS_KEY not in block and EXAMPLE_XKS_ACCESS_KEY_ID not in block
    assert "${XKS_SECRET_ACCESS_KEY}" in block and "timeout: /timeout/kms/xks/v1" in block


def test_cli_lists_modes_and_refuses_bad_input(capsys, monkeypatch):
    assert main(["xks-proxy", "--list-modes"]) == 0
    assert set(line.split()[0] for line in capsys.readouterr().out.splitlines()) == set(MODES)
    monkeypatch.setenv("XKS_ACCESS_KEY_ID", "XKSEXAMPLEACCESSKEY2")
    monkeypatch.delenv("XKS_SECRET_ACCESS_KEY", raising=False)
    assert main(["xks-proxy", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "XKS_SECRET_ACCESS_KEY" in err and len(err.strip().splitlines()) == 1
