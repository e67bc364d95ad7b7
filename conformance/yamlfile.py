"""Read a YAML file our users wrote (config, expectations, catalogue): one-line errors, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from conformance.errors import ConfigError

# libyaml's loader when PyYAML was built with it: the same safe types, ~10x faster on the
# requirement catalogue, which every run reads (start-up).
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | os.PathLike, kind: str, error: type[ConfigError] = ConfigError) -> Any:
    """Parsed YAML of `path`; `kind` names the file in messages ("config file", ...).

    Missing or unreadable files and invalid YAML raise `error` (exit code 2) with the
    line and column of the problem.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{kind} not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {kind} {p}: {exc.__class__.__name__}") from None
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise error(f"{p}: not valid YAML{where}: {problem}") from None
