"""ConnectCustomKeyStore on external key stores: a working proxy connects, a failing one ends FAILED
with the ConnectionErrorCode that names the cause.

The failing stores use VPC endpoint service connectivity: KMS checks such a store's proxy when it
connects, not when it is created, so a store on a misbehaving proxy path (or with a credential the
proxy does not know) can be made and then connected.
"""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import Scenario, ok
from conformance.cases.scenarios.xks_kit import (
    CONNECT_OPS,
    VPC,
    connect_and_settle,
    made_up_credential,
    new_store,
    role,
    xks_scenario,
)

OP = "ConnectCustomKeyStore"


def connects(s: Scenario) -> None:
    sid = new_store(s)
    entry = connect_and_settle(s, sid, expect=ok(), requirements=["CON-080"]) or {}
    s.check("the store ends CONNECTED, without ConnectionErrorCode",
            entry.get("ConnectionState") == "CONNECTED" and not entry.get("ConnectionErrorCode"),
            f"ConnectionState {entry.get('ConnectionState')}, ConnectionErrorCode {entry.get('ConnectionErrorCode')}",
            requirements=["CON-080"])


def fails_with(code: str, rid: str, *, path: str | None = None, wrong_credential: bool = False):
    def body(s: Scenario) -> None:
        kw = {"connectivity": VPC, "suffix": "vpc"}
        if path:
            kw["path"] = role(s, f"faulty_paths.{path}")
        if wrong_credential:
            kw["cred"] = made_up_credential(s)
        sid = new_store(s, "setup: a VPC endpoint service store on the failing proxy", **kw)
        entry = connect_and_settle(s, sid, expect=ok(), requirements=[rid]) or {}
        s.check(f"the store ends FAILED with {code}",
                entry.get("ConnectionState") == "FAILED" and entry.get("ConnectionErrorCode") == code,
                f"ConnectionState {entry.get('ConnectionState')}, ConnectionErrorCode "
                f"{entry.get('ConnectionErrorCode')}", requirements=[rid])

    return body


def vpc_service_breaks(code: str, rid: str, broken: dict, fixed: dict):
    """A VPC endpoint service that goes wrong after the store was made on it (Create checks the service,
    so only a change of the world can show what Connect then says): `broken` and `fixed` are the
    service's settings (WorldControl.set_vpc_endpoint_service) during the connect and after it."""
    def body(s: Scenario) -> None:
        what = ", ".join(f"{k} {v}" for k, v in broken.items())
        control = s.target.abilities.need_world_control(
            f"needs the store's VPC endpoint service to change ({what}) after the store exists")
        service = role(s, "vpc_endpoint_service_name")
        sid = new_store(s, "setup: a VPC endpoint service store", connectivity=VPC, suffix="vpc")
        s.note(f"world: VPC endpoint service {service}: {what}")
        control.set_vpc_endpoint_service(service, **broken)
        try:
            entry = connect_and_settle(s, sid, expect=ok(), requirements=[rid]) or {}
        finally:
            control.set_vpc_endpoint_service(service, **fixed)
        s.check(f"the store ends FAILED with {code}",
                entry.get("ConnectionState") == "FAILED" and entry.get("ConnectionErrorCode") == code,
                f"ConnectionState {entry.get('ConnectionState')}, ConnectionErrorCode "
                f"{entry.get('ConnectionErrorCode')}", requirements=[rid])

    return body


def collect(cc: CollectContext) -> list[Case]:
    if cc.edition != "current":
        return []

    def sc(case_id, reqs, title, body):
        return xks_scenario(f"{OP}/scenario/{case_id}", OP, reqs, title, body, operations=CONNECT_OPS,
                            group="connect", cycles=1)

    return [
        sc("xks-connects", ["CON-080"], "An external key store on a working proxy connects", connects),
        sc("xks-invalid-credentials", ["CON-081"],
           "A credential the proxy refuses ends the connect FAILED with INVALID_CREDENTIALS",
           fails_with("INVALID_CREDENTIALS", "CON-081", wrong_credential=True)),
        sc("xks-proxy-not-reachable", ["CON-082"],
           "A proxy whose external key managers are all unavailable ends the connect FAILED with "
           "XKS_PROXY_NOT_REACHABLE", fails_with("XKS_PROXY_NOT_REACHABLE", "CON-082", path="unavailable")),
        sc("xks-proxy-timed-out", ["CON-083"],
           "A proxy that does not answer in time ends the connect FAILED with XKS_PROXY_TIMED_OUT",
           fails_with("XKS_PROXY_TIMED_OUT", "CON-083", path="timeout")),
        sc("xks-proxy-invalid-response", ["CON-084"],
           "A proxy answering non-conforming JSON ends the connect FAILED with XKS_PROXY_INVALID_RESPONSE",
           fails_with("XKS_PROXY_INVALID_RESPONSE", "CON-084", path="invalid_response")),
        sc("xks-proxy-invalid-configuration", ["CON-085"],
           "A URI path the proxy does not serve ends the connect FAILED with XKS_PROXY_INVALID_CONFIGURATION",
           fails_with("XKS_PROXY_INVALID_CONFIGURATION", "CON-085", path="unknown_path")),
        sc("xks-vpc-endpoint-service-not-found", ["CON-086"],
           "A VPC endpoint service that no longer allows KMS ends the connect FAILED with XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND",
           vpc_service_breaks("XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND", "CON-086", {"kms_principal_allowed": False},
                              {"kms_principal_allowed": True})),
        sc("xks-vpc-endpoint-service-invalid", ["CON-087"],
           "A VPC endpoint service that now asks for acceptance ends the connect FAILED with "
           "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
           vpc_service_breaks("XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION", "CON-087",
                              {"acceptance_required": True}, {"acceptance_required": False})),
    ]
