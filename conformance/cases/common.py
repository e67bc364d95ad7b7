"""What generated cases are built from: expected outcomes, the one-request case, citations.

Verdicts are never decided here (that is `conformance.verdicts`, reached through the
case kernel, `conformance.cases.kernel`).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Collection, Iterable

from conformance.cases.base import Case, CaseContext
from conformance.cases.kernel import Recorder
from conformance.cases.requests import JSON_CONTENT_TYPE, boto3_request, wire_request
from conformance.observation import Observation
from conformance.steps import Expected

# An id in the documented format (`cks-` + 17 hex) that no target will have made.
UNKNOWN_STORE_ID = "cks-0000000000000dead"
# A cluster id that matches the current pattern and length and names no cluster in any world.
UNKNOWN_CLUSTER_ID = "cluster-zzzzzzzzzzzzz"
# Request members a generated value puts in to name nothing the target has (a store id, a store
# name, a cluster id): `name_nothing` changes such a value when the world or the run knows it.
NAMING_MEMBERS = ("CustomKeyStoreId", "CustomKeyStoreName", "CloudHsmClusterId")
# Replacement characters tried, per kind of character, so a changed value keeps its alphabet.
_ALTERNATIVES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


# ------------------------------------------------------------------------------------------
# Expected outcomes
# ------------------------------------------------------------------------------------------


def success(body: dict | None = None, *, level: str = "MUST", note: str = "") -> Expected:
    return Expected(status=200, error_code=None, body=body, level=level, note=note)


def error(
    code: str,
    status: int | None = 400,
    *,
    message: str | None = None,
    pattern: str | None = None,
    level: str = "MUST",
    note: str = "",
    alternatives: Iterable[Expected] = (),
    body: dict | None = None,
    headers: dict[str, str | None] | None = None,
) -> Expected:
    return Expected(
        status=status,
        error_code=code,
        message=message,
        message_pattern=pattern,
        level=level,
        note=note,
        alternatives=list(alternatives),
        body=body,
        headers=dict(headers or {}),
    )


def validation_error(prediction: Any, *, level: str = "MUST", note: str = "") -> Expected:
    """ValidationException with the oracle's message (exact text and an order-free pattern)."""
    uncertain = not getattr(prediction, "certain", True) or len(getattr(prediction, "violations", []) or []) > 1
    return Expected(
        status=400,
        error_code="ValidationException",
        message=prediction.message,
        message_pattern=prediction.message_pattern,
        message_unordered=bool(uncertain or "enum value set" in (prediction.message or "")),
        level=level,
        note=note,
    )


# ------------------------------------------------------------------------------------------
# The shape of every generated case
# ------------------------------------------------------------------------------------------


def single_request_case(
    *,
    id: str,
    operation: str,
    kind: str,
    requirements: Iterable[str],
    title: str,
    request: dict[str, Any] | Callable[[CaseContext], dict[str, Any]],
    expected: Expected | Callable[[CaseContext, Observation], Expected],
    cleanup: Callable[[CaseContext, Observation], None] | None = None,
    failing: Iterable[str] | dict[str, Iterable[str]] | None = None,
    **case_fields: Any,
) -> Case:
    """A case that sends one request and judges it; a wrong status or code blames `failing` (default: every
    requirement the case cites), e.g. a member's own bound and not the generic rules cited beside it; a
    mapping picks them by the observed error code ("*": any other answer)."""
    if failing is not None and not isinstance(failing, dict):
        failing = tuple(failing)

    def run(rec: Recorder) -> None:
        ctx = rec.ctx
        req = request(ctx) if callable(request) else request
        obs = rec.send(req)
        try:
            exp = expected(ctx, obs) if callable(expected) else expected
            rec.judge(exp, obs, failing=failing)
        finally:
            if cleanup is not None:
                cleanup(ctx, obs)

    api = case_fields.pop("api_calls", None)
    if api is None:
        if isinstance(request, dict):
            api = (request.get("operation") or operation,)
        else:
            api = (operation,)
    return Case(
        id=id,
        operation=operation,
        kind=kind,
        requirements=tuple(requirements),
        title=title,
        run=run,
        api_calls=tuple(api),
        **case_fields,
    )


# ------------------------------------------------------------------------------------------
# Citing requirement ids from the catalogue
# ------------------------------------------------------------------------------------------


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


class UnknownCitation(ValueError):
    """A case cites a requirement id the catalogue does not have (a typo must not vanish silently)."""


class Citations:
    """Finds the catalogue ids a generated case checks, for the edition.

    An id the catalogue has for another edition only is left out (the case then checks
    what this edition requires); an id the catalogue does not have at all is an error.
    """

    def __init__(self, requirements: Iterable[Any] | None, edition: str | None = None):
        every = list(requirements or [])
        self.known = {_field(r, "id") for r in every}
        reqs = every
        if edition:
            reqs = [r for r in reqs if edition in (_field(r, "editions") or (edition,))]
        self.requirements = reqs
        self.by_id = {_field(r, "id"): r for r in reqs}

    def generic(self, *ids: str) -> tuple[str, ...]:
        unknown = [i for i in ids if i not in self.known]
        if unknown:
            raise UnknownCitation(f"cited requirement id(s) not in the catalogue: {', '.join(unknown)}")
        return tuple(i for i in ids if i in self.by_id)

    def level(self, ids: Iterable[str]) -> str:
        for i in ids:
            if i in self.by_id:
                return _field(self.by_id[i], "level") or "MUST"
        return "MUST"

    def _expected(self, r: Any) -> dict:
        exp = _field(r, "expected") or {}
        return exp if isinstance(exp, dict) else {}

    def member(self, operation: str, path: str, constraint: str) -> tuple[str, ...]:
        """Requirements of `operation` for `constraint` (required/length/pattern/enum/range) on `path`."""
        out = []
        for r in self.requirements:
            if _field(r, "operation") != operation:
                continue
            exp = self._expected(r)
            if exp.get("constraint") != constraint:
                continue
            members = exp.get("members") or []
            if isinstance(members, dict):
                members = list(members)
            if exp.get("member") == path or path in members:
                out.append(_field(r, "id"))
        return tuple(out)

    def error(self, operation: str, code: str) -> tuple[str, ...]:
        """The requirement(s) of `operation` whose outcome is the error `code` (first match)."""
        for r in self.requirements:
            if _field(r, "operation") != operation:
                continue
            if _field(r, "model_error") == code or self._expected(r).get("error_code") == code:
                return (_field(r, "id"),)
        return ()

    def requirement_for(self, operation: str, what: str) -> tuple[str, ...]:
        """A requirement of `operation` expecting plain success (status 200, no error)."""
        for r in self.requirements:
            exp = self._expected(r)
            if _field(r, "operation") == operation and exp.get("status") == 200 and not exp.get("error_code"):
                return (_field(r, "id"),)
        return ()


# ------------------------------------------------------------------------------------------
# Values meant to name nothing
# ------------------------------------------------------------------------------------------


class KnownNames:
    """Every id and name a run knows on its target: the world's clusters, the stores the run's
    driver created, and any name carrying the run prefix (the run may have made it a moment ago).

    Why: a generated "does not exist" value (a boundary cluster id, an unknown store id) that
    happens to equal a real one turns the expected not-found answer into a wrong FAIL.
    """

    def __init__(self, values: Iterable[str] = (), prefixes: Iterable[str] = ()):
        self.values = frozenset(v for v in values if isinstance(v, str) and v)
        self.prefixes = tuple(p for p in prefixes if p)

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and (value in self.values or value.startswith(self.prefixes))

    @classmethod
    def of(cls, ctx: CaseContext) -> "KnownNames":
        from conformance.world import CLUSTER_ROLES

        world = ctx.target.world
        values = [getattr(world, role, None) for role in CLUSTER_ROLES]
        prefixes = [ctx.options.run_prefix]
        driver = ctx.driver
        if driver is not None:
            prefixes.append(driver.run_prefix)
            try:
                for entry in driver.ledger.outstanding():
                    values += [entry.store_id, entry.name]
            except OSError:  # an unreadable ledger: the prefix still covers the run's names
                pass
        return cls(values, prefixes)


def unknown_variant(value: str, known: Collection[str] | KnownNames, pattern: str | None = None) -> str:
    """`value` itself when it names nothing known; else the first variant (one character changed,
    from the end, same kind of character, still matching `pattern`) that names nothing.

    Deterministic: the same value and the same known names always give the same variant.
    """
    if value not in known:
        return value
    rx = re.compile(pattern) if pattern else None
    if rx is not None and not rx.fullmatch(value):
        rx = None  # an invalid value stays invalid in the same way
    for pos in range(len(value) - 1, -1, -1):
        ch = value[pos]
        pool = next((a for a in _ALTERNATIVES if ch in a), _ALTERNATIVES[1])
        start = pool.index(ch) + 1 if ch in pool else 0
        for cand in pool[start:] + pool[:start]:
            if cand == ch:
                continue
            out = value[:pos] + cand + value[pos + 1:]
            if out not in known and (rx is None or rx.fullmatch(out)):
                return out
    raise ValueError(f"no variant of {value!r} names nothing known")  # only with absurd known sets


def _member_pattern(model: Any, operation: str, member: str) -> str | None:
    try:
        ref = model.input_shape(operation).member(member)
        return model.shape(ref.shape).pattern if ref is not None else None
    except Exception:  # noqa: BLE001 - no model or no such member: any variant of the same kind will do
        return None


def name_nothing(ctx: CaseContext, operation: str, params: Any, known: KnownNames | None = None) -> Any:
    """`params` with every NAMING_MEMBERS value that names something known changed (a copy when
    anything changes; the same object otherwise). Every generator that means "no such store /
    cluster" sends its request through this."""
    if not isinstance(params, dict):
        return params
    known = known if known is not None else KnownNames.of(ctx)
    out = params
    for member in NAMING_MEMBERS:
        value = params.get(member)
        if isinstance(value, str) and value in known:
            if out is params:
                out = dict(params)
            out[member] = unknown_variant(value, known, _member_pattern(ctx.model, operation, member))
    return out
