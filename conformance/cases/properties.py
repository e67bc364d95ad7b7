"""Hypothesis property cases: strategies derived from the spec, two properties per operation.

- valid-accepted: any input that meets every member constraint is never rejected
  by validation (no ValidationException / SerializationException, no 5xx). Store
  ids are unknown, so Update/Connect/Disconnect/Delete must answer
  CustomKeyStoreNotFoundException and Create (on an unknown cluster)
  CloudHsmClusterNotFoundException, or, for an external key store whose URI
  endpoint no proxy serves, XksProxyUriUnreachableException.
- invalid-rejected: an input that breaks one member constraint (missing required,
  length min-1 / max+1, pattern, enum, value range) gets ValidationException
  with the oracle's predicted violations (judged at the run's strictness).

Runs are deterministic (`@seed(ctx.seed)`, no example database) and bounded by
`max_examples` and a time budget; the shrunk falsifying example goes into the
CaseResult (detail, request, reproduce command). Every example is judged by a named
check of `conformance.verdicts`; the property's verdict is `verdicts.check_property`.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from conformance import CUSTOM_KEY_STORE_OPERATIONS
from conformance.cases.base import Case, CaseContext, CollectContext
from conformance.cases.common import KnownNames, name_nothing, validation_error
from conformance.cases.kernel import Recorder, record_observation
from conformance.cases.requests import boto3_request
from conformance.redact import scrub
from conformance.spec.requirements import respect_combinations
from conformance.steps import Expected
from conformance.verdicts import (
    Check,
    Verdict,
    check_not_rejected_by_validation,
    check_property,
    check_valid_input_accepted,
    harness_error,
    judge_check,
)
# The members only an external key store takes. On Create they go together (an XKS profile of
# valid input, beside the CloudHSM one): each store type has service-logic rules for the other's members.
XKS_MEMBERS = frozenset({
    "XksProxyUriEndpoint", "XksProxyUriPath", "XksProxyVpcEndpointServiceName", "XksProxyVpcEndpointServiceOwner",
    "XksProxyAuthenticationCredential", "XksProxyConnectivity",
})
# An XKS Create names a proxy at a generated URI endpoint: no proxy answers there, so the store is refused
# as unreachable (CRE-042). VPC members are left out (their checks depend on a VPC endpoint service).
XKS_CREATE_MEMBERS = ("XksProxyUriEndpoint", "XksProxyUriPath", "XksProxyAuthenticationCredential",
                      "XksProxyConnectivity")
XKS_UNREACHABLE = "XksProxyUriUnreachableException"
# Service logic (not the model) needs these for a CloudHSM store (CRE-005): always sent on Create.
CLOUDHSM_CREATE_MEMBERS = ("CloudHsmClusterId", "TrustAnchorCertificate", "KeyStorePassword")
FAILING = (Verdict.FAIL, Verdict.ERROR)
# BMP characters without surrogates, so string lengths are the same in code points and UTF-16 units.
TEXT = st.characters(max_codepoint=0xFFFF, exclude_categories=("Cs",))
SAFE_TEXT = st.characters(min_codepoint=0x21, max_codepoint=0x7E)


def _utf16_len(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


# ------------------------------------------------------------------------------ strategies
def valid_value(model, shape_name: str) -> st.SearchStrategy:
    """Values meeting every constraint of a shape (strings, numbers, enums)."""
    shape = model.shape(shape_name)
    if shape.enum:
        return st.sampled_from(sorted(shape.enum))
    if shape.type in ("integer", "long"):
        lo = int(shape.min_value) if shape.min_value is not None else -(2**31)
        hi = int(shape.max_value) if shape.max_value is not None else 2**31 - 1
        return st.integers(lo, hi)
    if shape.type == "boolean":
        return st.booleans()
    if shape.type != "string":
        raise ValueError(f"no strategy for {shape_name} ({shape.type})")
    lo = shape.min_length or 0
    hi = shape.max_length if shape.max_length is not None else max(lo, 64)
    hi = min(hi, max(lo, 300))  # keep requests small; bounds themselves are the structural cases' job
    if shape.pattern:
        return st.from_regex(_sized_pattern(shape.pattern, lo, hi), fullmatch=True).filter(
            lambda v: lo <= _utf16_len(v) <= hi)
    return st.text(TEXT, min_size=lo, max_size=hi)


_OPEN_TAIL = re.compile(r"^\^([A-Za-z0-9:/]*)(\[[^\]]+\])\+\$$")


def _sized_pattern(pattern: str, lo: int, hi: int) -> str:
    """`^prefix[class]+$` with the repetition bounded by the length limits (the XKS members' form), so
    from_regex draws lengths in range instead of being filtered (a 43-64 character secret would rarely
    come out of an open `+`); any other pattern is returned as it is."""
    m = _OPEN_TAIL.match(pattern)
    if not m:
        return pattern
    fixed = len(m.group(1))
    return f"^{m.group(1)}{m.group(2)}{{{max(1, lo - fixed)},{max(1, hi - fixed)}}}$"


def _members(model, operation: str) -> list:
    shape = model.input_shape(operation)
    members = list(shape.members if shape else ())
    if operation == "CreateCustomKeyStore":  # the CloudHSM profile; the XKS one is xks_create_input
        members = [m for m in members if m.name not in XKS_MEMBERS]
    return members


def _member_value(model, shape_name: str) -> st.SearchStrategy:
    """Valid values of a member's shape; a structure gets its required members (the XKS credential)."""
    shape = model.shape(shape_name)
    if shape.type == "structure":
        return st.fixed_dictionaries({m.name: _member_value(model, m.shape) for m in shape.members if m.required})
    return valid_value(model, shape_name)


def _fixed(operation: str, ctx_unknown_id: str) -> dict[str, Any]:
    if operation in ("UpdateCustomKeyStore", "ConnectCustomKeyStore", "DisconnectCustomKeyStore",
                     "DeleteCustomKeyStore"):
        return {"CustomKeyStoreId": ctx_unknown_id}
    return {}


def unknown_store_ids() -> st.SearchStrategy:
    """Ids of the documented form (`cks-` + 17 hex) no target issued (they start with zeros)."""
    return st.from_regex(r"cks-0000[0-9a-f]{13}", fullmatch=True)


def valid_input(model, operation: str) -> st.SearchStrategy:
    """A whole valid input: required members, some optional ones, unknown store ids."""
    members = _members(model, operation)
    required: dict[str, st.SearchStrategy] = {}
    optional: dict[str, st.SearchStrategy] = {}
    for m in members:
        strat = _member_value(model, m.shape)
        if m.name == "CustomKeyStoreId" and operation != "DescribeCustomKeyStores":
            strat = unknown_store_ids()
        if m.name == "CustomKeyStoreType":
            strat = st.just("AWS_CLOUDHSM")
        if m.required or (operation == "CreateCustomKeyStore" and m.name in CLOUDHSM_CREATE_MEMBERS):
            required[m.name] = strat
        elif operation == "DescribeCustomKeyStores" and m.name == "CustomKeyStoreId":
            optional[m.name] = unknown_store_ids()
        else:
            optional[m.name] = strat
    # Documented combination rules (an id or a name, not both) hold for valid input too.
    cloudhsm = st.fixed_dictionaries(required, optional=optional).map(
        lambda params, _op=operation: respect_combinations(_op, params))
    xks = xks_create_input(model) if operation == "CreateCustomKeyStore" else None
    return cloudhsm if xks is None else st.one_of(cloudhsm, xks)


def xks_create_input(model) -> st.SearchStrategy | None:
    """A valid Create of an external key store with public endpoint connectivity (None where the
    edition's model has no external key stores)."""
    shape = model.input_shape("CreateCustomKeyStore")
    if shape is None or any(shape.member(m) is None for m in XKS_CREATE_MEMBERS):
        return None
    parts = {m: _member_value(model, shape.member(m).shape) for m in XKS_CREATE_MEMBERS}
    parts["CustomKeyStoreName"] = valid_value(model, shape.member("CustomKeyStoreName").shape)
    parts["CustomKeyStoreType"] = st.just("EXTERNAL_KEY_STORE")
    parts["XksProxyConnectivity"] = st.just("PUBLIC_ENDPOINT")
    return st.fixed_dictionaries(parts)


def _invalid_strings(shape) -> list[tuple[str, st.SearchStrategy]]:
    out = []
    lo, hi = shape.min_length, shape.max_length
    if lo:
        out.append(("min_length", st.text(SAFE_TEXT, min_size=lo - 1, max_size=lo - 1)))
    if hi is not None:
        out.append(("max_length", st.text(SAFE_TEXT, min_size=hi + 1, max_size=hi + 1)))
    if shape.pattern:
        size_lo, size_hi = max(lo or 1, 1), min(hi or 40, 40)
        rx = re.compile(shape.pattern)
        # A first character the pattern cannot start with ("!" or, for Latin-1 patterns, U+0100);
        # the length stays valid so only the pattern is broken.
        lead = next((c for c in ("!", "\u0100") if not rx.fullmatch(c + "a" * (size_lo - 1))), "\u0100")
        out.append(("pattern", st.text(SAFE_TEXT, min_size=size_lo - 1, max_size=size_hi - 1)
                    .map(lambda v, _l=lead: _l + v).filter(lambda v, _rx=rx: _rx.fullmatch(v) is None)))
    if shape.enum:
        out.append(("enum", st.text(SAFE_TEXT, min_size=1, max_size=20).filter(lambda v: v not in shape.enum)))
    return out


def invalid_inputs(model, operation: str) -> list[tuple[str, st.SearchStrategy]]:
    """One strategy per (member, constraint): a valid input with exactly that member broken.

    Kept apart so every constraint gets examples (a single Hypothesis run over all of
    them spends most small budgets on the simplest branch).
    """
    shape_in = model.input_shape(operation)
    # XKS scalar members are broken too (input checks come first, whatever the store type);
    # they are only left out of valid input.
    members = [m for m in (shape_in.members if shape_in else ()) if model.shape(m.shape).type != "structure"]
    base = valid_input(model, operation)
    out: list[tuple[str, st.SearchStrategy]] = []
    for m in members:
        shape = model.shape(m.shape)
        breakers: list[tuple[str, st.SearchStrategy]] = []
        if m.required:
            breakers.append(("required", st.just(None)))
        if shape.type == "string":
            breakers += _invalid_strings(shape)
        elif shape.type in ("integer", "long"):
            if shape.min_value is not None:
                breakers.append(("min_value", st.integers(int(shape.min_value) - 1000, int(shape.min_value) - 1)))
            if shape.max_value is not None:
                breakers.append(("max_value", st.integers(int(shape.max_value) + 1, int(shape.max_value) + 1000)))
        for constraint, strat in breakers:
            out.append((f"{m.name}:{constraint}", st.tuples(base, strat).map(
                lambda pair, _m=m.name, _c=constraint: _broken(pair[0], _m, _c, pair[1]))))
    return out


def _broken(params: dict, member: str, constraint: str, value: Any) -> dict:
    params = dict(params)
    if constraint == "required":
        params.pop(member, None)
    else:
        params[member] = value
    return params


def invalid_input(model, operation: str) -> st.SearchStrategy:
    """Any one of `invalid_inputs` (for callers that want a single strategy)."""
    parts = [s for _, s in invalid_inputs(model, operation)]
    return st.one_of(parts) if parts else st.nothing()


# ------------------------------------------------------------------------------ expectations
def expected_for_valid(operation: str, params: dict, edition: str) -> Expected | None:
    """What a valid input with unknown ids must get, where the contract makes it certain."""
    if operation in ("UpdateCustomKeyStore", "ConnectCustomKeyStore", "DisconnectCustomKeyStore",
                     "DeleteCustomKeyStore"):
        return Expected(status=400, error_code="CustomKeyStoreNotFoundException")
    if operation == "CreateCustomKeyStore" and params.get("CustomKeyStoreType") == "EXTERNAL_KEY_STORE":
        return Expected(status=400, error_code=XKS_UNREACHABLE)
    if operation == "CreateCustomKeyStore":
        return Expected(status=400, error_code="CloudHsmClusterNotFoundException")
    if operation == "DescribeCustomKeyStores" and "CustomKeyStoreId" in params and "Marker" not in params:
        return Expected(status=400, error_code="CustomKeyStoreNotFoundException")
    return None  # order of other checks unknown: only "not rejected by validation" is certain


# What a valid input with unknown ids checks besides VAL-008: the operation's not-found answer.
NOT_FOUND_RULES = {"UpdateCustomKeyStore": "UPD-030", "ConnectCustomKeyStore": "CON-007",
                   "DisconnectCustomKeyStore": "DIS-006", "DeleteCustomKeyStore": "DEL-004",
                   "CreateCustomKeyStore": "CRE-033", "DescribeCustomKeyStores": "DES-004"}
VALID_ACCEPTED_RULE = "VAL-008"


def check_valid(ctx: CaseContext, operation: str, params: dict, obs, requirements: tuple[str, ...] = ()) -> Check:
    """VAL-008 when validation rejects valid input; the not-found rule when the answer to unknown ids differs."""
    rejected = check_valid_input_accepted(obs, scrub(obs.message or ""), requirements=(VALID_ACCEPTED_RULE,))
    if rejected is not None:
        return rejected
    expected = expected_for_valid(operation, params, ctx.edition)
    if expected is not None:
        rule = "CRE-042" if expected.error_code == XKS_UNREACHABLE else NOT_FOUND_RULES[operation]
        return judge_check(expected, obs, ctx.strictness, request={"params": params}, requirements=(rule,))
    return check_not_rejected_by_validation(obs, requirements=(VALID_ACCEPTED_RULE,))


def check_invalid(ctx: CaseContext, operation: str, params: dict, obs, requirements: tuple[str, ...] = ()) -> Check:
    """The predicted ValidationException; a wrong code blames `requirements` (the broken member's)."""
    from conformance.spec import predict_validation

    prediction = predict_validation(operation, params, model=ctx.model, edition=ctx.edition)
    if prediction is None:  # cannot happen for generated input; judged as valid then
        return check_valid(ctx, operation, params, obs)
    return judge_check(validation_error(prediction), obs, ctx.strictness, request={"params": params},
                       requirements=requirements)


# ------------------------------------------------------------------------------ running
def run_property(
    rec: Recorder,
    strategies: list[tuple[str, st.SearchStrategy]],
    check: Callable[..., Check],
    cites: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """Run a property with Hypothesis (one run per part); the shrunk failing example becomes the case's check.

    Blame: a part that held is recorded as a check citing the part's requirements (`cites`,
    by part label; default the case's); a counterexample cites what its own check found
    broken (a protocol or message rule, the not-found rule), else its part's requirements.
    """
    ctx, case = rec.ctx, rec.case
    cites = cites or {}

    def part_ids(label: str | None) -> tuple[str, ...]:
        return tuple(cites.get(label or "", ())) or tuple(case.requirements)

    op = case.operation
    total = ctx.options.property_examples
    max_examples = max(2, -(-total // max(1, len(strategies))))
    budget = ctx.options.property_budget_s
    deadline = time.monotonic() + budget if budget is not None else float("inf")
    known = KnownNames.of(ctx)
    state: dict[str, Any] = {"n": 0, "failing": None, "last_fail": None, "weak": None, "unimpl": None, "over": False}

    current: dict[str, str | None] = {"part": None}

    class Falsified(Exception):
        pass

    def make_test(strategy):
        @settings(max_examples=max_examples, deadline=None, database=None, derandomize=False, print_blob=False,
                  phases=(Phase.generate, Phase.shrink), suppress_health_check=list(HealthCheck))
        @seed(ctx.seed)
        @given(strategy)
        def prop(params):
            if state["failing"] is None and time.monotonic() > deadline:
                state["over"] = True
                return
            params = name_nothing(ctx, op, params, known)  # "unknown" ids must name nothing real
            obs = ctx.target.call(op, params)
            decided = check(ctx, op, params, obs, requirements=tuple(cites.get(current["part"] or "", ())))
            state["n"] += 1
            cleanup_created_store(ctx, op, obs)
            if decided.verdict == Verdict.UNIMPLEMENTED:
                state["unimpl"] = decided
                return
            if decided.verdict in FAILING:
                state["failing"] = True
                state["last_fail"] = (params, obs, decided)
                raise Falsified(decided.detail)
            if decided.verdict != Verdict.PASS and state["weak"] is None:
                state["weak"] = (params, obs, decided, current["part"])

        return prop

    held_parts: list[str] = []  # parts that ran to the end without a failing or differing example
    for label, strategy in strategies:
        if state["over"] or state["unimpl"]:
            break
        current["part"] = label
        try:
            make_test(strategy)()
        except Falsified:
            state["part"] = label
            break
        except Exception as exc:  # noqa: BLE001 - Hypothesis errors become ERROR with the reason
            if state["last_fail"] is None:
                rec.record(harness_error(f"property run failed ({label}): {type(exc).__name__}: "
                                         f"{scrub(str(exc))[:300]}", case.requirements))
                return
            state["part"] = label
            break
        if state["weak"] is None or state["weak"][3] != label:
            held_parts.append(label)
    if state["unimpl"] and state["last_fail"] is None:
        rec.record(state["unimpl"])
        return
    n = state["n"]
    budget_note = f" (time budget of {budget:g}s reached)" if state["over"] else ""
    if state["last_fail"] is not None:
        params, obs, decided = state["last_fail"]
        part = f" [{state.get('part')}]" if state.get("part") else ""
        counterexample = decided.restated(f"falsified (shrunk) after {n} calls{part}: {decided.detail}")
        _held(rec, held_parts, part_ids)
        _example(rec, params, obs, check_property(case.id, n, counterexample,
                                                  requirements=decided.requirements or part_ids(state.get("part"))),
                 "falsifying example")
    elif state["weak"] is not None:
        params, obs, decided, weak_part = state["weak"]
        counterexample = decided.restated(f"{n} examples; first differing: {decided.detail}{budget_note}")
        _held(rec, held_parts, part_ids)
        _example(rec, params, obs, check_property(case.id, n, counterexample,
                                                  requirements=decided.requirements or part_ids(weak_part)),
                 "example")
    else:
        rec.record(check_property(case.id, n, None, note=budget_note, requirements=case.requirements))


def _held(rec: Recorder, parts: list[str], part_ids: Callable[[str], tuple[str, ...]]) -> None:
    """The parts that held, one check each: their requirements keep their own verdicts (blame)."""
    for label in parts:
        rec.checks.append(check_property(f"{rec.case.id} [{label}]", 0, None, requirements=part_ids(label))
                          .restated(f"part {label} held"))


def _example(rec: Recorder, params: dict, obs, decided: Check, label: str) -> None:
    record_observation(rec, label, boto3_request(rec.case.operation, params), obs, decided)


def cleanup_created_store(ctx: CaseContext, operation: str, obs) -> None:
    """A Create that (wrongly) succeeded made a store: delete it through the driver."""
    if operation == "CreateCustomKeyStore" and obs.ok and isinstance(obs.body, dict):
        store_id = obs.body.get("CustomKeyStoreId")
        if store_id and ctx.driver is not None:
            try:
                ctx.driver.delete_store(store_id)
            except Exception:  # noqa: BLE001 - the runner's ledger cleanup is the backstop
                pass


def _validation_requirements(cc: CollectContext, model, operation: str) -> list[str]:
    """The operation's validation requirements whose member the invalid parts break."""
    broken = {label.split(":")[0] for label, _ in invalid_inputs(model, operation)}
    ids = []
    for r in cc.requirements or []:
        expected = getattr(r, "expected", None) or {}
        if (getattr(r, "operation", None) == operation and expected.get("error_code") == "ValidationException"
                and expected.get("member") in broken and cc.edition in (getattr(r, "editions", None) or ())):
            ids.append(r.id)
    return ids


def part_requirements(cc: CollectContext, model, operation: str, labels: list[str]) -> dict[str, tuple[str, ...]]:
    """Per invalid part ("Member:constraint"): the catalogue's validation requirement(s) of that member.

    A counterexample of a part blames these (what its input broke), not every id of the property;
    a message difference blames the message grammar rule (verdicts). None found: the case's ids.
    """
    kinds = {"min_length": "length", "max_length": "length", "min_value": "range", "max_value": "range"}
    by_member: dict[tuple[str, str | None], list[str]] = {}
    for r in cc.requirements or []:
        expected = getattr(r, "expected", None) or {}
        if (getattr(r, "operation", None) == operation and expected.get("error_code") == "ValidationException"
                and cc.edition in (getattr(r, "editions", None) or ())):
            members = expected.get("members") or []
            for member in [expected.get("member"), *(members if isinstance(members, list) else list(members))]:
                if member:
                    by_member.setdefault((member, expected.get("constraint")), []).append(r.id)
    out = {}
    for label in labels:
        member, constraint = label.split(":")
        ids = by_member.get((member, kinds.get(constraint, constraint))) or by_member.get((member, None)) or \
            [rid for (m, _), found in by_member.items() if m == member for rid in found]
        if ids:
            out[label] = tuple(dict.fromkeys(ids))
    return out


# Generic validation requirements by the kind of constraint an invalid part breaks.
CONSTRAINT_REQUIREMENTS = {"required": "VAL-002", "enum": "VAL-006", "pattern": "VAL-007"}


def _constraint_requirements(model, operation: str) -> list[str]:
    ids = []
    for label, _ in invalid_inputs(model, operation):
        member, constraint = label.split(":")
        if constraint in CONSTRAINT_REQUIREMENTS:
            ids.append(CONSTRAINT_REQUIREMENTS[constraint])
        shape = model.shape(model.input_shape(operation).member(member).shape)
        if shape.sensitive:
            ids.append("VAL-004")
    return sorted(set(ids))


def collect(cc: CollectContext) -> list[Case]:
    from conformance.spec import edition_model

    model = cc.model or edition_model(cc.edition)
    cases: list[Case] = []
    for op in CUSTOM_KEY_STORE_OPERATIONS:
        valid_strategy = [("valid", valid_input(model, op))]
        invalid_strategy = invalid_inputs(model, op)
        for kind, reqs, title, strategy, check in (
            ("valid-accepted", ["VAL-008"], "Any input meeting every member constraint is not rejected by validation",
             valid_strategy, check_valid),
            ("invalid-rejected", ["VAL-001", "VAL-009"] + _constraint_requirements(model, op)
             + _validation_requirements(cc, model, op),
             "Any input breaking one member constraint gets ValidationException with the predicted violations",
             invalid_strategy, check_invalid),
        ):
            cites = part_requirements(cc, model, op, [label for label, _ in strategy]) if kind == "invalid-rejected" else {}
            case = Case(
                id=f"{op}/property/{kind}", operation=op, kind="property", requirements=tuple(dict.fromkeys(reqs)),
                title=f"{op}: {title}",
                run=(lambda rec, _s=strategy, _k=check, _c=cites: run_property(rec, _s, _k, _c)),
                editions=(cc.edition,), needs_operations=(op,),
                schedule_group="stateless", api_calls=(op,), tags=("hypothesis",),
            )
            cases.append(case)
    return cases
