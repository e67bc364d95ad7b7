"""The world a target offers the cases: fixtures by role (clusters, certificates, the kmsuser
password) and the timeouts of its state transitions. Shared by the config file, the reference
emulator, the adapters and the cases, so it sits on the floor below all of them."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.errors import MissingRole

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
