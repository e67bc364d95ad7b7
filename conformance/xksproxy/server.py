"""The proxy double on a loopback socket: the reference target's hardened server (reference/server.py)."""

from __future__ import annotations

import threading
from typing import Any

from conformance.reference.server import ReferenceServer
from conformance.xksproxy.app import XksProxyApp


class ProxyServer(ReferenceServer):
    """A threaded loopback server for one XksProxyApp (JSON errors, read timeout, PortUnavailable)."""

    def shutdown(self) -> None:
        self.app.release()  # requests held by the timeout mode end now
        super().shutdown()


class running_proxy:
    """`with running_proxy(app) as base_url:` the proxy double on 127.0.0.1 in a background thread.

    Also usable without `with`: `start()` returns the base URL, `stop()` ends it.
    """

    def __init__(self, app: XksProxyApp, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.server = ProxyServer(host, port, app)  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="xks-proxy-double")

    @property
    def port(self) -> int:
        return self.server.server_port

    def start(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
