"""Read a Smithy 2.0 JSON AST (e.g. aws/api-models-aws) into the internal form.

Namespaces are stripped (`com.amazonaws.kms#Foo` -> `Foo`). Prelude targets
(`smithy.api#String`, ...) become shapes named after their type so that
members targeting them still resolve. Traits read: length, range, pattern,
enum / enum shapes, required, sensitive, error, httpError.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from conformance.spec.model import ErrorInfo, Member, Operation, ServiceModel, Shape

_PRELUDE_TYPES = {
    "String": "string",
    "Integer": "integer",
    "Long": "long",
    "Boolean": "boolean",
    "PrimitiveBoolean": "boolean",
    "PrimitiveInteger": "integer",
    "PrimitiveLong": "long",
    "Timestamp": "timestamp",
    "Blob": "blob",
    "Double": "double",
    "Float": "float",
}
# Smithy simple types that botocore names differently (intEnum is an integer on the wire).
_TYPE_ALIASES = {"enum": "string", "intEnum": "integer", "bigInteger": "long", "bigDecimal": "double", "short": "integer", "byte": "integer"}
_PROTOCOL_TRAITS = ("aws.protocols#awsJson1_1", "aws.protocols#awsJson1_0", "aws.protocols#restJson1")


def bare(shape_id: str) -> str:
    """`com.amazonaws.kms#Foo` -> `Foo` (member ids `A$b` keep only the shape part)."""
    return shape_id.split("#", 1)[-1].split("$", 1)[0]


def _target(ref: dict[str, Any] | None) -> str | None:
    if not ref:
        return None
    t = ref["target"]
    if t == "smithy.api#Unit":
        return None
    return bare(t)


def _constraints(traits: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    length = traits.get("smithy.api#length")
    if length:
        out["min_length"], out["max_length"] = length.get("min"), length.get("max")
    rng = traits.get("smithy.api#range")
    if rng:
        out["min_value"], out["max_value"] = rng.get("min"), rng.get("max")
    if "smithy.api#pattern" in traits:
        out["pattern"] = traits["smithy.api#pattern"]
    if "smithy.api#enum" in traits:  # Smithy 1.0 style enum trait on a string
        out["enum"] = tuple(e["value"] for e in traits["smithy.api#enum"])
    if "smithy.api#sensitive" in traits:
        out["sensitive"] = True
    return out


def _shape(name: str, raw: dict[str, Any]) -> Shape:
    typ = raw["type"]
    traits = raw.get("traits", {})
    kw = _constraints(traits)
    if typ in ("enum", "intEnum"):
        kw["enum"] = tuple(
            str(m.get("traits", {}).get("smithy.api#enumValue", mname)) for mname, m in raw.get("members", {}).items()
        )
    members: tuple[Member, ...] = ()
    if typ in ("structure", "union"):
        members = tuple(
            Member(name=m, shape=_target(ref) or "Unit", required="smithy.api#required" in ref.get("traits", {}))
            for m, ref in raw.get("members", {}).items()
        )
    error = None
    if "smithy.api#error" in traits:
        error = ErrorInfo(fault=traits["smithy.api#error"], http_status=traits.get("smithy.api#httpError"))
    return Shape(
        name=name,
        type=_TYPE_ALIASES.get(typ, typ if typ != "union" else "structure"),
        members=members,
        list_member=_target(raw.get("member")) if typ in ("list", "set") else None,
        map_key=_target(raw.get("key")) if typ == "map" else None,
        map_value=_target(raw.get("value")) if typ == "map" else None,
        error=error,
        **kw,
    )


def model_from_smithy_dict(doc: dict[str, Any], provenance: dict[str, Any]) -> ServiceModel:
    raw_shapes = doc["shapes"]
    services = [(sid, s) for sid, s in raw_shapes.items() if s["type"] == "service"]
    if len(services) != 1:
        raise ValueError(f"expected exactly one service shape, found {len(services)}")
    service_id, service = services[0]
    straits = service.get("traits", {})
    protocol = next((t.split("#", 1)[1] for t in _PROTOCOL_TRAITS if t in straits), "")
    aws_service = straits.get("aws.api#service", {})
    shapes: dict[str, Shape] = {}
    operations: dict[str, Operation] = {}
    for sid, raw in raw_shapes.items():
        name = bare(sid)
        if raw["type"] == "operation":
            operations[name] = Operation(
                name=name,
                input=_target(raw.get("input")),
                output=_target(raw.get("output")),
                errors=tuple(bare(e["target"]) for e in raw.get("errors", ())),
            )
        elif raw["type"] not in ("service", "resource"):
            shapes[name] = _shape(name, raw)
    # Resolve prelude targets that members/lists point to.
    referenced = set()
    for s in shapes.values():
        referenced.update(m.shape for m in s.members)
        referenced.update(x for x in (s.list_member, s.map_key, s.map_value) if x)
    for ref in referenced - shapes.keys():
        if ref in _PRELUDE_TYPES:
            shapes[ref] = Shape(name=ref, type=_PRELUDE_TYPES[ref])
    return ServiceModel(
        service=aws_service.get("endpointPrefix", aws_service.get("arnNamespace", bare(service_id).lower())),
        api_version=service.get("version", ""),
        target_prefix=bare(service_id),
        protocol=protocol,
        signing_name=straits.get("aws.auth#sigv4", {}).get("name", ""),
        operations=operations,
        shapes=shapes,
        provenance=provenance,
    )


def load_smithy_model(path: str | Path) -> ServiceModel:
    p = Path(path)
    from conformance.spec.botocore_source import read_model_bytes

    data = read_model_bytes(p)
    provenance = {"source": "smithy", "source_file": p.name, "sha256": hashlib.sha256(data).hexdigest()}
    return model_from_smithy_dict(json.loads(data), provenance)
