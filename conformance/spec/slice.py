"""The committed, reviewable slice: the six custom key store operations only.

`specs/kms-custom-key-stores.json` (shipped as spec data) holds their input, output and error shapes
(recursively), constraints and provenance, no documentation. It is written
with sorted keys and model order kept for members and errors, so a model
change shows up as a small, readable diff. Older editions are rendered on the
fly from the overlay in specs/editions/ rather than committed twice.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from pathlib import Path
from typing import Any

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.errors import UsageError
from conformance.spec.data import SLICE_FILE, checkout_specs_dir, spec_file
from conformance.spec.diff import diff_models
from conformance.spec.editions import apply_overlay, load_overlay
from conformance.spec.loader import load_model
from conformance.spec.model import CURRENT, ServiceModel, reachable_shapes
from conformance.spec.slice_format import dumps, slice_from_dict, slice_to_dict

# Provenance keys that may differ between two generations of identical content.
VOLATILE_PROVENANCE = ("generated_on",)


def cut_slice(model: ServiceModel, operations: tuple[str, ...] = CUSTOM_KEY_STORE_OPERATIONS) -> ServiceModel:
    """The model restricted to `operations` and every shape they reach."""
    missing = [op for op in operations if op not in model.operations]
    if missing:
        raise UsageError(f"model has no operation(s) {', '.join(missing)}")
    ops = {op: model.operations[op] for op in operations}
    part = dataclasses.replace(model, operations=ops, shapes=dict(model.shapes))
    keep = reachable_shapes(part)
    part.shapes = {n: s for n, s in model.shapes.items() if n in keep}
    return part


def _stable(doc: dict[str, Any]) -> dict[str, Any]:
    prov = {k: v for k, v in doc.get("provenance", {}).items() if k not in VOLATILE_PROVENANCE}
    return {**doc, "provenance": prov}


# ----------------------------------------------------------------- public


def render_slice(source: str | Path = "botocore", generated_on: str | None = None) -> dict[str, Any]:
    return slice_to_dict(cut_slice(load_model(source)), generated_on=generated_on)


def load_slice(edition: str = CURRENT, path: str | Path | None = None) -> ServiceModel:
    """The committed slice as a ServiceModel, for `edition` (older ones via their overlay)."""
    p = Path(path) if path else spec_file(SLICE_FILE)
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
    """Regenerate the slice; with `check`, only compare. Keeps `generated_on` when nothing else changed.

    Without `path`: the committed slice, which only a checkout can rewrite (an
    installed package's copy is not the source of truth), so writing needs one.
    """
    p = Path(path) if path else _committed_slice(writing=not check)
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
            semantic = diff_models(slice_from_dict(old), slice_from_dict(new))
        except (UsageError, KeyError, TypeError):
            semantic = []  # the committed file is not a readable slice: the text diff says it all
    if changed and not check:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(dumps(new), encoding="utf-8")
    return SyncResult(path=p, changed=changed, diff=diff, semantic=semantic)


def _committed_slice(writing: bool) -> Path:
    specs = checkout_specs_dir()
    if specs is not None:
        return specs / SLICE_FILE
    if writing:
        raise UsageError("no source checkout to update (this is an installed package): pass --out FILE or use --check")
    return spec_file(SLICE_FILE)
