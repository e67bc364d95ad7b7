"""Optional abilities a target may offer beyond the KMS API, as typed protocols.

Some cases need more than requests: passing a key's 7-30 day deletion window, moving a
virtual clock so CONNECTING is observable, changing the CloudHSM world (a cluster goes
inactive, an HSM is lost). A target offers each through `Target.abilities`; a case asks
with `need_*`, which raises NotTriggerable naming what is missing, so the report says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence, runtime_checkable

from conformance.errors import NotTriggerable

# How to get each ability on a target of ours, for the NOT_TRIGGERABLE reason.
_HOW = {
    "clock": "the in-process reference target has one",
    "world control": "the in-process reference target, or `kms-conformance serve --enable-control`",
    "pending deletions": "the in-process reference target, or `kms-conformance serve --enable-control`",
}


@dataclass(frozen=True)
class ClusterSnapshot:
    """A cluster's state and HSMs (availability zone, state), to restore after a case changed them."""

    state: str
    hsms: tuple[tuple[str, str], ...]


@runtime_checkable
class VirtualClock(Protocol):
    """Time the target runs on, which the suite may move forward (no wall-clock waiting)."""

    def advance(self, seconds: float) -> None: ...


@runtime_checkable
class PendingDeletions(Protocol):
    """Ends every key deletion's waiting period now, as if it had passed."""

    def complete_pending_deletions(self) -> int: ...


@runtime_checkable
class WorldControl(Protocol):
    """Changes to the CloudHSM world a test may make, and undo."""

    def snapshot(self, cluster_id: str) -> ClusterSnapshot: ...

    def set_cluster_state(self, cluster_id: str, state: str) -> None: ...

    def set_hsms(self, cluster_id: str, hsms: Sequence[tuple[str, str]]) -> None: ...

    def add_cluster(self, cluster_id: str, *, lineage: str, certificate: str,
                    hsms: Sequence[tuple[str, str]]) -> None: ...

    def remove_cluster(self, cluster_id: str) -> None: ...

    def set_vpc_endpoint_service(self, service_name: str, *, acceptance_required: bool | None = None,
                                 kms_principal_allowed: bool | None = None) -> None:
        """Change a VPC endpoint service of the XKS world (e.g. so a store's Connect finds it broken)."""


@dataclass
class Abilities:
    """What a target offers beyond the API; None where it offers nothing."""

    clock: VirtualClock | None = None
    world_control: WorldControl | None = None
    pending_deletions: PendingDeletions | None = None

    def need_clock(self, why: str) -> VirtualClock:
        return _need(self.clock, "clock", why)

    def need_world_control(self, why: str) -> WorldControl:
        return _need(self.world_control, "world control", why)

    def need_pending_deletions(self, why: str) -> PendingDeletions:
        return _need(self.pending_deletions, "pending deletions", why)


def _need(ability, name: str, why: str):
    if ability is None:
        raise NotTriggerable(f"{why}; this target offers no {name} ability ({_HOW[name]})")
    return ability
