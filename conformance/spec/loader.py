"""`load_model(source)`: one entry point for every model source, cached.

Sources: "botocore" (the installed botocore KMS model), "smithy" (the vendored
Smithy JSON AST in the spec data's upstream/), or a path to a Smithy JSON AST, a botocore
service-2.json or a committed slice (the format is recognised from the content).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from conformance.errors import UsageError
from conformance.spec.botocore_source import load_botocore_model, model_from_botocore_dict, read_model_bytes
from conformance.spec.data import VENDORED_SMITHY_FILE, spec_file
from conformance.spec.model import ServiceModel
from conformance.spec.slice_format import is_slice_document, slice_from_dict
from conformance.spec.smithy_source import load_smithy_model


def load_model(source: str | Path = "botocore") -> ServiceModel:
    """The full service model from `source` (all operations). Cached: do not mutate it."""
    key = str(source)
    if key not in ("botocore", "smithy"):
        key = str(Path(source).resolve())
    return _load_cached(key)


@functools.lru_cache(maxsize=16)
def _load_cached(key: str) -> ServiceModel:
    if key == "botocore":
        return load_botocore_model()
    if key == "smithy":
        return load_smithy_model(spec_file(*VENDORED_SMITHY_FILE))
    path = Path(key)
    if not path.is_file():
        raise UsageError(f"model source not found: {path} (use 'botocore', 'smithy' or a model file)")
    try:
        doc = json.loads(read_model_bytes(path))
    except (OSError, ValueError) as exc:
        raise UsageError(f"model file {path} is not readable JSON: {exc}") from None
    if is_slice_document(doc):
        return slice_from_dict(doc)
    if isinstance(doc, dict) and "smithy" in doc and "shapes" in doc:
        return load_smithy_model(path)
    if isinstance(doc, dict) and {"metadata", "operations", "shapes"} <= doc.keys():
        return load_botocore_model(path)
    raise UsageError(f"{path} is neither a Smithy JSON AST nor a botocore service-2.json nor a spec slice")


__all__ = ["load_model", "model_from_botocore_dict"]
