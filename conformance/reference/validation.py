"""Request validation through the spec's oracle, on the emulator's own copy of the model.

Nothing here hand-writes a length or pattern rule: the spec decides (a seeded
fault may perturb the emulator's copy of the model, never the suite's).
Wrong JSON types are SerializationException (Coral rejects them while
deserialising, before any constraint is looked at).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from conformance.reference.errors import ApiError
from conformance.spec.model import ServiceModel


def emulator_model(edition: str, faults: frozenset[str]) -> ServiceModel:
    """A private copy of the edition model, with model-level faults applied to the copy only."""
    from conformance.spec import edition_model

    base = edition_model(edition)
    model = copy.copy(base)
    model.shapes = dict(base.shapes)
    model.operations = dict(base.operations)

    def tweak(shape_name: str, **changes: Any) -> None:
        if shape_name in model.shapes:
            model.shapes[shape_name] = dataclasses.replace(model.shapes[shape_name], **changes)

    if "password-max-off-by-one" in faults:
        pw = model.shapes.get("KeyStorePasswordType")
        if pw is not None and pw.max_length is not None:
            tweak("KeyStorePasswordType", max_length=pw.max_length + 1)
    if "cluster-id-pattern-ignored" in faults:
        tweak("CloudHsmClusterIdType", pattern=None)
    if "store-name-min-zero" in faults:
        tweak("CustomKeyStoreNameType", min_length=0)
    return model


_JAVA_TYPES = {
    "string": "String",
    "integer": "Integer",
    "long": "Long",
    "boolean": "Boolean",
    "double": "Double",
    "float": "Float",
    "blob": "ByteBuffer",
    "timestamp": "Date",
}


def _java_class(value: Any) -> str:
    if isinstance(value, bool):
        return "class java.lang.Boolean"
    if isinstance(value, (int, float)):
        return "class com.amazon.coral.value.json.numbers.TruncatingBigNumber"
    if isinstance(value, str):
        return "class java.lang.String"
    return "class java.lang.Object"


def serialization_message(model: ServiceModel, operation: str, params: Any, path: str) -> str:
    """Coral-style text for a value of the wrong JSON type ([INFER]: the family seen on API Gateway)."""
    if path == "":
        return "Start of structure or map found where not expected." if isinstance(params, list) else (
            "Expected a JSON object as the request body.")
    shape = model.input_shape(operation)
    value: Any = params
    for part in path.split("."):
        if shape is None or not isinstance(value, dict):
            break
        member = next((m for m in shape.members if m.name[:1].lower() + m.name[1:] == part), None)
        if member is None:
            break
        value = value.get(member.name)
        shape = model.shapes.get(member.shape)
    if isinstance(value, dict):
        return "Start of structure or map found where not expected."
    if isinstance(value, list):
        return "Start of list found where not expected"
    target = _JAVA_TYPES.get(shape.type if shape else "", "Object")
    return f"{_java_class(value)} can not be converted to an {target}"  # Coral writes "an" before any type


def _coerce_top_level(model: ServiceModel, operation: str, params: dict) -> None:
    """The `wrong-type-coerced` fault: what a lenient emulator does with a wrongly typed member.

    Scalars are converted ("5" -> 5 for numbers, 5 -> "5" for strings); anything it
    cannot convert is dropped, and the request goes on.
    """
    shape = model.input_shape(operation)
    for member in shape.members if shape else ():
        value = params.get(member.name)
        if value is None:
            continue
        kind = model.shapes[member.shape].type
        if kind == "string" and isinstance(value, (int, float, bool)):
            params[member.name] = str(value)
        elif kind in ("integer", "long") and isinstance(value, str) and value.strip().lstrip("-").isdigit():
            params[member.name] = int(value)
    from conformance.spec import type_mismatches

    still_wrong = {path.split(".")[0] for path in type_mismatches(operation, params, model=model)}
    for member in shape.members if shape else ():
        if member.name[:1].lower() + member.name[1:] in still_wrong:
            del params[member.name]


def validate(model: ServiceModel, edition: str, operation: str, params: dict, faults: frozenset[str]) -> None:
    """Raise the SerializationException / ValidationException AWS would answer, else return."""
    from conformance.spec import predict_validation, type_mismatches

    mismatches = type_mismatches(operation, params, model=model)
    if mismatches and "wrong-type-coerced" in faults and isinstance(params, dict):
        _coerce_top_level(model, operation, params)
        mismatches = type_mismatches(operation, params, model=model)
    if mismatches:
        message = serialization_message(model, operation, params, mismatches[0])
        if "serialization-as-validation" in faults:
            raise ApiError("ValidationException", message)
        raise ApiError("SerializationException", message)
    prediction = predict_validation(operation, params, model=model, edition=edition)
    if prediction is None:
        return
    message = prediction.message
    if "validation-message-pascalcase" in faults:
        for v in prediction.violations:
            head = v.path.split(".")[0]
            message = message.replace(f"at '{head}", f"at '{head[:1].upper()}{head[1:]}")
    if "password-in-validation-message" in faults and isinstance(params.get("KeyStorePassword"), str):
        message = message.replace("Value at 'keyStorePassword'", f"Value '{params['KeyStorePassword']}' at 'keyStorePassword'")
    raise ApiError("ValidationException", message)
