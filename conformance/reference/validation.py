"""Request validation through the spec's oracle, on the emulator's own copy of the model.

Nothing here hand-writes a length or pattern rule: the spec decides. Wrong
JSON types are SerializationException (Coral rejects them while
deserialising, before any constraint is looked at); constraint violations are
ValidationException with the oracle's message. Each step is a small method so
a seeded fault can replace exactly one of them.

A quoted value is cut to `config.echo_limit_chars` characters plus "..." [INFER]: AWS's
rule for long values is not recorded (a 257-character value came back whole), so the
limit sits above every bound in the model and only values no boundary case sends are cut.
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.reference.errors import KmsError, SerializationException, ValidationException
from conformance.spec import Prediction, ServiceModel, Shape, edition_model, predict_validation, type_mismatches


class RequestValidation:
    """The input checks of one edition; the backend runs them before any state is looked at."""

    edition: str
    model: ServiceModel
    config: Any  # ReferenceConfig

    def emulator_model(self) -> ServiceModel:
        """A private copy of the edition model: a change to a shape here never reaches the suite's copy."""
        base = edition_model(self.edition)
        model = copy.copy(base)
        model.shapes = {name: self.emulator_shape(shape) for name, shape in base.shapes.items()}
        model.operations = dict(base.operations)
        return model

    def emulator_shape(self, shape: Shape) -> Shape:
        return shape

    def validate(self, operation: str, params: dict) -> None:
        """Raise the SerializationException / ValidationException AWS would answer, else return."""
        self.check_types(operation, params)
        self.check_constraints(operation, params)

    def check_types(self, operation: str, params: dict) -> None:
        mismatches = type_mismatches(operation, params, model=self.model)
        if mismatches:
            raise self.wrong_type_error(serialization_message(self.model, operation, params, mismatches[0]))

    def wrong_type_error(self, message: str) -> KmsError:
        return SerializationException(message)

    def check_constraints(self, operation: str, params: dict) -> None:
        prediction = predict_validation(operation, params, model=self.model, edition=self.edition)
        if prediction is not None:
            raise ValidationException(self.validation_message(prediction, params))

    def validation_message(self, prediction: Prediction, params: dict) -> str:
        message = prediction.message
        limit = self.echo_limit()
        if limit is None:
            return message
        for v in prediction.violations:
            short = shorten_quoted_value(v.text, v.path, limit)
            if short is not v.text:
                message = message.replace(v.text, short, 1)
        return message

    def echo_limit(self) -> int | None:
        """How many characters of an invalid value a message quotes (None: the whole value)."""
        return self.config.echo_limit_chars


def shorten_quoted_value(text: str, path: str, limit: int) -> str:
    """`Value '<v>' at '<path>' failed ...` with <v> cut to `limit` characters plus "..."; else `text` itself."""
    head, tail = "Value '", f"' at '{path}' failed to satisfy constraint: "
    end = text.rfind(tail)
    if not text.startswith(head) or end - len(head) <= limit:
        return text
    return f"{head}{text[len(head):len(head) + limit]}...{text[end:]}"


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
