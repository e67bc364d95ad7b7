"""How a reference target is set up: edition, credentials, the cluster world, delays, faults, clock."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from conformance import EDITIONS
from conformance.reference.faults import FAULTS
from conformance.reference.world import (
    DEFAULT_KMSUSER_PASSWORD,
    DEFAULT_ROLE_IDS,
    LINEAGE_A_CERT,
    LINEAGE_B_CERT,
    ClusterWorld,
    build_world,
    default_cluster_world,
)
from conformance.reference.xks import VpcEndpointService, build_vpc_services
from conformance.world import World

# AWS's documented example credentials: the only ones accepted unless configured otherwise.
EXAMPLE_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@dataclass
class ReferenceConfig:
    edition: str = "current"
    access_key_id: str = EXAMPLE_ACCESS_KEY_ID
    secret_access_key: str = field(default=EXAMPLE_SECRET_ACCESS_KEY, repr=False)  # never in reprs/tracebacks
    region: str = "us-east-1"
    account_id: str = "111122223333"
    world: ClusterWorld = field(default_factory=default_cluster_world)
    kmsuser_password: str = field(default=DEFAULT_KMSUSER_PASSWORD, repr=False)
    connect_delay_s: float = 0.0
    disconnect_delay_s: float = 0.0
    faults: tuple[str, ...] = ()
    clock: Callable[[], float] = time.time
    verify_signatures: bool = True
    # Seed for store/key ids (None: random). Same seed, same calls -> same ids.
    seed: int | None = None
    # Custom key stores per account and Region (the documented quota).
    store_limit: int = 10
    # How far X-Amz-Date may be from the wall clock (AWS: 5 minutes).
    signature_skew_s: float = 300.0
    # Opt-in HTTP control surface (X-Amz-Target ReferenceControl.*), for served targets only.
    control_api: bool = False
    # Service limits [INFER: AWS publishes none of these for KMS]. The largest legitimate
    # custom key store request is some KB (a 5000-character trust anchor; ~70 KB when every
    # member is at its bound in \uXXXX-escaped astral characters), so a body above 256 KiB
    # is refused (413) before it is read into memory; JSON nested deeper than
    # `max_json_depth` is a SerializationException (the parser would otherwise recurse into
    # a 500); a validation message quotes at most `echo_limit_chars` characters of a value
    # (more than any modelled bound, so every boundary value still comes back whole);
    # `read_timeout_s` bounds how long a served connection may stall (slow body, slow headers).
    max_request_bytes: int = 256 * 1024
    max_json_depth: int = 128
    echo_limit_chars: int = 8192
    read_timeout_s: float = 10.0
    # External key stores. The reference reaches a proxy named https://HOST at the plain-HTTP
    # loopback base URL this map gives for HOST (its one deviation from AWS's HTTPS-only rule;
    # reference/xks.py); any other host is unreachable. The proxy call's timeout (AWS: 250 ms)
    # is longer here so a loaded machine never times out a healthy loopback proxy.
    xks_network: dict[str, str] = field(default_factory=dict)
    xks_proxy_timeout_s: float = 1.0
    # The simulated VPC endpoint services, by (service name, owner account).
    xks_vpc_services: dict[tuple[str, str], VpcEndpointService] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.edition not in EDITIONS:
            raise ValueError(f"unknown edition {self.edition!r}; expected one of {', '.join(EDITIONS)}")
        self.faults = tuple(self.faults or ())
        if self.kmsuser_password != self.world.kmsuser_password:
            # The configured password is the kmsuser password of every cluster in the world.
            self.world.set_kmsuser_password(self.kmsuser_password)
        for host, base in self.xks_network.items():
            check_loopback_base_url(host, base)
        if self.xks_proxy_timeout_s <= 0:
            raise ValueError("xks_proxy_timeout_s must be > 0")
        unknown = [f for f in self.faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)} (see `kms-conformance serve --list-faults`)")

    @classmethod
    def from_world(cls, world: World, **kw: Any) -> "ReferenceConfig":
        """Seed the clusters from a `conformance.world.World` (role ids, trust anchor, password)."""
        roles = {role: getattr(world, role, None) for role in DEFAULT_ROLE_IDS}
        password = kw.pop("kmsuser_password", None) or getattr(world, "kmsuser_password", None) or DEFAULT_KMSUSER_PASSWORD
        cw = build_world(roles, trust_anchor_certificate=getattr(world, "trust_anchor_certificate", None),
                         kmsuser_password=password, region=kw.get("region", "us-east-1"),
                         unrelated_trust_anchor_certificate=getattr(world, "unrelated_trust_anchor_certificate", None))
        xks = getattr(world, "xks", None)
        if xks is not None and "xks_vpc_services" not in kw:
            kw["xks_vpc_services"] = build_vpc_services(xks, account_id=kw.get("account_id", "111122223333"),
                                                        region=kw.get("region", "us-east-1"))
        return cls(world=cw, kmsuser_password=password, **kw)


def check_loopback_base_url(host: str, base: str) -> None:
    """The plain-HTTP deviation is for loopback only: http://127.0.0.1:PORT (or another loopback address)."""
    parts = urlsplit(base)
    try:
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    if parts.scheme != "http" or not loopback or not parts.port:
        raise ValueError(f"XKS proxy host {host}: {base!r} is not a plain-HTTP loopback URL (http://127.0.0.1:PORT)")


def default_world() -> World:
    """The default world as a `conformance.world.World` (what the adapter hands to cases)."""
    return World(trust_anchor_certificate=LINEAGE_A_CERT, unrelated_trust_anchor_certificate=LINEAGE_B_CERT,
                 kmsuser_password=DEFAULT_KMSUSER_PASSWORD, **DEFAULT_ROLE_IDS)
