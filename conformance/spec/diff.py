"""Every difference between two models (editions), as rows a person can read.

Scope is the given operations (default: the six custom key store operations)
and every shape they reach in either model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.spec.model import ServiceModel, Shape, reachable_shapes

_FIELDS = ("type", "min_length", "max_length", "min_value", "max_value", "pattern", "sensitive", "list_member", "map_key", "map_value")


@dataclass(frozen=True)
class Difference:
    where: str  # operation or shape name
    kind: str  # operation | errors | io | shape | member | required | constraint | enum | error
    item: str  # the member, field, error or enum value concerned
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _shape_diff(a: Shape, b: Shape) -> list[Difference]:
    out: list[Difference] = []
    for f in _FIELDS:
        va, vb = getattr(a, f), getattr(b, f)
        if va != vb:
            out.append(Difference(a.name, "constraint", f, va, vb))
    if a.enum != b.enum:
        ea, eb = list(a.enum or ()), list(b.enum or ())
        if a.enum is None or b.enum is None:
            out.append(Difference(a.name, "constraint", "enum", a.enum and ea, b.enum and eb))
        for v in ea:
            if v not in eb:
                out.append(Difference(a.name, "enum", v, "present", "absent"))
        for v in eb:
            if v not in ea:
                out.append(Difference(a.name, "enum", v, "absent", "present"))
    ma, mb = {m.name: m for m in a.members}, {m.name: m for m in b.members}
    for name in ma.keys() | mb.keys():
        x, y = ma.get(name), mb.get(name)
        if x is None:
            out.append(Difference(a.name, "member", name, "absent", f"added ({y.shape}{', required' if y.required else ''})"))
        elif y is None:
            out.append(Difference(a.name, "member", name, f"present ({x.shape}{', required' if x.required else ''})", "absent"))
        else:
            if x.required != y.required:
                out.append(Difference(a.name, "required", name, x.required, y.required))
            if x.shape != y.shape:
                out.append(Difference(a.name, "member", name, x.shape, y.shape))
    if a.error != b.error:
        out.append(Difference(a.name, "error", "fault/http_status", a.error and asdict(a.error), b.error and asdict(b.error)))
    return out


def diff_models(old: ServiceModel, new: ServiceModel, operations: list[str] | tuple[str, ...] | None = None) -> list[Difference]:
    """Differences from `old` to `new`, operation-level first, then shapes (sorted, stable)."""
    ops = list(operations) if operations else list(CUSTOM_KEY_STORE_OPERATIONS)
    out: list[Difference] = []
    for op in ops:
        oa, ob = old.operations.get(op), new.operations.get(op)
        if oa is None or ob is None:
            if oa is not ob:
                out.append(Difference(op, "operation", op, "present" if oa else "absent", "present" if ob else "absent"))
            continue
        for f in ("input", "output"):
            if getattr(oa, f) != getattr(ob, f):
                out.append(Difference(op, "io", f, getattr(oa, f), getattr(ob, f)))
        for e in oa.errors:
            if e not in ob.errors:
                out.append(Difference(op, "errors", e, "listed", "not listed"))
        for e in ob.errors:
            if e not in oa.errors:
                out.append(Difference(op, "errors", e, "not listed", "listed"))
    ra, rb = reachable_shapes(old, ops), reachable_shapes(new, ops)
    shape_rows: list[Difference] = []
    for name in sorted(ra | rb):
        if name not in ra:
            shape_rows.append(Difference(name, "shape", "(whole shape)", "absent", describe_shape(new.shapes[name])))
        elif name not in rb:
            shape_rows.append(Difference(name, "shape", "(whole shape)", describe_shape(old.shapes[name]), "absent"))
        else:
            shape_rows += sorted(_shape_diff(old.shapes[name], new.shapes[name]), key=lambda d: (d.kind, d.item))
    return out + shape_rows


def requirement_differences(old_edition: str, new_edition: str,
                            operations: list[str] | tuple[str, ...] | None = None) -> list[Difference]:
    """The catalogue's requirements that apply in one edition and not the other (e.g. every XKS rule),
    one row each (kind `requirement`), in catalogue order: the checks the edition change adds or drops."""
    from conformance.spec.requirements import load_requirements

    rows: list[Difference] = []
    for r in load_requirements():
        was, now = r.applies_to(old_edition), r.applies_to(new_edition)
        if was == now or (operations and r.operation not in operations):
            continue
        rows.append(Difference(r.id, "requirement", r.title, "applies" if was else "absent", "applies" if now else "absent"))
    return rows


def describe_shape(s: Shape) -> str:
    """One-line summary of a shape's constraints, e.g. `string len 7..32 sensitive`."""
    parts = [s.type]
    if s.min_length is not None or s.max_length is not None:
        parts.append(f"len {_bound(s.min_length)}..{_bound(s.max_length)}")
    if s.min_value is not None or s.max_value is not None:
        parts.append(f"value {_bound(s.min_value)}..{_bound(s.max_value)}")
    if s.pattern:
        parts.append(f"pattern {s.pattern}")
    if s.enum:
        parts.append("enum " + "|".join(s.enum))
    if s.sensitive:
        parts.append("sensitive")
    if s.members:
        parts.append("members " + ", ".join(m.name + ("*" if m.required else "") for m in s.members))
    if s.error:
        parts.append(f"error ({s.error.fault})")
    return " ".join(parts)


def _bound(v: Any) -> str:
    return "" if v is None else str(v)


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return ", ".join(map(str, v))
    if isinstance(v, dict):
        return ", ".join(f"{k}={val}" for k, val in v.items())
    return str(v)


def render_diff_table(diffs: list[Difference], old_label: str, new_label: str, console=None) -> None:
    """Print the differences as a rich table (plain text when not a terminal).

    Cells are `Text`, never markup: model values such as `^https://[a-zA-Z0-9.-]+$`
    would otherwise lose their bracketed parts to rich's markup parser.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: do not fold names at 80 columns
            console = Console(width=200)
    table = Table(title=Text(f"KMS custom key store model: {old_label} → {new_label} ({len(diffs)} differences)"),
                  show_lines=False)
    for col in ("where", "kind", "item", old_label, new_label):
        table.add_column(Text(col), overflow="fold")
    for d in diffs:
        table.add_row(*(Text(cell) for cell in (d.where, d.kind, d.item, _cell(d.old), _cell(d.new))))
    console.print(table)
