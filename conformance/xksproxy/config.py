"""How a proxy double is set up: its credential, its keys, the mode of its bare path, its hang time."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.xksproxy.keys import ExternalKey, default_key_table
from conformance.xksproxy.modes import DEFAULT_MODE, MODES

# A public example credential (like AWS's documented example keys): used when none is configured.
# Access key ids are 20-30 of [A-Z2-7]; secrets 43-64 of the base64 alphabet (XKS proxy API spec).
EXAMPLE_XKS_ACCESS_KEY_ID = "XKSPROXYEXAMPLEKEY2345"
EXAMPLE_XKS_SECRET_ACCESS_KEY = "kmsConformanceXksProxyExampleSecretKey0123456789"
SIGNING_SERVICE = "kms-xks-proxy"  # the SigV4 service name of the XKS proxy API


@dataclass
class ProxyConfig:
    access_key_id: str = EXAMPLE_XKS_ACCESS_KEY_ID
    secret_access_key: str = field(default=EXAMPLE_XKS_SECRET_ACCESS_KEY, repr=False)
    mode: str = DEFAULT_MODE
    keys: dict[str, ExternalKey] = field(default_factory=default_key_table)
    # How long the timeout mode holds a request before answering (well past any caller's timeout).
    hang_s: float = 30.0
    # How far X-Amz-Date may be from the wall clock (the spec: 5 minutes).
    signature_skew_s: float = 300.0
    # Served connections: how long a stalled peer may hold a thread (the reference's server option).
    read_timeout_s: float = 10.0
    max_request_bytes: int = 64 * 1024
    vendor: str = "kms-conformance"
    model: str = "kms-conformance XKS proxy test double"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown proxy mode {self.mode!r}; expected one of {', '.join(MODES)}")
