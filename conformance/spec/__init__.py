"""The spec stage: models (botocore, Smithy), editions, the committed slice,
the validation-message oracle, OpenAPI rendering and the requirement catalogue.

The committed data (specs/ in the checkout) ships inside the package as
`conformance.specs`; `conformance.spec.data` is the one place that finds it.
"""

from __future__ import annotations

from conformance import CUSTOM_KEY_STORE_OPERATIONS  # noqa: F401 - re-exported
from conformance.spec.diff import diff_models
from conformance.spec.editions import edition_model, edition_semantics, known_editions
from conformance.spec.loader import load_model
from conformance.spec.model import ErrorInfo, Member, Operation, ServiceModel, Shape
from conformance.spec.openapi import render_openapi
from conformance.spec.oracle import Prediction, Violation, predict_validation, type_mismatches
from conformance.spec.requirements import load_requirements
from conformance.spec.slice import load_slice

__all__ = [
    "CUSTOM_KEY_STORE_OPERATIONS",
    "ErrorInfo",
    "Member",
    "Operation",
    "Prediction",
    "ServiceModel",
    "Shape",
    "Violation",
    "diff_models",
    "edition_model",
    "edition_semantics",
    "known_editions",
    "load_model",
    "load_requirements",
    "load_slice",
    "predict_validation",
    "render_openapi",
    "type_mismatches",
]
