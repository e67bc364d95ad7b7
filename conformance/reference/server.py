"""The reference target on a loopback socket: werkzeug's threaded server, hardened.

werkzeug's development server answers what reaches the WSGI app, but what it
refuses itself (a garbage request line, a header line over 64 KiB, more than
100 headers) goes out as the stdlib's HTML error page, sometimes without a
status line; a peer that stalls mid-request holds its thread forever; a busy
port prints werkzeug's own advice and exits. Here every one of those is an AWS
JSON error from the app (`ReferenceApp.http_error`), every connection has a
read timeout (`ReferenceConfig.read_timeout_s`), and a bind failure is an
exception the caller words.
"""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from conformance.reference.app import ReferenceApp


class PortUnavailable(Exception):
    """The address could not be bound (in use, not permitted, not local)."""


class _JsonErrorsHandler(WSGIRequestHandler):
    """werkzeug's handler; the errors the HTTP layer answers itself are the app's AWS JSON."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        self.log_error("code %d, message %s", code, message)
        if self.request_version == "HTTP/0.9":  # the request line was unreadable: answer in HTTP/1.1 anyway
            self.request_version = "HTTP/1.1"
        response = self.server.app.http_error(code, message or "The request could not be read.")
        body = response.get_data()
        self.send_response(code, message)
        for name, value in response.headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """One line per request is noise for a test target: the app logs what matters."""


class ReferenceServer(ThreadedWSGIServer):
    """A threaded loopback server for one ReferenceApp; `PortUnavailable` when the port is taken."""

    daemon_threads = True

    def __init__(self, host: str, port: int, app: ReferenceApp):
        timeout = app.config.read_timeout_s
        handler = type("ReferenceRequestHandler", (_JsonErrorsHandler,), {"timeout": timeout})
        super().__init__(host, port, app, handler=handler)

    def server_bind(self) -> None:
        # werkzeug reports an OSError here itself and calls sys.exit(1); raise something it passes on.
        try:
            super().server_bind()
        except OSError as exc:
            raise PortUnavailable(exc.strerror or str(exc)) from None


class running:
    """`with running(app) as endpoint:` the app served on 127.0.0.1 in a background thread."""

    def __init__(self, app: ReferenceApp, host: str = "127.0.0.1", port: int = 0):
        self.server = ReferenceServer(host, port, app)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_port}"

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
