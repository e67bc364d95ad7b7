"""Seeded deviations: realistic emulator bugs the suite must catch.

Every fault is a named override of hook methods of the clean emulator: a
small mixin class whose methods replace (or wrap, through `super()`) the
method of the same name on `ReferenceBackend` (layers `backend` and `model`:
the rules, validation, the private copy of the model) or `ReferenceApp`
(layer `http`: statuses, headers, SigV4). `make_app` / `make_backend` put the
mixins of the configured faults in front of the clean classes; the clean
classes never mention a fault. A fault changes only the target, never what
the suite expects. `breaks` lists the requirement ids (specs/requirements.yaml)
a run with the fault should report as failing (or NON_STRICT, for
message-only faults): every requirement whose observable behaviour the fault
changes, and nothing else (tests/reference/test_reference_faults.py runs the
suite with each fault and checks the requirements shown failing are these).
A constraint the emulator stops enforcing also lets invalid input reach the
existence checks (VAL-009: invalid input never gets an existence answer) and,
where it was one of several violations, drops it from the message (VAL-001).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable

from werkzeug.wrappers import Response

from conformance.reference.errors import (
    HTTP_LEVEL_ERRORS,
    CustomKeyStoreInvalidStateException,
    CustomKeyStoreNotFoundException,
    KmsError,
    NotFoundException,
    UnknownOperationException,
    ValidationException,
    XksProxyInvalidConfigurationException,
)
from conformance.spec import Prediction, Shape, type_mismatches


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    breaks: list[str] = field(default_factory=list)
    layer: str = "backend"  # backend | model | http
    hooks: type = object  # mixin over ReferenceBackend (backend, model) or ReferenceApp (http)


# ---------------------------------------------------------------- connection state rules
class _NoUpdateStateCheck:
    def check_update_state(self, store: Any, p: dict) -> None:
        pass


class _UpdateAlwaysNeedsDisconnected:
    def update_needs_disconnected(self, p: dict) -> bool:
        return True


class _UpdateNameRuleForAll:
    def update_needs_disconnected(self, p: dict) -> bool:
        return self.update_rule == "all"


class _ConnectFromFailed:
    def check_connect_state(self, store: Any) -> None:
        if store.state != "FAILED":
            super().check_connect_state(store)


class _RepeatedDisconnectIsNoop:
    def answer_repeated_disconnect(self, store: Any) -> dict:
        return {}


class _DeleteInAnyState:
    def check_delete_state(self, store: Any) -> None:
        pass


class _CryptoInAnyState:
    def check_crypto_state(self, store: Any, operation: str) -> None:
        pass


class _AnyPasswordConnects:
    def credentials_valid(self, store: Any, cluster: Any) -> bool:
        return True


class _StaleConnectionError:
    def clear_connection_error(self, store: Any) -> None:
        pass

    def shows_connection_error(self, store: Any) -> bool:
        return True


# ---------------------------------------------------------------- uniqueness, quota, cluster checks
class _CreateNameNotChecked:
    def check_create_name(self, name: str) -> None:
        pass


class _UpdateNameNotChecked:
    def check_update_name(self, store: Any, name: str) -> None:
        pass


class _NoStoreQuota:
    def check_store_quota(self) -> None:
        pass


class _ClusterInUseNotChecked:
    def check_cluster_not_in_use(self, cluster: Any) -> None:
        pass


class _UnrelatedClusterAccepted:
    def check_cluster_related(self, store: Any, cluster: Any) -> None:
        pass


class _InactiveClusterAccepted:
    def check_cluster_active(self, cluster: Any) -> None:
        pass


class _InvalidConfigClusterAccepted:
    def check_cluster_configuration(self, cluster: Any) -> None:
        pass


class _TrustAnchorNotChecked:
    def check_trust_anchor(self, certificate: str, cluster: Any) -> None:
        pass


class _DeleteIgnoresKeys:
    def check_no_keys(self, store: Any) -> None:
        pass


# ---------------------------------------------------------------- effects
class _NameAppliedBeforeClusterChecks:
    def check_update_name(self, store: Any, name: str) -> None:
        super().check_update_name(store, name)
        store.name = name  # the bug: applied before the cluster checks can still refuse the update


class _UpdateNotApplied:
    def apply_update(self, store: Any, p: dict) -> None:
        pass


class _PasswordEchoed:
    def describe_entry(self, store: Any) -> dict[str, Any]:
        return {**super().describe_entry(store), "KeyStorePassword": store.password}


# ---------------------------------------------------------------- Describe
class _UnknownFilterEmpty:
    def check_filter_matched(self, stores: list) -> None:
        pass


class _UnknownMarkerRestarts:
    def unknown_marker_start(self) -> int:
        return 0


# ---------------------------------------------------------------- validation and the private model copy
class _PasswordMaxOffByOne:
    def emulator_shape(self, shape: Shape) -> Shape:
        shape = super().emulator_shape(shape)
        if shape.name == "KeyStorePasswordType" and shape.max_length is not None:
            return dataclasses.replace(shape, max_length=shape.max_length + 1)
        return shape


class _ClusterIdPatternIgnored:
    def emulator_shape(self, shape: Shape) -> Shape:
        shape = super().emulator_shape(shape)
        return dataclasses.replace(shape, pattern=None) if shape.name == "CloudHsmClusterIdType" else shape


class _StoreNameMinZero:
    def emulator_shape(self, shape: Shape) -> Shape:
        shape = super().emulator_shape(shape)
        return dataclasses.replace(shape, min_length=0) if shape.name == "CustomKeyStoreNameType" else shape


class _LookupBeforeValidation:
    def validate(self, operation: str, params: dict) -> None:
        sid = params.get("CustomKeyStoreId")
        if isinstance(sid, str) and operation.endswith("CustomKeyStore") and sid not in self.stores:
            raise CustomKeyStoreNotFoundException()
        super().validate(operation, params)


class _WrongTypeAsValidation:
    def wrong_type_error(self, message: str) -> KmsError:
        return ValidationException(message)


class _WrongTypeCoerced:
    """What a lenient emulator does with a wrongly typed member: converts scalars, drops the rest, goes on."""

    def check_types(self, operation: str, params: dict) -> None:
        if type_mismatches(operation, params, model=self.model):
            _coerce_top_level(self.model, operation, params)
        super().check_types(operation, params)


def _coerce_top_level(model: Any, operation: str, params: dict) -> None:
    """"5" -> 5 for numbers, 5 -> "5" for strings; a member it cannot convert is dropped."""
    shape = model.input_shape(operation)
    for member in shape.members if shape else ():
        value = params.get(member.name)
        if value is None:
            continue
        kind = model.shapes[member.shape].type
        if kind == "string" and isinstance(value, (int, float, bool)):
            params[member.name] = str(value)
        elif kind in ("integer", "long") and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            params[member.name] = int(value)
    still_wrong = {path.split(".")[0] for path in type_mismatches(operation, params, model=model)}
    for member in shape.members if shape else ():
        if member.name[:1].lower() + member.name[1:] in still_wrong:
            del params[member.name]


class _PascalCaseMessages:
    def validation_message(self, prediction: Prediction, params: dict) -> str:
        message = super().validation_message(prediction, params)
        for v in prediction.violations:
            head = v.path.split(".")[0]
            message = message.replace(f"at '{head}", f"at '{head[:1].upper()}{head[1:]}")
        return message


class _PasswordInMessage:
    def validation_message(self, prediction: Prediction, params: dict) -> str:
        message = super().validation_message(prediction, params)
        if isinstance(params.get("KeyStorePassword"), str):
            message = message.replace("Value at 'keyStorePassword'",
                                      f"Value '{params['KeyStorePassword']}' at 'keyStorePassword'")
        return message


class _WholeValueEchoed:
    def echo_limit(self) -> int | None:
        return None


# ---------------------------------------------------------------- wire protocol and authentication
class _MisnamedInvalidState(CustomKeyStoreInvalidStateException):
    """Still the store-state refusal (other faults treat it as one), sent under KMS's key-state code."""

    code = "KMSInvalidStateException"


class _WrongInvalidStateCode:
    def invalid_state(self, store: Any, what: str) -> KmsError:
        return _MisnamedInvalidState(super().invalid_state(store, what).message)


class _NotFound404:
    def error_status(self, err: KmsError) -> int:
        if isinstance(err, (CustomKeyStoreNotFoundException, NotFoundException)):
            return 404
        return super().error_status(err)


class _InvalidState409:
    def error_status(self, err: KmsError) -> int:
        return 409 if isinstance(err, CustomKeyStoreInvalidStateException) else super().error_status(err)


class _UnknownOperation500:
    def error_status(self, err: KmsError) -> int:
        return 500 if isinstance(err, UnknownOperationException) else super().error_status(err)


class _NoRequestId:
    def response_headers(self, request_id: str) -> dict[str, str]:
        headers = super().response_headers(request_id)
        del headers["x-amzn-RequestId"]
        return headers


class _JsonContentType:
    def response_headers(self, request_id: str) -> dict[str, str]:
        return {**super().response_headers(request_id), "Content-Type": "application/json"}


class _NoJsonDepthLimit:
    """json.loads recurses until Python's recursion limit; the RecursionError becomes a 500."""

    def max_json_depth(self) -> int | None:
        return None


class _HttpErrorsAsHtml:
    """What a web framework answers when nobody turned its error pages into the service's errors."""

    def error_response(self, err: KmsError, request_id: str) -> Any:
        if type(err) in HTTP_LEVEL_ERRORS.values():
            page = f"<html><head><title>Error {err.status}</title></head><body><h1>{err.message}</h1></body></html>"
            return Response(page, status=err.status, mimetype="text/html")
        return super().error_response(err, request_id)


class _SignatureNotChecked:
    def authenticate(self, request: Any, signing_names: tuple[str, ...]) -> None:
        pass


class _SignatureAgeNotChecked:
    def checks_signature_age(self) -> bool:
        return False


# ---------------------------------------------------------------- external key stores (XKS)
class _XksEndpointWhileConnected:
    """The XKS members that need DISCONNECTED are treated like the name: accepted while CONNECTED."""

    def update_needs_disconnected(self, p: dict) -> bool:
        return super().update_needs_disconnected({k: v for k, v in p.items() if not k.startswith("Xks")})


class _XksCredentialPartAlone:
    """The credential's two members are optional on the emulator's copy of the model: one part alone is taken."""

    def emulator_shape(self, shape: Shape) -> Shape:
        shape = super().emulator_shape(shape)
        if shape.name == "XksProxyAuthenticationCredentialType":
            return dataclasses.replace(shape, members=tuple(dataclasses.replace(m, required=False)
                                                            for m in shape.members))
        return shape


class _XksSecretInDescribe:
    def xks_configuration(self, settings: Any) -> dict[str, Any]:
        return {**super().xks_configuration(settings), "RawSecretAccessKey": settings.secret_access_key}


class _XksUriNotUnique:
    def check_xks_uri_unique(self, settings: Any, except_id: str | None) -> None:
        pass


class _XksVpcServiceNotUnique:
    def check_xks_vpc_service_unique(self, settings: Any, except_id: str | None) -> None:
        pass


class _XksAuthFailureMisreported:
    def xks_health_error(self, failure: str) -> KmsError:
        if failure == "credentials":
            return XksProxyInvalidConfigurationException("The external key store proxy configuration is invalid.")
        return super().xks_health_error(failure)


class _XksConnectIgnoresProxy:
    def xks_connect_probe(self, store: Any) -> str | None:
        return None


class _XksConnectErrorCodeGeneric:
    def xks_connect_code(self, failure: str) -> str:
        return "NETWORK_ERRORS"


class _XksCreateSkipsHealthCheck:
    def xks_checks_proxy_on_create(self, settings: Any) -> bool:
        return False


class _XksKeyReuseAllowed:
    def check_xks_key_unused(self, store: Any, xks_key_id: str) -> None:
        pass


class _XksKeyNotChecked:
    def check_xks_key(self, store: Any, xks_key_id: str, key_arn_hint: str) -> None:
        pass


_FAULTS = [
    # --- connection state rules
    Fault("update-skips-state-check", "UpdateCustomKeyStore never checks the connection state.",
          ["UPD-010", "UPD-011", "UPD-012", "UPD-014", "UPD-015", "UPD-036", "UPD-081"], hooks=_NoUpdateStateCheck),
    Fault("update-name-connected-rejected",
          "Current edition: a name-only update of a CONNECTED store is refused (the pre-2026 rule kept).",
          ["UPD-013", "UPD-080"], hooks=_UpdateAlwaysNeedsDisconnected),
    Fault("update-password-while-connected",
          "Current edition: password and cluster changes are accepted while CONNECTED (name rule applied to all).",
          ["UPD-011", "UPD-012", "UPD-015", "UPD-036", "UPD-081"], hooks=_UpdateNameRuleForAll),
    Fault("connect-failed-allowed", "ConnectCustomKeyStore accepts a FAILED store instead of requiring a disconnect.",
          ["CON-004"], hooks=_ConnectFromFailed),
    Fault("disconnect-idempotent", "DisconnectCustomKeyStore on a DISCONNECTED/DISCONNECTING store answers 200.",
          ["DIS-002", "DIS-003"], hooks=_RepeatedDisconnectIsNoop),
    Fault("delete-connected-allowed", "DeleteCustomKeyStore deletes a store that is not DISCONNECTED.", ["DEL-002"],
          hooks=_DeleteInAnyState),
    Fault("createkey-disconnected-allowed",
          "CreateKey / GenerateRandom use a custom key store that is not CONNECTED.", ["KEY-001", "KEY-003", "KEY-084"],
          hooks=_CryptoInAnyState),
    Fault("wrong-password-connects", "Connect never checks the stored kmsuser password (no INVALID_CREDENTIALS).",
          ["CON-002", "UPD-003", "UPD-008"], hooks=_AnyPasswordConnects),
    Fault("stale-connection-error-code",
          "ConnectionErrorCode is kept after the store left FAILED and shown in any state.", ["DES-010", "DIS-005"],
          hooks=_StaleConnectionError),
    # --- uniqueness, quota, cluster checks
    Fault("create-name-not-unique", "CreateCustomKeyStore accepts a name another store already has.", ["CRE-032"],
          hooks=_CreateNameNotChecked),
    Fault("update-name-not-unique", "UpdateCustomKeyStore renames a store to a name another store has.", ["UPD-031"],
          hooks=_UpdateNameNotChecked),
    Fault("limit-not-enforced", "An eleventh custom key store is created (no quota).", ["CRE-037"],
          hooks=_NoStoreQuota),
    Fault("cluster-in-use-not-checked",
          "CreateCustomKeyStore accepts a cluster (or a related one) already used by a store.", ["CRE-030", "CRE-031"],
          hooks=_ClusterInUseNotChecked),
    Fault("unrelated-cluster-accepted", "UpdateCustomKeyStore moves a store to an unrelated cluster.", ["UPD-033"],
          hooks=_UnrelatedClusterAccepted),
    Fault("inactive-cluster-accepted", "Create/Update accept a cluster that is not ACTIVE.", ["CRE-034", "UPD-034"],
          hooks=_InactiveClusterAccepted),
    Fault("invalid-config-cluster-accepted",
          "Create/Update accept a cluster without two active HSMs in different AZs.", ["CRE-036", "UPD-035"],
          hooks=_InvalidConfigClusterAccepted),
    Fault("trust-anchor-not-checked", "CreateCustomKeyStore never compares the trust anchor with the cluster's.",
          ["CRE-035"], hooks=_TrustAnchorNotChecked),
    Fault("delete-ignores-keys", "DeleteCustomKeyStore deletes a store that still holds KMS keys.", ["DEL-003"],
          hooks=_DeleteIgnoresKeys),
    # --- effects
    Fault("update-not-atomic",
          "A refused UpdateCustomKeyStore (e.g. unrelated cluster) still applies the new name given with it.",
          ["UPD-006"], hooks=_NameAppliedBeforeClusterChecks),
    Fault("update-not-applied", "UpdateCustomKeyStore answers 200 but changes nothing.",
          ["UPD-002", "UPD-003", "UPD-005", "UPD-008", "UPD-080"], hooks=_UpdateNotApplied),
    Fault("password-echoed", "DescribeCustomKeyStores entries include the stored KeyStorePassword.",
          ["UPD-007", "DES-011", "DES-081"], hooks=_PasswordEchoed),
    # --- Describe
    Fault("describe-unknown-empty-list",
          "Describe with an unknown id or name answers an empty list instead of CustomKeyStoreNotFoundException.",
          ["DES-004", "DES-005"], hooks=_UnknownFilterEmpty),
    Fault("invalid-marker-ignored", "Describe with a Marker it never issued restarts from the first page.", ["DES-008"],
          hooks=_UnknownMarkerRestarts),
    # --- validation (perturbs the emulator's private copy of the model, or the message)
    Fault("password-max-off-by-one", "KeyStorePassword accepts one character more than the model allows.",
          ["UPD-023", "CRE-026", "VAL-009"], "model", hooks=_PasswordMaxOffByOne),
    Fault("cluster-id-pattern-ignored", "CloudHsmClusterId pattern not enforced (only its length).",
          ["UPD-025", "CRE-024", "VAL-001", "VAL-009"], "model", hooks=_ClusterIdPatternIgnored),
    Fault("store-name-min-zero", "An empty custom key store name is accepted (the Describe filter shares the type).",
          ["CRE-022", "UPD-022", "DES-021", "VAL-009"], "model",
          hooks=_StoreNameMinZero),
    Fault("notfound-before-validation",
          "The store id is looked up before the input is validated (NotFound wins over ValidationException).",
          # With an unknown store id, every input constraint of these operations goes unenforced.
          ["VAL-009", "CON-021", "DEL-021", "DIS-021", "PROTO-011", "UPD-021", "UPD-022", "UPD-023", "UPD-024",
           "UPD-025", "UPD-060", "UPD-061", "UPD-062", "UPD-063", "UPD-064", "UPD-065", "UPD-066", "UPD-067",
           "UPD-068", "UPD-069", "UPD-070", "UPD-071", "UPD-072", "UPD-073", "UPD-074"], hooks=_LookupBeforeValidation),
    Fault("serialization-as-validation", "Members of the wrong JSON type get ValidationException.", ["PROTO-011"],
          hooks=_WrongTypeAsValidation),
    Fault("wrong-type-coerced",
          "Members of the wrong JSON type are coerced (\"5\" -> 5, 5 -> \"5\") or dropped and the request goes on.",
          ["PROTO-011", "PROTO-005"], hooks=_WrongTypeCoerced),
    Fault("validation-message-pascalcase", "Validation messages name members in PascalCase ('KeyStorePassword').",
          ["VAL-001"], hooks=_PascalCaseMessages),
    Fault("password-in-validation-message", "Validation messages quote the (sensitive) KeyStorePassword value.",
          ["VAL-004"], hooks=_PasswordInMessage),
    Fault("validation-echoes-whole-value",
          "Validation messages quote an invalid value whole however long (a 20,000-character name comes back in full).",
          ["VAL-010"], hooks=_WholeValueEchoed),
    # --- wire protocol
    Fault("notfound-404", "Not-found errors use the Smithy 404 status instead of 400.", ["PROTO-005"], "http",
          hooks=_NotFound404),
    Fault("invalid-state-409", "CustomKeyStoreInvalidStateException is sent with status 409.",
          ["PROTO-005", "UPD-036", "DIS-002"], "http", hooks=_InvalidState409),
    Fault("wrong-error-code-invalid-state",
          "Custom key store state errors are KMSInvalidStateException instead of CustomKeyStoreInvalidStateException.",
          ["UPD-036", "CON-003", "CON-004", "DIS-002", "DIS-003", "DEL-002", "KEY-001", "KEY-003",
           "UPD-081", "KEY-084"],  # the XKS state refusals (UPD-081, KEY-084) use the same exception
          hooks=_WrongInvalidStateCode),
    Fault("unknown-operation-500", "An unknown X-Amz-Target gets a 500 instead of 400.",
          ["PROTO-012", "PROTO-013", "PROTO-014", "PROTO-005"], "http", hooks=_UnknownOperation500),
    Fault("missing-request-id", "Responses have no x-amzn-RequestId header.", ["PROTO-009"], "http",
          hooks=_NoRequestId),
    Fault("json-content-type", "Responses say Content-Type application/json.", ["PROTO-003"], "http",
          hooks=_JsonContentType),
    Fault("deep-json-internal-error",
          "JSON nested deeper than the parser's recursion limit gets 500 KMSInternalException, not SerializationException.",
          ["PROTO-019", "PROTO-005"], "http", hooks=_NoJsonDepthLimit),
    Fault("http-errors-as-html",
          "Requests refused before any operation runs (oversized or stalled body, garbage request line, oversize "
          "headers) get the web framework's HTML error page instead of AWS JSON.",
          ["PROTO-018", "PROTO-003"], "http", hooks=_HttpErrorsAsHtml),
    # --- external key stores (XKS)
    Fault("xks-endpoint-change-while-connected",
          "UpdateCustomKeyStore changes the proxy URI endpoint, connectivity or VPC endpoint service of a CONNECTED "
          "external key store.", ["UPD-081", "UPD-036"], hooks=_XksEndpointWhileConnected),
    Fault("xks-credential-part-alone",
          "An XksProxyAuthenticationCredential with only one of AccessKeyId and RawSecretAccessKey is accepted.",
          ["CRE-069", "CRE-072", "UPD-069", "UPD-072", "VAL-001", "VAL-009"], "model", hooks=_XksCredentialPartAlone),
    Fault("xks-secret-in-describe", "XksProxyConfiguration in Describe includes the RawSecretAccessKey.",
          ["DES-081"], hooks=_XksSecretInDescribe),
    Fault("xks-uri-not-unique",
          "Create/Update accept a proxy URI endpoint and path that another external key store uses.",
          ["CRE-040", "CRE-041", "UPD-040", "UPD-041", "UPD-006"], hooks=_XksUriNotUnique),
    Fault("xks-vpc-service-not-unique",
          "Create/Update accept a VPC endpoint service that another external key store uses.",
          ["CRE-044", "UPD-044", "UPD-006"], hooks=_XksVpcServiceNotUnique),
    Fault("xks-auth-failure-misreported",
          "A proxy that refuses the SigV4 credential is reported as XksProxyInvalidConfigurationException.",
          ["CRE-043", "UPD-043"], hooks=_XksAuthFailureMisreported),
    Fault("xks-connect-ignores-proxy",
          "ConnectCustomKeyStore connects an external key store whatever its proxy or VPC endpoint service answers.",
          ["CON-081", "CON-082", "CON-083", "CON-084", "CON-085", "CON-086", "CON-087"],
          hooks=_XksConnectIgnoresProxy),
    Fault("xks-connect-error-code-generic",
          "A failed external key store connection ends FAILED with NETWORK_ERRORS instead of its XKS_* code.",
          ["CON-081", "CON-082", "CON-083", "CON-084", "CON-085", "CON-086", "CON-087"],
          hooks=_XksConnectErrorCodeGeneric),
    Fault("xks-create-skips-health-check",
          "CreateCustomKeyStore makes a public-endpoint external key store without asking its proxy.",
          ["CRE-042", "CRE-043", "CRE-047", "CRE-048"], hooks=_XksCreateSkipsHealthCheck),
    Fault("xks-key-reuse-allowed", "CreateKey backs a second KMS key of a store with an external key already in use.",
          ["KEY-083"], hooks=_XksKeyReuseAllowed),
    Fault("xks-key-not-checked",
          "CreateKey never asks the proxy about the external key (unknown or unusable keys are accepted).",
          ["KEY-081", "KEY-082"], hooks=_XksKeyNotChecked),
    # --- authentication
    Fault("signature-not-checked", "Requests are served without any SigV4 check.",
          ["AUTH-001", "AUTH-002", "AUTH-003", "AUTH-004", "AUTH-005"], "http", hooks=_SignatureNotChecked),
    Fault("expired-signature-accepted", "The X-Amz-Date age is never checked.", ["AUTH-005", "PROTO-005"], "http",
          hooks=_SignatureAgeNotChecked),
]

FAULTS: dict[str, Fault] = {f.name: f for f in _FAULTS}


def backend_overrides(names: Iterable[str]) -> tuple[type, ...]:
    """The mixins the named faults put over ReferenceBackend (layers backend and model), outermost first."""
    return _overrides(names, http=False)


def app_overrides(names: Iterable[str]) -> tuple[type, ...]:
    """The mixins the named faults put over ReferenceApp (layer http), outermost first."""
    return _overrides(names, http=True)


def _overrides(names: Iterable[str], *, http: bool) -> tuple[type, ...]:
    # Table order, innermost first: when two faults wrap one hook, the result does not depend on
    # the order the user named them in.
    wanted = set(names)
    return tuple(f.hooks for f in reversed(_FAULTS) if f.name in wanted and (f.layer == "http") == http)
