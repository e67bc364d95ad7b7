"""`-k EXPR`: pytest's keyword grammar (and/or/not/parentheses over names), evaluated against a case's names.

Hand-written because pytest exposes its own evaluator only as a private module;
the grammar is the keyword subset of pytest's, so `run -k` and the plugin's `-k` agree.
"""

from __future__ import annotations

import re
import shlex
from typing import Callable, Iterable

from conformance.cases.base import Case
from conformance.errors import UsageError

_TOKEN = re.compile(r"\s*(?:(\()|(\))|([\w:+\-.\[\]\\/]+))")
_OPERATORS = ("and", "or", "not")

Matcher = Callable[[Callable[[str], bool]], bool]


def case_names(case: Case) -> list[str]:
    """What -k matches against: the id, its parts, kind, operation, requirement ids, tags."""
    return [case.id, *case.id.split("/"), case.kind, case.operation, *case.requirements, *case.tags]


def _tokens(expr: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(expr):
        if expr[pos:].isspace():
            break
        m = _TOKEN.match(expr, pos)
        if m is None:
            raise UsageError(f"-k: invalid expression {expr!r}: unexpected character at column {pos + 1}")
        tokens.append(m.group(m.lastindex))
        pos = m.end()
    return tokens


def compile_keyword(expr: str) -> Matcher:
    """Parse EXPR once; the result tells, given a name test, whether the expression holds."""
    tokens = _tokens(expr)
    pos = 0

    def fail(why: str):
        raise UsageError(f"-k: invalid expression {expr!r}: {why}")

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def parse_or() -> Matcher:
        parts = [parse_and()]
        while peek() == "or":
            take()
            parts.append(parse_and())
        return parts[0] if len(parts) == 1 else (lambda has, ps=parts: any(p(has) for p in ps))

    def parse_and() -> Matcher:
        parts = [parse_not()]
        while peek() == "and":
            take()
            parts.append(parse_not())
        return parts[0] if len(parts) == 1 else (lambda has, ps=parts: all(p(has) for p in ps))

    def parse_not() -> Matcher:
        token = peek()
        if token is None:
            fail("expression ends too early")
        take()
        if token == "not":
            inner = parse_not()
            return lambda has: not inner(has)
        if token == "(":
            inner = parse_or()
            if peek() != ")":
                fail("missing ')'")
            take()
            return inner
        if token == ")" or token in _OPERATORS:
            fail(f"unexpected {token!r}")
        return lambda has, name=token: has(name)

    if not tokens:
        return lambda has: False  # as in pytest: an empty expression matches nothing
    matcher = parse_or()
    if peek() is not None:
        fail(f"unexpected {peek()!r}")
    return matcher


def keyword_matches(matcher: Matcher, case: Case) -> bool:
    """Each name in EXPR holds when it is a case-insensitive substring of one of the case's names."""
    names = [n.lower() for n in case_names(case)]
    return matcher(lambda ident: any(ident.lower() in n for n in names))


def select_cases(cases: Iterable[Case], keyword: str | None, case_ids: Iterable[str] = ()) -> list[Case]:
    """The cases -k EXPR matches, narrowed to the exact ids given (an unknown id is a usage error)."""
    cases = list(cases)
    wanted = list(dict.fromkeys(case_ids))
    if wanted:
        known = {c.id for c in cases}
        unknown = [i for i in wanted if i not in known]
        if unknown:
            raise UsageError(f"--case {shlex.quote(unknown[0])}: no such case in this run's edition "
                             f"(list the ids: kms-conformance cases)")
        cases = [c for c in cases if c.id in set(wanted)]
    if not keyword:
        return cases
    matcher = compile_keyword(keyword)
    return [c for c in cases if keyword_matches(matcher, c)]


def select_for_run(cases: Iterable[Case], keyword: str | None, case_ids: Iterable[str] = (),
                   edition: str | None = None) -> list[Case]:
    """As select_cases, but a selection that matches nothing is a usage error: a typo in a CI
    gate's -k must not run zero cases and exit 0."""
    selected = select_cases(cases, keyword, case_ids)
    if not selected and (keyword or tuple(case_ids)):
        asked = " ".join(([f"-k {shlex.quote(keyword)}"] if keyword else [])
                         + [f"--case {shlex.quote(i)}" for i in case_ids])
        where = f" of edition {edition}" if edition else ""
        hint = f"kms-conformance cases -k {shlex.quote(keyword)}" if keyword else "kms-conformance cases"
        raise UsageError(f"{asked} selected no case{where} (see what it matches: {hint}"
                         + (f" --edition {edition}" if edition else "") + ")")
    return selected
