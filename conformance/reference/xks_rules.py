"""The external key store (XKS) rules of the reference backend (edition `current` only).

A mixin of ReferenceBackend: it uses the backend's state (`stores`, `keys`, `config`) and its
shared rules (quota, names, connection states). Every rule is a small named method, so a seeded
fault (faults.py) can replace exactly one.

Check order for XKS stores (extends the backend's one order; AWS documents none):
validation → members the store type needs or forbids → existence → connection state → name →
URI uniqueness (endpoint + path: XksProxyUriInUse; then the endpoint alone across connectivities:
XksProxyUriEndpointInUse) → VPC endpoint service in use → the VPC endpoint service itself
(not found → invalid configuration) → the proxy's GetHealthStatus. Create checks the proxy for
PUBLIC_ENDPOINT stores only (a VPC endpoint service store is first reached on Connect); Update
checks it with the new values whenever a proxy member changes; Connect turns every failure into
FAILED with a ConnectionErrorCode instead of an exception. Messages are ours ([INFER]).
"""

from __future__ import annotations

import uuid
from typing import Any

from conformance.reference.errors import (
    CustomKeyStoreInvalidStateException,
    KmsError,
    KMSInvalidStateException,
    UnsupportedOperationException,
    ValidationException,
    XksKeyAlreadyInUseException,
    XksKeyInvalidConfigurationException,
    XksKeyNotFoundException,
    XksProxyIncorrectAuthenticationCredentialException,
    XksProxyInvalidConfigurationException,
    XksProxyInvalidResponseException,
    XksProxyUriEndpointInUseException,
    XksProxyUriInUseException,
    XksProxyUriUnreachableException,
    XksProxyVpcEndpointServiceInUseException,
    XksProxyVpcEndpointServiceInvalidConfigurationException,
    XksProxyVpcEndpointServiceNotFoundException,
)
from conformance.reference.xks import (
    ACCESS_DENIED,
    CREDENTIALS,
    INVALID_RESPONSE,
    KEY_INVALID,
    KEY_NOT_FOUND,
    TIMED_OUT,
    UNAVAILABLE,
    UNREACHABLE,
    URI_PATH,
    VPC_INVALID,
    VPC_NOT_FOUND,
    ProxyClient,
    XksSettings,
    health_failure,
    metadata_failure,
    vpc_service_problem,
)

XKS = "EXTERNAL_KEY_STORE"
PUBLIC, VPC = "PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE"
XKS_MEMBERS = ("XksProxyUriEndpoint", "XksProxyUriPath", "XksProxyVpcEndpointServiceName",
               "XksProxyVpcEndpointServiceOwner", "XksProxyAuthenticationCredential", "XksProxyConnectivity")
CLOUDHSM_MEMBERS = ("CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword")
PROXY_MEMBERS = XKS_MEMBERS  # a change to any of these is checked with the proxy

# Create / Update: what a failed proxy check is answered with (XKS proxy API spec, error table).
HEALTH_ERRORS: dict[str, tuple[type[KmsError], str]] = {
    UNREACHABLE: (XksProxyUriUnreachableException, "KMS cannot reach the external key store proxy at its URI."),
    TIMED_OUT: (XksProxyUriUnreachableException, "The external key store proxy did not answer in time."),
    UNAVAILABLE: (XksProxyUriUnreachableException,
                  "The external key store proxy reports that no external key manager is available."),
    CREDENTIALS: (XksProxyIncorrectAuthenticationCredentialException,
                  "The external key store proxy did not accept the proxy authentication credential."),
    URI_PATH: (XksProxyInvalidConfigurationException,
               "The external key store proxy does not serve the XKS proxy API at this URI path."),
    ACCESS_DENIED: (XksProxyInvalidConfigurationException, "The external key store proxy denied KMS access."),
    INVALID_RESPONSE: (XksProxyInvalidResponseException,
                       "KMS cannot interpret the answer of the external key store proxy."),
}
# Connect: the ConnectionErrorCode a failed attempt ends FAILED with.
CONNECT_CODES = {
    UNREACHABLE: "XKS_PROXY_NOT_REACHABLE",
    UNAVAILABLE: "XKS_PROXY_NOT_REACHABLE",
    TIMED_OUT: "XKS_PROXY_TIMED_OUT",
    CREDENTIALS: "INVALID_CREDENTIALS",
    URI_PATH: "XKS_PROXY_INVALID_CONFIGURATION",
    ACCESS_DENIED: "XKS_PROXY_ACCESS_DENIED",
    INVALID_RESPONSE: "XKS_PROXY_INVALID_RESPONSE",
    VPC_NOT_FOUND: "XKS_VPC_ENDPOINT_SERVICE_NOT_FOUND",
    VPC_INVALID: "XKS_VPC_ENDPOINT_SERVICE_INVALID_CONFIGURATION",
}


class XksRules:
    """External key stores: create, update, connect, describe, and KMS keys on external keys."""

    stores: dict
    keys: dict
    config: Any

    @property
    def proxy(self) -> ProxyClient:
        client = getattr(self, "_proxy_client", None)
        if client is None:
            client = self._proxy_client = ProxyClient(self.config.xks_network, self.config.xks_proxy_timeout_s,
                                                      self.config.region)
        return client

    # ------------------------------------------------------------------ members by store type
    def check_xks_members(self, p: dict, *, creating: bool) -> None:
        stray = [m for m in CLOUDHSM_MEMBERS if p.get(m) is not None]
        if stray:
            raise ValidationException(f"{stray[0]} is not valid for a custom key store of type {XKS}.")
        if creating:
            for member in ("XksProxyConnectivity", "XksProxyUriEndpoint", "XksProxyUriPath",
                           "XksProxyAuthenticationCredential"):
                if p.get(member) is None:
                    raise ValidationException(f"{member} is required for a custom key store of type {XKS}.")

    def check_cloudhsm_members(self, p: dict) -> None:
        """A CloudHSM store takes no XKS member."""
        stray = [m for m in XKS_MEMBERS if p.get(m) is not None]
        if stray:
            raise ValidationException(f"{stray[0]} is not valid for a custom key store of type AWS_CLOUDHSM.")

    def check_connectivity_members(self, settings: XksSettings, p: dict, previous: XksSettings | None) -> None:
        """VPC connectivity needs its service; public connectivity takes none; a switch names a new endpoint."""
        if settings.connectivity == VPC and not settings.vpc_service_name:
            raise ValidationException(
                f"XksProxyVpcEndpointServiceName is required when XksProxyConnectivity is {VPC}.")
        if settings.connectivity == PUBLIC and (settings.vpc_service_name or settings.vpc_service_owner):
            raise ValidationException(
                f"XksProxyVpcEndpointServiceName and XksProxyVpcEndpointServiceOwner are valid only when "
                f"XksProxyConnectivity is {VPC}.")
        if previous is not None and settings.connectivity != previous.connectivity:
            if p.get("XksProxyUriEndpoint") is None:
                raise ValidationException("A change of XksProxyConnectivity needs a new XksProxyUriEndpoint.")
            if settings.connectivity == VPC and p.get("XksProxyVpcEndpointServiceName") is None:
                raise ValidationException(
                    f"A change to {VPC} connectivity needs XksProxyVpcEndpointServiceName.")

    # ------------------------------------------------------------------ uniqueness
    def _xks_others(self, except_id: str | None) -> list:
        return [s for s in self.stores.values() if s.xks is not None and s.id != except_id]

    def check_xks_uri_unique(self, settings: XksSettings, except_id: str | None) -> None:
        for other in self._xks_others(except_id):
            o = other.xks
            if o.uri_endpoint.lower() == settings.uri_endpoint.lower() and o.uri_path == settings.uri_path:
                raise XksProxyUriInUseException(
                    f"The proxy URI {settings.uri_endpoint}{settings.uri_path} is already used by custom key "
                    f"store {other.id}.")
        for other in self._xks_others(except_id):
            o = other.xks
            same_endpoint = o.uri_endpoint.lower() == settings.uri_endpoint.lower()
            if same_endpoint and VPC in (o.connectivity, settings.connectivity):
                raise XksProxyUriEndpointInUseException(
                    f"The proxy URI endpoint {settings.uri_endpoint} is already used by custom key store "
                    f"{other.id}; a store reached through a VPC endpoint service needs its own endpoint.")

    def check_xks_vpc_service_unique(self, settings: XksSettings, except_id: str | None) -> None:
        for other in self._xks_others(except_id):
            o = other.xks
            if (o.connectivity == VPC and o.vpc_service_name == settings.vpc_service_name
                    and self._owner(o) == self._owner(settings)):
                raise XksProxyVpcEndpointServiceInUseException(
                    f"VPC endpoint service {settings.vpc_service_name} is already used by custom key store "
                    f"{other.id}.")

    def _owner(self, settings: XksSettings) -> str:
        return settings.vpc_service_owner or self.config.account_id

    # ------------------------------------------------------------------ the VPC endpoint service and the proxy
    def xks_vpc_problem(self, settings: XksSettings) -> tuple[str, str] | None:
        return vpc_service_problem(self.config.xks_vpc_services, settings.vpc_service_name or "",
                                   self._owner(settings), self.config.region, settings.uri_endpoint)

    def check_xks_vpc_service(self, settings: XksSettings) -> None:
        problem = self.xks_vpc_problem(settings)
        if problem is not None:
            kind, why = problem
            raise (XksProxyVpcEndpointServiceNotFoundException if kind == VPC_NOT_FOUND
                   else XksProxyVpcEndpointServiceInvalidConfigurationException)(why)

    def xks_health(self, settings: XksSettings, operation: str) -> str | None:
        """GetHealthStatus with these settings: None when healthy, else the failure kind."""
        answer = self.proxy.call(settings.uri_endpoint, settings.uri_path, "/health",
                                 {"requestMetadata": {"kmsRequestId": str(uuid.uuid4()), "kmsOperation": operation}},
                                 settings.credential)
        return health_failure(answer)

    def xks_health_error(self, failure: str) -> KmsError:
        error, message = HEALTH_ERRORS[failure]
        return error(message)

    def check_xks_proxy(self, settings: XksSettings, operation: str) -> None:
        failure = self.xks_health(settings, operation)
        if failure is not None:
            raise self.xks_health_error(failure)

    def xks_checks_proxy_on_create(self, settings: XksSettings) -> bool:
        """Create reaches a public-endpoint proxy at once; a VPC endpoint service store first on Connect."""
        return settings.connectivity == PUBLIC

    def xks_connect_code(self, failure: str) -> str:
        return CONNECT_CODES[failure]

    def xks_connect_probe(self, store: Any) -> str | None:
        """What a connection attempt finds: None (it connects) or the ConnectionErrorCode it fails with."""
        settings = store.xks
        if settings.connectivity == VPC:
            problem = self.xks_vpc_problem(settings)
            if problem is not None:
                return self.xks_connect_code(problem[0])
        failure = self.xks_health(settings, "ConnectCustomKeyStore")
        return None if failure is None else self.xks_connect_code(failure)

    # ------------------------------------------------------------------ operations
    def xks_settings(self, p: dict, previous: XksSettings | None = None) -> XksSettings:
        """The store's settings after this request (a Create's, or an Update's merged over the old)."""
        credential, old = p.get("XksProxyAuthenticationCredential"), previous
        connectivity = p.get("XksProxyConnectivity") or (old.connectivity if old else PUBLIC)
        switched_to_public = old is not None and connectivity == PUBLIC and old.connectivity != PUBLIC
        keep_vpc = old is not None and not switched_to_public
        return XksSettings(
            connectivity=connectivity,
            uri_endpoint=p.get("XksProxyUriEndpoint") or (old.uri_endpoint if old else ""),
            uri_path=p.get("XksProxyUriPath") or (old.uri_path if old else ""),
            access_key_id=self.credential_part(credential, "AccessKeyId", old.access_key_id if old else None),
            secret_access_key=self.credential_part(credential, "RawSecretAccessKey",
                                                   old.secret_access_key if old else None),
            vpc_service_name=p.get("XksProxyVpcEndpointServiceName") or (old.vpc_service_name if keep_vpc else None),
            vpc_service_owner=p.get("XksProxyVpcEndpointServiceOwner") or (
                old.vpc_service_owner if keep_vpc else None),
        )

    def credential_part(self, credential: dict | None, part: str, old: str | None) -> str:
        """One part of the credential: both come together (the model requires both members)."""
        if credential is None:
            return old or ""
        return credential.get(part) or old or ""

    def create_xks_store(self, p: dict) -> XksSettings:
        """Every Create check of an external key store; the settings to store when all pass."""
        self.check_xks_members(p, creating=True)
        settings = self.xks_settings(p)
        self.check_connectivity_members(settings, p, None)
        self.check_store_quota()  # type: ignore[attr-defined]
        self.check_create_name(p["CustomKeyStoreName"])  # type: ignore[attr-defined]
        self.check_xks_proxy_settings(settings, None, "CreateCustomKeyStore",
                                      reach_proxy=self.xks_checks_proxy_on_create(settings))
        return settings

    def check_xks_proxy_settings(self, settings: XksSettings, except_id: str | None, operation: str, *,
                                 reach_proxy: bool) -> None:
        self.check_xks_uri_unique(settings, except_id)
        if settings.connectivity == VPC:
            self.check_xks_vpc_service_unique(settings, except_id)
            self.check_xks_vpc_service(settings)
        if reach_proxy:
            self.check_xks_proxy(settings, operation)

    def update_xks_store(self, store: Any, p: dict) -> XksSettings | None:
        """Every Update check of an external key store (state already checked); new settings or None."""
        if not any(p.get(m) is not None for m in PROXY_MEMBERS):
            return None
        settings = self.xks_settings(p, store.xks)
        self.check_connectivity_members(settings, p, store.xks)
        self.check_xks_proxy_settings(settings, store.id, "UpdateCustomKeyStore", reach_proxy=True)
        return settings

    def xks_configuration(self, settings: XksSettings) -> dict[str, Any]:
        """XksProxyConfiguration in Describe: everything but the secret access key."""
        out = {"Connectivity": settings.connectivity, "AccessKeyId": settings.access_key_id,
               "UriEndpoint": settings.uri_endpoint, "UriPath": settings.uri_path}
        if settings.connectivity == VPC:
            out["VpcEndpointServiceName"] = settings.vpc_service_name
            if settings.vpc_service_owner:
                out["VpcEndpointServiceOwner"] = settings.vpc_service_owner
        return out

    # ------------------------------------------------------------------ KMS keys on external keys
    def check_xks_key_request(self, p: dict, store: Any) -> str:
        """CreateKey members for a key in an external key store; returns the XksKeyId."""
        if store.xks is None or p.get("Origin") != XKS:
            raise UnsupportedOperationException(
                f"Origin {XKS} goes with an external key store, and an external key store takes only "
                f"Origin {XKS}.")
        xks_key_id = p.get("XksKeyId")
        if xks_key_id is None:
            raise ValidationException(f"XksKeyId is required when Origin is {XKS}.")
        spec = p.get("KeySpec") or p.get("CustomerMasterKeySpec") or "SYMMETRIC_DEFAULT"
        if spec != "SYMMETRIC_DEFAULT" or (p.get("KeyUsage") or "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT" or p.get(
                "MultiRegion"):
            raise UnsupportedOperationException(
                "An external key store holds only single-Region SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT.")
        return xks_key_id

    def check_xks_key_unused(self, store: Any, xks_key_id: str) -> None:
        for key in self.keys.values():
            if key.store_id == store.id and key.xks_key_id == xks_key_id:
                raise XksKeyAlreadyInUseException(
                    f"External key {xks_key_id} is already associated with KMS key {key.id} in this store.")

    def check_xks_key(self, store: Any, xks_key_id: str, key_arn_hint: str) -> None:
        """GetKeyMetadata through the store's proxy; the CreateKey error for what it says."""
        answer = self.proxy.call(store.xks.uri_endpoint, store.xks.uri_path, f"/keys/{xks_key_id}/metadata",
                                 {"requestMetadata": {"awsPrincipalArn": key_arn_hint, "kmsOperation": "CreateKey",
                                                      "kmsRequestId": str(uuid.uuid4())}},
                                 store.xks.credential)
        failure = metadata_failure(answer)
        if failure is None:
            return
        if failure == KEY_NOT_FOUND:
            raise XksKeyNotFoundException(f"The external key store proxy cannot find external key {xks_key_id}.")
        if failure == KEY_INVALID:
            raise XksKeyInvalidConfigurationException(
                f"External key {xks_key_id} is not an enabled AES-256 key that can encrypt and decrypt.")
        if failure == ACCESS_DENIED:
            raise KMSInvalidStateException("The external key store proxy denied access to the operation.")
        raise CustomKeyStoreInvalidStateException(
            f"KMS could not use the external key store proxy of custom key store {store.id}: "
            + HEALTH_ERRORS[failure][1])
