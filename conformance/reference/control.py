"""The test control surface over HTTP, only when explicitly enabled (`serve --enable-control`).

Served targets are reached through the endpoint adapter, which has no
in-process handle on the world; this lets a suite run there still make a
cluster appear or disappear, go inactive, lose HSMs or change the kmsuser password.
Requests are ordinary SigV4-signed AWS JSON 1.1 calls with
`X-Amz-Target: ReferenceControl.<Action>` (signing name `kms`). Never part of
the emulated AWS API: disabled, the prefix is an unknown operation like any other.
"""

from __future__ import annotations

from typing import Any, Callable

from conformance.reference.errors import ReferenceControlException, UnknownOperationException
from conformance.reference.world import Cluster
from conformance.reference.xks import change_vpc_service

CONTROL_PREFIX = "ReferenceControl"


def _cluster(backend: Any, p: dict) -> str:
    cid = p.get("ClusterId")
    if not isinstance(cid, str) or backend.world.get(cid) is None:
        raise ReferenceControlException(f"unknown cluster {cid!r}")
    return cid


def _text(p: dict, member: str) -> str:
    value = p.get(member)
    if not isinstance(value, str) or not value:
        raise ReferenceControlException(f"{member} must be a non-empty string")
    return value


def _hsms(p: dict) -> list[tuple[str, str]]:
    hsms = p.get("Hsms")
    if not isinstance(hsms, list) or not all(isinstance(h, dict) for h in hsms):
        raise ReferenceControlException("Hsms must be a list of {AvailabilityZone, State}")
    return [(h.get("AvailabilityZone", ""), h.get("State", "ACTIVE")) for h in hsms]


def _set_hsms(backend: Any, p: dict) -> dict:
    hsms = _hsms(p)
    backend.world.set_hsms(_cluster(backend, p), hsms)
    return {}


def _add_cluster(backend: Any, p: dict) -> dict:
    """A new (or replaced) ACTIVE cluster with the world's kmsuser password, as the in-process control does."""
    cluster_id, lineage, certificate, hsms = _text(p, "ClusterId"), _text(p, "Lineage"), _text(p, "Certificate"), _hsms(p)
    backend.world.add_cluster(Cluster(cluster_id=cluster_id, lineage=lineage, certificate=certificate,
                                      kmsuser_password=backend.world.kmsuser_password))
    backend.world.set_hsms(cluster_id, hsms)
    return {}


def _set_password(backend: Any, p: dict) -> dict:
    pw = _text(p, "Password")
    backend.world.set_kmsuser_password(pw, _cluster(backend, p) if p.get("ClusterId") else None)
    return {}


def _set_vpc_service(backend: Any, p: dict) -> dict:
    flags = {}
    for member, key in (("AcceptanceRequired", "acceptance_required"), ("KmsPrincipalAllowed", "kms_principal_allowed")):
        if member in p:
            if not isinstance(p[member], bool):
                raise ReferenceControlException(f"{member} must be true or false")
            flags[key] = p[member]
    name = _text(p, "ServiceName")
    if not change_vpc_service(backend.config.xks_vpc_services, name, backend.config.region, **flags):
        raise ReferenceControlException(f"unknown VPC endpoint service {name!r}")
    return {}


ACTIONS: dict[str, Callable[[Any, dict], dict]] = {
    "AddCluster": _add_cluster,
    "RemoveCluster": lambda b, p: (b.world.remove_cluster(_cluster(b, p)), {})[1],
    "SetClusterState": lambda b, p: (b.world.set_cluster_state(_cluster(b, p), str(p.get("State", "ACTIVE"))), {})[1],
    "SetNetworkOk": lambda b, p: (b.world.set_network_ok(_cluster(b, p), bool(p.get("Ok", True))), {})[1],
    "SetHsms": _set_hsms,
    "SetKmsuserPassword": _set_password,
    "SetVpcEndpointService": _set_vpc_service,
    "CompletePendingDeletions": lambda b, p: {"Deleted": b.complete_pending_deletions()},
    "Reset": lambda b, p: (b.reset(), {})[1],
}


def run_action(backend: Any, action: str, params: dict) -> dict:
    handler = ACTIONS.get(action)
    if handler is None:
        raise UnknownOperationException()
    with backend.world.lock:
        return handler(backend, params)
