"""Loopback servers for the targets tests: the reference app served on a thread, a deliberately
broken HTTP server, an STS stand-in for the live adapter, and moto server."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_wsgi(app):
    """Serve a WSGI app on 127.0.0.1:<free port> in a thread; yields the URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class CountingApp:
    """Wraps a WSGI app: counts requests, answers STS GetCallerIdentity (query protocol)."""

    def __init__(self, inner, account="123456789012"):
        self.inner = inner
        self.account = account
        self.requests: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        with self._lock:
            self.requests.append(target or body.decode("latin-1")[:60])
        if not target and b"Action=GetCallerIdentity" in body:
            xml = (
                '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                f"<GetCallerIdentityResult><Arn>arn:aws:iam::{self.account}:user/conformance</Arn>"
                f"<UserId>AIDAEXAMPLE</UserId><Account>{self.account}</Account></GetCallerIdentityResult>"
                "<ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>"
                "</ResponseMetadata></GetCallerIdentityResponse>"
            ).encode()
            start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))])
            return [xml]
        import io

        environ["wsgi.input"] = io.BytesIO(body)
        return self.inner(environ, start_response)


@pytest.fixture
def reference_app():
    from conformance.reference import ReferenceConfig, make_app

    return make_app(ReferenceConfig())


@pytest.fixture
def served_reference(reference_app):
    """(url, counting app) of the default reference emulator served on loopback."""
    app = CountingApp(reference_app)
    with serve_wsgi(app) as url:
        yield url, app


# ------------------------------------------------------------------------------------------------
# A deliberately broken server
# ------------------------------------------------------------------------------------------------


class BrokenHandler(http.server.BaseHTTPRequestHandler):
    """Misbehaves according to the server's `mode` (hang, garbage, html500, truncated, throttle)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):  # noqa: N802 - http.server API
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with srv.lock:
            srv.hits += 1
            hit = srv.hits
        mode = srv.mode
        if mode == "hang":
            srv.release.wait(10)
            return
        if mode == "garbage":
            self._send(200, b"this is not JSON {{{", "text/plain")
        elif mode == "html500":
            self._send(500, b"<!doctype html><html><body><h1>500 Internal Server Error</h1></body></html>",
                       "text/html")
        elif mode == "huge":  # more than the transport keeps (wire.MAX_BODY_KEPT)
            self._send(200, b'{"Keys": [], "Padding": "' + b"x" * (3 << 19) + b'"}', "application/x-amz-json-1.1")
        elif mode == "json500":
            self._send(500, b'{"__type":"KMSInternalException","message":"boom"}', "application/x-amz-json-1.1")
        elif mode == "truncated":
            body = b'{"CustomKeyStores": [{"CustomKeyStoreId": "cks-1234567890abcdef0"'
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body) + 200))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        elif mode == "throttle":
            if hit <= srv.throttle_times:
                self._send(400, b'{"__type":"ThrottlingException","message":"Rate exceeded"}',
                           "application/x-amz-json-1.1")
            else:
                self._send(200, b'{"Keys":[],"Truncated":false}', "application/x-amz-json-1.1")
        else:
            self._send(200, b"{}", "application/x-amz-json-1.1")

    def _send(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class BrokenServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), BrokenHandler)
        self.mode = "ok"
        self.hits = 0
        self.throttle_times = 2
        self.lock = threading.Lock()
        self.release = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def broken_server():
    server = BrokenServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def refused_url():
    """A loopback URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


# ------------------------------------------------------------------------------------------------
# moto server
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_server_url():
    port = free_port()
    exe = VENV_BIN / "moto_server"
    proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    try:
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto_server did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def no_aws_env(monkeypatch, tmp_path):
    """No credentials anywhere in the chain (env, files, metadata)."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name not in ("AWS_EC2_METADATA_DISABLED",):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
