"""The contract every adapter implements, and the world (fixtures by role) cases use."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from conformance.observation import Observation

# The world roles of the target config file (`world.cloudhsm.*`). Contract: extend, never change.
CLUSTER_ROLES = (
    "active_cluster_id",
    "related_cluster_id",
    "unrelated_cluster_id",
    "inactive_cluster_id",
    "invalid_config_cluster_id",
)
SECRET_ROLES = ("kmsuser_password",)
# Optional extension: the trust anchor of the unrelated cluster's lineage, so a case can hold two
# stores at once (name in use on Update, pagination) without tripping CloudHsmClusterInUseException.
CERTIFICATE_ROLES = ("trust_anchor_certificate", "unrelated_trust_anchor_certificate")
ALL_ROLES = CLUSTER_ROLES + CERTIFICATE_ROLES + SECRET_ROLES


class MissingRole(Exception):
    """A case needs a world role the config does not give: the case is SKIPPED with this reason."""

    def __init__(self, role: str):
        self.role = role
        super().__init__(f"world role '{role}' is not configured (world.cloudhsm.{role})")


@dataclass
class Timeouts:
    connect_s: float = 1200.0
    disconnect_s: float = 600.0
    poll_interval_s: float = 5.0
    call_s: float = 30.0  # per HTTP call: a hang becomes ERROR for that case, the run goes on


@dataclass
class World:
    """Fixtures by role. Values are None when the config does not give the role."""

    active_cluster_id: str | None = None
    related_cluster_id: str | None = None
    unrelated_cluster_id: str | None = None
    inactive_cluster_id: str | None = None
    invalid_config_cluster_id: str | None = None
    trust_anchor_certificate: str | None = None
    unrelated_trust_anchor_certificate: str | None = None
    kmsuser_password: str | None = field(default=None, repr=False)  # a secret: never in a repr
    timeouts: Timeouts = field(default_factory=Timeouts)

    def get(self, role: str) -> str:
        value = getattr(self, role, None)
        if not value:
            raise MissingRole(role)
        return value

    def missing(self, roles) -> list[str]:
        return [r for r in roles if not getattr(self, r, None)]


@dataclass
class Capabilities:
    """What the target can show. Filled by capability probing (targets/capabilities.py)."""

    unimplemented: dict[str, str] = field(default_factory=dict)  # operation -> evidence
    # True when CONNECTING / DISCONNECTING can be observed (a connect is not instant).
    observable_transitions: bool = False
    # Adapter-specific knobs the reference target offers (e.g. forcing a FAILED state).
    extras: dict[str, Any] = field(default_factory=dict)

    def is_implemented(self, operation: str) -> bool:
        return operation not in self.unimplemented


@dataclass
class Identity:
    name: str
    adapter: str
    version: str | None = None
    endpoint: str | None = None
    region: str = "us-east-1"


class Target(ABC):
    """A system under test, reached through one adapter.

    `call` goes through a boto3 client built with parameter_validation=False and
    retries off, so the server's own validation is what is tested. `send_raw`
    puts body bytes, headers, X-Amz-Target and the signature under the case's
    control. Neither raises for HTTP or transport failures: both return an
    Observation (transport_error set when no response arrived).
    """

    identity: Identity
    world: World
    capabilities: Capabilities
    timeouts: Timeouts

    @abstractmethod
    def call(self, operation: str, params: dict[str, Any] | None = None, *, service: str = "kms") -> Observation:
        ...

    @abstractmethod
    def send_raw(
        self,
        body: bytes | str | None,
        *,
        amz_target: str | None,
        content_type: str | None = "application/x-amz-json-1.1",
        headers: dict[str, str] | None = None,
        signing: str = "valid",  # valid | none | wrong-secret | unknown-key | expired | malformed
        method: str = "POST",
        path: str = "/",
    ) -> Observation:
        ...

    def begin_case(self, case_id: str) -> None:
        """Told before each case runs (recording and replay key observations by case)."""

    def close(self) -> None:
        """Release clients, servers, patches. Store cleanup is the driver's job (targets/driving.py)."""
