"""The committed spec data: specs/ in the checkout, shipped as the package `conformance.specs`.

In a checkout conformance/specs is a symlink to ../specs; a wheel holds a copy.
Read through importlib.resources, so an installed wheel finds it without the
checkout. Only `spec sync` writes here, and only into a checkout (`checkout_specs_dir`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from conformance.errors import UsageError

DATA_PACKAGE = "conformance.specs"
SLICE_FILE = "kms-custom-key-stores.json"
REQUIREMENTS_FILE = "requirements.yaml"
SOURCES_FILE = "sources.yaml"
EDITIONS_FOLDER = "editions"
VENDORED_SMITHY_FILE = ("upstream", "kms-2014-11-01.smithy.json")


def spec_file(*parts: str) -> Path:
    """A file or folder of the spec data, as a real path (a checkout's is under specs/, not the symlink)."""
    node = resources.files(DATA_PACKAGE).joinpath(*parts)
    if not isinstance(node, Path):
        raise UsageError(f"the spec data is not on the file system ({node}): install kms-conformance unzipped")
    return node.resolve()


def checkout_specs_dir() -> Path | None:
    """specs/ of the source checkout the package runs from (an editable install); None when installed."""
    root = spec_file()
    if root.name == "specs" and (root.parent / "pyproject.toml").is_file():
        return root
    return None
