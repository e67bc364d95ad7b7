"""The conformance cases: generated (structural, protocol, auth) and hand-written/Hypothesis/Schemathesis.

`collect_cases` is the one entry point: it asks every case module for its cases
for an edition. A module that exists but fails to import is an error (a broken
module must not silently shrink the suite); one that does not exist yet is skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from conformance import EDITIONS
from conformance.cases.base import Case, CaseContext, CollectContext
from conformance.steps import CaseResult, Expected, Step

__all__ = ["collect_cases", "CASE_MODULES", "Case", "CaseContext", "CaseResult", "CollectContext", "Expected", "Step"]

# Every module exports `collect(cc: CollectContext) -> list[Case]`.
CASE_MODULES = (
    "conformance.cases.structural",
    "conformance.cases.protocol",
    "conformance.cases.auth",
    "conformance.cases.scenarios",
    "conformance.cases.properties",
    "conformance.cases.stateful",
    "conformance.cases.schemathesis_run",
)


class CaseCollectionError(RuntimeError):
    """A case module is broken (import error or invalid cases)."""


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def collect_cases(
    edition: str = "current",
    model: Any = None,
    requirements: list[Any] | None = None,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    modules: tuple[str, ...] | None = None,
) -> list[Case]:
    """All cases for an edition, in a stable order, ids unique."""
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r} (known: {', '.join(EDITIONS)})")
    if model is None:
        from conformance.spec import edition_model

        model = edition_model(edition)
    if requirements is None:
        from conformance.spec.requirements import load_requirements

        requirements = load_requirements()
    cc = CollectContext(edition=edition, model=model, requirements=list(requirements), seed=seed, options=dict(options or {}))
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for name in modules or CASE_MODULES:
        if not _module_exists(name):
            continue
        try:
            module = importlib.import_module(name)
            found = module.collect(cc)
        except Exception as exc:
            raise CaseCollectionError(f"case module {name} failed: {type(exc).__name__}: {exc}") from exc
        for case in found:
            if edition not in case.editions:
                continue
            if case.id in seen:
                raise CaseCollectionError(f"duplicate case id {case.id} (from {seen[case.id]} and {name})")
            seen[case.id] = name
            cases.append(case)
    return cases
