"""What every external key store (XKS) scenario is written with: the world's XKS roles, Create
parameters for an XKS store, and stores made, connected and checked through the same driver,
ledger and kit as CloudHSM ones.

The proxy behind a store is named by the world (`world.xks`): a correctly behaving URI endpoint
and path, its credential, and paths on which the proxy misbehaves in one documented way each.
A role the world does not give makes only the cases that need it SKIPPED, naming it.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Iterable

from conformance.cases.scenarios.kit import Scenario, create_raw, err, scenario
from conformance.errors import MissingRole, SetupFailed
from conformance.steps import Expected

XKS = "EXTERNAL_KEY_STORE"
PUBLIC = "PUBLIC_ENDPOINT"
VPC = "VPC_ENDPOINT_SERVICE"
STORE_OPS = ("CreateCustomKeyStore", "DescribeCustomKeyStores", "DeleteCustomKeyStore")
CONNECT_OPS = STORE_OPS + ("ConnectCustomKeyStore", "DisconnectCustomKeyStore")
EDITIONS = ("current",)  # the 2019-12 model has no external key stores
# A credential no proxy was given: well-formed (AccessKeyId 20-30 of A-Z2-7, secret 43-64 of base64),
# so only the proxy's authentication can refuse it.
MADE_UP_ACCESS_KEY_ID = "KMSCONFORMANCEXKSID2"


def role(s: Scenario, name: str) -> str:
    """The world's `world.xks.<name>` role (dotted for nested ones: `faulty_paths.timeout`), or
    MissingRole naming it (the case is SKIPPED)."""
    return s.target.world.get(f"xks.{name}")


def credential(s: Scenario) -> dict[str, str]:
    """The world's proxy credential as the API's XksProxyAuthenticationCredential (MissingRole without it)."""
    return s.target.world.xks_credential()


def vpc_service(s: Scenario, which: str) -> tuple[str, str]:
    """A VPC endpoint service of the world by role (`vpc_endpoint_services.<which>`): its name and the
    URI endpoint (https:// + its private DNS name) a store using it gives; a service without a private
    DNS name of its own (one that does not exist) is named with the world's VPC URI endpoint."""
    base = f"vpc_endpoint_services.{which}"
    name = role(s, f"{base}.service_name")
    try:
        return name, role(s, f"{base}.uri_endpoint")
    except MissingRole:
        return name, role(s, "vpc_uri_endpoint")


def other_path(s: Scenario) -> str:
    """A URI path on the world's proxy other than its working one (uniqueness cases; no proxy call
    is reached with it when the target checks uniqueness as documented)."""
    return "/kms-conformance" + role(s, "uri_path")


def made_up_credential(s: Scenario) -> dict[str, str]:
    """A well-formed credential the proxy does not know (derived from the run prefix: the same every rerun
    of the run, different from the world's)."""
    seed = hashlib.sha256(f"kms-conformance-xks-{s.driver.name('cred')}".encode()).digest()
    return {"AccessKeyId": MADE_UP_ACCESS_KEY_ID, "RawSecretAccessKey": base64.b64encode(seed + seed[:12]).decode()}


def store_params(s: Scenario, *, connectivity: str = PUBLIC, endpoint: str | None = None, path: str | None = None,
                 cred: dict | None = None, service: str | None = None, suffix: str = "xks") -> dict[str, Any]:
    """CreateCustomKeyStore parameters for an external key store on the world's proxy; each keyword
    replaces one member (VPC connectivity takes the world's VPC endpoint service and its endpoint)."""
    params: dict[str, Any] = {"CustomKeyStoreName": s.driver.name(suffix), "CustomKeyStoreType": XKS,
                              "XksProxyConnectivity": connectivity}
    if connectivity == VPC:
        params["XksProxyUriEndpoint"] = endpoint or role(s, "vpc_uri_endpoint")
        params["XksProxyVpcEndpointServiceName"] = service or role(s, "vpc_endpoint_service_name")
        owner = _optional(s, "vpc_endpoint_service_owner")
        if owner and service is None:
            params["XksProxyVpcEndpointServiceOwner"] = owner
    else:
        params["XksProxyUriEndpoint"] = endpoint or role(s, "uri_endpoint")
    params["XksProxyUriPath"] = path or role(s, "uri_path")
    params["XksProxyAuthenticationCredential"] = cred or credential(s)
    return params


def _optional(s: Scenario, name: str) -> Any:
    try:
        return role(s, name)
    except MissingRole:
        return None


def new_store(s: Scenario, label: str = "setup: create an external key store", **kw: Any) -> str:
    """An external key store the scenario owns (in the cleanup ledger), or SetupFailed."""
    params = store_params(s, **kw)
    obs = create_raw(s, label, params)
    if not obs.ok:
        raise SetupFailed(f"{label}: CreateCustomKeyStore answered {obs.status} {obs.error_code or ''}".strip())
    return obs.body["CustomKeyStoreId"]


def create_refused(s: Scenario, label: str, params: dict, code: str, rid: str) -> None:
    """A Create that must be refused with `code` (citing `rid`), and must leave no store behind."""
    obs = create_raw(s, label, params, expect=err(code), main=True, requirements=[rid])
    made = obs.ok and isinstance(obs.body, dict) and obs.body.get("CustomKeyStoreId")
    listed = made or s.driver.describe_by_name(params["CustomKeyStoreName"]) is not None
    s.sync_driver_steps()
    s.check("no store was created", not listed, "a store was created" if listed else "no store of that name",
            requirements=[rid])


def connect_and_settle(s: Scenario, store_id: str, *, expect: Expected | None = None,
                       requirements: Iterable[str] | None = None) -> dict | None:
    """Connect, wait until the store leaves CONNECTING, and return its Describe entry."""
    s.call("connect", "ConnectCustomKeyStore", {"CustomKeyStoreId": store_id}, expect=expect,
           requirements=requirements)
    s.wait(store_id, ("CONNECTED", "FAILED", "DISCONNECTED"))
    return s.entry(store_id, label="describe after the connect attempt")


def xks_scenario(case_id: str, operation: str, requirements: Iterable[str], title: str, body, *,
                 operations: Iterable[str] = STORE_OPS, group: str = "stores", cycles: int = 0,
                 tags: Iterable[str] = ()):
    """A current-edition scenario on external key stores (its world roles are checked as it runs)."""
    return scenario(case_id, operation, requirements, title, body, editions=EDITIONS, needs_roles=(),
                    needs_operations=tuple(operations), schedule_group=group, connect_cycles=cycles,
                    tags=("xks", *tags))
