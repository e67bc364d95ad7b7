"""CreateCustomKeyStore for external key stores: a store on a working proxy, and every Xks* error.

Each error case breaks one documented condition through the world's XKS roles (a proxy path that
misbehaves in one way, a credential the proxy does not know, an endpoint or VPC endpoint service
another store holds) and then checks that no store was left behind. The cases of CRE-040..048
keep the ids they had while no target could make an external key store.
"""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import Scenario, create_raw, describe_without_secrets, ok
from conformance.cases.scenarios.xks_kit import (
    PUBLIC,
    VPC,
    XKS,
    create_refused,
    made_up_credential,
    new_store,
    other_path,
    role,
    store_params,
    vpc_service,
    xks_scenario,
)

OP = "CreateCustomKeyStore"
CLOUDHSM_ONLY = ("CloudHsmClusterId", "TrustAnchorCertificate")
# A URI endpoint no proxy serves (the reserved .invalid top-level domain never resolves).
UNREACHABLE_ENDPOINT = "https://kms-conformance-no-proxy.invalid"


def _config(entry: dict | None) -> dict:
    cfg = (entry or {}).get("XksProxyConfiguration")
    return cfg if isinstance(cfg, dict) else {}


def public_endpoint(s: Scenario) -> None:
    params = store_params(s)
    obs = create_raw(s, "create an external key store (public endpoint)", params, expect=ok(), main=True,
                     requirements=["CRE-080"])
    if not obs.ok:
        return
    sid = obs.body.get("CustomKeyStoreId")
    entry = s.entry(sid) or {}
    s.check("the new store is DISCONNECTED, of type EXTERNAL_KEY_STORE",
            entry.get("ConnectionState") == "DISCONNECTED" and entry.get("CustomKeyStoreType") == XKS,
            f"ConnectionState {entry.get('ConnectionState')}, CustomKeyStoreType {entry.get('CustomKeyStoreType')}",
            requirements=["CRE-080"])
    cfg = _config(entry)
    want = {"Connectivity": PUBLIC, "AccessKeyId": params["XksProxyAuthenticationCredential"]["AccessKeyId"],
            "UriEndpoint": params["XksProxyUriEndpoint"], "UriPath": params["XksProxyUriPath"]}
    wrong = {k: cfg.get(k) for k, v in want.items() if cfg.get(k) != v}
    s.check("Describe's XksProxyConfiguration shows what was given", not wrong,
            f"differs: {wrong}" if wrong else "Connectivity, AccessKeyId, UriEndpoint, UriPath as given",
            requirements=["DES-081"])
    leaks = describe_without_secrets(entry) + [k for k in CLOUDHSM_ONLY if entry.get(k)]
    s.check("no secret access key and no CloudHSM member in Describe", not leaks,
            f"found {leaks}" if leaks else "none", requirements=["DES-081"])


def vpc_endpoint_service(s: Scenario) -> None:
    params = store_params(s, connectivity=VPC)
    obs = create_raw(s, "create an external key store (VPC endpoint service)", params, expect=ok(), main=True,
                     requirements=["CRE-081"])
    if not obs.ok:
        return
    cfg = _config(s.entry(obs.body.get("CustomKeyStoreId")))
    want = {"Connectivity": VPC, "VpcEndpointServiceName": params["XksProxyVpcEndpointServiceName"]}
    if "XksProxyVpcEndpointServiceOwner" in params:
        want["VpcEndpointServiceOwner"] = params["XksProxyVpcEndpointServiceOwner"]
    wrong = {k: cfg.get(k) for k, v in want.items() if cfg.get(k) != v}
    s.check("Describe shows the connectivity and the VPC endpoint service", not wrong,
            f"differs: {wrong}" if wrong else "as given", requirements=["CRE-081"])


# ---------------------------------------------------------------------------------- Xks* errors
def uri_in_use(s: Scenario) -> None:
    new_store(s)
    create_refused(s, "create a second store on the same endpoint and path", store_params(s, suffix="twin"),
                   "XksProxyUriInUseException", "CRE-040")


def endpoint_in_use(s: Scenario) -> None:
    new_store(s, "setup: a store with VPC endpoint service connectivity", connectivity=VPC, suffix="vpc")
    create_refused(s, "create a public-endpoint store on the VPC store's endpoint",
                   store_params(s, endpoint=role(s, "vpc_uri_endpoint"), path=other_path(s), suffix="public"),
                   "XksProxyUriEndpointInUseException", "CRE-041")


def unreachable(path_role: str | None):
    def body(s: Scenario) -> None:
        if path_role is None:
            params = store_params(s, endpoint=UNREACHABLE_ENDPOINT)
            label = "create a store whose URI endpoint no proxy serves"
        else:
            params = store_params(s, path=role(s, f"faulty_paths.{path_role}"))
            label = f"create a store on the proxy path that is {path_role.replace('_', ' ')}"
        create_refused(s, label, params, "XksProxyUriUnreachableException", "CRE-042")

    return body


def wrong_credential(s: Scenario) -> None:
    create_refused(s, "create a store with a credential the proxy does not know",
                   store_params(s, cred=made_up_credential(s)),
                   "XksProxyIncorrectAuthenticationCredentialException", "CRE-043")


def service_in_use(s: Scenario) -> None:
    new_store(s, "setup: a store with VPC endpoint service connectivity", connectivity=VPC, suffix="vpc")
    _, other_endpoint = vpc_service(s, "second")
    create_refused(s, "create a second store on the same VPC endpoint service",
                   store_params(s, connectivity=VPC, endpoint=other_endpoint, suffix="vpc-twin"),
                   "XksProxyVpcEndpointServiceInUseException", "CRE-044")


def service_not_found(s: Scenario) -> None:
    name, endpoint = vpc_service(s, "not_found")
    create_refused(s, "create a store on a VPC endpoint service no account has",
                   store_params(s, connectivity=VPC, service=name, endpoint=endpoint),
                   "XksProxyVpcEndpointServiceNotFoundException", "CRE-045")


def service_invalid(s: Scenario) -> None:
    name, endpoint = vpc_service(s, "acceptance_required")
    create_refused(s, "create a store on a VPC endpoint service that asks for manual acceptance",
                   store_params(s, connectivity=VPC, service=name, endpoint=endpoint),
                   "XksProxyVpcEndpointServiceInvalidConfigurationException", "CRE-046")


def invalid_response(s: Scenario) -> None:
    create_refused(s, "create a store on the proxy path that answers non-conforming JSON",
                   store_params(s, path=role(s, "faulty_paths.invalid_response")),
                   "XksProxyInvalidResponseException", "CRE-047")


def invalid_configuration(s: Scenario) -> None:
    create_refused(s, "create a store on a URI path the proxy does not serve",
                   store_params(s, path=role(s, "faulty_paths.unknown_path")),
                   "XksProxyInvalidConfigurationException", "CRE-048")


def collect(cc: CollectContext) -> list[Case]:
    if cc.edition != "current":
        return []
    nt = f"{OP}/scenario/not-triggerable-"
    return [
        xks_scenario(f"{OP}/scenario/xks-public-endpoint", OP, ["CRE-080", "DES-081"],
                     "An external key store on a working proxy is created DISCONNECTED; Describe shows its proxy "
                     "configuration and no secret", public_endpoint),
        xks_scenario(f"{OP}/scenario/xks-vpc-endpoint-service", OP, ["CRE-081"],
                     "An external key store with VPC endpoint service connectivity is created with its service",
                     vpc_endpoint_service),
        xks_scenario(f"{nt}cre-040", OP, ["CRE-040"],
                     "A second external key store on the same URI endpoint and path gives XksProxyUriInUseException",
                     uri_in_use),
        xks_scenario(f"{nt}cre-041", OP, ["CRE-041"],
                     "A public-endpoint store on a VPC store's URI endpoint gives XksProxyUriEndpointInUseException",
                     endpoint_in_use),
        xks_scenario(f"{nt}cre-042", OP, ["CRE-042"],
                     "A proxy whose external key managers are all unavailable gives XksProxyUriUnreachableException",
                     unreachable("unavailable")),
        xks_scenario(f"{OP}/scenario/xks-proxy-timeout", OP, ["CRE-042"],
                     "A proxy that does not answer in time gives XksProxyUriUnreachableException",
                     unreachable("timeout")),
        xks_scenario(f"{OP}/scenario/xks-endpoint-unreachable", OP, ["CRE-042"],
                     "A URI endpoint no proxy serves gives XksProxyUriUnreachableException", unreachable(None)),
        xks_scenario(f"{nt}cre-043", OP, ["CRE-043"],
                     "A credential the proxy does not accept gives XksProxyIncorrectAuthenticationCredentialException",
                     wrong_credential),
        xks_scenario(f"{nt}cre-044", OP, ["CRE-044"],
                     "A second store on the same VPC endpoint service gives XksProxyVpcEndpointServiceInUseException",
                     service_in_use),
        xks_scenario(f"{nt}cre-045", OP, ["CRE-045"],
                     "A VPC endpoint service that does not exist gives XksProxyVpcEndpointServiceNotFoundException",
                     service_not_found),
        xks_scenario(f"{nt}cre-046", OP, ["CRE-046"],
                     "A VPC endpoint service that breaks the rules gives "
                     "XksProxyVpcEndpointServiceInvalidConfigurationException", service_invalid),
        xks_scenario(f"{nt}cre-047", OP, ["CRE-047"],
                     "A proxy answering non-conforming JSON gives XksProxyInvalidResponseException", invalid_response),
        xks_scenario(f"{nt}cre-048", OP, ["CRE-048"],
                     "A URI path the proxy does not serve gives XksProxyInvalidConfigurationException",
                     invalid_configuration),
    ]

