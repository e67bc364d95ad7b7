"""What the reference target sees of an external key store: its proxy, and the VPC endpoint services.

**Reaching a proxy.** A store names its proxy as `https://<host>` (XksProxyUriEndpoint) plus a
path. The reference never resolves host names and never opens TLS: its config maps host names
to plain-HTTP base URLs on loopback (`ReferenceConfig.xks_network`, `serve --xks-proxy-http`).
That is its one deviation from AWS's HTTPS-only rule, and only ever for 127.0.0.1. A host not in
the map is unreachable, as an endpoint nobody answers would be. Requests are signed with the
store's credential under the service name `kms-xks-proxy` by botocore's SigV4 signer, with the
Host header of the named endpoint; the call has a short timeout (`xks_proxy_timeout_s`).

**What an answer means.** `health_failure` / `metadata_failure` reduce a proxy answer to one
failure kind; the backend maps the kind to the error of the operation (Create/Update), the
ConnectionErrorCode (Connect) or the CreateKey error, following the XKS proxy API spec's table.

**VPC endpoint services.** Simulated: each has a name, an owner account, a private DNS name and
its verification state, whether it requires acceptance, its allowed principals, its load
balancer type and Availability Zones. `vpc_service_problem` says what KMS would find wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conformance.world import XksVpcService, XksWorld

SIGNING_SERVICE = "kms-xks-proxy"
HEALTH_STATES = ("ACTIVE", "DEGRADED", "UNAVAILABLE")

# Failure kinds of a proxy call (what the backend maps to errors and connection error codes).
UNREACHABLE = "unreachable"        # no TCP connection (host unknown to the reference, port closed)
TIMED_OUT = "timed_out"            # connected, no answer within the timeout
CREDENTIALS = "credentials"        # AuthenticationFailedException
URI_PATH = "uri_path"              # InvalidUriPathException
ACCESS_DENIED = "access_denied"    # AccessDeniedException
INVALID_RESPONSE = "invalid_response"  # malformed, non-conforming, ValidationException, InternalException, ...
UNAVAILABLE = "unavailable"        # every external key manager UNAVAILABLE, throttled, dependency timeout
KEY_NOT_FOUND = "key_not_found"    # KeyNotFoundException
KEY_INVALID = "key_invalid"        # not AES_256 / not ENCRYPT+DECRYPT / not ENABLED / InvalidStateException


@dataclass
class ProxyAnswer:
    """One proxy call as the reference saw it: an HTTP answer, or why there was none."""

    status: int | None = None  # None: no answer (see `failure`)
    body: Any = None  # parsed JSON, or None when the body was not JSON
    failure: str | None = None  # UNREACHABLE | TIMED_OUT when there was no answer

    @property
    def error_name(self) -> str | None:
        return self.body.get("errorName") if isinstance(self.body, dict) else None


class ProxyClient:
    """Signs and sends XKS proxy API calls over the loopback map (one `requests` session, no env proxies)."""

    def __init__(self, network: dict[str, str], timeout_s: float, region: str):
        self.network = {host.lower(): base.rstrip("/") for host, base in network.items()}
        self.timeout_s = timeout_s
        self.region = region
        self._session = requests.Session()
        self._session.trust_env = False  # never an HTTP proxy from the environment: loopback only

    def call(self, endpoint: str, path: str, operation: str, body: dict, credential: dict) -> ProxyAnswer:
        host = (urlsplit(endpoint).hostname or "").lower()
        base = self.network.get(host)
        if base is None:
            return ProxyAnswer(failure=UNREACHABLE)
        data = json.dumps(body).encode()
        signed = AWSRequest(method="POST", url=f"https://{host}{path}{operation}", data=data,
                            headers={"Content-Type": "application/json", "Host": host})
        SigV4Auth(Credentials(credential["AccessKeyId"], credential["RawSecretAccessKey"]),
                  SIGNING_SERVICE, self.region).add_auth(signed)
        try:
            answer = self._session.post(f"{base}{path}{operation}", data=data, headers=dict(signed.headers.items()),
                                        timeout=self.timeout_s, allow_redirects=False)
        except requests.Timeout:
            return ProxyAnswer(failure=TIMED_OUT)
        except requests.RequestException:
            return ProxyAnswer(failure=UNREACHABLE)
        try:
            parsed = answer.json()
        except ValueError:
            parsed = None
        return ProxyAnswer(status=answer.status_code, body=parsed)

    def close(self) -> None:
        self._session.close()


def _error_failure(answer: ProxyAnswer) -> str | None:
    """The failure kind of an error answer (or of no answer); None for a 200."""
    if answer.failure:
        return answer.failure
    if answer.status == 200:
        return None
    return {
        "AuthenticationFailedException": CREDENTIALS,
        "InvalidUriPathException": URI_PATH,
        "AccessDeniedException": ACCESS_DENIED,
        "ThrottlingException": UNAVAILABLE,
        "DependencyTimeoutException": UNAVAILABLE,
        "KeyNotFoundException": KEY_NOT_FOUND,
        "InvalidStateException": KEY_INVALID,
        "InvalidKeyUsageException": KEY_INVALID,
    }.get(answer.error_name or "", INVALID_RESPONSE)


def health_failure(answer: ProxyAnswer) -> str | None:
    """None for a conforming GetHealthStatus answer with at least one usable key manager."""
    failure = _error_failure(answer)
    if failure in (KEY_NOT_FOUND, KEY_INVALID):
        return INVALID_RESPONSE  # not answers GetHealthStatus can give
    if failure:
        return failure
    body = answer.body
    if not isinstance(body, dict):
        return INVALID_RESPONSE
    size, fleet = body.get("xksProxyFleetSize"), body.get("ekmFleetDetails")
    if (not isinstance(size, int) or isinstance(size, bool) or size < 1
            or not all(isinstance(body.get(k), str) for k in ("xksProxyVendor", "xksProxyModel", "ekmVendor"))
            or not isinstance(fleet, list) or not 1 <= len(fleet) <= 10
            or not all(isinstance(e, dict) and isinstance(e.get("id"), str) and isinstance(e.get("model"), str)
                       and e.get("healthStatus") in HEALTH_STATES for e in fleet)):
        return INVALID_RESPONSE
    if all(e["healthStatus"] == "UNAVAILABLE" for e in fleet):
        return UNAVAILABLE
    return None


def metadata_failure(answer: ProxyAnswer) -> str | None:
    """None for an external key usable by a KMS key: AES_256, ENCRYPT and DECRYPT, ENABLED."""
    failure = _error_failure(answer)
    if failure:
        return failure
    body = answer.body
    usage = body.get("keyUsage") if isinstance(body, dict) else None
    if (not isinstance(body, dict) or not isinstance(body.get("keySpec"), str) or not isinstance(usage, list)
            or not all(isinstance(u, str) for u in usage) or body.get("keyStatus") not in ("ENABLED", "DISABLED")):
        return INVALID_RESPONSE
    if body["keySpec"] != "AES_256" or not {"ENCRYPT", "DECRYPT"} <= set(usage) or body["keyStatus"] != "ENABLED":
        return KEY_INVALID
    return None


# ---------------------------------------------------------------------------------------------- VPC


@dataclass
class VpcEndpointService:
    """A simulated VPC endpoint service (interface endpoints) as KMS would look at it."""

    name: str
    owner: str
    private_dns_name: str | None = None
    dns_verified: bool = True
    acceptance_required: bool = False
    allowed_principals: tuple[str, ...] = ()
    load_balancer: str = "network"  # network | gateway
    availability_zones: tuple[str, ...] = ()


VPC_NOT_FOUND = "vpc_not_found"
VPC_INVALID = "vpc_invalid_configuration"


def kms_principal(region: str) -> str:
    return f"cks.kms.{region}.amazonaws.com"


def change_vpc_service(services: dict[tuple[str, str], VpcEndpointService], name: str, region: str, *,
                       acceptance_required: bool | None = None, kms_principal_allowed: bool | None = None) -> bool:
    """The test control surface: make a service (by name, any owner) require acceptance or drop KMS; False: unknown."""
    matches = [s for s in services.values() if s.name == name]
    for service in matches:
        if acceptance_required is not None:
            service.acceptance_required = acceptance_required
        if kms_principal_allowed is not None:
            others = tuple(p for p in service.allowed_principals if p != kms_principal(region))
            service.allowed_principals = others + ((kms_principal(region),) if kms_principal_allowed else ())
    return bool(matches)


def vpc_service_problem(services: dict[tuple[str, str], VpcEndpointService], name: str, owner: str,
                        region: str, uri_endpoint: str) -> tuple[str, str] | None:
    """(VPC_NOT_FOUND | VPC_INVALID, why) for what KMS would find wrong with the service; None: usable."""
    service = services.get((name, owner))
    if service is None or kms_principal(region) not in service.allowed_principals:
        return VPC_NOT_FOUND, (f"KMS cannot find VPC endpoint service {name} of account {owner}, or it does not "
                               f"allow the principal {kms_principal(region)}.")
    host = urlsplit(uri_endpoint).hostname or ""
    for broken, why in (
        (service.load_balancer != "network", "it does not use a Network Load Balancer"),
        (len(set(service.availability_zones)) < 2, "its load balancer spans fewer than two Availability Zones"),
        (service.acceptance_required, "it requires acceptance of connection requests"),
        (not service.private_dns_name, "it has no private DNS name"),
        (not service.dns_verified, "the domain of its private DNS name is not verified"),
        ((service.private_dns_name or "").lower() != host.lower(),
         "its private DNS name is not the host of XksProxyUriEndpoint"),
    ):
        if broken:
            return VPC_INVALID, f"VPC endpoint service {name} cannot serve an external key store: {why}."
    return None


# The simulated services of a world, by the role each plays (world.XKS_VPC_SERVICE_ROLES).
_ROLE_SHAPES: dict[str, dict[str, Any]] = {
    "main": {},
    "second": {},
    "principal_not_allowed": {"allowed_principals": ()},
    "acceptance_required": {"acceptance_required": True},
    "private_dns_unverified": {"dns_verified": False},
    "no_private_dns": {"private_dns_name": None},
    "single_subnet": {"availability_zones": ("a",)},
    "other_owner": {},
}
OTHER_OWNER_ACCOUNT = "444455556666"
VPC_DNS_DOMAIN = "kms-conformance.test"


def default_vpc_world(xks: XksWorld, region: str) -> XksWorld:
    """`xks` with the reference's own VPC endpoint services filled in where it names none."""
    def name(n: int) -> str:
        return f"com.amazonaws.vpce.{region}.vpce-svc-0c0f0e0a0d0e{n:05d}"

    if not xks.vpc_endpoint_service_name:
        xks.vpc_endpoint_service_name = name(1)
        xks.vpc_uri_endpoint = xks.vpc_uri_endpoint or f"https://xks-vpc.{VPC_DNS_DOMAIN}"
    for n, role in enumerate(("second", "not_found", "principal_not_allowed", "acceptance_required",
                              "private_dns_unverified", "no_private_dns", "single_subnet", "other_owner"), start=2):
        if role in xks.vpc_endpoint_services:
            continue
        has_dns = role not in ("not_found", "no_private_dns")
        xks.vpc_endpoint_services[role] = XksVpcService(
            service_name=name(n), uri_endpoint=f"https://xks-vpc-{role.replace('_', '-')}.{VPC_DNS_DOMAIN}"
            if has_dns else None, owner=OTHER_OWNER_ACCOUNT if role == "other_owner" else None)
    return xks


def build_vpc_services(xks: XksWorld, *, account_id: str, region: str) -> dict[tuple[str, str], VpcEndpointService]:
    """The simulated services a world's roles imply, keyed by (name, owner). `not_found` has none."""
    roles: dict[str, XksVpcService] = dict(xks.vpc_endpoint_services)
    if xks.vpc_endpoint_service_name:
        roles["main"] = XksVpcService(xks.vpc_endpoint_service_name, xks.vpc_uri_endpoint,
                                      xks.vpc_endpoint_service_owner)
    out: dict[tuple[str, str], VpcEndpointService] = {}
    for role, given in roles.items():
        if role not in _ROLE_SHAPES or not given.service_name:
            continue
        shape = {"private_dns_name": urlsplit(given.uri_endpoint).hostname if given.uri_endpoint else None,
                 "allowed_principals": (kms_principal(region),),
                 "availability_zones": (f"{region}a", f"{region}b"), **_ROLE_SHAPES[role]}
        owner = given.owner or account_id
        out[(given.service_name, owner)] = VpcEndpointService(name=given.service_name, owner=owner, **shape)
    return out


def world_hosts(xks: XksWorld) -> list[str]:
    """Every host name the world's stores may name (endpoints and private DNS names), for the loopback map."""
    urls = [xks.uri_endpoint, xks.second_uri_endpoint, xks.vpc_uri_endpoint] + [
        s.uri_endpoint for s in xks.vpc_endpoint_services.values()]
    return list(dict.fromkeys(urlsplit(u).hostname for u in urls if u and urlsplit(u).hostname))


@dataclass
class XksSettings:
    """An external key store's proxy configuration (the secret stays here, never in Describe)."""

    connectivity: str
    uri_endpoint: str
    uri_path: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    vpc_service_name: str | None = None
    vpc_service_owner: str | None = None

    @property
    def credential(self) -> dict[str, str]:
        return {"AccessKeyId": self.access_key_id, "RawSecretAccessKey": self.secret_access_key}
