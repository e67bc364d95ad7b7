"""Every operation of the edition's model: choosing them (`--operations`) and the requirements the
model itself states for them.

The hand-written catalogue (specs/requirements.yaml) covers the six custom key store operations.
For every other operation the model's own constraints are the contract, so their requirements are
made from the model when it is loaded, never written by hand: one per input member and constraint
(`MW-<Operation>-<Member>-<constraint>`), one per operation for "valid input gets past
validation" (`MW-<Operation>-valid-input`) and one per modelled error (`MW-<Operation>-error-<Code>`),
which needs state beyond structure and which the model-wide run does not attempt. The ids depend
only on the model, so blame, expectation files and compare see the same ids on every load.
"""

from __future__ import annotations

import fnmatch
from typing import Iterable

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.errors import UsageError
from conformance.spec.model import ServiceModel
from conformance.spec.requirements import Preconditions, Requirement, SourceRef

GENERATED_BY = "model"  # the `generated:` mark of every requirement made here
ALL = "all"
# The model the requirements cite as their source (the one `edition_model` loads).
SOURCE_DOCUMENT = "botocore-kms"
# Operations whose checks come before any lookup on AWS, as recorded (aws-behaviour-facts §2: the
# GenerateRandom bound errors came back for an unknown store; keyId length on DescribeKey-style
# calls). For every other operation "validation before existence" is inferred from Coral (VAL-009).
ORDER_RECORDED = ("GenerateRandom",)
# Server-side faults: a valid request is not expected to provoke them.
SERVER_ERRORS = ("KMSInternalException", "DependencyTimeoutException")


def select_operations(model: ServiceModel, spec: str | Iterable[str] | None) -> list[str]:
    """The operations `spec` names, in model order sorted by name: `all`, or a comma-separated list
    of names and globs (`Create*,Encrypt`). A name or glob matching nothing is a UsageError."""
    if spec is None:
        return []
    items = [spec] if isinstance(spec, str) else list(spec)
    words = [w.strip() for item in items for w in str(item).split(",") if w.strip()]
    if not words:
        raise UsageError("--operations: give `all`, operation names or globs (e.g. 'Create*,Encrypt')")
    known = sorted(model.operations)
    chosen: list[str] = []
    for word in words:
        if word.lower() == ALL:
            hits = known
        else:
            hits = [op for op in known if fnmatch.fnmatchcase(op, word)]
        if not hits:
            close = [op for op in known if op.lower() == word.lower()]
            hint = f"; did you mean {close[0]}?" if close else f" (known: {', '.join(known)})"
            raise UsageError(f"--operations: no operation {word!r} in the {model.edition} model{hint}")
        chosen += [op for op in hits if op not in chosen]
    return sorted(chosen)


def constraints_of(model: ServiceModel, operation: str) -> list[tuple[str, str, dict]]:
    """(member path, constraint, facts) for every input member constraint of `operation`.

    Constraint names are the catalogue's: required, length, range, pattern, enum. Nested
    structure members are walked (`Recipient.KeyEncryptionAlgorithm`), as the generator does.
    """
    out: list[tuple[str, str, dict]] = []
    shape = model.input_shape(operation)
    if shape is None:
        return out

    def walk(parent, prefix: str, seen: tuple[str, ...]) -> None:
        for m in parent.members:
            s = model.shape(m.shape)
            path = f"{prefix}.{m.name}" if prefix else m.name
            if m.required:
                out.append((path, "required", {"shape": s.name}))
            if s.min_length is not None or s.max_length is not None:
                out.append((path, "length", {"shape": s.name, "bounds": {"min": s.min_length, "max": s.max_length}}))
            if s.min_value is not None or s.max_value is not None:
                out.append((path, "range", {"shape": s.name, "bounds": {"min": s.min_value, "max": s.max_value}}))
            if s.pattern:
                out.append((path, "pattern", {"shape": s.name, "pattern": s.pattern}))
            if s.enum:
                out.append((path, "enum", {"shape": s.name, "values": list(s.enum)}))
            if s.type == "structure" and s.name not in seen:
                walk(s, path, seen + (s.name,))

    walk(shape, "", (shape.name,))
    return out


def _describe(constraint: str, facts: dict) -> str:
    if constraint == "required":
        return "is required"
    if constraint in ("length", "range"):
        b = facts["bounds"]
        what = "length" if constraint == "length" else "value"
        lo = "" if b["min"] is None else f" >= {b['min']}"
        hi = "" if b["max"] is None else f" <= {b['max']}"
        return f"{what}{lo}{' and' if lo and hi else ''}{hi}"
    if constraint == "pattern":
        return f"matches {facts['pattern']}"
    return f"is one of {len(facts['values'])} enum values"


def model_requirements(model: ServiceModel, operations: Iterable[str], editions: tuple[str, ...] | None = None) -> list[Requirement]:
    """The generated requirements of `operations` (the custom key store ones have hand-written ones)."""
    editions = editions or (model.edition,)
    reqs: list[Requirement] = []
    for op in operations:
        if op in CUSTOM_KEY_STORE_OPERATIONS or op not in model.operations:
            continue
        operation = model.operation(op)
        input_shape = operation.input or f"{op}Request"
        order = "documented" if op in ORDER_RECORDED else "inferred"
        for path, constraint, facts in constraints_of(model, op):
            expected = {"status": 400, "error_code": "ValidationException", "constraint": constraint,
                        "member": path, "generated": GENERATED_BY, "order_of_checks": order, **facts}
            reqs.append(Requirement(
                id=f"MW-{op}-{path}-{constraint}",
                title=f"{op} {path} {_describe(constraint, facts)}",
                operation=op, level="MUST", editions=editions,
                source=SourceRef(SOURCE_DOCUMENT, f"{input_shape} / {path} ({facts['shape']})"),
                preconditions=Preconditions(store_type="none"),
                expected=expected,
                notes=("Generated from the model's shape constraint. Sent with ids that name nothing: "
                       f"validation before existence is {order} for {op} "
                       + ("(recorded on AWS)." if order == "documented" else "(Coral validates first, VAL-009).")),
                generated=GENERATED_BY,
            ))
        client_errors = [e for e in operation.errors if e not in SERVER_ERRORS]
        reqs.append(Requirement(
            id=f"MW-{op}-valid-input",
            title=f"{op}: a request valid under the model gets past validation (success or a modelled error)",
            operation=op, level="MUST", editions=editions,
            source=SourceRef(SOURCE_DOCUMENT, f"{op} / Errors"),
            preconditions=Preconditions(store_type="none"),
            expected={"any_of": [{"status": 200}] + [{"status": 400, "error_code": e} for e in client_errors],
                      "generated": GENERATED_BY},
            notes="Generated: any answer but a validation or serialization error, a 5xx or an error the model "
                  "does not list for the operation.",
            generated=GENERATED_BY,
        ))
        for err in operation.errors:
            shape = model.shapes.get(err)
            status = (shape.error.http_status if shape is not None and shape.error else None) or 400
            if err not in SERVER_ERRORS:
                status = 400  # real KMS answers every client error with 400 (facts §1.3)
            reqs.append(Requirement(
                id=f"MW-{op}-error-{err}",
                title=f"{op} answers {err} when its condition holds",
                operation=op, level="MUST", editions=editions,
                source=SourceRef(SOURCE_DOCUMENT, f"{op} / Errors / {err}"),
                preconditions=Preconditions(store_type="none"),
                expected={"status": status, "error_code": err, "generated": GENERATED_BY},
                model_error=err,
                notes="Generated from the model's error list; needs state beyond structure, so the model-wide "
                      "run does not attempt it.",
                generated=GENERATED_BY,
            ))
    return reqs


__all__ = ["ALL", "GENERATED_BY", "constraints_of", "model_requirements", "select_operations"]
