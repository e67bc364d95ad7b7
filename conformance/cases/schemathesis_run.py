"""Schemathesis over AWS JSON 1.1: its generators and checks against any target.

The spec's OpenAPI rendering (`render_openapi`: one synthetic `POST /TrentService.<Op>`
path per operation) is loaded with `schemathesis.openapi.from_dict`. Schemathesis
generates positive and negative request bodies; each is sent the AWS way, as
`POST /` with `X-Amz-Target` and `application/x-amz-json-1.1`, signed with SigV4,
through `target.send_raw` (the same path for URL targets and in-process ones).
The answer is handed back to Schemathesis' own checks (not_a_server_error,
status_code_conformance, response_schema_conformance, negative_data_rejection,
positive_data_acceptance).

Two adaptations, because AWS JSON 1.1 is not REST (each one line, each on purpose):
- every generated body is re-checked before a data check judges it: against the
  request JSON Schema and against AWS's rules (the oracle: UTF-16 lengths, types,
  patterns). A "negative" body AWS would accept, or a "positive" one AWS would
  refuse, is not judged by those checks (Schemathesis' negative mode is known to
  produce false positives);
- AWS answers every client error with 400, so the status alone cannot say whether
  data was rejected: a 400 whose `__type` is not ValidationException/
  SerializationException means the input passed validation (the store does not
  exist, ...) and counts as accepted for positive_data_acceptance; for a body
  AWS must reject, such an answer fails negative_data_rejection.

One case per operation x check; all checks of an operation share one generation
run (cached per target). Bounded: a few examples per operation and mode by default.
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from conformance import CUSTOM_KEY_STORE_OPERATIONS, SERVICE_TARGET_PREFIX, VALIDATION_CODES
from conformance.cases.base import Case, CaseContext, CollectContext
from conformance.cases.common import KnownNames, name_nothing
from conformance.cases.kernel import Recorder
from conformance.cases.requests import wire_request
from conformance.redact import redact, scrub
from conformance.spec.requirements import respect_combinations
from conformance.steps import Step
from conformance.verdicts import check_judged_anything, check_schemathesis, harness_error, unimplemented

CHECKS = ("not_a_server_error", "status_code_conformance", "response_schema_conformance",
          "negative_data_rejection", "positive_data_acceptance")
CHECK_REQUIREMENTS = {
    "not_a_server_error": ("PROTO-005", "PROTO-010", "PROTO-011"),
    "status_code_conformance": ("PROTO-005",),
    "response_schema_conformance": ("PROTO-004", "PROTO-007"),
    "negative_data_rejection": ("VAL-001", "VAL-009"),
    "positive_data_acceptance": ("VAL-008", "PROTO-015"),
}
JSON_CT = "application/x-amz-json-1.1"
CLOUDHSM_CREATE_MEMBERS = ("CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword")


@dataclass
class Finding:
    check: str
    message: str
    body: Any
    observed: dict
    size: int


@dataclass
class OperationRun:
    """What one Schemathesis generation run over one operation found, per check."""

    sent: int = 0
    positive: int = 0
    negative: int = 0
    judged: dict[str, int] = field(default_factory=lambda: {c: 0 for c in CHECKS})
    not_judged: dict[str, int] = field(default_factory=lambda: {c: 0 for c in CHECKS})
    findings: dict[str, Finding] = field(default_factory=dict)  # check -> smallest failing request
    unimplemented: str | None = None
    error: str | None = None
    over_budget: bool = False


_cache: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def _check_functions() -> dict[str, Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        negative_data_rejection,
        positive_data_acceptance,
        response_schema_conformance,
        status_code_conformance,
    )

    return {
        "not_a_server_error": not_a_server_error,
        "status_code_conformance": status_code_conformance,
        "response_schema_conformance": response_schema_conformance,
        "negative_data_rejection": negative_data_rejection,
        "positive_data_acceptance": positive_data_acceptance,
    }


def _schema(ctx: CaseContext):
    import schemathesis

    from conformance.spec import render_openapi

    return schemathesis.openapi.from_dict(cloudhsm_profile(render_openapi(ctx.model,
                                                                          operations=list(CUSTOM_KEY_STORE_OPERATIONS))))


def cloudhsm_profile(document: dict) -> dict:
    """The rendered document narrowed to CloudHSM stores (a copy; the spec's rendering is untouched).

    The model leaves store-type rules to service logic: a CloudHSM store needs cluster id,
    trust anchor and password (CRE-005), and an external key store's answer depends on the
    proxy at its URI endpoint, which a generated body cannot name (external key stores are
    checked by the XKS scenarios and the property cases instead). Without this, nearly every
    positive Create body would be one AWS refuses for reasons the schema cannot show.
    """
    import copy

    doc = copy.deepcopy(document)
    create = doc.get("components", {}).get("schemas", {}).get("CreateCustomKeyStoreRequest")
    if isinstance(create, dict):
        props = create.get("properties", {})
        for name in [n for n in props if n.startswith("Xks") or n == "CustomKeyStoreType"]:
            props.pop(name)
        create["required"] = sorted(set(create.get("required", [])) | set(CLOUDHSM_CREATE_MEMBERS))
    return doc


def _wire_body(body: Any) -> bytes:
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    return json.dumps(body).encode()


def _aws_invalid(ctx: CaseContext, operation: str, body: Any) -> bool:
    """Whether AWS must refuse this body at input checking (wrong JSON shape/type or a constraint)."""
    from conformance.spec import predict_validation, type_mismatches

    if not isinstance(body, dict):
        return True
    try:
        if type_mismatches(operation, body, model=ctx.model, edition=ctx.edition):
            return True
        return predict_validation(operation, body, model=ctx.model, edition=ctx.edition) is not None
    except Exception:  # noqa: BLE001 - a body the oracle cannot read is not judged as valid
        return True


def _schema_valid(request_schema: dict | None, components: dict, body: Any) -> bool:
    """The body against the rendered request JSON Schema (the re-check the design notes ask for)."""
    import jsonschema

    if request_schema is None:
        return True
    doc = {**request_schema, "components": components}
    try:
        jsonschema.Draft202012Validator(doc).validate(body)
        return True
    except jsonschema.ValidationError:
        return False
    except Exception:  # noqa: BLE001 - an unreadable schema or body: do not judge
        return True


def _service_logic_limits(operation: str, body: Any) -> bool:
    """Positive bodies whose answer depends on service logic the schema cannot say (not judged).

    CreateCustomKeyStore: a CloudHSM store needs cluster id, trust anchor and password
    (CRE-005); an external key store's answer depends on the proxy its body names.
    """
    if operation != "CreateCustomKeyStore" or not isinstance(body, dict):
        return False
    if any(m not in body for m in CLOUDHSM_CREATE_MEMBERS):
        return True
    return body.get("CustomKeyStoreType", "AWS_CLOUDHSM") != "AWS_CLOUDHSM" or any(k.startswith("Xks") for k in body)


def _response(obs, url: str, payload: bytes):
    """A Schemathesis Response built from our Observation (no second request is sent)."""
    import requests
    from schemathesis.core.transport import Response

    headers = {k: [v] for k, v in (obs.headers or {}).items()}
    # The document declares application/json; AWS JSON 1.1 is JSON with another name.
    if "content-type" in headers and headers["content-type"][0].startswith(JSON_CT):
        headers["content-type"] = ["application/json"]
    prepared = requests.Request("POST", url, data=payload, headers={"Content-Type": "application/json"}).prepare()
    # The parsed body when there is one: Observation.raw_body is kept truncated for reports.
    content = json.dumps(obs.body).encode() if obs.body is not None else (obs.raw_body or "").encode()
    return Response(status_code=obs.status, headers=headers, content=content,
                    request=prepared, elapsed=obs.latency_s or 0.0, verify=True)


def run_operation(ctx: CaseContext, operation: str) -> OperationRun:
    """Generate, send and check one operation (cached per target: the five check cases share it)."""
    with _lock:
        per_target = _cache.setdefault(ctx.target, {})
        key = (ctx.edition, ctx.seed, operation, ctx.strictness)
        if key in per_target:
            return per_target[key]
        result = per_target[key] = OperationRun()
    try:
        _generate_and_check(ctx, operation, result)
    except Exception as exc:  # noqa: BLE001 - Schemathesis/Hypothesis trouble is ERROR for these cases
        result.error = f"{type(exc).__name__}: {scrub(str(exc))[:300]}"
    return result


def _generate_and_check(ctx: CaseContext, operation: str, out: OperationRun) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from schemathesis import GenerationMode
    from schemathesis.core.failures import FailureGroup

    schema = _schema(ctx)
    api_operation = schema[f"/{SERVICE_TARGET_PREFIX}.{operation}"]["POST"]
    raw = schema.raw_schema if hasattr(schema, "raw_schema") else {}
    components = raw.get("components", {})
    request_ref = {"$ref": f"#/components/schemas/{ctx.model.operation(operation).input}"} \
        if ctx.model.operation(operation).input else None
    checks = _check_functions()
    examples = ctx.options.schemathesis_examples
    budget = ctx.options.schemathesis_budget_s
    deadline = time.monotonic() + budget if budget is not None else float("inf")
    url = f"http://kms.invalid/{SERVICE_TARGET_PREFIX}.{operation}"
    known = KnownNames.of(ctx)

    def one(case) -> None:
        if time.monotonic() > deadline or out.unimplemented or out.error:
            out.over_budget = out.over_budget or time.monotonic() > deadline
            return
        negative = bool(case.meta and case.meta.generation.mode.is_negative)
        body = case.body = _respecting(ctx, operation, case.body, known, negative=negative)
        payload = _wire_body(body)
        obs = ctx.target.send_raw(payload, amz_target=f"{SERVICE_TARGET_PREFIX}.{operation}", content_type=JSON_CT)
        out.sent += 1
        if obs.unimplemented:
            out.unimplemented = f"target does not implement {operation}"
            return
        _forget_created_store(ctx, operation, obs)
        if obs.transport_error or obs.status is None:
            out.error = f"no response from target: {obs.transport_error}"
            return
        if obs.infrastructure:  # a 503, throttling or an HTML 5xx page outlasted the retries: judge nothing
            out.error = f"target unavailable: {obs.infrastructure}"
            return
        out.negative += negative
        out.positive += not negative
        aws_invalid = _aws_invalid(ctx, operation, body)
        schema_invalid = not isinstance(body, dict) or not _schema_valid(request_ref, components, body)
        response = _response(obs, url, payload)
        for name, fn in checks.items():
            reason = None
            if name == "negative_data_rejection":
                if not negative:
                    continue
                if not (aws_invalid and schema_invalid):
                    reason = "not invalid after re-check"
            if name == "positive_data_acceptance":
                if negative:
                    continue
                if aws_invalid or _service_logic_limits(operation, body):
                    reason = "not valid for AWS after re-check"
                elif obs.status == 400 and obs.error_code and obs.error_code not in VALIDATION_CODES:
                    # Passed input checking; the store/cluster state refused it (every client error is 400).
                    out.judged[name] += 1
                    continue
            if reason:
                out.not_judged[name] += 1
                continue
            out.judged[name] += 1
            message = None
            try:
                case.validate_response(response, checks=[fn])
            except FailureGroup as group:
                message = "; ".join(f"{f.title}: {f.message}".strip() for f in group.exceptions)
            except AssertionError as exc:
                message = str(exc)
            if message is None and name == "negative_data_rejection" and obs.error_code not in VALIDATION_CODES:
                message = (f"Invalid data was not rejected by validation: {obs.status} {obs.error_code} "
                           f"(AWS checks input before anything else)")
            if message is not None:
                _keep_smallest(out, name, message, body, payload, obs)

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategy = api_operation.as_strategy(generation_mode=mode)

        @settings(max_examples=examples, deadline=None, database=None, derandomize=False, print_blob=False,
                  phases=(Phase.generate,), suppress_health_check=list(HealthCheck))
        @seed(ctx.seed)
        @given(strategy)
        def drive(case):
            one(case)

        drive()


def _respecting(ctx: CaseContext, operation: str, body: Any, known: KnownNames, *, negative: bool) -> Any:
    """The generated body with ids and names that name something real changed away, and (positive
    bodies) the documented combination rules kept: Schemathesis knows neither the world nor rules
    the schema cannot state, so a "valid" body could name a real cluster or give an id and a name."""
    if not isinstance(body, dict):
        return body
    if not negative:
        body = respect_combinations(operation, body, ctx.edition)
    return name_nothing(ctx, operation, body, known)


def _keep_smallest(out: OperationRun, check: str, message: str, body: Any, payload: bytes, obs) -> None:
    size = len(payload)
    current = out.findings.get(check)
    if current is None or size < current.size:
        observed = redact({k: v for k, v in obs.to_dict().items() if k != "headers"})
        out.findings[check] = Finding(check=check, message=scrub(" ".join(message.split()))[:600], body=body,
                                      observed=observed, size=size)


def _forget_created_store(ctx: CaseContext, operation: str, obs) -> None:
    """A generated Create that made a store (it should not) is removed through the driver."""
    if operation == "CreateCustomKeyStore" and obs.ok and isinstance(obs.body, dict) and ctx.driver is not None:
        store_id = obs.body.get("CustomKeyStoreId")
        if store_id:
            try:
                ctx.driver.delete_store(store_id)
            except Exception:  # noqa: BLE001 - the run's ledger cleanup is the backstop
                pass


def run_check_case(rec: Recorder, check: str) -> None:
    """One Schemathesis check over the operation's shared generation run, decided by verdicts."""
    ctx, case = rec.ctx, rec.case
    op = case.operation
    ids = case.requirements
    result = run_operation(ctx, op)
    if result.unimplemented:
        rec.record(unimplemented(result.unimplemented, ids))
    elif result.error and check not in result.findings:
        rec.record(harness_error(f"Schemathesis run for {op} failed: {result.error}", ids))
    elif check in result.findings:
        finding = result.findings[check]
        body_text = finding.body.decode("latin-1") if isinstance(finding.body, (bytes, bytearray)) \
            else json.dumps(finding.body)
        req = wire_request(body_text, amz_target=f"{SERVICE_TARGET_PREFIX}.{op}", content_type=JSON_CT)
        decided = check_schemathesis(check, finding.message, f"{check}: {finding.message} (smallest failing request "
                                     f"of {result.judged[check]} judged)", requirements=ids)
        idx = rec.add(Step(label=f"{check} finding", request=redact(req), observed=finding.observed), req)
        rec.primary, rec.keep_single_step = idx, True
        rec.record(decided, idx)
    else:
        rec.record(check_judged_anything(
            check, result.judged[check],
            f"{check}: none of the {result.sent} generated requests could be judged by this check "
            f"({result.not_judged[check]} set aside after re-checking them against AWS's rules)", requirements=ids)
            or check_schemathesis(
                check, None,
                f"{check}: {result.judged[check]} requests held ({result.positive} positive, {result.negative} "
                f"negative generated; {result.not_judged[check]} set aside after re-check)"
                + (" (time budget reached)" if result.over_budget else ""), requirements=ids))


def collect(cc: CollectContext) -> list[Case]:
    cases = []
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        for check in CHECKS:
            case = Case(
                id=f"{op}/schemathesis/{check}", operation=op, kind="schemathesis",
                requirements=CHECK_REQUIREMENTS[check],
                title=f"Schemathesis {check} on {op} (AWS JSON 1.1, SigV4)",
                run=lambda rec, _k=check: run_check_case(rec, _k), editions=(cc.edition,), needs_operations=(op,),
                schedule_group="stateless", api_calls=(op,), tags=("schemathesis",),
            )
            cases.append(case)
    return cases
