"""The one internal form every model source (Smithy JSON AST, botocore JSON) is read into.

Shape names are bare (no Smithy namespace). Constraints keep length and value
bounds apart because the two sources spell them differently (Smithy
`length`/`range`, botocore `min`/`max` for both).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

from conformance import EDITIONS

CURRENT = EDITIONS[0]  # the edition of today's model, as loaded (older ones come from an overlay)


@dataclass(frozen=True)
class Member:
    name: str
    shape: str  # bare shape name
    required: bool = False


@dataclass(frozen=True)
class ErrorInfo:
    fault: str  # "client" | "server"
    http_status: int | None = None  # as the source models it (botocore: usually None)


@dataclass(frozen=True)
class Shape:
    name: str
    type: str  # string, integer, long, boolean, timestamp, blob, structure, list, map, double, float
    min_length: int | None = None
    max_length: int | None = None
    min_value: float | int | None = None
    max_value: float | int | None = None
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    sensitive: bool = False
    members: tuple[Member, ...] = ()  # structure members, model order
    list_member: str | None = None  # list element shape
    map_key: str | None = None
    map_value: str | None = None
    error: ErrorInfo | None = None  # set on exception shapes

    def member(self, name: str) -> Member | None:
        for m in self.members:
            if m.name == name:
                return m
        return None

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.members if m.required)


@dataclass(frozen=True)
class Operation:
    name: str
    input: str | None
    output: str | None
    errors: tuple[str, ...] = ()
    http_method: str = "POST"
    http_uri: str = "/"


@dataclass
class ServiceModel:
    """A loaded service model (or a slice / edition of one)."""

    service: str  # e.g. "kms"
    api_version: str
    target_prefix: str  # "TrentService"
    protocol: str  # "awsJson1_1"
    signing_name: str
    operations: dict[str, Operation] = field(default_factory=dict)
    shapes: dict[str, Shape] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    edition: str = CURRENT

    def shape(self, name: str) -> Shape:
        return self.shapes[name]

    def operation(self, name: str) -> Operation:
        return self.operations[name]

    def input_shape(self, operation: str) -> Shape | None:
        op = self.operations[operation]
        return self.shapes[op.input] if op.input else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def reachable_shapes(model: ServiceModel, operations: Iterable[str] | None = None, errors: bool = True) -> set[str]:
    """Shape names reachable from the operations' input, output and (unless `errors` is False) errors.

    Default: every operation of the model. Names the model lacks are skipped.
    """
    ops = [model.operations[o] for o in operations if o in model.operations] if operations is not None else list(model.operations.values())
    seen: set[str] = set()
    stack = [n for op in ops for n in (op.input, op.output, *(op.errors if errors else ())) if n]
    while stack:
        name = stack.pop()
        if name in seen or name not in model.shapes:
            continue
        seen.add(name)
        s = model.shapes[name]
        stack.extend(m.shape for m in s.members)
        stack.extend(x for x in (s.list_member, s.map_key, s.map_value) if x)
    return seen
