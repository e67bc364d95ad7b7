"""Read a botocore `service-2.json` (installed or a file) into the internal form.

botocore spells length and value bounds both as `min`/`max`; the shape type
decides which they are (strings, blobs, lists, maps: length; numbers: value).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from conformance.spec.model import ErrorInfo, Member, Operation, ServiceModel, Shape

_LENGTH_TYPES = {"string", "blob", "list", "map"}
_PROTOCOLS = {"json": {"1.1": "awsJson1_1", "1.0": "awsJson1_0"}}


def installed_model_path(service: str = "kms", api_version: str = "2014-11-01") -> Path:
    """Where the installed botocore keeps the service model (may be .json or .json.gz)."""
    import botocore

    base = Path(botocore.__file__).parent / "data" / service / api_version
    for name in ("service-2.json", "service-2.json.gz"):
        if (base / name).exists():
            return base / name
    raise FileNotFoundError(f"botocore has no {service} {api_version} model under {base}")


def read_model_bytes(path: Path) -> bytes:
    """File bytes, gunzipped when the name ends in .gz (botocore ships some models gzipped)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        import gzip

        data = gzip.decompress(data)
    return data


def shape_from_botocore(name: str, raw: dict[str, Any]) -> Shape:
    typ = raw["type"]
    lo, hi = raw.get("min"), raw.get("max")
    is_len = typ in _LENGTH_TYPES
    members: tuple[Member, ...] = ()
    if typ == "structure":
        required = set(raw.get("required", ()))
        members = tuple(
            Member(name=m, shape=spec["shape"], required=m in required)
            for m, spec in raw.get("members", {}).items()
        )
    error = None
    if raw.get("exception"):
        status = (raw.get("error") or {}).get("httpStatusCode")
        error = ErrorInfo(fault="server" if raw.get("fault") else "client", http_status=status)
    return Shape(
        name=name,
        type=typ,
        min_length=lo if is_len else None,
        max_length=hi if is_len else None,
        min_value=None if is_len else lo,
        max_value=None if is_len else hi,
        pattern=raw.get("pattern"),
        enum=tuple(raw["enum"]) if "enum" in raw else None,
        sensitive=bool(raw.get("sensitive", False)),
        members=members,
        list_member=raw["member"]["shape"] if typ == "list" else None,
        map_key=raw["key"]["shape"] if typ == "map" else None,
        map_value=raw["value"]["shape"] if typ == "map" else None,
        error=error,
    )


def model_from_botocore_dict(doc: dict[str, Any], provenance: dict[str, Any]) -> ServiceModel:
    meta = doc["metadata"]
    protocol = _PROTOCOLS.get(meta.get("protocol", ""), {}).get(meta.get("jsonVersion", ""), meta.get("protocol"))
    operations = {}
    for name, op in doc["operations"].items():
        http = op.get("http", {})
        operations[name] = Operation(
            name=name,
            input=(op.get("input") or {}).get("shape"),
            output=(op.get("output") or {}).get("shape"),
            errors=tuple(e["shape"] for e in op.get("errors", ())),
            http_method=http.get("method", "POST"),
            http_uri=http.get("requestUri", "/"),
        )
    shapes = {name: shape_from_botocore(name, raw) for name, raw in doc["shapes"].items()}
    return ServiceModel(
        service=meta.get("endpointPrefix", ""),
        api_version=meta["apiVersion"],
        target_prefix=meta.get("targetPrefix", ""),
        protocol=protocol,
        signing_name=meta.get("signingName", meta.get("endpointPrefix", "")),
        operations=operations,
        shapes=shapes,
        provenance=provenance,
    )


def load_botocore_model(path: str | Path | None = None) -> ServiceModel:
    """Load the installed botocore KMS model (path None) or a given service-2.json."""
    import botocore

    installed = path is None
    p = installed_model_path() if installed else Path(path)
    data = read_model_bytes(p)
    provenance: dict[str, Any] = {
        "source": "botocore",
        "source_file": f"botocore/data/{p.parent.parent.name}/{p.parent.name}/{p.name}" if installed else p.name,
        "sha256": hashlib.sha256(data).hexdigest(),  # of the (uncompressed) JSON text
    }
    if installed:
        provenance["botocore_version"] = botocore.__version__
        # Newest change to the custom key store shapes in the model history
        # (botocore_custom_key_store_model_history.diff): the VPC endpoint name pattern.
        provenance["custom_key_store_shapes_last_changed"] = {"botocore": "1.40.69", "model_date": "2025-11-07"}
    return model_from_botocore_dict(json.loads(data), provenance)
