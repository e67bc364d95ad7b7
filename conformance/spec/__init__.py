"""The spec stage: models (botocore, Smithy), editions, the committed slice,
the validation-message oracle, OpenAPI rendering and the requirement catalogue.

Heavier or optional parts (slice, OpenAPI, requirements) load on first use.
"""

from __future__ import annotations

from typing import Any

from conformance import CUSTOM_KEY_STORE_OPERATIONS  # noqa: F401 - re-exported
from conformance.spec.editions import edition_model, edition_semantics, known_editions
from conformance.spec.loader import load_model
from conformance.spec.model import ErrorInfo, Member, Operation, ServiceModel, Shape
from conformance.spec.oracle import Prediction, Violation, predict_validation, type_mismatches


_LAZY = {
    "load_slice": "conformance.spec.slice",
    "render_openapi": "conformance.spec.openapi",
    "diff_models": "conformance.spec.diff",
    "load_requirements": "conformance.spec.requirements",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'conformance.spec' has no attribute {name!r}")


__all__ = [
    "CUSTOM_KEY_STORE_OPERATIONS",
    "ErrorInfo",
    "Member",
    "Operation",
    "Prediction",
    "ServiceModel",
    "Shape",
    "Violation",
    "edition_model",
    "edition_semantics",
    "known_editions",
    "load_model",
    "predict_validation",
    "type_mismatches",
    *_LAZY,
]
