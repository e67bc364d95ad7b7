"""A chaos proxy on loopback: forwards to a target, and injects 503s, throttling, resets and cut-off replies.

Kept in the tests (not shipped): it exists to prove the health policy of
conformance/targets/health.py, and a user's own network supplies the chaos.
Hand-written over http.server because no maintained library injects these
HTTP-level faults in-process; it is ~100 lines.

Each request draws from a seeded generator: the same seed and request order
give the same faults. `max_burst` bounds how many faults in a row one client
sees (a transient fault passes), so "behind the proxy the verdicts are the same"
does not rest on luck; `None` means no bound (0 and 1 rates are absolute).
"""

from __future__ import annotations

import contextlib
import http.server
import random
import socket
import socketserver
import threading

import urllib3

THROTTLE_BODY = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
UNAVAILABLE_BODY = b"<html><body><h1>503 Service Unavailable</h1></body></html>"
FAULTS = ("unavailable", "throttle", "reset", "truncate")


class ChaosProxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: str, *, seed: int = 0, max_burst: int | None = 3, **rates: float):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream = upstream.rstrip("/")
        self.rates = {name: float(rates.pop(name, 0.0)) for name in FAULTS}
        if rates:
            raise ValueError(f"unknown fault(s) {sorted(rates)}; expected {FAULTS}")
        self.max_burst = max_burst
        self.injected = {name: 0 for name in FAULTS}
        self.forwarded = 0
        self._burst = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._pool = urllib3.PoolManager(retries=False, maxsize=8)
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def set_rates(self, **rates: float) -> None:
        with self._lock:
            self.rates = {name: float(rates.get(name, 0.0)) for name in FAULTS}

    def draw(self) -> str | None:
        """The fault for the next request (None: forward it unchanged)."""
        with self._lock:
            roll = self._rng.random()
            if self.max_burst is not None and self._burst >= self.max_burst:
                self._burst = 0
                self.forwarded += 1
                return None
            edge = 0.0
            for name in FAULTS:
                edge += self.rates[name]
                if roll < edge:
                    self._burst += 1
                    self.injected[name] += 1
                    return name
            self._burst = 0
            self.forwarded += 1
            return None

    def handle_error(self, request, client_address):  # a reset we made ourselves is no news
        pass

    def forward(self, method: str, path: str, headers: dict, body: bytes):
        headers = {k: v for k, v in headers.items() if k.lower() != "connection"}  # Host is signed: keep it
        return self._pool.urlopen(method, self.upstream + path, body=body or None, headers=headers,
                                  retries=False, redirect=False)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self._pool.clear()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        proxy: ChaosProxy = self.server
        fault = proxy.draw()
        if fault == "unavailable":
            self._send(503, UNAVAILABLE_BODY, {"Content-Type": "text/html"})
        elif fault == "throttle":
            self._send(400, THROTTLE_BODY, {"Content-Type": "application/x-amz-json-1.1",
                                            "x-amzn-RequestId": "00000000-0000-4000-8000-00000000c4a0"})
        elif fault == "reset":
            self._reset()
        else:
            upstream = proxy.forward(self.command, self.path, dict(self.headers), body)
            headers = {k: v for k, v in upstream.headers.items()
                       if k.lower() not in ("content-length", "connection", "transfer-encoding")}
            if fault == "truncate":
                self._cut_short(upstream.status, upstream.data, headers)
            else:
                self._send(upstream.status, upstream.data, headers)

    do_GET = do_PUT = do_DELETE = do_POST

    def _send(self, status: int, body: bytes, headers: dict) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _cut_short(self, status: int, body: bytes, headers: dict) -> None:
        """The declared length, half the bytes, then the connection closes."""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self._close_hard(graceful=True)

    def _reset(self) -> None:
        self._close_hard(graceful=False)

    def _close_hard(self, *, graceful: bool) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            if not graceful:  # RST instead of FIN: SO_LINGER with a zero timeout
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR) if graceful else self.connection.close()
