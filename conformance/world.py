"""The world a target offers the cases: fixtures by role (clusters, certificates, the kmsuser
password, the external key store proxy and its keys) and the timeouts of its state transitions.
Shared by the config file, the reference emulator, the adapters and the cases, so it sits on the
floor below all of them."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

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

# --- External key stores (`world.xks.*`). A role is named by its dotted path under `world`,
# e.g. "xks.uri_endpoint" or "xks.faulty_paths.timeout"; a case lists the ones it needs.
XKS_CONNECTIVITIES = ("PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE")
# Key ids the proxy serves, by what the proxy says about them.
XKS_KEY_ROLES = (
    "usable",         # AES_256, ENCRYPT and DECRYPT, ENABLED
    "second_usable",  # another such key (two KMS keys in one store, each on its own external key)
    "disabled",       # AES_256, ENCRYPT and DECRYPT, DISABLED
    "not_aes",        # ENABLED, ENCRYPT and DECRYPT, but not an AES_256 key
    "wrong_usage",    # AES_256, ENABLED, but not usable for both ENCRYPT and DECRYPT
)
# URI paths on the main proxy endpoint whose proxy misbehaves in one way each.
XKS_FAULTY_PATH_ROLES = (
    "wrong_credential",  # the proxy rejects every signature (AuthenticationFailedException)
    "unknown_path",      # the proxy knows no such path (InvalidUriPathException, 404)
    "timeout",           # the proxy answers after the caller's timeout
    "invalid_response",  # well-formed JSON that does not conform to the proxy API
    "malformed_json",    # a body that is not JSON at all
    "unavailable",       # health status: every external key manager UNAVAILABLE
)
# VPC endpoint services beside the main one (world.xks.vpc_endpoint_service_name), by what is
# wrong with them: each gives its service_name, and the uri_endpoint (https:// + its private DNS
# name) a store using it must give.
XKS_VPC_SERVICE_ROLES = (
    "second",                 # a second, correctly configured service with its own private DNS name
    "not_found",              # no service has this name
    "principal_not_allowed",  # exists; the KMS service principal is not on its allowed principals
    "acceptance_required",    # exists; connection requests need manual acceptance
    "private_dns_unverified", # exists; its private DNS name's domain is not verified
    "no_private_dns",         # exists; it has no private DNS name
    "single_subnet",          # exists; its load balancer spans fewer than two Availability Zones
    "other_owner",            # exists in another account (give vpc_endpoint_services.other_owner.owner)
)
XKS_SCALAR_ROLES = (
    "connectivity",
    "uri_endpoint",
    "uri_path",
    "vpc_endpoint_service_name",
    "vpc_endpoint_service_owner",
    "vpc_uri_endpoint",
    "second_uri_endpoint",
    "second_uri_path",
)
XKS_CREDENTIAL_ROLES = ("xks.credential.access_key_id", "xks.credential.secret_access_key")
XKS_ROLES = (
    tuple(f"xks.{r}" for r in XKS_SCALAR_ROLES)
    + XKS_CREDENTIAL_ROLES
    + tuple(f"xks.keys.{r}" for r in XKS_KEY_ROLES)
    + tuple(f"xks.faulty_paths.{r}" for r in XKS_FAULTY_PATH_ROLES)
    + tuple(f"xks.vpc_endpoint_services.{r}.{part}" for r in XKS_VPC_SERVICE_ROLES
            for part in ("service_name", "uri_endpoint"))
    + ("xks.vpc_endpoint_services.other_owner.owner",)
)


@dataclass
class Timeouts:
    connect_s: float = 1200.0
    disconnect_s: float = 600.0
    poll_interval_s: float = 5.0
    call_s: float = 30.0  # per HTTP call: a hang becomes ERROR for that case, the run goes on


@dataclass
class XksCredential:
    """The SigV4 credential KMS signs proxy requests with. A secret: never in a repr."""

    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)

    def as_member(self) -> dict[str, str] | None:
        """The XksProxyAuthenticationCredential request member, or None when a part is missing."""
        if not (self.access_key_id and self.secret_access_key):
            return None
        return {"AccessKeyId": self.access_key_id, "RawSecretAccessKey": self.secret_access_key}


@dataclass
class XksVpcService:
    """A VPC endpoint service a store can name; `uri_endpoint` is https:// + its private DNS name."""

    service_name: str | None = None
    uri_endpoint: str | None = None
    owner: str | None = None


@dataclass
class XksWorld:
    """`world.xks`: the external key store proxy the target can reach, and what it serves."""

    connectivity: str | None = None  # how the main proxy is reached: PUBLIC_ENDPOINT | VPC_ENDPOINT_SERVICE
    uri_endpoint: str | None = None
    uri_path: str | None = None
    credential: XksCredential = field(default_factory=XksCredential)
    vpc_endpoint_service_name: str | None = None
    vpc_endpoint_service_owner: str | None = None
    vpc_uri_endpoint: str | None = None  # https:// + the private DNS name of vpc_endpoint_service_name
    second_uri_endpoint: str | None = None
    second_uri_path: str | None = None
    keys: dict[str, str] = field(default_factory=dict)  # XKS_KEY_ROLES -> external key id
    faulty_paths: dict[str, str] = field(default_factory=dict)  # XKS_FAULTY_PATH_ROLES -> URI path
    vpc_endpoint_services: dict[str, XksVpcService] = field(default_factory=dict)  # XKS_VPC_SERVICE_ROLES

    @property
    def given(self) -> bool:
        return any(_lookup(self, r.split(".")[1:]) for r in XKS_ROLES)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "XksWorld":
        """The inverse of dataclasses.asdict (a recorded world read back); unknown keys are dropped."""
        data = dict(data or {})
        scalars = {k: data[k] for k in XKS_SCALAR_ROLES if k in data}
        credential = data.get("credential") or {}
        services = {role: XksVpcService(**{k: v for k, v in (entry or {}).items()
                                           if k in ("service_name", "uri_endpoint", "owner")})
                    for role, entry in (data.get("vpc_endpoint_services") or {}).items()}
        return cls(**scalars, credential=XksCredential(credential.get("access_key_id"),
                                                       credential.get("secret_access_key")),
                   keys=dict(data.get("keys") or {}), faulty_paths=dict(data.get("faulty_paths") or {}),
                   vpc_endpoint_services=services)


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
    xks: XksWorld = field(default_factory=XksWorld)

    def get(self, role: str) -> str:
        """A role's value; `xks.*` roles by their dotted path. A missing role raises MissingRole."""
        value = _lookup(self, role.split(".")) if "." in role else getattr(self, role, None)
        if not value or not isinstance(value, str):
            raise MissingRole(role)
        return value

    def missing(self, roles) -> list[str]:
        out = []
        for r in roles:
            try:
                self.get(r)
            except MissingRole:
                out.append(r)
        return out

    def xks_credential(self) -> dict[str, str]:
        """The world's XksProxyAuthenticationCredential member (both parts, or MissingRole)."""
        for role in XKS_CREDENTIAL_ROLES:
            self.get(role)
        return self.xks.credential.as_member()  # type: ignore[return-value]


def _lookup(obj: Any, parts: list[str]) -> Any:
    for part in parts:
        if obj is None:
            return None
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif part in {f.name for f in fields(obj)}:
            obj = getattr(obj, part)
        else:
            return None
    return obj
