"""The reference target's abilities (conformance.abilities), in-process and over `serve --enable-control`.

No other target offers these; a case that needs one is NOT_TRIGGERABLE elsewhere.
"""

from __future__ import annotations

import json
from typing import Sequence

from conformance.abilities import ClusterSnapshot
from conformance.errors import NotTriggerable
from conformance.observation import Observation
from conformance.reference import Cluster, ClusterWorld
from conformance.reference.xks import change_vpc_service
from conformance.targets.base import Target

CONTROL_PREFIX = "ReferenceControl"


class InProcessWorldControl:
    """World control straight on the in-process emulator's cluster world."""

    def __init__(self, world: ClusterWorld, vpc_services: dict | None = None, region: str = "us-east-1"):
        self._world = world
        self._vpc_services = vpc_services if vpc_services is not None else {}
        self._region = region

    def snapshot(self, cluster_id: str) -> ClusterSnapshot:
        c = self._world.get(cluster_id)
        return ClusterSnapshot(c.state, tuple((h.availability_zone, h.state) for h in c.hsms))

    def set_cluster_state(self, cluster_id: str, state: str) -> None:
        self._world.set_cluster_state(cluster_id, state)

    def set_hsms(self, cluster_id: str, hsms: Sequence[tuple[str, str]]) -> None:
        self._world.set_hsms(cluster_id, list(hsms))

    def add_cluster(self, cluster_id: str, *, lineage: str, certificate: str,
                    hsms: Sequence[tuple[str, str]]) -> None:
        self._world.add_cluster(Cluster(cluster_id=cluster_id, lineage=lineage, certificate=certificate,
                                        kmsuser_password=self._world.kmsuser_password))
        self._world.set_hsms(cluster_id, list(hsms))

    def remove_cluster(self, cluster_id: str) -> None:
        self._world.remove_cluster(cluster_id)

    def set_vpc_endpoint_service(self, service_name: str, *, acceptance_required: bool | None = None,
                                 kms_principal_allowed: bool | None = None) -> None:
        with self._world.lock:
            if not change_vpc_service(self._vpc_services, service_name, self._region,
                                      acceptance_required=acceptance_required,
                                      kms_principal_allowed=kms_principal_allowed):
                raise NotTriggerable(f"the reference world has no VPC endpoint service {service_name}")


class ControlSurface:
    """`ReferenceControl.<Action>` requests to a served reference target (`serve --enable-control`)."""

    def __init__(self, target: Target):
        self._target = target
        self._available: bool | None = None

    def send(self, action: str, params: dict | None = None) -> Observation:
        return self._target.send_raw(json.dumps(params or {}), amz_target=f"{CONTROL_PREFIX}.{action}")

    def describe_cluster(self, cluster_id: str) -> dict | None:
        """The cluster as the target's own CloudHSM DescribeClusters shows it (None when it does not)."""
        obs = self._target.call("DescribeClusters", {"Filters": {"clusterIds": [cluster_id]}}, service="cloudhsmv2")
        clusters = (obs.body.get("Clusters") or []) if isinstance(obs.body, dict) else []
        return next((c for c in clusters if c.get("ClusterId") == cluster_id), None)

    def do(self, action: str, params: dict | None = None) -> dict:
        if not self.available():
            raise NotTriggerable("the target has no control surface (a served reference target offers one with "
                                 "`kms-conformance serve --enable-control`)")
        obs = self.send(action, params)
        if not obs.ok:
            raise NotTriggerable(f"the target's control surface refused {action}: {obs.status} {obs.error_code or ''}".strip())
        return obs.body if isinstance(obs.body, dict) else {}

    def available(self) -> bool:
        """Asked once, on first use: the least intrusive action (it only does what passing time would do)."""
        if self._available is None:
            self._available = self.send("CompletePendingDeletions").ok
        return self._available


class ServedWorldControl:
    """World control through a served reference target's control surface."""

    def __init__(self, surface: ControlSurface):
        self._surface = surface

    def snapshot(self, cluster_id: str) -> ClusterSnapshot:
        c = self._surface.describe_cluster(cluster_id)
        if c is None:
            raise NotTriggerable(f"DescribeClusters does not show {cluster_id}, so its state cannot be restored")
        return ClusterSnapshot(c.get("State", "ACTIVE"),
                               tuple((h.get("AvailabilityZone", ""), h.get("State", "ACTIVE")) for h in c.get("Hsms") or []))

    def set_cluster_state(self, cluster_id: str, state: str) -> None:
        self._surface.do("SetClusterState", {"ClusterId": cluster_id, "State": state})

    def set_hsms(self, cluster_id: str, hsms: Sequence[tuple[str, str]]) -> None:
        self._surface.do("SetHsms", {"ClusterId": cluster_id,
                                     "Hsms": [{"AvailabilityZone": az, "State": st} for az, st in hsms]})

    def add_cluster(self, cluster_id: str, *, lineage: str, certificate: str,
                    hsms: Sequence[tuple[str, str]]) -> None:
        self._surface.do("AddCluster", {"ClusterId": cluster_id, "Lineage": lineage, "Certificate": certificate,
                                        "Hsms": [{"AvailabilityZone": az, "State": st} for az, st in hsms]})

    def remove_cluster(self, cluster_id: str) -> None:
        self._surface.do("RemoveCluster", {"ClusterId": cluster_id})

    def set_vpc_endpoint_service(self, service_name: str, *, acceptance_required: bool | None = None,
                                 kms_principal_allowed: bool | None = None) -> None:
        params: dict = {"ServiceName": service_name}
        if acceptance_required is not None:
            params["AcceptanceRequired"] = acceptance_required
        if kms_principal_allowed is not None:
            params["KmsPrincipalAllowed"] = kms_principal_allowed
        self._surface.do("SetVpcEndpointService", params)


class ServedPendingDeletions:
    """Key deletions completed through a served reference target's control surface."""

    def __init__(self, surface: ControlSurface):
        self._surface = surface

    def complete_pending_deletions(self) -> int:
        return int(self._surface.do("CompletePendingDeletions").get("Deleted", 0))
