"""Render operations as an OpenAPI 3.1 document so Schemathesis can drive them.

AWS JSON 1.1 is not REST: every call is `POST /` with `X-Amz-Target`. The
document gives each operation a synthetic path `POST /<TargetPrefix>.<Op>`
and declares `application/json`; the caller's transport rewrites path,
target header and content type on the wire (design-notes.md, "Schemathesis
over AWS JSON 1.1"). Request bodies carry the model's constraints; extra
properties are allowed because AWS ignores unknown members.
"""

from __future__ import annotations

from typing import Any

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.spec.model import ServiceModel, Shape, reachable_shapes
from conformance.spec.oracle import compile_pattern

ERROR_ENVELOPE = "AwsJsonErrorEnvelope"
JSON = "application/json"


def anchored(pattern: str) -> str:
    """A full-match version of a model regex for JSON Schema (whose patterns search).

    `\\Z` is not used: JSON Schema regexes are ECMA-262, where `$` already means
    end of input; Python's `$` also accepts one trailing newline, which the
    generator could exploit, so callers that judge values should use
    `re.fullmatch` on the model pattern (as the oracle does).
    """
    return f"^(?:{pattern})$"


def operation_path(model: ServiceModel, operation: str) -> str:
    return f"/{model.target_prefix}.{operation}"


def _schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def shape_schema(model: ServiceModel, shape: Shape) -> dict[str, Any]:
    """JSON Schema (2020-12 dialect, as OpenAPI 3.1 uses) for one shape on the AWS JSON wire."""
    t = shape.type
    s: dict[str, Any]
    if t == "string":
        s = {"type": "string"}
        if shape.enum is not None:
            s["enum"] = list(shape.enum)
        if shape.min_length is not None:
            s["minLength"] = shape.min_length
        if shape.max_length is not None:
            s["maxLength"] = shape.max_length
        if shape.pattern is not None and compile_pattern(shape.pattern) is not None:
            s["pattern"] = anchored(shape.pattern)
    elif t in ("integer", "long"):
        s = {"type": "integer"}
        if shape.min_value is not None:
            s["minimum"] = shape.min_value
        if shape.max_value is not None:
            s["maximum"] = shape.max_value
    elif t in ("float", "double"):
        s = {"type": "number"}
        if shape.min_value is not None:
            s["minimum"] = shape.min_value
        if shape.max_value is not None:
            s["maximum"] = shape.max_value
    elif t == "boolean":
        s = {"type": "boolean"}
    elif t == "timestamp":
        s = {"type": "number", "description": "epoch seconds"}
    elif t == "blob":
        # Byte-length bounds apply to the decoded bytes, which JSON Schema cannot express.
        s = {"type": "string", "contentEncoding": "base64"}
        if shape.min_length is not None or shape.max_length is not None:
            s["x-kms-byte-length"] = {"min": shape.min_length, "max": shape.max_length}
    elif t == "list":
        s = {"type": "array", "items": _schema_ref(shape.list_member)}
        if shape.min_length is not None:
            s["minItems"] = shape.min_length
        if shape.max_length is not None:
            s["maxItems"] = shape.max_length
    elif t == "map":
        s = {"type": "object", "additionalProperties": _schema_ref(shape.map_value)}
        if shape.map_key:
            s["propertyNames"] = _schema_ref(shape.map_key)
        if shape.min_length is not None:
            s["minProperties"] = shape.min_length
        if shape.max_length is not None:
            s["maxProperties"] = shape.max_length
    elif t == "structure":
        s = {
            "type": "object",
            "properties": {m.name: _schema_ref(m.shape) for m in shape.members},
            "additionalProperties": True,
        }
        if shape.required:
            s["required"] = list(shape.required)
    else:
        s = {}
    if shape.sensitive:
        s["x-kms-sensitive"] = True
    return s


def render_openapi(model: ServiceModel, operations: list[str] | tuple[str, ...] | None = None) -> dict[str, Any]:
    """OpenAPI 3.1 document for `operations` (default: the custom key store slice)."""
    ops = list(operations) if operations else [o for o in CUSTOM_KEY_STORE_OPERATIONS if o in model.operations]
    unknown = [o for o in ops if o not in model.operations]
    if unknown:
        raise ValueError(f"unknown operation(s) {unknown}")
    schemas: dict[str, Any] = {name: shape_schema(model, model.shapes[name]) for name in sorted(reachable_shapes(model, ops, errors=False))}
    schemas[ERROR_ENVELOPE] = {
        "type": "object",
        "properties": {"__type": {"type": "string"}, "message": {"type": "string"}, "Message": {"type": "string"}},
        "required": ["__type"],
        "additionalProperties": True,
    }
    error_response = {"content": {JSON: {"schema": _schema_ref(ERROR_ENVELOPE)}}}
    paths: dict[str, Any] = {}
    for op in ops:
        o = model.operations[op]
        in_schema = _schema_ref(o.input) if o.input else {"type": "object"}
        out_schema = _schema_ref(o.output) if o.output else {"type": "object"}
        paths[operation_path(model, op)] = {
            "post": {
                "operationId": op,
                "summary": f"{model.target_prefix}.{op} (AWS JSON 1.1: POST / with X-Amz-Target)",
                "x-amz-target": f"{model.target_prefix}.{op}",
                "x-kms-errors": list(o.errors),
                "requestBody": {"required": True, "content": {JSON: {"schema": in_schema}}},
                "responses": {
                    "200": {"description": "success", "content": {JSON: {"schema": out_schema}}},
                    "400": {"description": "client error (every KMS client error is 400 on the wire)", **error_response},
                    "500": {"description": "server fault", **error_response},
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"AWS KMS ({model.target_prefix}) custom key store operations",
            "version": f"{model.api_version}+{model.edition}",
            "description": "Synthetic paths: send as POST / with X-Amz-Target and application/x-amz-json-1.1.",
        },
        "servers": [{"url": "http://127.0.0.1"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
