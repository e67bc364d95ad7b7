"""The validation-message oracle: what AWS's (Coral) model validation would say.

Grammar (aws-behaviour-facts.md §2): `1 validation error detected: ` or
`N validation errors detected: `, violations joined by `; `, each
`Value '<v>' at '<path>' failed to satisfy constraint: <rule>`; the value is
left out for sensitive members (`Value at '<path>' ...`) and is `null` for a
missing required member. Paths are lowerCamelCase, list items `.N.member`
(1-based), nested structures joined by `.`.

What AWS does not pin down (enum order is a hash set, the order of several
violations, the rendering of lists/blobs) is reported in
`Prediction.uncertainty`, and `Prediction.message_pattern` accepts every
order so callers can compare at the right strictness. Values of the wrong
JSON type are not judged here (AWS answers SerializationException before
validating): see `type_mismatches`. String lengths count code points, as
Smithy's length trait defines them; with characters beyond the BMP a Java
service could count UTF-16 units and disagree (flagged when it matters to a
predicted violation, undetectable when the prediction is "valid").
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from conformance.spec.editions import edition_model
from conformance.spec.model import ServiceModel, Shape

VALIDATION_ERROR_CODE = "ValidationException"
VALIDATION_STATUS = 400

# Order of checks for one member. The only multi-violation recording (Cognito)
# lists the pattern before the length; the rest of the order is a guess.
_CHECK_ORDER = ("required", "pattern", "min_length", "max_length", "min_value", "max_value", "enum")


@dataclass(frozen=True)
class Violation:
    """One failed constraint, with the clause AWS would print for it."""

    path: str  # e.g. "tags.1.member.tagValue"
    constraint: str  # required | pattern | min_length | max_length | min_value | max_value | enum
    text: str  # "Value '…' at '…' failed to satisfy constraint: …"
    shape: str  # shape name that carries the constraint
    sensitive: bool = False
    bound: Any = None  # the limit / enum values / pattern
    uncertain: tuple[str, ...] = ()  # what is not known about this clause


@dataclass
class Prediction:
    """The ValidationException AWS is expected to return for a request."""

    operation: str
    violations: list[Violation]
    message: str
    message_pattern: str
    certain: bool = True
    uncertainty: list[str] = field(default_factory=list)
    error_code: str = VALIDATION_ERROR_CODE
    status: int = VALIDATION_STATUS

    def matches(self, message: str | None) -> bool:
        """True when `message` is AWS's text up to the orders that are unknown."""
        return message is not None and re.fullmatch(self.message_pattern, message, re.DOTALL) is not None

    @property
    def paths(self) -> list[str]:
        return [v.path for v in self.violations]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for reports and cassettes); never contains a sensitive value."""
        return {
            "operation": self.operation,
            "error_code": self.error_code,
            "status": self.status,
            "message": self.message,
            "message_pattern": self.message_pattern,
            "certain": self.certain,
            "uncertainty": list(self.uncertainty),
            "violations": [
                {"path": v.path, "constraint": v.constraint, "shape": v.shape, "sensitive": v.sensitive,
                 "bound": list(v.bound) if isinstance(v.bound, tuple) else v.bound, "text": v.text}
                for v in self.violations
            ],
        }


def lower_camel(name: str) -> str:
    """Coral's wire-path spelling of a member name: first letter lowered."""
    return name[:1].lower() + name[1:]


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """Model regex (Java dialect) as a Python regex; None if Python cannot read it."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def render_value(value: Any) -> str:
    """Value text inside the quotes: strings as-is, numbers as decimal text (Java-like)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return repr(value)  # Java Double.toString keeps ".0"
    if isinstance(value, (bytes, bytearray)):
        n = len(value)
        return f"java.nio.HeapByteBuffer[pos=0 lim={n} cap={n}]"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(render_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={render_value(v)}" for k, v in value.items()) + "}"
    return str(value)


def _fmt_number(n: float | int) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


def _rule_text(constraint: str, bound: Any) -> str:
    if constraint == "required":
        return "Member must not be null"
    if constraint == "min_length":
        return f"Member must have length greater than or equal to {_fmt_number(bound)}"
    if constraint == "max_length":
        return f"Member must have length less than or equal to {_fmt_number(bound)}"
    if constraint == "min_value":
        return f"Member must have value greater than or equal to {_fmt_number(bound)}"
    if constraint == "max_value":
        return f"Member must have value less than or equal to {_fmt_number(bound)}"
    if constraint == "enum":
        return "Member must satisfy enum value set: [" + ", ".join(bound) + "]"
    if constraint == "pattern":
        return f"Member must satisfy regular expression pattern: {bound}"
    raise ValueError(constraint)


# ---------------------------------------------------------------- type checks


def _blob_bytes(value: Any) -> bytes | None:
    """Blob as bytes: Python bytes (boto3 params) or base64 text (wire JSON)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
    return None


def _type_ok(shape: Shape, value: Any) -> bool:
    t = shape.type
    if t == "string":
        return isinstance(value, str)
    if t in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if t in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "blob":
        return _blob_bytes(value) is not None
    if t == "timestamp":
        return isinstance(value, (int, float, str, _dt.datetime)) and not isinstance(value, bool)
    if t in ("structure", "map"):
        return isinstance(value, dict)
    if t == "list":
        return isinstance(value, (list, tuple))
    return True


def type_mismatches(operation: str, params: Any, *, model: ServiceModel | None = None, edition: str = "current") -> list[str]:
    """Paths (Coral spelling; "" = the whole body) whose value has the wrong JSON type.

    AWS rejects those with SerializationException before any constraint is
    checked, so a caller that sees a non-empty list should not expect the
    ValidationException from `predict_validation`.
    """
    model = _resolve_model(model, edition)
    shape = _input_shape(model, operation)
    out: list[str] = []
    if shape is None:
        return out
    if not isinstance(params, dict):
        return [""]
    _walk_types(model, shape, params, "", out)
    return out


def _walk_types(model: ServiceModel, shape: Shape, value: Any, path: str, out: list[str]) -> None:
    if value is None:
        return
    if not _type_ok(shape, value):
        out.append(path)
        return
    if shape.type == "structure":
        for m in shape.members:
            if m.name in value:
                _walk_types(model, model.shape(m.shape), value[m.name], _join(path, lower_camel(m.name)), out)
    elif shape.type == "list" and shape.list_member:
        for i, item in enumerate(value, 1):
            _walk_types(model, model.shape(shape.list_member), item, f"{path}.{i}.member", out)
    elif shape.type == "map" and shape.map_value:
        for k, item in value.items():
            _walk_types(model, model.shape(shape.map_value), item, f"{path}.{k}", out)


# ---------------------------------------------------------------- validation


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _resolve_model(model: ServiceModel | None, edition: str) -> ServiceModel:
    return model if model is not None else edition_model(edition)


def _input_shape(model: ServiceModel, operation: str) -> Shape | None:
    if operation not in model.operations:
        raise ValueError(f"unknown operation {operation!r} in the {model.service} model (edition {model.edition})")
    return model.input_shape(operation)


def _length(shape: Shape, value: Any) -> int | None:
    if shape.type == "blob":
        b = _blob_bytes(value)
        return None if b is None else len(b)
    if shape.type == "string":
        # Smithy's length trait counts Unicode scalar values (code points); a Java
        # service might count UTF-16 units instead (see _clause's uncertainty note).
        return len(value)
    if shape.type in ("list", "map"):
        return len(value)
    return None


def _check_value(shape: Shape, value: Any) -> list[tuple[str, Any]]:
    """Failed (constraint, bound) pairs for one present value of the right type."""
    failed: list[tuple[str, Any]] = []
    if shape.pattern is not None and shape.type == "string":
        rx = compile_pattern(shape.pattern)
        if rx is not None and rx.fullmatch(value) is None:
            failed.append(("pattern", shape.pattern))
    n = _length(shape, value)
    if n is not None:
        if shape.min_length is not None and n < shape.min_length:
            failed.append(("min_length", shape.min_length))
        if shape.max_length is not None and n > shape.max_length:
            failed.append(("max_length", shape.max_length))
    if shape.type in ("integer", "long", "float", "double"):
        if shape.min_value is not None and value < shape.min_value:
            failed.append(("min_value", shape.min_value))
        if shape.max_value is not None and value > shape.max_value:
            failed.append(("max_value", shape.max_value))
    if shape.enum is not None and shape.type == "string" and value not in shape.enum:
        failed.append(("enum", shape.enum))
    return sorted(failed, key=lambda f: _CHECK_ORDER.index(f[0]))


def _clause(path: str, shape: Shape, value: Any, constraint: str, bound: Any) -> Violation:
    uncertain: list[str] = []
    if constraint == "required":
        head = f"Value null at '{path}'"
        if shape.sensitive:
            uncertain.append(f"null sensitive member '{path}': AWS may print 'Value at' instead of 'Value null at'")
    elif shape.sensitive:
        head = f"Value at '{path}'"
    else:
        head = f"Value '{render_value(value)}' at '{path}'"
        if shape.type in ("blob", "list", "map", "structure"):
            uncertain.append(f"rendering of the {shape.type} value at '{path}'")
    if constraint == "enum" and len(bound) > 1:
        uncertain.append(f"order of the enum values at '{path}' (a hash set on AWS)")
    if constraint in ("min_length", "max_length") and isinstance(value, str) and any(ord(c) > 0xFFFF for c in value):
        uncertain.append(f"length of '{path}' counted in code points; AWS may count UTF-16 units")
    if constraint == "pattern" and compile_pattern(bound) is None:
        uncertain.append(f"pattern at '{path}' is not readable as a Python regex")
    text = f"{head} failed to satisfy constraint: {_rule_text(constraint, bound)}"
    return Violation(path=path, constraint=constraint, text=text, shape=shape.name, sensitive=shape.sensitive, bound=bound, uncertain=tuple(uncertain))


def _walk(model: ServiceModel, shape: Shape, value: Any, path: str, out: list[Violation]) -> None:
    if not _type_ok(shape, value):
        return  # SerializationException territory, not validation
    for constraint, bound in _check_value(shape, value):
        out.append(_clause(path, shape, value, constraint, bound))
    if shape.type == "structure":
        for m in shape.members:
            child = model.shape(m.shape)
            cpath = _join(path, lower_camel(m.name))
            v = value.get(m.name)
            if v is None:
                if m.required:
                    out.append(_clause(cpath, child, None, "required", None))
                continue
            _walk(model, child, v, cpath, out)
    elif shape.type == "list" and shape.list_member:
        child = model.shape(shape.list_member)
        for i, item in enumerate(value, 1):
            if item is not None:
                _walk(model, child, item, f"{path}.{i}.member", out)
    elif shape.type == "map" and shape.map_value:
        child = model.shape(shape.map_value)
        kshape = model.shape(shape.map_key) if shape.map_key else None
        for k, item in value.items():
            before = len(out)
            if kshape is not None:
                _walk(model, kshape, k, f"{path}.{k}", out)
            if item is not None:
                _walk(model, child, item, f"{path}.{k}", out)
            for j in range(before, len(out)):  # Coral's path for map entries is not recorded
                out[j] = dataclasses.replace(out[j], uncertain=out[j].uncertain + (f"path spelling of map entries at '{path}'",))


def _enum_set_regex(values: tuple[str, ...]) -> str:
    """`[a, b, c]` in any order (each value exactly once)."""
    alt = "|".join(re.escape(v) for v in sorted(values, key=len, reverse=True))
    looks = "".join(f"(?=(?:[^\\]]*?, )?{re.escape(v)}(?:, |\\]))" for v in values)
    n = len(values)
    body = f"(?:{alt})" + (f"(?:, (?:{alt})){{{n - 1}}}" if n > 1 else "")
    return f"\\[{looks}{body}\\]"


def _violation_regex(v: Violation) -> str:
    if v.constraint == "enum":
        prefix = v.text[: v.text.index(" enum value set: [") + len(" enum value set: ")]
        return re.escape(prefix) + _enum_set_regex(v.bound)
    return re.escape(v.text)


def _prefix(n: int) -> str:
    return f"{n} validation error detected: " if n == 1 else f"{n} validation errors detected: "


def _message_pattern(violations: list[Violation]) -> str:
    n = len(violations)
    parts = [_violation_regex(v) for v in violations]
    if n == 1:
        return f"{re.escape(_prefix(1))}{parts[0]}"
    alt = "|".join(f"(?:{p})" for p in parts)
    looks = "".join(f"(?=(?:.*?; )?(?:{p})(?:; |$))" for p in parts)
    return f"{re.escape(_prefix(n))}{looks}(?:{alt})(?:; (?:{alt})){{{n - 1}}}"


def predict_validation(
    operation: str,
    params: Any,
    *,
    model: ServiceModel | None = None,
    edition: str = "current",
) -> Prediction | None:
    """AWS's ValidationException for `params` on `operation`, or None when valid.

    `params` is the request body as a dict (boto3 params or parsed wire JSON;
    blobs may be bytes or base64 text). Unknown members are ignored (AWS does).
    """
    model = _resolve_model(model, edition)
    shape = _input_shape(model, operation)
    if shape is None:
        return None
    if params is None:
        params = {}
    if not isinstance(params, dict):
        return None  # wrong body type: SerializationException, not validation
    violations: list[Violation] = []
    _walk(model, shape, params, "", violations)
    if not violations:
        return None
    message = _prefix(len(violations)) + "; ".join(v.text for v in violations)
    uncertainty: list[str] = []
    for v in violations:
        uncertainty.extend(v.uncertain)
    if len(violations) > 1:
        uncertainty.append("order of the violations (AWS's order is not recorded)")
    return Prediction(
        operation=operation,
        violations=violations,
        message=message,
        message_pattern=_message_pattern(violations),
        certain=not uncertainty,
        uncertainty=uncertainty,
    )
