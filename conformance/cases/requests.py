"""Requests a case sends: described as data, sent through the target, replayable as a shell command."""

from __future__ import annotations

import json
import shlex
from typing import Any

from conformance import SERVICE_TARGET_PREFIX
from conformance.cases.base import CaseContext
from conformance.observation import Observation
from conformance.redact import scrub, scrub_secret_fragments

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
DEFAULT_LOCAL_ENDPOINT = "${KMS_ENDPOINT_URL:-http://127.0.0.1:4599}"


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


# Kinds whose cases each send one stateless request: their reproduce command is that request.
SINGLE_REQUEST_KINDS = ("structural", "protocol", "auth")
# The shell variable a reproduce command reads the kmsuser password from, and where it comes from.
PASSWORD_VARIABLE = "KMS_KEYSTORE_PASSWORD"
PASSWORD_HINT = (f"set {PASSWORD_VARIABLE} to the target's kmsuser password "
                 "(world.cloudhsm.kmsuser_password of its config)")
_PLACEHOLDER = "KMSCONFORMANCEPASSWORDPLACEHOLDER"  # stands for the variable until the command is quoted
# Signings curl cannot imitate: the command would be judged differently.
_UNREPRODUCIBLE_SIGNING = ("malformed", "expired")


def reproduce_command(ctx: CaseContext, case: Any, raw_request: dict[str, Any] | None, *, steps: int,
                      observed: dict[str, Any] | None = None) -> str:
    """The command that gives this case's verdict again against the same target.

    A stateless single-request case (one step, nothing set up) is its request, as an AWS CLI
    or curl line. Anything else (setup, state, driver steps, generated sequences), and any
    request that cannot be written without a secret value or that curl cannot send as the
    suite did, is `kms-conformance run --case ID` with the flags of this run.
    """
    if case.kind in SINGLE_REQUEST_KINDS and steps == 1 and raw_request is not None:
        line = reproduce(ctx, raw_request, observed=observed)
        if line:
            return line
    return ctx.rerun_command(case.id)


def reproduce(ctx: CaseContext, request: dict[str, Any], *, observed: dict[str, Any] | None = None) -> str | None:
    """A shell command that replays one request: the AWS CLI when it would send the params
    unchanged and shows what was observed (it prints no status line: an answer other than
    200/400 is shown with curl -i), else curl with its built-in SigV4 signing. The kmsuser password is the shell
    variable $KMS_KEYSTORE_PASSWORD (with a hint); None when the request holds another secret
    value, or curl cannot send it as the suite did."""
    endpoint, region = _endpoint(ctx)
    if request.get("via") not in ("boto3", "wire"):
        return None
    password = getattr(getattr(ctx.target, "world", None), "kmsuser_password", None)
    if request["via"] == "boto3":
        params = _with_placeholder(request["params"], password)
        status = (observed or {}).get("status")
        if status in (None, 200, 400) and _cli_accepts(request["operation"], request["params"]):
            from botocore import xform_name

            parts = ["aws", "kms", xform_name(request["operation"], "-")]
            if endpoint:
                parts += ["--endpoint-url", endpoint]
            parts += ["--region", region, "--cli-input-json", json.dumps(params, sort_keys=True)]
            cmd = " ".join(_q(p) for p in parts)
        else:
            body = json.dumps(params, sort_keys=True)
            cmd = _curl(endpoint, region, f"{SERVICE_TARGET_PREFIX}.{request['operation']}", JSON_CONTENT_TYPE, {},
                        "valid", "POST", "/", body)
    else:
        if request["signing"] in _UNREPRODUCIBLE_SIGNING:
            return None
        body = request["body"]
        if isinstance(body, str) and password:
            body = body.replace(json.dumps(password)[1:-1], _PLACEHOLDER)
        cmd = _curl(endpoint, region, request["amz_target"], request["content_type"], request["headers"],
                    request["signing"], request["method"], request["path"], body)
    if cmd is None:
        return None
    hints = [PASSWORD_HINT] if _PLACEHOLDER in cmd else []
    cmd = cmd.replace(_PLACEHOLDER, "$" + PASSWORD_VARIABLE)
    if scrub(cmd) != cmd or scrub_secret_fragments(cmd) != cmd:
        return None  # a secret value (or a signature) is still in it: reports would blank it
    serve = _serve_hint(ctx, endpoint)
    if serve:
        hints.append(serve)
    return cmd + ("  # " + "; ".join(hints) if hints else "")


def _with_placeholder(params: Any, password: str | None) -> Any:
    """params with the kmsuser password (wherever it is a value) replaced by the placeholder."""
    if isinstance(params, dict):
        return {k: _with_placeholder(v, password) for k, v in params.items()}
    if isinstance(params, list):
        return [_with_placeholder(v, password) for v in params]
    return _PLACEHOLDER if password and params == password else params


def _serve_hint(ctx: CaseContext, endpoint: str | None) -> str | None:
    """For an in-process reference run: how to serve the same target for the command."""
    adapter = getattr(getattr(ctx.target, "identity", None), "adapter", None)
    if endpoint != DEFAULT_LOCAL_ENDPOINT or adapter != "reference":
        return None
    args, flags = list(ctx.rerun_args), ["kms-conformance", "serve", "--edition", ctx.edition]
    for i, arg in enumerate(args[:-1]):
        if arg in ("--fault", "--config"):
            flags += [arg, args[i + 1]]
    return "serve the same target first: " + shlex.join(flags) + " (or set KMS_ENDPOINT_URL)"


def _q(part: str) -> str:
    """Shell-quote one word. ${VAR:-default} stays expandable; a word holding the password
    placeholder is double-quoted so the shell expands the variable put in its place."""
    if part.startswith("${"):
        return f'"{part}"'
    if _PLACEHOLDER in part:
        escaped = part.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
        return '"' + escaped.replace("!", "\"'!'\"") + '"'
    return shlex.quote(part)


def _curl(endpoint, region, amz_target, content_type, headers, signing, method, path, body) -> str | None:
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
    if any("\x00" in p for p in parts):
        return None  # a shell word cannot hold a NUL byte
    return " ".join(f'"{p}"' if "$AWS_" in p else _q(p) for p in parts)
