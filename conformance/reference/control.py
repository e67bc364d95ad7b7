"""The test control surface over HTTP, only when explicitly enabled (`serve --enable-control`).

Served targets are reached through the endpoint adapter, which has no
in-process handle on the world; this lets a suite run there still make a
cluster disappear, go inactive, lose HSMs or change the kmsuser password.
Requests are ordinary SigV4-signed AWS JSON 1.1 calls with
`X-Amz-Target: ReferenceControl.<Action>` (signing name `kms`). Never part of
the emulated AWS API: disabled, the prefix is an unknown operation like any other.
"""

from __future__ import annotations

from typing import Any, Callable

from conformance.reference.errors import ApiError

CONTROL_PREFIX = "ReferenceControl"


def _cluster(backend: Any, p: dict) -> str:
    cid = p.get("ClusterId")
    if not isinstance(cid, str) or backend.world.get(cid) is None:
        raise ApiError("ReferenceControlException", f"unknown cluster {cid!r}")
    return cid


def _set_hsms(backend: Any, p: dict) -> dict:
    hsms = p.get("Hsms")
    if not isinstance(hsms, list) or not all(isinstance(h, dict) for h in hsms):
        raise ApiError("ReferenceControlException", "Hsms must be a list of {AvailabilityZone, State}")
    backend.world.set_hsms(_cluster(backend, p), [(h.get("AvailabilityZone", ""), h.get("State", "ACTIVE")) for h in hsms])
    return {}


def _set_password(backend: Any, p: dict) -> dict:
    pw = p.get("Password")
    if not isinstance(pw, str) or not pw:
        raise ApiError("ReferenceControlException", "Password must be a non-empty string")
    backend.world.set_kmsuser_password(pw, _cluster(backend, p) if p.get("ClusterId") else None)
    return {}


ACTIONS: dict[str, Callable[[Any, dict], dict]] = {
    "RemoveCluster": lambda b, p: (b.world.remove_cluster(_cluster(b, p)), {})[1],
    "SetClusterState": lambda b, p: (b.world.set_cluster_state(_cluster(b, p), str(p.get("State", "ACTIVE"))), {})[1],
    "SetNetworkOk": lambda b, p: (b.world.set_network_ok(_cluster(b, p), bool(p.get("Ok", True))), {})[1],
    "SetHsms": _set_hsms,
    "SetKmsuserPassword": _set_password,
    "CompletePendingDeletions": lambda b, p: {"Deleted": b.complete_pending_deletions()},
    "Reset": lambda b, p: (b.reset(), {})[1],
}


def run_action(backend: Any, action: str, params: dict) -> dict:
    handler = ACTIONS.get(action)
    if handler is None:
        raise ApiError("UnknownOperationException")
    with backend.world.lock:
        return handler(backend, params)
