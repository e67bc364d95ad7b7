"""Helpers to drive the reference target in-process (werkzeug test client behind botocore) and served."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from werkzeug.test import Client

from conformance.reference import (
    EXAMPLE_ACCESS_KEY_ID,
    EXAMPLE_SECRET_ACCESS_KEY,
    ReferenceConfig,
    make_app,
)
from conformance.reference.world import DEFAULT_KMSUSER_PASSWORD, DEFAULT_ROLE_IDS, LINEAGE_A_CERT

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ROLES = DEFAULT_ROLE_IDS
PASSWORD = DEFAULT_KMSUSER_PASSWORD
ANCHOR = LINEAGE_A_CERT
FAKE_URL = "http://reference.local"
_SESSION = boto3.session.Session()  # one session: a client from it costs ms, a new session ~0.15 s
NO_VALIDATION = Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"})


class _Raw:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_: Any):
        yield self._data


_XKS_PROXY = None


def xks_proxy():
    """One proxy double for the whole test process (ReferenceProxy: its world.xks and loopback map)."""
    global _XKS_PROXY
    if _XKS_PROXY is None:
        from conformance.targets.reference_xks import ReferenceProxy

        _XKS_PROXY = ReferenceProxy(None, "us-east-1", hang_s=2.0)
    return _XKS_PROXY


def xks_config() -> dict[str, Any]:
    """ReferenceConfig keywords that let a reference reach the shared proxy double and its VPC services."""
    from conformance.reference.xks import build_vpc_services

    proxy = xks_proxy()
    return {"xks_network": proxy.network, "xks_proxy_timeout_s": 0.5,
            "xks_vpc_services": build_vpc_services(proxy.world, account_id="111122223333", region="us-east-1")}


def xks_params(name: str = "xks-1", *, path: str | None = None, vpc: str | None = None, **extra: Any) -> dict:
    """CreateCustomKeyStore for an external key store on the shared proxy (vpc: a vpc_endpoint_services role,
    or "main" for the main service)."""
    w = xks_proxy().world
    p: dict[str, Any] = {"CustomKeyStoreName": name, "CustomKeyStoreType": "EXTERNAL_KEY_STORE",
                         "XksProxyConnectivity": "PUBLIC_ENDPOINT", "XksProxyUriEndpoint": w.uri_endpoint,
                         "XksProxyUriPath": path or w.uri_path,
                         "XksProxyAuthenticationCredential": dict(w.credential.as_member() or {})}
    if vpc is not None:
        service = w.vpc_endpoint_services.get(vpc)
        p.update(XksProxyConnectivity="VPC_ENDPOINT_SERVICE",
                 XksProxyUriEndpoint=w.vpc_uri_endpoint if vpc == "main" else service.uri_endpoint,
                 XksProxyVpcEndpointServiceName=w.vpc_endpoint_service_name if vpc == "main" else service.service_name)
    p.update(extra)
    return p


class InProcess:
    """The WSGI app behind boto3 (a before-send hook) and a raw signed sender, no sockets.

    Its XKS proxies are the process's shared proxy double (xks_proxy())."""

    def __init__(self, **config: Any):
        config = {**xks_config(), **config}
        self.config = ReferenceConfig(**config)
        self.app = make_app(self.config)
        self.backend = self.app.backend
        self.http = Client(self.app)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        url = urlsplit(request.url)
        body = request.body.read() if hasattr(request.body, "read") else (request.body or b"")
        if isinstance(body, str):
            body = body.encode()
        headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()]
        resp = self.http.open(path=url.path or "/", method=request.method, headers=headers,
                              data=body, base_url=f"{url.scheme}://{url.netloc}")
        return AWSResponse(request.url, resp.status_code, dict(resp.headers), _Raw(resp.get_data()))

    def client(self, service: str = "kms", *, key: str = EXAMPLE_ACCESS_KEY_ID,
               secret: str = EXAMPLE_SECRET_ACCESS_KEY, region: str = "us-east-1"):
        c = _SESSION.client(service, endpoint_url=FAKE_URL, region_name=region,
                                           aws_access_key_id=key, aws_secret_access_key=secret, config=NO_VALIDATION)
        c.meta.events.register("before-send", self._send)
        return c

    def raw(self, body: bytes | str | None, *, target: str | None = "TrentService.DescribeCustomKeyStores",
            sign: str = "valid", service: str = "kms", when: dt.datetime | None = None,
            headers: dict[str, str] | None = None, content_type: str = "application/x-amz-json-1.1"):
        """POST a hand-made request; returns (status, headers, parsed-or-raw body)."""
        data = body.encode() if isinstance(body, str) else (body or b"")
        h = {"Content-Type": content_type, **(headers or {})}
        if target is not None:
            h["X-Amz-Target"] = target
        req = AWSRequest(method="POST", url=FAKE_URL + "/", data=data, headers=h)
        if sign != "none":
            secret = "not-the-secret" if sign == "wrong-secret" else EXAMPLE_SECRET_ACCESS_KEY
            key = "AKIAUNKNOWNKEY000000" if sign == "unknown-key" else EXAMPLE_ACCESS_KEY_ID
            sign_request(req, key, secret, service, "us-east-1", when)
        headers = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in req.headers.items()]
        resp = self.http.open(path="/", method="POST", headers=headers, data=data, base_url=FAKE_URL)
        raw = resp.get_data()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return resp.status_code, resp.headers, parsed


def sign_request(req: AWSRequest, key: str, secret: str, service: str, region: str, when: dt.datetime | None = None):
    """botocore's SigV4, optionally at a chosen time (expired / future signatures)."""
    signer = SigV4Auth(Credentials(key, secret), service, region)
    if when is None:
        signer.add_auth(req)
        return
    import botocore.auth as auth_mod

    original = auth_mod.get_current_datetime
    auth_mod.get_current_datetime = lambda: when
    try:
        signer.add_auth(req)
    finally:
        auth_mod.get_current_datetime = original


def create_params(name: str = "store-1", cluster: str | None = None, **extra: Any) -> dict[str, Any]:
    p = {"CustomKeyStoreName": name, "CloudHsmClusterId": cluster or ROLES["active_cluster_id"],
         "TrustAnchorCertificate": ANCHOR, "KeyStorePassword": PASSWORD}
    p.update(extra)
    return {k: v for k, v in p.items() if v is not None}


def error_code(exc_info) -> str:
    return exc_info.value.response["Error"]["Code"]


@contextmanager
def served(*args: str, env: dict[str, str] | None = None):
    """`kms-conformance serve --port 0 ARGS` in a subprocess; yields (endpoint, process, banner)."""
    proc = subprocess.Popen([PYTHON, "-m", "conformance", "serve", "--port", "0", *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"})
    lines: list[str] = []
    endpoint = None
    deadline = time.time() + 20
    try:
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            m = re.search(r"listening on (http://\S+)", line)
            if m:
                endpoint = m.group(1)
            if line.startswith("  try:"):
                break
        if endpoint is None:
            proc.kill()
            out, err = proc.communicate(timeout=5)
            raise RuntimeError(f"serve did not start: {''.join(lines)}{out}{err}")
        yield endpoint, proc, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@contextmanager
def threaded_server(**config: Any):
    """The app on a loopback port in this process (the server `serve` uses); yields (endpoint, backend)."""
    from conformance.reference.server import running

    app = make_app(ReferenceConfig(**config))
    with running(app) as endpoint:
        yield endpoint, app.backend


def url_client(endpoint: str, service: str = "kms", **kw: Any):
    return _SESSION.client(
        service, endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=kw.get("key", EXAMPLE_ACCESS_KEY_ID),
        aws_secret_access_key=kw.get("secret", EXAMPLE_SECRET_ACCESS_KEY), config=NO_VALIDATION)
