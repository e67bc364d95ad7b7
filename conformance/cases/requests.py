"""Requests a case sends: described as data, sent through the target, replayable as a shell command."""

from __future__ import annotations

import json
import shlex
from typing import Any

from conformance import SERVICE_TARGET_PREFIX
from conformance.cases.base import CaseContext
from conformance.observation import Observation
from conformance.redact import redact, scrub

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
