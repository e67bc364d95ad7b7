"""Editions: `current` (the model as loaded) and older ones built from an overlay.

An edition overlay (specs/editions/<edition>.yaml, shipped as spec data) is data: a list of model
changes, each with its provenance, and the steps that undo it. Rendering an
edition on the fly from the overlay (instead of committing a second slice)
keeps one source of truth: the overlay is what reviewers read, and its
`checks` section fails loudly if a botocore upgrade moves the ground under it.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import UsageError
from conformance.spec.data import EDITIONS_FOLDER, spec_file
from conformance.spec.loader import load_model
from conformance.spec.model import CURRENT, Operation, ServiceModel, Shape, reachable_shapes

_XKS = re.compile(r"^Xks")
_CURRENT_DISCONNECTED_ONLY = (
    "KeyStorePassword",
    "CloudHsmClusterId",
    "XksProxyUriEndpoint",
    "XksProxyConnectivity",
    "XksProxyVpcEndpointServiceName",
    "XksProxyVpcEndpointServiceOwner",
)


def known_editions() -> list[str]:
    return [CURRENT] + sorted(p.stem for p in spec_file(EDITIONS_FOLDER).glob("*.yaml"))


def load_overlay(edition: str) -> dict[str, Any]:
    if edition == CURRENT or edition not in known_editions():
        raise UsageError(f"unknown edition {edition!r} (known: {', '.join(known_editions())})")
    with spec_file(EDITIONS_FOLDER, f"{edition}.yaml").open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def edition_semantics(edition: str = CURRENT) -> dict[str, Any]:
    """Rules the model cannot express, per edition (e.g. which updates need DISCONNECTED)."""
    if edition == CURRENT:
        # April 2026 docs: a CloudHSM store may be renamed while CONNECTED; XKS name,
        # credential and path too. These members still need DISCONNECTED.
        return {"update_requires_disconnected": list(_CURRENT_DISCONNECTED_ONLY)}
    return dict(load_overlay(edition).get("semantics") or {})


def edition_model(edition: str = CURRENT, source: str | Path = "botocore") -> ServiceModel:
    """The full model of `source` as of `edition` (cached; do not mutate it)."""
    key = str(source) if str(source) in ("botocore", "smithy") else str(Path(source).resolve())
    return _edition_cached(edition, key)


@functools.lru_cache(maxsize=16)
def _edition_cached(edition: str, source: str) -> ServiceModel:
    base = load_model(source)
    if edition == CURRENT:
        model = copy.copy(base)
        model.edition = CURRENT
        return model
    return apply_overlay(base, load_overlay(edition))


# ------------------------------------------------------------------ overlay


def _replace_shape(shapes: dict[str, Shape], name: str, **changes: Any) -> None:
    if name not in shapes:
        raise UsageError(f"edition overlay names unknown shape {name!r}")
    shapes[name] = dataclasses.replace(shapes[name], **changes)


def _apply_step(step: dict[str, Any], shapes: dict[str, Shape], ops: dict[str, Operation]) -> None:
    (kind, arg), = step.items()
    if kind == "set":
        field = arg["field"]
        value = arg["value"]
        if field == "enum" and value is not None:
            value = tuple(value)
        _replace_shape(shapes, arg["shape"], **{field: value})
    elif kind == "set_enum":
        _replace_shape(shapes, arg["shape"], enum=tuple(arg["values"]))
    elif kind == "set_required":
        want = set(arg["members"])
        s = shapes[arg["shape"]]
        missing = want - {m.name for m in s.members}
        if missing:
            raise UsageError(f"edition overlay: {arg['shape']} has no member(s) {sorted(missing)}")
        _replace_shape(shapes, s.name, members=tuple(dataclasses.replace(m, required=m.name in want) for m in s.members))
    elif kind == "remove_members":
        drop = set(arg["members"])
        s = shapes[arg["shape"]]
        _replace_shape(shapes, s.name, members=tuple(m for m in s.members if m.name not in drop))
    elif kind == "remove_errors":
        op = ops[arg["operation"]]
        drop = set(arg["errors"])
        ops[op.name] = dataclasses.replace(op, errors=tuple(e for e in op.errors if e not in drop))
    elif kind == "remove_xks":
        for name, s in list(shapes.items()):
            if s.members:
                kept = tuple(m for m in s.members if not (_XKS.match(m.name) or _XKS.match(m.shape)))
                if len(kept) != len(s.members):
                    shapes[name] = dataclasses.replace(s, members=kept)
        for name, op in list(ops.items()):
            ops[name] = dataclasses.replace(op, errors=tuple(e for e in op.errors if not _XKS.match(e)))
    else:
        raise UsageError(f"edition overlay: unknown step {kind!r}")


def apply_overlay(base: ServiceModel, overlay: dict[str, Any]) -> ServiceModel:
    shapes = dict(base.shapes)
    ops = dict(base.operations)
    for change in overlay.get("changes", []):
        for step in change.get("revert") or []:
            _apply_step(step, shapes, ops)
    model = dataclasses.replace(base, shapes=shapes, operations=ops, edition=str(overlay["edition"]))
    # Drop what only the reverted changes used (keep shapes the base already left unused).
    orphaned = reachable_shapes(base) - reachable_shapes(model)
    model.shapes = {n: s for n, s in shapes.items() if n not in orphaned}
    model.provenance = {
        **base.provenance,
        "edition": str(overlay["edition"]),
        "edition_overlay": f"specs/editions/{overlay['edition']}.yaml",
        "edition_baseline": overlay.get("baseline", {}),
    }
    check_overlay(model, overlay.get("checks") or {})
    return model


def check_overlay(model: ServiceModel, checks: dict[str, Any]) -> None:
    """Raise if the built edition does not look the way its overlay promises."""
    problems: list[str] = []
    for op, errors in (checks.get("errors") or {}).items():
        got = sorted(model.operations[op].errors)
        if got != sorted(errors):
            problems.append(f"{op} errors {got} != {sorted(errors)}")
    for shape, fields in (checks.get("shapes") or {}).items():
        s = model.shapes.get(shape)
        for f, want in fields.items():
            if s is None or getattr(s, f) != want:
                problems.append(f"{shape}.{f} = {getattr(s, f, '<missing>')!r}, expected {want!r}")
    for shape, req in (checks.get("required") or {}).items():
        if sorted(model.shapes[shape].required) != sorted(req):
            problems.append(f"{shape} required {list(model.shapes[shape].required)} != {req}")
    for prefix in checks.get("absent_shapes_prefixes") or []:
        left = sorted(n for n in model.shapes if n.startswith(prefix))
        if left:
            problems.append(f"shapes starting with {prefix!r} remain: {left}")
    dangling = sorted(
        f"{s.name}.{m.name}->{m.shape}" for s in model.shapes.values() for m in s.members if m.shape not in model.shapes
    )
    if dangling:
        problems.append(f"dangling member targets: {dangling}")
    if problems:
        raise UsageError(f"edition {model.edition} overlay does not hold on this model: " + "; ".join(problems))


__all__ = [
    "CURRENT",
    "apply_overlay",
    "edition_model",
    "edition_semantics",
    "known_editions",
    "load_overlay",
]
