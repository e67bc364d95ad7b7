"""An XKS proxy test double: the XKS Proxy API (health, key metadata, encrypt, decrypt) on loopback.

It lets the suite test external key stores without an external key manager: the reference target
reaches it over plain HTTP on 127.0.0.1, `kms-conformance xks-proxy` serves it for other targets
(behind your own TLS front) or by hand. Modes (modes.py) make it misbehave in one documented way
each, on its bare path (`--mode`) and on `/<mode>/kms/xks/v1`.
"""

from typing import Any

from conformance.xksproxy.config import (
    EXAMPLE_XKS_ACCESS_KEY_ID,
    EXAMPLE_XKS_SECRET_ACCESS_KEY,
    SIGNING_SERVICE,
    ProxyConfig,
)
from conformance.xksproxy.keys import DEFAULT_KEYS, ExternalKey
from conformance.xksproxy.modes import API_PATH, DEFAULT_MODE, FAULTY_PATH_MODES, MODES, mode_path
from conformance.xksproxy.world import PROXY_HOST, SECOND_PROXY_HOST, proxy_world, world_block


def __getattr__(name: str) -> Any:
    """The app and its server on first use (PEP 562): they load the WSGI stack (werkzeug), which
    `kms-conformance --help` must not, though it reads the modes and host names above."""
    if name in ("XksProxyApp", "aad_for"):
        from conformance.xksproxy import app

        return getattr(app, name)
    if name in ("ProxyServer", "running_proxy"):
        from conformance.xksproxy import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "API_PATH",
    "DEFAULT_KEYS",
    "DEFAULT_MODE",
    "EXAMPLE_XKS_ACCESS_KEY_ID",
    "EXAMPLE_XKS_SECRET_ACCESS_KEY",
    "ExternalKey",
    "FAULTY_PATH_MODES",
    "MODES",
    "PROXY_HOST",
    "ProxyConfig",
    "ProxyServer",
    "SECOND_PROXY_HOST",
    "SIGNING_SERVICE",
    "XksProxyApp",
    "aad_for",
    "mode_path",
    "proxy_world",
    "running_proxy",
    "world_block",
]
