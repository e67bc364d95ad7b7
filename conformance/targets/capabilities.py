"""Which operations a target lacks: the one classifier of "not implemented" answers, and probing.

Emulators say "I don't have this operation" in different ways: moto
in-process raises NotImplementedError, moto server answers an HTML 500,
LocalStack a 501 InternalFailure, ministack a 400 InvalidAction, others an
UnknownOperationException for an operation the model has. Those answers are
UNIMPLEMENTED, never FAIL: the target is honest about a gap, not wrong.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from conformance import CUSTOM_KEY_STORE_OPERATIONS, SERVICE_TARGET_PREFIX
from conformance.observation import Observation
from conformance.targets.health import TargetUnusable

if TYPE_CHECKING:  # pragma: no cover
    from conformance.targets.base import Target

_UNKNOWN_ACTION_CODES = {"InvalidAction", "UnknownOperationException", "UnknownOperation", "NotImplemented"}
# A store id and key id no target has: probes must never change state.
PROBE_STORE_ID = "cks-0000000000000000f"
PROBE_KEY_ID = "00000000-0000-4000-8000-000000000000"


@functools.lru_cache(maxsize=1)
def modelled_operations() -> frozenset[str]:
    """KMS operation names botocore's model knows (what 'a modelled operation' means)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("kms")
    return frozenset(model.operation_names)


def operation_of_target_header(amz_target: str | None) -> str | None:
    """`TrentService.UpdateCustomKeyStore` -> `UpdateCustomKeyStore` when the model has it."""
    prefix = SERVICE_TARGET_PREFIX + "."
    if amz_target and amz_target.startswith(prefix):
        name = amz_target[len(prefix):]
        if name in modelled_operations():
            return name
    return None


def classify_unimplemented(
    observation: Observation,
    *,
    operation: str | None,
    exception: BaseException | None = None,
    speaks_json: bool = False,
) -> str | None:
    """Evidence text when the answer means "this target lacks `operation`", else None.

    `operation` is the modelled operation the request was for (None for a raw
    request whose X-Amz-Target is not a modelled operation: an
    UnknownOperationException is then the *right* answer, not a gap).
    `speaks_json`: the target answered a control operation with JSON, so an
    HTML 500 on this one is its framework's "no handler" page (moto server),
    not a broken server.
    """
    if exception is not None and isinstance(exception, NotImplementedError):
        return f"NotImplementedError: {exception}"
    if observation.transport_error or observation.status is None:
        return None
    status = observation.status
    code = observation.error_code
    if status == 501:
        return f"HTTP 501 {code or ''}".strip()
    if operation is None:
        return None
    if status == 400 and code in _UNKNOWN_ACTION_CODES:
        return f"HTTP 400 {code} for the modelled operation {operation}"
    if status == 500 and speaks_json and not observation.is_json and _looks_html(observation):
        return f"HTTP 500 HTML page for {operation} (the target answers other operations with JSON)"
    if code in ("InternalFailure", "NotImplementedException") and "not" in (observation.message or "").lower() \
            and ("implemented" in (observation.message or "").lower() or "emulated" in (observation.message or "").lower()):
        return f"HTTP {status} {code}: {observation.message}"
    return None


def _looks_html(observation: Observation) -> bool:
    ctype = observation.headers.get("content-type", "")
    head = observation.raw_body.lstrip()[:64].lower()
    return "html" in ctype or head.startswith("<!doctype html") or head.startswith("<html")


# --------------------------------------------------------------------------------------------
# Probing
# --------------------------------------------------------------------------------------------

# One harmless request per operation: on a conforming target none of them changes state.
PROBES: dict[str, dict] = {
    "DescribeCustomKeyStores": {},
    "ConnectCustomKeyStore": {"CustomKeyStoreId": PROBE_STORE_ID},
    "DisconnectCustomKeyStore": {"CustomKeyStoreId": PROBE_STORE_ID},
    "DeleteCustomKeyStore": {"CustomKeyStoreId": PROBE_STORE_ID},
    "UpdateCustomKeyStore": {"CustomKeyStoreId": PROBE_STORE_ID, "NewCustomKeyStoreName": "kmsconf-probe"},
    # An empty name fails validation: nothing may be created.
    "CreateCustomKeyStore": {"CustomKeyStoreName": ""},
    "GenerateRandom": {"NumberOfBytes": 16, "CustomKeyStoreId": PROBE_STORE_ID},
    "ScheduleKeyDeletion": {"KeyId": PROBE_KEY_ID, "PendingWindowInDays": 7},
    "DescribeKey": {"KeyId": PROBE_KEY_ID},
}
CONTROL_OPERATION = "ListKeys"


def probe_capabilities(target: "Target", operations=None) -> dict[str, str]:
    """Fill `target.capabilities.unimplemented` (operation -> evidence) and return it.

    First a control call (ListKeys) tells whether the target speaks JSON at
    all; then one harmless probe per operation. A probe that times out is not
    evidence of anything: the operation stays "implemented" and its cases
    will show the problem.
    """
    caps = target.capabilities
    control = target.call(CONTROL_OPERATION, {"Limit": 1})
    # Any JSON answer (even "unknown operation") shows the target speaks AWS JSON.
    caps.speaks_json = bool(control.status and control.is_json)
    identity = getattr(target, "identity", None)
    if identity is not None and not identity.version and control.headers.get("server"):
        identity.version = control.headers["server"][:80]  # e.g. an emulator's "Werkzeug/3.1 Python/3.11"
    for operation in operations or (tuple(CUSTOM_KEY_STORE_OPERATIONS) + ("GenerateRandom", "ScheduleKeyDeletion")):
        params = PROBES.get(operation)
        if params is None:
            continue
        obs = target.call(operation, dict(params))
        evidence = classify_unimplemented(obs, operation=operation, speaks_json=caps.speaks_json)
        if not evidence and obs.unimplemented:  # raised in-process (moto): the adapter classified it
            evidence = f"{obs.error_code}: {obs.message}"
        if evidence:
            caps.unimplemented[operation] = evidence
        elif operation == "CreateCustomKeyStore" and obs.ok and isinstance(obs.body, dict):
            # The target accepted an invalid create: take the store away again at once.
            store_id = obs.body.get("CustomKeyStoreId")
            if store_id:
                target.call("DeleteCustomKeyStore", {"CustomKeyStoreId": store_id})
    return caps.unimplemented


# --------------------------------------------------------------------------------------------
# Is it KMS at all?
# --------------------------------------------------------------------------------------------

REQUEST_ID_HEADER = "x-amzn-requestid"


def require_kms_endpoint(target: "Target") -> Observation | None:
    """Refuse (TargetUnusable, exit 3) a network endpoint that is not an AWS JSON 1.1 KMS service.

    A KMS endpoint answers ListKeys, whatever the credentials, with a JSON object
    and an `x-amzn-RequestId` header (success, or an error with `__type`); moto
    server and every emulator we know do too, even those lacking the custom key
    store operations. A web server that answers HTML, a 404 page or JSON without
    a request id is not graded case by case: it is refused with what it answered.
    A target still failing after the retries (503s, throttling) is refused as
    unavailable. In-process and replayed targets are not probed (None).
    """
    if not getattr(target, "reached_over_http", False):
        return None
    obs = target.call(CONTROL_OPERATION, {"Limit": 1})
    if obs.infrastructure:
        raise TargetUnusable(f"target unavailable: {CONTROL_OPERATION} got {obs.infrastructure}")
    if obs.status is None:
        raise TargetUnusable(f"target unavailable: {CONTROL_OPERATION} got no response ({obs.transport_error})")
    problems = []
    if not isinstance(obs.body, dict):
        problems.append("a non-JSON body" if obs.body is None else f"a JSON {type(obs.body).__name__}")
    if not obs.headers.get(REQUEST_ID_HEADER):
        problems.append("no x-amzn-RequestId header")
    if problems:
        ctype = obs.headers.get("content-type", "no content type")
        head = " ".join((obs.raw_body or "<empty>").split())[:80]
        raise TargetUnusable(f"not a KMS endpoint: {CONTROL_OPERATION} got HTTP {obs.status} ({ctype}) with "
                             f"{' and '.join(problems)}: {head!r}")
    return obs
