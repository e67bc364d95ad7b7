"""`-k EXPR`: pytest's own keyword grammar, evaluated against a case's names."""

from __future__ import annotations

from typing import Iterable

from conformance.cases.base import Case
from conformance.errors import UsageError


def case_names(case: Case) -> list[str]:
    """What -k matches against: the id, its parts, kind, operation, requirement ids, tags."""
    return [case.id, *case.id.split("/"), case.kind, case.operation, *case.requirements, *case.tags]


def compile_keyword(expr: str):
    from _pytest.mark.expression import Expression

    try:
        return Expression.compile(expr)
    except Exception as exc:  # pytest raises its own ParseError / SyntaxError subclasses
        raise UsageError(f"-k: invalid expression {expr!r}: {exc}") from None


def keyword_matches(expr, case: Case) -> bool:
    names = [n.lower() for n in case_names(case)]

    def matcher(ident: str, **kwargs) -> bool:
        if kwargs:
            return False
        ident = ident.lower()
        return any(ident in n for n in names)

    return bool(expr.evaluate(matcher))


def select_cases(cases: Iterable[Case], keyword: str | None) -> list[Case]:
    cases = list(cases)
    if not keyword:
        return cases
    expr = compile_keyword(keyword)
    return [c for c in cases if keyword_matches(expr, c)]
