"""`kms-conformance serve`: the reference target on a loopback port, for boto3, the AWS CLI or any SDK."""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from conformance import EDITIONS
from conformance.errors import UsageError

# The reference and the config loader are imported where used: every `kms-conformance` command
# registers this module's options, and `--version` or `run --help` must not load the emulator.
if TYPE_CHECKING:  # pragma: no cover
    from conformance.reference import ReferenceConfig

DEFAULT_PORT = 4599


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the reference target (an emulator of the KMS custom key store API) on 127.0.0.1",
        description="Serve the reference target over AWS JSON 1.1 with SigV4 checks. Loopback only.",
    )
    p.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None,
                   help=f"port (0 = any free port; default: the config's endpoint_url port, else {DEFAULT_PORT})")
    p.add_argument("--config", metavar="FILE", help="target config file: its credentials and world.cloudhsm roles")
    p.add_argument("--edition", choices=EDITIONS, default=None, help="behaviour edition (default current)")
    p.add_argument("--connect-delay", type=float, default=None, metavar="S", help="seconds spent CONNECTING")
    p.add_argument("--disconnect-delay", type=float, default=None, metavar="S", help="seconds spent DISCONNECTING")
    p.add_argument("--fault", action="append", default=[], metavar="NAME", help="enable a seeded fault (repeatable)")
    p.add_argument("--list-faults", action="store_true", help="list the seeded faults and exit")
    p.add_argument("--print-trust-anchor", action="store_true",
                   help="print the trust anchor certificate (PEM) of the served world and exit "
                        "(with --config: that world's); use it as --trust-anchor-certificate file://...")
    p.add_argument("--enable-control", action="store_true",
                   help="also answer the test control surface (X-Amz-Target ReferenceControl.*: add or remove "
                        "clusters, make them go inactive, change the kmsuser password); off by default")
    p.add_argument("--xks-proxy-http", action="append", default=[], metavar="HOST=PORT|PORT",
                   help="reach the XKS proxy named https://HOST over plain HTTP at 127.0.0.1:PORT (repeatable); "
                        "a bare PORT maps every host world.xks names (the reference's one deviation from AWS's "
                        "HTTPS-only rule, loopback only; e.g. a `kms-conformance xks-proxy` port)")
    p.add_argument("--xks-proxy-timeout", type=float, default=None, metavar="S",
                   help="seconds the reference waits for an XKS proxy answer (default 1.0; AWS waits 0.25)")
    p.set_defaults(func=cmd_serve)


def list_faults(out=None) -> None:
    """One line per fault; `out` defaults to the sys.stdout of the moment (so capture works)."""
    from conformance.reference import FAULTS

    width = max(len(n) for n in FAULTS)
    for f in FAULTS.values():
        print(f"{f.name:<{width}}  [{', '.join(f.breaks)}]  {f.description}", file=out)


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise UsageError(f"--host {host}: the reference target binds loopback addresses only (e.g. 127.0.0.1)")


def build_config(args: argparse.Namespace) -> tuple[ReferenceConfig, int]:
    """ReferenceConfig and port from the options and the optional target config file."""
    from conformance.reference import FAULTS, ReferenceConfig
    from conformance.reference.xks import build_vpc_services
    from conformance.targets.config import load_config
    from conformance.targets.reference_xks import default_reference_xks

    kw: dict[str, Any] = {}
    port = args.port
    world = None
    xks = None
    faults = list(args.fault or [])
    if args.config:
        cfg = load_config(args.config)  # ConfigError (exit 2) names the bad key
        t = cfg.target
        if t.access_key_id or t.secret_access_key:
            if not (t.access_key_id and t.secret_access_key):
                raise UsageError(f"{args.config}: target.access_key_id and target.secret_access_key go together")
            kw.update(access_key_id=t.access_key_id, secret_access_key=t.secret_access_key)
        if t.region:
            kw["region"] = t.region
        if t.connect_delay_s is not None:
            kw["connect_delay_s"] = t.connect_delay_s
        if t.disconnect_delay_s is not None:
            kw["disconnect_delay_s"] = t.disconnect_delay_s
        faults = list(t.faults or ()) + faults
        if port is None and t.endpoint_url:
            port = urlsplit(t.endpoint_url).port
        if cfg.world_given:
            world = cfg.world
        if cfg.xks_given:
            xks = cfg.world.xks
    if args.edition:
        kw["edition"] = args.edition
    if args.connect_delay is not None:
        kw["connect_delay_s"] = args.connect_delay
    if args.disconnect_delay is not None:
        kw["disconnect_delay_s"] = args.disconnect_delay
    xks = xks or default_reference_xks(kw.get("region", "us-east-1"))
    kw["xks_network"] = xks_network(args.xks_proxy_http or [], xks)
    kw["xks_vpc_services"] = build_vpc_services(xks, account_id="111122223333", region=kw.get("region", "us-east-1"))
    if args.xks_proxy_timeout is not None:
        if args.xks_proxy_timeout <= 0:
            raise UsageError("--xks-proxy-timeout must be > 0")
        kw["xks_proxy_timeout_s"] = args.xks_proxy_timeout
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        raise UsageError(f"unknown fault(s): {', '.join(unknown)} (see `kms-conformance serve --list-faults`)")
    kw["faults"] = tuple(dict.fromkeys(faults))
    kw["control_api"] = bool(getattr(args, "enable_control", False))
    for key in ("connect_delay_s", "disconnect_delay_s"):
        if kw.get(key, 0) < 0:
            raise UsageError(f"--{key[:-2].replace('_', '-')} must not be negative")
    config = ReferenceConfig.from_world(world, **kw) if world is not None else ReferenceConfig(**kw)
    return config, DEFAULT_PORT if port is None else port


def xks_network(values: list[str], xks) -> dict[str, str]:
    """`--xks-proxy-http HOST=PORT` / `PORT` as the reference's loopback map."""
    from conformance.targets.reference_xks import loopback_network

    network: dict[str, str] = {}
    for value in values:
        host, _, port = value.rpartition("=")
        if not port.isdigit() or not 0 < int(port) < 65536 or (host == "" and "=" in value):
            raise UsageError(f"--xks-proxy-http {value}: expected HOST=PORT or PORT (a port on 127.0.0.1)")
        network.update({host.lower(): f"http://127.0.0.1:{port}"} if host else loopback_network(xks, int(port)))
    return network


def banner(config: ReferenceConfig, endpoint: str, config_file: str | None = None) -> str:
    """What a user needs to point a client here.

    The secret key and kmsuser password are printed only while they are the defaults, which are
    public example values (AWS's documented example key, our example password); a configured one
    is never shown.
    """
    from conformance.reference import EXAMPLE_SECRET_ACCESS_KEY
    from conformance.reference.world import DEFAULT_KMSUSER_PASSWORD, LINEAGE_A_CERT, fingerprint

    example_secret = config.secret_access_key == EXAMPLE_SECRET_ACCESS_KEY
    example_password = config.kmsuser_password == DEFAULT_KMSUSER_PASSWORD
    secret = (f"{config.secret_access_key}  (AWS's public example key)" if example_secret
              else "the configured one, not shown")
    password = (f"{config.kmsuser_password}  (public example value)" if example_password
                else "the configured one, not shown")
    export = (f"export AWS_ACCESS_KEY_ID={config.access_key_id} "
              + (f"AWS_SECRET_ACCESS_KEY={config.secret_access_key} " if example_secret else "")
              + f"AWS_DEFAULT_REGION={config.region} AWS_REGION={config.region} AWS_ENDPOINT_URL={endpoint}")
    if not example_secret:
        export += f"  # and AWS_SECRET_ACCESS_KEY=<target.secret_access_key of {config_file or 'your config'}>"
    anchor_cmd = "kms-conformance serve --print-trust-anchor" + (f" --config {config_file}" if config_file else "")
    anchor_from = ("the built-in example certificate" if config.world.trust_anchor_certificate == LINEAGE_A_CERT
                   else f"world.cloudhsm.trust_anchor_certificate of {config_file or 'the config'}")
    lines = [
        f"kms-conformance reference target listening on {endpoint}",
        f"  access key id : {config.access_key_id}",
        f"  secret key    : {secret}",
        f"  region        : {config.region}",
        f"  edition       : {config.edition}",
        f"  delays        : connect {config.connect_delay_s}s, disconnect {config.disconnect_delay_s}s",
        f"  faults        : {', '.join(config.faults) if config.faults else 'none'}",
        f"  control API   : {'enabled (X-Amz-Target ReferenceControl.*)' if config.control_api else 'disabled'}",
        "  world (cloudhsm clusters by role):",
    ]
    for role, cluster_id in config.world.roles.items():
        lines.append(f"    {role:<26}: {cluster_id}")
    lines.append(f"    kmsuser password          : {password}")
    lines.append(f"    trust anchor              : {anchor_from}, "
                 f"sha256:{fingerprint(config.world.trust_anchor_certificate)}")
    lines.append(f"    get the trust anchor      : {anchor_cmd} > anchor.pem"
                 "  (then --trust-anchor-certificate file://anchor.pem)")
    if config.edition != "2019-12":
        lines.append("  xks proxies   : " + ("none: every XKS proxy is unreachable (--xks-proxy-http HOST=PORT)"
                                          if not config.xks_network else
                                          "plain HTTP on loopback (the reference's one deviation from AWS's "
                                          "HTTPS-only rule)"))
        for host, base in config.xks_network.items():
            lines.append(f"    https://{host:<40} -> {base}")
    lines.append(f"  environment   : {export}")
    lines.append(f"  try: aws kms describe-custom-key-stores --endpoint-url {endpoint} --region {config.region}")
    return "\n".join(lines)


def cmd_serve(args: argparse.Namespace) -> int:
    from conformance.reference import make_app
    from conformance.reference.server import PortUnavailable, ReferenceServer

    if args.list_faults:
        list_faults()
        return 0
    _check_loopback(args.host)
    try:
        config, port = build_config(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.print_trust_anchor:
        print(config.world.trust_anchor_certificate.strip())
        return 0
    app = make_app(config)
    try:
        server = ReferenceServer(args.host, port, app)
    except (PortUnavailable, OSError) as exc:
        raise UsageError(f"cannot listen on {args.host}:{port}: {exc}"
                         + (" (another program uses it: pick another --port, or 0 for any free port)"
                            if "in use" in str(exc) else "")) from None
    host = f"[{args.host}]" if ":" in args.host else args.host
    endpoint = f"http://{host}:{server.server_port}"
    serve_until_signalled(server, banner(config, endpoint, args.config), "kms-conformance reference target stopped")
    return 0


def serve_until_signalled(server: Any, banner_text: str, stopped_text: str) -> None:
    """Serve until SIGINT/SIGTERM, then close: the one stop rule of `serve` and `xks-proxy`."""

    def stop(signum: int, _frame: Any) -> None:
        # shutdown() waits for serve_forever to return: call it off the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    # Handlers first: whoever reads the banner may signal at once.
    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    print(banner_text, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        for s, h in previous.items():
            signal.signal(s, h)
    print(stopped_text, flush=True)
