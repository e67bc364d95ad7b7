"""The committed, reviewable slice: the six custom key store operations only.

`specs/kms-custom-key-stores.json` holds their input, output and error shapes
(recursively), constraints and provenance, no documentation. It is written
with sorted keys and model order kept for members and errors, so a model
change shows up as a small, readable diff. Older editions are rendered on the
fly from the overlay in specs/editions/ rather than committed twice.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import json
from pathlib import Path
from typing import Any

from conformance.errors import UsageError
from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.spec.editions import CURRENT, apply_overlay, load_overlay, reachable_shapes
from conformance.spec.loader import SPECS_DIR, load_model
from conformance.spec.model import ErrorInfo, Member, Operation, ServiceModel, Shape

SLICE_FORMAT = "kms-conformance-slice/1"
SLICE_PATH = SPECS_DIR / "kms-custom-key-stores.json"
SLICE_OPERATIONS = CUSTOM_KEY_STORE_OPERATIONS
# Provenance keys that may differ between two generations of identical content.
VOLATILE_PROVENANCE = ("generated_on",)


def cut_slice(model: ServiceModel, operations: tuple[str, ...] = SLICE_OPERATIONS) -> ServiceModel:
    """The model restricted to `operations` and every shape they reach."""
    missing = [op for op in operations if op not in model.operations]
    if missing:
        raise UsageError(f"model has no operation(s) {', '.join(missing)}")
    ops = {op: model.operations[op] for op in operations}
    part = dataclasses.replace(model, operations=ops, shapes=dict(model.shapes))
    keep = reachable_shapes(part)
    part.shapes = {n: s for n, s in model.shapes.items() if n in keep}
    return part


# ----------------------------------------------------------- (de)serialise


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


def _stable(doc: dict[str, Any]) -> dict[str, Any]:
    prov = {k: v for k, v in doc.get("provenance", {}).items() if k not in VOLATILE_PROVENANCE}
    return {**doc, "provenance": prov}


# ----------------------------------------------------------------- public


def render_slice(source: str | Path = "botocore", generated_on: str | None = None) -> dict[str, Any]:
    return slice_to_dict(cut_slice(load_model(source)), generated_on=generated_on)


def load_slice(edition: str = CURRENT, path: str | Path | None = None) -> ServiceModel:
    """The committed slice as a ServiceModel, for `edition` (older ones via their overlay)."""
    p = Path(path) if path else SLICE_PATH
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"spec slice {p} is missing: run `kms-conformance spec sync`") from None
    except ValueError as exc:
        raise UsageError(f"spec slice {p} is not valid JSON: {exc}") from None
    model = slice_from_dict(doc)
    if edition == CURRENT:
        return model
    return apply_overlay(model, load_overlay(edition))


@dataclasses.dataclass
class SyncResult:
    path: Path
    changed: bool
    diff: list[str]  # unified diff of the canonical text (volatile provenance left out)
    semantic: list[Any] = dataclasses.field(default_factory=list)  # diff.Difference rows, committed -> regenerated


def sync_slice(source: str | Path = "botocore", path: str | Path | None = None, check: bool = False) -> SyncResult:
    """Regenerate the slice; with `check`, only compare. Keeps `generated_on` when nothing else changed."""
    p = Path(path) if path else SLICE_PATH
    old_text = p.read_text(encoding="utf-8") if p.exists() else ""
    try:
        old = json.loads(old_text) if old_text else {}
    except ValueError:
        old = {}
    keep_date = old.get("provenance", {}).get("generated_on")
    new = render_slice(source, generated_on=keep_date)
    changed = _stable(new) != _stable(old)
    if changed and not check:
        new = render_slice(source)  # today's date for a real change
    diff: list[str] = []
    semantic: list[Any] = []
    if changed:
        old_lines = dumps(_stable(old)).splitlines() if old else []
        diff = list(difflib.unified_diff(old_lines, dumps(_stable(new)).splitlines(), str(p), "regenerated", lineterm="", n=1))
        try:
            from conformance.spec.diff import diff_models

            semantic = diff_models(slice_from_dict(old), slice_from_dict(new))
        except (UsageError, KeyError, TypeError):
            semantic = []  # the committed file is not a readable slice: the text diff says it all
    if changed and not check:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dumps(new), encoding="utf-8")
    return SyncResult(path=p, changed=changed, diff=diff, semantic=semantic)
