"""The conformance cases: generated (structural, protocol, auth) and hand-written/Hypothesis/Schemathesis.

`collect_cases` is the one entry point: it asks every case module for its cases
for an edition. A module that fails is an error (a broken module must not silently
shrink the suite), and so is a case that cites a requirement id the catalogue lacks.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from conformance import EDITIONS
from conformance.cases import auth, model_wide, properties, protocol, scenarios, schemathesis_run, stateful, structural
from conformance.cases.base import Case, CaseContext, CaseOptions, CollectContext
from conformance.cases.kernel import run_case
from conformance.steps import CaseResult, Expected, Step

__all__ = ["collect_cases", "run_case", "CASE_MODULES", "Case", "CaseContext", "CaseOptions", "CaseResult",
           "CollectContext", "Expected", "Step"]

# Every module exports `collect(cc: CollectContext) -> list[Case]`.
CASE_MODULES: tuple[ModuleType, ...] = (structural, protocol, auth, scenarios, properties, stateful, schemathesis_run,
                                        model_wide)


class CaseCollectionError(RuntimeError):
    """A case module is broken (import error or invalid cases)."""


def collect_cases(
    edition: str = "current",
    model: Any = None,
    requirements: list[Any] | None = None,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    modules: tuple[str, ...] | None = None,
) -> list[Case]:
    """All cases for an edition, in a stable order, ids unique, every cited requirement in the catalogue.

    `modules` names a subset of CASE_MODULES (full dotted names).
    """
    if edition not in EDITIONS:
        raise ValueError(f"unknown edition {edition!r} (known: {', '.join(EDITIONS)})")
    if model is None:
        from conformance.spec import edition_model

        model = edition_model(edition)
    if requirements is None:
        from conformance.spec.requirements import load_requirements

        requirements = load_requirements()
    known = {getattr(r, "id", None) if not isinstance(r, dict) else r.get("id") for r in requirements}
    cc = CollectContext(edition=edition, model=model, requirements=list(requirements), seed=seed, options=dict(options or {}))
    by_name = {m.__name__: m for m in CASE_MODULES}
    unknown_modules = sorted(set(modules or ()) - set(by_name))
    if unknown_modules:
        raise CaseCollectionError(f"no such case module: {', '.join(unknown_modules)} (known: {', '.join(by_name)})")
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for module in [by_name[n] for n in modules] if modules else CASE_MODULES:
        name = module.__name__
        try:
            found = module.collect(cc)
        except Exception as exc:
            raise CaseCollectionError(f"case module {name} failed: {type(exc).__name__}: {exc}") from exc
        for case in found:
            if edition not in case.editions:
                continue
            if case.id in seen:
                raise CaseCollectionError(f"duplicate case id {case.id} (from {seen[case.id]} and {name})")
            uncatalogued = [r for r in case.requirements if r not in known]
            if uncatalogued:
                raise CaseCollectionError(f"case {case.id} cites requirement id(s) not in the catalogue: "
                                          f"{', '.join(uncatalogued)}")
            seen[case.id] = name
            cases.append(case)
    return cases
