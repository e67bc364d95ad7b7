"""Which operations a target lacks: the one classifier of "not implemented" answers, and probing.

Emulators say "I don't have this operation" in different ways: moto
in-process raises NotImplementedError, moto server answers an HTML 500,
LocalStack a 501 InternalFailure, ministack a 400 InvalidAction, others an
UnknownOperationException for an operation the model has. Those answers are
UNIMPLEMENTED, never FAIL: the target is honest about a gap, not wrong.
"""

from __future__ import annotations

import functools
import time
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
    if identity is not None and not getattr(identity, "server", None) and control.headers.get("server"):
        identity.server = control.headers["server"][:80]  # e.g. an emulator's "Werkzeug/3.1 Python/3.11"
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
# Transition probing: can CONNECTING / DISCONNECTING be seen on this target?
# --------------------------------------------------------------------------------------------

TRANSITIONS_TO_PROBE = "to probe"
TRANSITIONS_CONFIG_KEY = "target.observable_transitions"
_FORCE_HINT = f"set {TRANSITIONS_CONFIG_KEY}: true in the config to force it"
_PROBE_OPERATIONS = ("CreateCustomKeyStore", "ConnectCustomKeyStore", "DescribeCustomKeyStores",
                     "DisconnectCustomKeyStore", "DeleteCustomKeyStore")
_PROBE_ROLES = ("active_cluster_id", "trust_anchor_certificate", "kmsuser_password")


def probe_transitions(target: "Target", driver) -> str:
    """Decide `capabilities.observable_transitions` by looking, when the config left it open.

    Creates a store through the StoreDriver (ledger first), connects it and Describes at once: a
    CONNECTING there (or DISCONNECTING right after a disconnect) shows the transitions are
    observable; a store already CONNECTED means they are not (never a guess from timing: the
    cases then stay NOT_TRIGGERABLE and say how to force them). A target that cannot create or
    connect keeps the default. The store is removed whatever happens. Returns (and keeps in
    `capabilities.transitions_source`) how the value was decided.
    """
    caps = target.capabilities
    if caps.transitions_source != TRANSITIONS_TO_PROBE:
        return caps.transitions_source
    observed, source = _look_for_transitions(target, driver)
    caps.observable_transitions = observed
    caps.transitions_source = source
    driver.take_steps()  # the probe's calls belong to no case
    return source


def _look_for_transitions(target: "Target", driver) -> tuple[bool, str]:
    from conformance.redact import scrub

    default = bool(target.capabilities.observable_transitions)
    lacking = [op for op in _PROBE_OPERATIONS if not target.capabilities.is_implemented(op)]
    if lacking:
        return default, f"default, not probed: the target lacks {lacking[0]}; {_FORCE_HINT}"
    missing = target.world.missing(_PROBE_ROLES)
    if missing:
        return default, f"default, not probed: the world has no {missing[0]}; {_FORCE_HINT}"
    seen: list[str] = []
    store_id = None
    try:
        store_id = driver.create_store(CustomKeyStoreName=driver.name("transition-probe"))
        started = time.monotonic()
        after_connect = driver.connect(store_id, wait=False)
        final = after_connect
        if after_connect == "CONNECTING":
            seen.append("CONNECTING")
            final = driver.wait_for_state(store_id, ("CONNECTED", "FAILED"), target.timeouts.connect_s)
        # How long a connect takes here: only what a run costs depends on it (state phases), no verdict.
        target.capabilities.transition_s = round(time.monotonic() - started, 3)
        if final == "CONNECTED" and driver.disconnect(store_id, wait=False) == "DISCONNECTING":
            seen.append("DISCONNECTING")
    except Exception as exc:  # noqa: BLE001 - any setup trouble: keep the default and say why
        if not seen:
            return default, f"default, probe failed: {scrub(str(exc))[:160]}; {_FORCE_HINT}"
    finally:
        if store_id is not None:
            try:
                driver.delete_store(store_id)
            except Exception:  # noqa: BLE001 - the run's ledger cleanup is the backstop
                pass
    if seen:
        return True, f"probed: saw {' and '.join(seen)}"
    return False, (f"probed: not observed, the store was {after_connect or 'gone'} right after "
                   f"ConnectCustomKeyStore; {_FORCE_HINT}")


def transitions_note(capabilities) -> str:
    """`observable_transitions: true (probed: saw CONNECTING)`: what the report meta shows."""
    return (f"observable_transitions: {str(bool(capabilities.observable_transitions)).lower()} "
            f"({getattr(capabilities, 'transitions_source', 'adapter')})")


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
