"""`kms-conformance xks-proxy`: the XKS proxy test double on a loopback port."""

from __future__ import annotations

import argparse
import os
from typing import Any

from conformance.cli.serve import serve_until_signalled
from conformance.errors import UsageError

# Only the proxy's plain data here: `kms-conformance --help` registers this command, and the app, its
# server (werkzeug) and the config loader are imported where the proxy is started.
from conformance.xksproxy.config import EXAMPLE_XKS_ACCESS_KEY_ID, ProxyConfig
from conformance.xksproxy.keys import DEFAULT_KEYS, ExternalKey
from conformance.xksproxy.modes import MODES
from conformance.xksproxy.world import CREDENTIAL_ENV, PROXY_HOST, SECOND_PROXY_HOST, proxy_world, world_block

DEFAULT_PORT = 4600


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "xks-proxy",
        help="serve an XKS proxy test double (health, key metadata, encrypt, decrypt) on 127.0.0.1",
        description="Serve the XKS Proxy API on a loopback port, for the reference target or by hand. "
                    "Every mode is also served under /<mode>/kms/xks/v1. Prints the world.xks block to paste.",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (0 = any free port; default {DEFAULT_PORT})")
    p.add_argument("--mode", choices=tuple(MODES), default="correct", metavar="MODE",
                   help="behaviour of the bare path /kms/xks/v1 (default correct; see --list-modes)")
    p.add_argument("--config", metavar="FILE",
                   help="target config file: the proxy uses its world.xks.credential and world.xks.keys ids")
    p.add_argument("--host-name", default=PROXY_HOST, metavar="NAME",
                   help=f"host name targets reach this proxy by, for the printed block (default {PROXY_HOST})")
    p.add_argument("--hang", type=float, default=30.0, metavar="S",
                   help="seconds the timeout mode holds a request (default 30)")
    p.add_argument("--list-modes", action="store_true", help="list the modes and exit")
    p.set_defaults(func=cmd_xks_proxy)


def build_proxy_config(args: argparse.Namespace) -> tuple[ProxyConfig, str]:
    """The proxy's set-up, and where its credential came from (for the banner; never the secret)."""
    kw: dict[str, Any] = {"mode": args.mode, "hang_s": args.hang}
    source = f"built-in example (access key id {EXAMPLE_XKS_ACCESS_KEY_ID}; secret in README)"
    env = [os.environ.get(name) for name in CREDENTIAL_ENV]
    if any(env):
        if not all(env):
            raise UsageError(f"{' and '.join(CREDENTIAL_ENV)} go together: set both or neither")
        kw.update(access_key_id=env[0], secret_access_key=env[1])
        source = f"${CREDENTIAL_ENV[0]} / ${CREDENTIAL_ENV[1]}"
    if args.config:
        from conformance.targets.config import load_config

        xks = load_config(args.config).world.xks  # ConfigError (exit 2) names the bad key
        if xks.credential.access_key_id:
            kw.update(access_key_id=xks.credential.access_key_id,
                      secret_access_key=xks.credential.secret_access_key)
            source = f"world.xks.credential of {args.config}"
        if xks.keys:
            defaults = {role: key for role, (_, key) in DEFAULT_KEYS.items()}
            kw["keys"] = {key_id: defaults.get(role, ExternalKey()) for role, key_id in xks.keys.items()}
    if args.hang <= 0:
        raise UsageError("--hang must be > 0")
    try:
        return ProxyConfig(**kw), source
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def banner(config: ProxyConfig, port: int, host_name: str, credential_source: str) -> str:
    world = proxy_world(config, uri_endpoint=f"https://{host_name}",
                        second_uri_endpoint=f"https://{SECOND_PROXY_HOST}" if host_name == PROXY_HOST else None)
    hosts = [host_name] + ([SECOND_PROXY_HOST] if host_name == PROXY_HOST else [])
    reach = " ".join(f"--xks-proxy-http {h}={port}" for h in hosts)
    return "\n".join([
        f"kms-conformance XKS proxy double listening on http://127.0.0.1:{port} (plain HTTP, loopback only)",
        f"  mode of {'/kms/xks/v1':<12}: {config.mode}; every mode also on /<mode>/kms/xks/v1",
        f"  SigV4 service : kms-xks-proxy (any Region)",
        f"  credential    : {credential_source}",
        f"  keys          : {', '.join(config.keys)}",
        f"  the served reference reaches it with: kms-conformance serve {reach}",
        "  world.xks for a target config (set the credential variables to the proxy's credential):",
        "",
        world_block(world),
    ])


def cmd_xks_proxy(args: argparse.Namespace) -> int:
    if args.list_modes:
        width = max(len(m) for m in MODES)
        for name, text in MODES.items():
            print(f"{name:<{width}}  {text}")
        return 0
    from conformance.reference.server import PortUnavailable
    from conformance.xksproxy.app import XksProxyApp
    from conformance.xksproxy.server import ProxyServer

    config, source = build_proxy_config(args)
    app = XksProxyApp(config)
    try:
        server = ProxyServer("127.0.0.1", args.port, app)  # type: ignore[arg-type]
    except (PortUnavailable, OSError) as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc}") from None
    serve_until_signalled(server, banner(config, server.server_port, args.host_name, source),
                          "kms-conformance XKS proxy double stopped")
    return 0
