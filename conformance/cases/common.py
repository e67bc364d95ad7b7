"""Helpers every case uses: send a request, judge it, record the step, build the CaseResult.

Cases never decide verdicts themselves (that is `conformance.verdicts.judge`), and
never let an exception escape: `run_case_safely` maps a missing world role to
SKIPPED, a target that cannot show a state to NOT_TRIGGERABLE, an unimplemented
operation to UNIMPLEMENTED and anything else to ERROR with a one-line detail.
"""

from __future__ import annotations

import json
import shlex
import time
import traceback
from typing import Any, Callable, Iterable

from conformance import SERVICE_TARGET_PREFIX
from conformance.cases.base import Case, CaseContext
from conformance.steps import CaseResult, Expected, Step
from conformance.observation import Observation
from conformance.redact import redact, scrub
from conformance.errors import MissingRole
from conformance.verdicts import Verdict, judge, worst

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
# An id in the documented format (`cks-` + 17 hex) that no target will have made.
UNKNOWN_STORE_ID = "cks-0000000000000dead"
# A cluster id that matches the current pattern and length and names no cluster in any world.
UNKNOWN_CLUSTER_ID = "cluster-zzzzzzzzzzzzz"
DEFAULT_LOCAL_ENDPOINT = "${KMS_ENDPOINT_URL:-http://127.0.0.1:4599}"


# ------------------------------------------------------------------------------------------
# Expected outcomes
# ------------------------------------------------------------------------------------------


def success(body: dict | None = None, *, level: str = "MUST", note: str = "") -> Expected:
    return Expected(status=200, error_code=None, body=body, level=level, note=note)


def error(
    code: str,
    status: int | None = 400,
    *,
    message: str | None = None,
    pattern: str | None = None,
    level: str = "MUST",
    note: str = "",
    alternatives: Iterable[Expected] = (),
    body: dict | None = None,
    headers: dict[str, str | None] | None = None,
) -> Expected:
    return Expected(
        status=status,
        error_code=code,
        message=message,
        message_pattern=pattern,
        level=level,
        note=note,
        alternatives=list(alternatives),
        body=body,
        headers=dict(headers or {}),
    )


def validation_error(prediction: Any, *, level: str = "MUST", note: str = "") -> Expected:
    """ValidationException with the oracle's message (exact text and an order-free pattern)."""
    uncertain = not getattr(prediction, "certain", True) or len(getattr(prediction, "violations", []) or []) > 1
    return Expected(
        status=400,
        error_code="ValidationException",
        message=prediction.message,
        message_pattern=prediction.message_pattern,
        message_unordered=bool(uncertain or "enum value set" in (prediction.message or "")),
        level=level,
        note=note,
    )


# ------------------------------------------------------------------------------------------
# Requests: sending, describing, reproducing
# ------------------------------------------------------------------------------------------


def boto3_request(operation: str, params: dict | None) -> dict[str, Any]:
    return {"via": "boto3", "operation": operation, "params": params or {}}


def wire_request(
    body: bytes | str | None,
    *,
    amz_target: str | None,
    content_type: str | None = JSON_CONTENT_TYPE,
    headers: dict[str, str] | None = None,
    signing: str = "valid",
    method: str = "POST",
    path: str = "/",
) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    return {
        "via": "wire",
        "method": method,
        "path": path,
        "amz_target": amz_target,
        "content_type": content_type,
        "headers": dict(headers or {}),
        "signing": signing,
        "body": body,
    }


def send(ctx: CaseContext, request: dict[str, Any]) -> Observation:
    """Send a request described by boto3_request / wire_request through the target."""
    if request["via"] == "boto3":
        return ctx.target.call(request["operation"], request["params"])
    return ctx.target.send_raw(
        request["body"],
        amz_target=request["amz_target"],
        content_type=request["content_type"],
        headers=request["headers"] or None,
        signing=request["signing"],
        method=request["method"],
        path=request["path"],
    )


def _endpoint(ctx: CaseContext) -> tuple[str | None, str]:
    ident = getattr(ctx.target, "identity", None)
    region = getattr(ident, "region", None) or "us-east-1"
    adapter = getattr(ident, "adapter", None)
    endpoint = getattr(ident, "endpoint", None)
    if adapter == "aws":
        return None, region
    if not (isinstance(endpoint, str) and endpoint.startswith(("http://", "https://"))):
        endpoint = DEFAULT_LOCAL_ENDPOINT  # in-process targets: serve one with `kms-conformance serve`
    return endpoint, region


def _cli_accepts(operation: str, params: dict) -> bool:
    """Whether the AWS CLI (botocore's client-side validation) would send these params."""
    try:
        from botocore.validate import ParamValidator

        model = _botocore_kms_model()
        report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
        return not report.has_errors()
    except Exception:
        return False


_KMS_MODEL = None


def _botocore_kms_model():
    global _KMS_MODEL
    if _KMS_MODEL is None:
        import botocore.session
        from botocore.model import ServiceModel

        loader = botocore.session.get_session().get_component("data_loader")
        _KMS_MODEL = ServiceModel(loader.load_service_model("kms", "service-2"))
    return _KMS_MODEL


def reproduce(ctx: CaseContext, request: dict[str, Any]) -> str:
    """A shell command that replays the request: the AWS CLI when it would send the params
    unchanged, else curl with its built-in SigV4 signing. Secrets stay in env variables."""
    endpoint, region = _endpoint(ctx)
    if request.get("via") not in ("boto3", "wire"):
        return ""
    if request["via"] == "boto3":
        params = redact(request["params"])
        if _cli_accepts(request["operation"], request["params"]):
            from botocore import xform_name

            parts = ["aws", "kms", xform_name(request["operation"], "-")]
            if endpoint:
                parts += ["--endpoint-url", endpoint]
            parts += ["--region", region, "--cli-input-json", json.dumps(params, sort_keys=True)]
            return " ".join(_q(p) for p in parts)
        body = json.dumps(params, sort_keys=True)
        return _curl(endpoint, region, f"{SERVICE_TARGET_PREFIX}.{request['operation']}", JSON_CONTENT_TYPE, {}, "valid", "POST", "/", body)
    return _curl(
        endpoint,
        region,
        request["amz_target"],
        request["content_type"],
        request["headers"],
        request["signing"],
        request["method"],
        request["path"],
        scrub(request["body"]) if isinstance(request["body"], str) else request["body"],
    )


def _q(part: str) -> str:
    # Keep ${VAR:-default} placeholders expandable by the shell.
    return f'"{part}"' if part.startswith("${") else shlex.quote(part)


def _curl(endpoint, region, amz_target, content_type, headers, signing, method, path, body) -> str:
    url = (endpoint or f"https://kms.{region}.amazonaws.com") + path
    parts = ["curl", "-sS", "-i", "-X", method, url]
    secret = {"valid": "$AWS_SECRET_ACCESS_KEY", "wrong-secret": "not-the-secret-key"}.get(signing, "$AWS_SECRET_ACCESS_KEY")
    access = "AKIAEXAMPLEUNKNOWN00" if signing == "unknown-key" else "$AWS_ACCESS_KEY_ID"
    if signing != "none":
        parts += ["--aws-sigv4", f"aws:amz:{region}:kms", "--user", f"{access}:{secret}"]
    if content_type is not None:
        parts += ["-H", f"Content-Type: {content_type}"]
    if amz_target is not None:
        parts += ["-H", f"X-Amz-Target: {amz_target}"]
    for k, v in (headers or {}).items():
        parts += ["-H", f"{k}: {v}"]
    if body is not None:
        parts += ["--data-binary", body]
    cmd = " ".join(f'"{p}"' if "$AWS_" in p else _q(p) for p in parts)
    if signing == "malformed":
        cmd += "  # the suite sent a deliberately malformed Authorization header; curl signs correctly"
    elif signing == "expired":
        cmd += "  # the suite signed with an X-Amz-Date far in the past; curl signs with the current time"
    return cmd


# ------------------------------------------------------------------------------------------
# Recording steps and building the result
# ------------------------------------------------------------------------------------------


class Recorder:
    """Collects the steps of one case; the case verdict is the worst judged step's.

    Use `call`/`send_raw` for requests, `check` to judge an observation against an
    Expected (only checked steps carry a verdict), then `result()`.
    """

    def __init__(self, ctx: CaseContext, case: Case):
        self.ctx = ctx
        self.case = case
        self.steps: list[Step] = []
        self._checks: list[tuple[Verdict, str, int]] = []
        self._primary: int | None = None
        self._index: dict[int, int] = {}  # id(observation) -> step index

    def _pull_driver_steps(self) -> None:
        """Setup/cleanup calls the StoreDriver made for this case, in call order."""
        take = getattr(self.ctx.driver, "take_steps", None)
        if take is not None:
            self.steps.extend(take())

    def send(self, request: dict[str, Any], label: str = "request") -> Observation:
        self._pull_driver_steps()
        obs = send(self.ctx, request)
        self._index[id(obs)] = len(self.steps)
        self.steps.append(Step(label=label, request=request, observed=obs.to_dict()))
        return obs

    def add_step(self, label: str, request: dict[str, Any], obs: Observation) -> None:
        """Record an observation made elsewhere (e.g. by the StoreDriver) as a step."""
        self._index[id(obs)] = len(self.steps)
        self.steps.append(Step(label=label, request=request, observed=obs.to_dict()))

    def call(self, operation: str, params: dict | None = None, label: str | None = None) -> Observation:
        return self.send(boto3_request(operation, params), label or operation)

    def send_raw(self, body, *, amz_target, label: str = "raw request", **kw) -> Observation:
        return self.send(wire_request(body, amz_target=amz_target, **kw), label)

    def check(self, expected: Expected, obs: Observation | None = None, *, primary: bool = True) -> Verdict:
        """Judge the last step (or the step whose observation is `obs`) against `expected`."""
        if obs is not None and id(obs) not in self._index:
            self.add_step("observation", {"via": "unknown"}, obs)
        idx = self._index[id(obs)] if obs is not None else len(self.steps) - 1
        observation = obs or Observation.from_dict(self.steps[idx].observed)
        step = self.steps[idx]
        verdict, detail = judge(expected, observation, self.ctx.strictness, request=step.request)
        step.expected = expected.to_dict()
        step.verdict = str(verdict)
        self._checks.append((verdict, f"{step.label}: {detail}" if len(self.steps) > 1 else detail, idx))
        if primary and (self._primary is None or worst([verdict, Verdict(self.steps[self._primary].verdict)]) == verdict):
            self._primary = idx
        return verdict

    def result(self, verdict: Verdict | None = None, detail: str | None = None) -> CaseResult:
        self._pull_driver_steps()
        if verdict is None:
            verdict = worst(v for v, _, _ in self._checks) if self._checks else Verdict.ERROR
        if detail is None:
            chosen = [d for v, d, _ in self._checks if v == verdict]
            detail = chosen[0] if chosen else ("case made no check" if not self._checks else "")
        idx = self._primary if self._primary is not None else (len(self.steps) - 1 if self.steps else None)
        step = self.steps[idx] if idx is not None else None
        return self.case.result(
            verdict,
            request=step.request if step else None,
            expected=step.expected if step else None,
            observed=step.observed if step else None,
            detail=detail,
            reproduce=reproduce(self.ctx, step.request) if step else None,
            steps=self.steps if len(self.steps) > 1 else [],
        )


def single_request_case(
    *,
    id: str,
    operation: str,
    kind: str,
    requirements: Iterable[str],
    title: str,
    request: dict[str, Any] | Callable[[CaseContext], dict[str, Any]],
    expected: Expected | Callable[[CaseContext, Observation], Expected],
    cleanup: Callable[[CaseContext, Observation], None] | None = None,
    **case_fields: Any,
) -> Case:
    """A case that sends one request and judges it (the shape of every generated case)."""

    def run(ctx: CaseContext) -> CaseResult:
        rec = Recorder(ctx, case)
        req = request(ctx) if callable(request) else request
        obs = rec.send(req)
        try:
            exp = expected(ctx, obs) if callable(expected) else expected
            rec.check(exp, obs)
        finally:
            if cleanup is not None:
                cleanup(ctx, obs)
        return rec.result()

    api = case_fields.pop("api_calls", None)
    if api is None:
        if isinstance(request, dict):
            api = (request.get("operation") or operation,)
        else:
            api = (operation,)
    case = Case(
        id=id,
        operation=operation,
        kind=kind,
        requirements=tuple(requirements),
        title=title,
        run=run,
        api_calls=tuple(api),
        **case_fields,
    )
    return case


# ------------------------------------------------------------------------------------------
# Running a case so that nothing escapes
# ------------------------------------------------------------------------------------------


def _blank(case: Case, verdict: Verdict, detail: str) -> CaseResult:
    return case.result(verdict, detail=detail)


def _is(exc: BaseException, name: str) -> bool:
    return any(cls.__name__ == name for cls in type(exc).__mro__)


def precheck(case: Case, ctx: CaseContext) -> CaseResult | None:
    """The verdict a case gets without running: unimplemented operation or missing role."""
    caps = getattr(ctx.target, "capabilities", None)
    if caps is not None:
        needed = tuple(case.needs_operations) or (case.operation,)
        for op in needed:
            if not caps.is_implemented(op):
                evidence = caps.unimplemented.get(op, "")
                return _blank(case, Verdict.UNIMPLEMENTED, f"target does not implement {op}" + (f": {scrub(str(evidence))[:200]}" if evidence else ""))
    world = getattr(ctx.target, "world", None)
    if world is not None and case.needs_roles:
        missing = world.missing(case.needs_roles)
        if missing:
            return _blank(case, Verdict.SKIPPED, "; ".join(str(MissingRole(r)) for r in missing))
    return None


def run_case_safely(case: Case, ctx: CaseContext) -> CaseResult:
    """Run one case; whatever happens, return a CaseResult (never raise, except Ctrl-C)."""
    started = time.monotonic()
    result = precheck(case, ctx)
    if result is None:
        try:
            ctx.target.begin_case(case.id)
            take = getattr(ctx.driver, "take_steps", None)
            if take is not None:
                take()  # steps of an earlier case's cleanup do not belong to this one
            result = case.run(ctx)
        except KeyboardInterrupt:
            raise
        except MissingRole as exc:
            result = _blank(case, Verdict.SKIPPED, scrub(str(exc)))
        except Exception as exc:  # noqa: BLE001 - a case's crash must not stop the run
            if _is(exc, "NotTriggerable"):
                result = _blank(case, Verdict.NOT_TRIGGERABLE, scrub(str(exc)) or "target cannot be made to show this")
            elif _is(exc, "UnimplementedOperation") or isinstance(exc, NotImplementedError):
                result = _blank(case, Verdict.UNIMPLEMENTED, scrub(str(exc)) or "operation not implemented")
            else:
                where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
                at = f" (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
                line = scrub(f"{type(exc).__name__}: {exc}".splitlines()[0])[:300]
                result = _blank(case, Verdict.ERROR, f"harness error: {line}{at}")
        if not isinstance(result, CaseResult):
            result = _blank(case, Verdict.ERROR, f"harness error: case returned {type(result).__name__}, not a CaseResult")
    result.duration_s = round(time.monotonic() - started, 4)
    return result


# ------------------------------------------------------------------------------------------
# Citing requirement ids from the catalogue
# ------------------------------------------------------------------------------------------


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


class Citations:
    """Finds the catalogue ids a generated case checks (only ids that exist, for the edition)."""

    def __init__(self, requirements: Iterable[Any] | None, edition: str | None = None):
        reqs = list(requirements or [])
        if edition:
            reqs = [r for r in reqs if edition in (_field(r, "editions") or (edition,))]
        self.requirements = reqs
        self.by_id = {_field(r, "id"): r for r in reqs}

    def generic(self, *ids: str) -> tuple[str, ...]:
        return tuple(i for i in ids if i in self.by_id)

    def level(self, ids: Iterable[str]) -> str:
        for i in ids:
            if i in self.by_id:
                return _field(self.by_id[i], "level") or "MUST"
        return "MUST"

    def _expected(self, r: Any) -> dict:
        exp = _field(r, "expected") or {}
        return exp if isinstance(exp, dict) else {}

    def member(self, operation: str, path: str, constraint: str) -> tuple[str, ...]:
        """Requirements of `operation` for `constraint` (required/length/pattern/enum/range) on `path`."""
        out = []
        for r in self.requirements:
            if _field(r, "operation") != operation:
                continue
            exp = self._expected(r)
            if exp.get("constraint") != constraint:
                continue
            members = exp.get("members") or []
            if isinstance(members, dict):
                members = list(members)
            if exp.get("member") == path or path in members:
                out.append(_field(r, "id"))
        return tuple(out)

    def error(self, operation: str, code: str) -> tuple[str, ...]:
        """The requirement(s) of `operation` whose outcome is the error `code` (first match)."""
        for r in self.requirements:
            if _field(r, "operation") != operation:
                continue
            if _field(r, "model_error") == code or self._expected(r).get("error_code") == code:
                return (_field(r, "id"),)
        return ()

    def requirement_for(self, operation: str, what: str) -> tuple[str, ...]:
        """A requirement of `operation` expecting plain success (status 200, no error)."""
        for r in self.requirements:
            exp = self._expected(r)
            if _field(r, "operation") == operation and exp.get("status") == 200 and not exp.get("error_code"):
                return (_field(r, "id"),)
        return ()
