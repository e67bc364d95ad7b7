"""The slice file format: a ServiceModel as plain, sorted, reviewable JSON (and back).

Kept apart from `slice` so the model loader can read a slice file without
depending on slice cutting, editions or the committed data.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Any

from conformance.errors import UsageError
from conformance.spec.model import CURRENT, ErrorInfo, Member, Operation, ServiceModel, Shape

SLICE_FORMAT_NAME = "kms-conformance-slice"
SLICE_FORMAT = f"{SLICE_FORMAT_NAME}/1"


def is_slice_document(doc: Any) -> bool:
    """Any version of the slice format (`slice_from_dict` refuses the versions it cannot read)."""
    return isinstance(doc, dict) and str(doc.get("format", "")).startswith(SLICE_FORMAT_NAME + "/")


def _shape_to_dict(s: Shape) -> dict[str, Any]:
    out: dict[str, Any] = {"type": s.type}
    for f in ("min_length", "max_length", "min_value", "max_value", "pattern", "list_member", "map_key", "map_value"):
        v = getattr(s, f)
        if v is not None:
            out[f] = v
    if s.enum is not None:
        out["enum"] = list(s.enum)
    if s.sensitive:
        out["sensitive"] = True
    if s.type == "structure":
        out["members"] = [{"name": m.name, "shape": m.shape, **({"required": True} if m.required else {})} for m in s.members]
    if s.error is not None:
        out["error"] = {"fault": s.error.fault, "http_status": s.error.http_status}
    return out


def _shape_from_dict(name: str, d: dict[str, Any]) -> Shape:
    return Shape(
        name=name,
        type=d["type"],
        min_length=d.get("min_length"),
        max_length=d.get("max_length"),
        min_value=d.get("min_value"),
        max_value=d.get("max_value"),
        pattern=d.get("pattern"),
        enum=tuple(d["enum"]) if "enum" in d else None,
        sensitive=bool(d.get("sensitive", False)),
        members=tuple(Member(name=m["name"], shape=m["shape"], required=bool(m.get("required"))) for m in d.get("members", ())),
        list_member=d.get("list_member"),
        map_key=d.get("map_key"),
        map_value=d.get("map_value"),
        error=ErrorInfo(**d["error"]) if d.get("error") else None,
    )


def slice_to_dict(model: ServiceModel, generated_on: str | None = None) -> dict[str, Any]:
    prov = dict(model.provenance)
    prov["generated_on"] = generated_on or _dt.date.today().isoformat()
    prov["api_version"] = model.api_version
    return {
        "format": SLICE_FORMAT,
        "edition": model.edition,
        "provenance": prov,
        "service": {
            "service": model.service,
            "api_version": model.api_version,
            "target_prefix": model.target_prefix,
            "protocol": model.protocol,
            "signing_name": model.signing_name,
        },
        "operations": {
            name: {"input": op.input, "output": op.output, "errors": list(op.errors), "http_method": op.http_method, "http_uri": op.http_uri}
            for name, op in model.operations.items()
        },
        "shapes": {name: _shape_to_dict(s) for name, s in model.shapes.items()},
    }


def slice_from_dict(doc: dict[str, Any]) -> ServiceModel:
    if doc.get("format") != SLICE_FORMAT:
        raise UsageError(f"not a {SLICE_FORMAT} document (format={doc.get('format')!r})")
    svc = doc["service"]
    return ServiceModel(
        service=svc["service"],
        api_version=svc["api_version"],
        target_prefix=svc["target_prefix"],
        protocol=svc["protocol"],
        signing_name=svc["signing_name"],
        operations={
            n: Operation(name=n, input=o["input"], output=o["output"], errors=tuple(o["errors"]), http_method=o["http_method"], http_uri=o["http_uri"])
            for n, o in doc["operations"].items()
        },
        shapes={n: _shape_from_dict(n, d) for n, d in doc["shapes"].items()},
        provenance=dict(doc.get("provenance", {})),
        edition=doc.get("edition", CURRENT),
    )


def dumps(doc: dict[str, Any]) -> str:
    """The one canonical text form (sorted keys, 1-space indent, trailing newline)."""
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
