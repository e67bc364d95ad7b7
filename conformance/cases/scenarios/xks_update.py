"""UpdateCustomKeyStore on external key stores: every Xks* error, and which members may change in
which state.

Every refused update is followed by a Describe showing the store unchanged. The XKS members that
may change while the store is CONNECTED (name, credential, URI path) and those that need it
DISCONNECTED (URI endpoint, connectivity, VPC endpoint service) each get a case. The cases of
UPD-040..048 keep the ids they had while no target could make an external key store.
"""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import Scenario, describe_without_secrets, err, expect_unchanged, ok
from conformance.cases.scenarios.xks_kit import (
    CONNECT_OPS,
    VPC,
    credential,
    made_up_credential,
    new_store,
    other_path,
    role,
    store_params,
    vpc_service,
    xks_scenario,
)

OP = "UpdateCustomKeyStore"
INVALID_STATE = "CustomKeyStoreInvalidStateException"


def refused_update(s: Scenario, sid: str, label: str, change: dict, code: str, rid: str) -> None:
    """An update of `sid` that must be refused with `code` (citing `rid`) and change nothing."""
    before = s.entry(sid, label="describe before")
    obs = s.call(label, OP, {"CustomKeyStoreId": sid, **change}, expect=err(code), main=True, requirements=[rid])
    after = s.entry(sid, label="describe after")
    expect_unchanged(s, "the refused update changed nothing", before, after,
                     requirements=["UPD-006"] if not obs.ok else [rid])


def _change(code: str, rid: str, label: str, change):
    """A case body: a DISCONNECTED external key store on the world's proxy, then one refused update."""
    def body(s: Scenario) -> None:
        sid = new_store(s)
        refused_update(s, sid, label, change(s), code, rid)

    return body


def uri_in_use(s: Scenario) -> None:
    new_store(s, suffix="first")
    sid = new_store(s, "setup: a store on the second proxy", endpoint=role(s, "second_uri_endpoint"),
                    path=role(s, "second_uri_path"), suffix="second")
    refused_update(s, sid, "move the second store to the first store's endpoint and path",
                   {"XksProxyUriEndpoint": role(s, "uri_endpoint"), "XksProxyUriPath": role(s, "uri_path")},
                   "XksProxyUriInUseException", "UPD-040")


def endpoint_in_use(s: Scenario) -> None:
    vpc_endpoint = store_params(s, connectivity=VPC)["XksProxyUriEndpoint"]
    new_store(s, "setup: a store with VPC endpoint service connectivity", connectivity=VPC, suffix="vpc")
    sid = new_store(s, suffix="public")
    refused_update(s, sid, "move a public-endpoint store to the VPC store's endpoint",
                   {"XksProxyUriEndpoint": vpc_endpoint, "XksProxyUriPath": other_path(s)},
                   "XksProxyUriEndpointInUseException", "UPD-041")


def service_in_use(s: Scenario) -> None:
    service = role(s, "vpc_endpoint_service_name")
    new_store(s, "setup: a store with VPC endpoint service connectivity", connectivity=VPC, suffix="vpc")
    sid = new_store(s, suffix="public")
    refused_update(s, sid, "switch a second store to the same VPC endpoint service",
                   {"XksProxyConnectivity": VPC, "XksProxyVpcEndpointServiceName": service,
                    "XksProxyUriEndpoint": role(s, "second_uri_endpoint")},
                   "XksProxyVpcEndpointServiceInUseException", "UPD-044")


def _to_vpc(service):
    """An update switching the store to the VPC endpoint service `service(s)` gives (name, endpoint)."""
    def change(s: Scenario) -> dict:
        name, endpoint = service(s)
        return {"XksProxyConnectivity": VPC, "XksProxyVpcEndpointServiceName": name, "XksProxyUriEndpoint": endpoint}

    return change


def connected_changes(s: Scenario) -> None:
    """UPD-080: name, credential and URI path are accepted while CONNECTED."""
    sid = new_store(s)
    s.bring(sid, "CONNECTED")
    new_name = s.driver.name("renamed")
    changes = (("rename while CONNECTED", {"NewCustomKeyStoreName": new_name}),
               ("give the credential again while CONNECTED", {"XksProxyAuthenticationCredential": credential(s)}),
               ("set the URI path while CONNECTED", {"XksProxyUriPath": role(s, "uri_path")}))
    for label, change in changes:
        s.call(label, OP, {"CustomKeyStoreId": sid, **change}, expect=ok(), main=label.startswith("rename"),
               requirements=["UPD-080"])
    after = s.entry(sid, label="describe after") or {}
    s.check("Describe shows the new name and the store still CONNECTED",
            after.get("CustomKeyStoreName") == new_name and after.get("ConnectionState") == "CONNECTED",
            f"name {after.get('CustomKeyStoreName')!r}, state {after.get('ConnectionState')}",
            requirements=["UPD-080"])


def connected_refusals(s: Scenario) -> None:
    """UPD-081: URI endpoint, connectivity and VPC endpoint service need DISCONNECTED."""
    sid = new_store(s)
    s.bring(sid, "CONNECTED")
    refusals = (("change the URI endpoint while CONNECTED", {"XksProxyUriEndpoint": role(s, "second_uri_endpoint"),
                                                            "XksProxyUriPath": role(s, "second_uri_path")}),
                ("switch to VPC endpoint service connectivity while CONNECTED", _to_vpc(
                    lambda s: (role(s, "vpc_endpoint_service_name"), role(s, "vpc_uri_endpoint")))(s)))
    for label, change in refusals:
        refused_update(s, sid, label, change, INVALID_STATE, "UPD-081")


def disconnected_changes(s: Scenario) -> None:
    """UPD-082: endpoint, path and credential take new values on a DISCONNECTED store."""
    sid = new_store(s)
    change = {"XksProxyUriEndpoint": role(s, "second_uri_endpoint"), "XksProxyUriPath": role(s, "second_uri_path"),
              "XksProxyAuthenticationCredential": credential(s)}
    s.call("move the store to the second proxy", OP, {"CustomKeyStoreId": sid, **change}, expect=ok(), main=True,
           requirements=["UPD-082"])
    after = s.entry(sid, label="describe after") or {}
    cfg = after.get("XksProxyConfiguration") if isinstance(after.get("XksProxyConfiguration"), dict) else {}
    want = {"UriEndpoint": change["XksProxyUriEndpoint"], "UriPath": change["XksProxyUriPath"],
            "AccessKeyId": change["XksProxyAuthenticationCredential"]["AccessKeyId"]}
    wrong = {k: cfg.get(k) for k, v in want.items() if cfg.get(k) != v}
    s.check("Describe shows the new endpoint, path and access key id", not wrong,
            f"differs: {wrong}" if wrong else "as given", requirements=["UPD-082"])
    leaks = describe_without_secrets(after)
    s.check("Describe never shows the secret access key", not leaks, f"found {leaks}" if leaks else "none",
            requirements=["DES-081"])


def collect(cc: CollectContext) -> list[Case]:
    if cc.edition != "current":
        return []
    nt = f"{OP}/scenario/not-triggerable-"

    def path(which):
        return lambda s: {"XksProxyUriPath": role(s, f"faulty_paths.{which}")}

    def sc(case_id, reqs, title, body, **kw):
        return xks_scenario(case_id, OP, reqs, title, body, **kw)

    return [
        sc(f"{nt}upd-040", ["UPD-040", "UPD-006"],
           "Moving a store to another store's URI endpoint and path gives XksProxyUriInUseException", uri_in_use),
        sc(f"{nt}upd-041", ["UPD-041", "UPD-006"],
           "Moving a public-endpoint store to a VPC store's endpoint gives XksProxyUriEndpointInUseException",
           endpoint_in_use),
        sc(f"{nt}upd-042", ["UPD-042", "UPD-006"],
           "A URI path whose external key managers are all unavailable gives XksProxyUriUnreachableException",
           _change("XksProxyUriUnreachableException", "UPD-042", "set the URI path to the unavailable one",
                   path("unavailable"))),
        sc(f"{nt}upd-043", ["UPD-043", "UPD-006"],
           "A credential the proxy does not accept gives XksProxyIncorrectAuthenticationCredentialException",
           _change("XksProxyIncorrectAuthenticationCredentialException", "UPD-043",
                   "give a credential the proxy does not know",
                   lambda s: {"XksProxyAuthenticationCredential": made_up_credential(s)})),
        sc(f"{nt}upd-044", ["UPD-044", "UPD-006"],
           "Switching to a VPC endpoint service another store uses gives XksProxyVpcEndpointServiceInUseException",
           service_in_use),
        sc(f"{nt}upd-045", ["UPD-045", "UPD-006"],
           "Switching to a VPC endpoint service that does not exist gives XksProxyVpcEndpointServiceNotFoundException",
           _change("XksProxyVpcEndpointServiceNotFoundException", "UPD-045",
                   "switch to a VPC endpoint service no account has",
                   _to_vpc(lambda s: vpc_service(s, "not_found")))),
        sc(f"{nt}upd-046", ["UPD-046", "UPD-006"],
           "Switching to a VPC endpoint service that breaks the rules gives "
           "XksProxyVpcEndpointServiceInvalidConfigurationException",
           _change("XksProxyVpcEndpointServiceInvalidConfigurationException", "UPD-046",
                   "switch to a VPC endpoint service that breaks the external key store rules",
                   _to_vpc(lambda s: vpc_service(s, "acceptance_required")))),
        sc(f"{nt}upd-047", ["UPD-047", "UPD-006"],
           "A URI path whose proxy answers non-conforming JSON gives XksProxyInvalidResponseException",
           _change("XksProxyInvalidResponseException", "UPD-047", "set the URI path to the one answering bad JSON",
                   path("invalid_response"))),
        sc(f"{nt}upd-048", ["UPD-048", "UPD-006"],
           "A URI path the proxy does not serve gives XksProxyInvalidConfigurationException",
           _change("XksProxyInvalidConfigurationException", "UPD-048", "set a URI path the proxy does not serve",
                   path("unknown_path"))),
        sc(f"{OP}/scenario/xks-connected-changes", ["UPD-080"],
           "While CONNECTED an external key store takes a new name, credential and URI path", connected_changes,
           operations=CONNECT_OPS, group="connect", cycles=1),
        sc(f"{OP}/scenario/xks-connected-refusals", ["UPD-081", "UPD-006"],
           "While CONNECTED the URI endpoint and connectivity cannot change (CustomKeyStoreInvalidStateException)",
           connected_refusals, operations=CONNECT_OPS, group="connect", cycles=1),
        sc(f"{OP}/scenario/xks-disconnected-changes", ["UPD-082", "DES-081"],
           "A DISCONNECTED external key store moves to another proxy; Describe shows it, never the secret",
           disconnected_changes),
    ]
