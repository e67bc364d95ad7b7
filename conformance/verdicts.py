"""Verdict names, their order of severity, and every decision made with them.

A case's verdict is the worst of its checks; a requirement's verdict within a case
(its blame) is the worst of the checks that cite it (`requirement_blame`).
"""

from __future__ import annotations

import json
import re
import traceback
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Iterable, Mapping, Sequence


class Verdict(str, Enum):
    PASS = "PASS"
    NON_STRICT = "NON_STRICT"
    NOT_TRIGGERABLE = "NOT_TRIGGERABLE"
    SKIPPED = "SKIPPED"
    UNIMPLEMENTED = "UNIMPLEMENTED"
    EXPECTED_FAIL = "EXPECTED_FAIL"
    UNEXPECTED_PASS = "UNEXPECTED_PASS"
    FAIL = "FAIL"
    ERROR = "ERROR"

    def __str__(self) -> str:  # so f-strings and reports print the bare name
        return self.value


# Worst last. A case's verdict is the worst of its checks' under this order; a requirement's the worst
# of the checks citing it (requirement_blame).
SEVERITY = [
    Verdict.PASS,
    Verdict.NOT_TRIGGERABLE,
    Verdict.SKIPPED,
    Verdict.NON_STRICT,
    Verdict.UNIMPLEMENTED,
    Verdict.EXPECTED_FAIL,
    Verdict.UNEXPECTED_PASS,
    Verdict.FAIL,
    Verdict.ERROR,
]
_RANK = {v: i for i, v in enumerate(SEVERITY)}


def worst(verdicts) -> Verdict:
    vs = [Verdict(v) for v in verdicts]
    if not vs:
        return Verdict.SKIPPED
    return max(vs, key=_RANK.__getitem__)


# Verdicts that make `kms-conformance run` exit 1 (when no expectation file says otherwise).
UNEXPECTED = {Verdict.FAIL, Verdict.ERROR, Verdict.UNEXPECTED_PASS}


# --------------------------------------------------------------------------------------------
# judge: the one place a verdict is decided from an Expected and an Observation.
# --------------------------------------------------------------------------------------------

STRICTNESS = ("code", "regex", "exact")

_PREFIX_RE = re.compile(r"^(\d+ validation errors? detected: )(.*)$", re.S)
_SET_RE = re.compile(r"\[([^\[\]]*)\]")


def _short(text: Any, limit: int = 160) -> str:
    s = text if isinstance(text, str) else json.dumps(text, default=str)
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 3] + "..."


def _canonical_message(message: str) -> tuple:
    """A message with its order-free parts (violation list, enum value sets) made order-free.

    AWS prints enum value sets in hash order and does not fix the order of several
    violations, so `exact` compares those parts as sets.
    """
    prefix, rest = "", message
    m = _PREFIX_RE.match(message)
    if m:
        prefix, rest = m.group(1), m.group(2)
    parts = []
    for part in rest.split("; ") if m else [rest]:
        sets = tuple(sorted(tuple(sorted(x.strip() for x in s.split(","))) for s in _SET_RE.findall(part)))
        parts.append((_SET_RE.sub("[]", part), sets))
    return prefix, tuple(sorted(parts))


def _describe_observed(obs: Any) -> str:
    if obs.status is None:
        return "no response"
    if obs.error_code:
        return f"{obs.status} {obs.error_code}"
    if obs.body is None and obs.raw_body.strip():
        return f"{obs.status} with a non-JSON body {_short(obs.raw_body, 100)!r}"
    if 200 <= obs.status < 300:
        return f"{obs.status} success"
    return f"{obs.status} without an error code (body {_short(obs.raw_body or '<empty>', 100)!r})"


def _describe_expected(exp: Any) -> str:
    status = exp.status if exp.status is not None else "4xx" if exp.error_code else "2xx"
    if exp.error_code == "*":
        return f"{status} client error"
    return f"{status} {exp.error_code}" if exp.error_code else f"{status} success"


def _message_matches(exp: Any, observed: str, strictness: str) -> bool | None:
    """None when there is nothing to compare at this strictness, else whether the message agrees."""
    if strictness == "code":
        return None
    if strictness == "exact" and exp.message is not None:
        if exp.message_unordered:
            return _canonical_message(exp.message) == _canonical_message(observed)
        return exp.message == observed
    pattern = exp.message_pattern
    if pattern is None and exp.message is not None:
        pattern = re.escape(exp.message)
    if pattern is None:
        return None
    return re.fullmatch(pattern, observed, re.S) is not None


def _header_differences(want: dict, obs: Any) -> list[str]:
    out = []
    for name, value in (want or {}).items():
        got = (obs.headers or {}).get(name.lower())
        if not got:
            out.append(f"header {name} missing")
        elif value is not None:
            norm = got.split(";", 1)[0].strip() if name.lower() == "content-type" else got
            if norm != value:
                out.append(f"header {name} is {got!r}, expected {value!r}")
    return out


# --------------------------------------------------------------------------------------------
# Checks: each decides one thing and says which requirement(s) and level it checks.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One decided check: what was checked, at which level, for which requirements, and how it came out."""

    name: str
    verdict: Verdict
    detail: str
    requirements: tuple[str, ...] = ()
    level: str = "MUST"

    @property
    def held(self) -> bool:
        return self.verdict is Verdict.PASS

    def restated(self, detail: str) -> "Check":
        """The same decision told with another detail (a shrunk example, a step label)."""
        return replace(self, detail=detail)


def conclude(name: str, held: bool, detail: str, *, level: str = "MUST",
             requirements: Iterable[str] = ()) -> Check:
    """The one place a check that held or did not hold becomes PASS, NON_STRICT (a SHOULD) or FAIL."""
    verdict = Verdict.PASS if held else (Verdict.NON_STRICT if level == "SHOULD" else Verdict.FAIL)
    return Check(name, verdict, detail, tuple(requirements), level)


# Requirements a part of the answer is checked against whatever the case is about: the wire
# protocol's own rules (status of client errors, error envelope, headers) and the validation
# message grammar. A check that finds only such a difference cites these, not the case's ids.
STATUS_RULE = "PROTO-005"
ERROR_ENVELOPE_RULE = "PROTO-004"
HEADER_RULES = {"content-type": "PROTO-003", "x-amzn-requestid": "PROTO-009"}
VALIDATION_MESSAGE_RULE = "VAL-001"
_SENSITIVE_VIOLATION_RE = re.compile(r"Value at '([^']+)'")
_QUOTED_VIOLATION_RE = re.compile(r"Value '.*?' at '([^']+)'", re.S)
SENSITIVE_IN_VALIDATION_RULE = "VAL-004"
SECRET_NEVER_RETURNED_RULE = "UPD-007"
# Input validation comes before any existence or state check: one of these answers to invalid input breaks it.
VALIDATION_ORDER_RULE = "VAL-009"
EXISTENCE_AND_STATE_ERRORS = frozenset({
    "CustomKeyStoreNotFoundException", "CloudHsmClusterNotFoundException", "NotFoundException",
    "CustomKeyStoreInvalidStateException", "KMSInvalidStateException", "InvalidMarkerException"})


def _status_or_code(exp: Any, obs: Any, want: str, got: str) -> Check:
    # The right error code under another status breaks only the rule that client errors are 400.
    status_only = exp.error_code not in (None, "*") and obs.error_code == exp.error_code
    return conclude("status" if exp.error_code in (None, "*") or status_only else "code", False,
                    f"expected {want}, observed {got}", level=exp.level,
                    requirements=(STATUS_RULE,) if status_only else ())


def check_headers(exp: Any, obs: Any) -> Check | None:
    """Headers the contract names (Content-Type without parameters); None when none are named."""
    if obs.status is None or not getattr(exp, "headers", None):
        return None
    missing = _header_differences(exp.headers, obs)
    got = _describe_observed(obs)
    differing = [name.lower() for name in exp.headers if any(m.startswith(f"header {name} ") for m in missing)]
    rules = tuple(dict.fromkeys(HEADER_RULES[n] for n in differing if n in HEADER_RULES))
    if len(rules) != len(differing):
        rules = ()  # a header no protocol rule names: the case's own requirements
    return conclude("headers", not missing, f"{got} as expected but {'; '.join(missing)}", level=exp.level,
                    requirements=rules)


def check_body(exp: Any, obs: Any, want: str) -> Check | None:
    """The expected body is a subset of the observed one; None when the contract names no body."""
    if not isinstance(exp.body, dict):
        return None
    if exp.error_code is None:
        missing = _body_differences(exp.body, obs.body)
        detail = f"expected {want} with body containing {_short(exp.body)}, observed {_short(missing)}"
    else:
        missing = _body_differences(exp.body, obs.body if isinstance(obs.body, dict) else {})
        detail = (f"{_describe_observed(obs)} as expected but the error body lacks {_short(missing)} "
                  f"(body {_short(obs.raw_body, 100)!r})")
        return conclude("body", not missing, detail, level=exp.level, requirements=(ERROR_ENVELOPE_RULE,))
    return conclude("body", not missing, detail, level=exp.level)


def check_message(exp: Any, obs: Any, strictness: str) -> Check | None:
    """The error message at the strictness; a difference is NON_STRICT, FAIL only at `exact` for a MUST."""
    matches = _message_matches(exp, obs.message or "", strictness)
    if matches is None:
        return None
    expected_text = exp.message if exp.message is not None else f"/{exp.message_pattern}/"
    detail = (f"{_describe_observed(obs)} as expected but message differs: expected {_short(expected_text)!r}, "
              f"observed {_short(obs.message or '')!r}")
    level = "MUST" if strictness == "exact" and exp.level != "SHOULD" else "SHOULD"
    grammar: tuple[str, ...] = ()
    if exp.error_code == "ValidationException":
        # Coral names a sensitive member's violation without its value ("Value at 'keyStorePassword'"):
        # a message quoting a value there breaks the sensitive-value rule, any other difference the grammar.
        hidden = set(_SENSITIVE_VIOLATION_RE.findall(expected_text))
        quoted = {m for m in _QUOTED_VIOLATION_RE.findall(obs.message or "") if m in hidden}
        grammar = (SENSITIVE_IN_VALIDATION_RULE,) if quoted else (VALIDATION_MESSAGE_RULE,)
    return conclude("message", matches, detail, level=level, requirements=grammar)


def _judge_one(exp: Any, obs: Any, strictness: str) -> Check:
    """Status, code, body, headers and message of one acceptable outcome, first difference first."""
    want, got = _describe_expected(exp), _describe_observed(obs)
    as_expected = conclude("status" if exp.error_code in (None, "*") else "code", True, f"{got} as expected",
                           level=exp.level)

    if exp.error_code is None:  # success expected
        if obs.status is None or not (200 <= obs.status < 300) or obs.error_code:
            return _status_or_code(exp, obs, want, got)
        if exp.body == "" and obs.body is None and not (obs.raw_body or "").strip():
            return as_expected  # an operation without output may answer an empty body (Smithy awsJson)
        if obs.body is None or not isinstance(obs.body, dict):
            what = "a non-JSON body" if obs.body is None else f"a JSON {type(obs.body).__name__}"
            return conclude("body", False, f"expected {want} with a JSON object body, observed {obs.status} with "
                                           f"{what} {_short(obs.raw_body, 100)!r}", level=exp.level)
        if exp.status is not None and obs.status != exp.status:
            return _status_or_code(exp, obs, want, got)
        checks = [check_body(exp, obs, want), check_headers(exp, obs)]
    elif exp.error_code == "*":  # any client error answer (e.g. a request no operation accepts)
        ok_status = (obs.status == exp.status) if exp.status is not None else (obs.status is not None and 400 <= obs.status < 500)
        if not ok_status:
            return _status_or_code(exp, obs, want, got)
        checks = [check_headers(exp, obs)]
    else:  # a specific error expected
        if obs.body is None and obs.raw_body.strip():
            return conclude("body", False, f"expected {want}, observed {obs.status} with a non-JSON body "
                                           f"{_short(obs.raw_body, 100)!r}", level=exp.level)
        if obs.error_code != exp.error_code or (exp.status is not None and obs.status != exp.status):
            return _status_or_code(exp, obs, want, got)
        checks = [check_body(exp, obs, want), check_headers(exp, obs), check_message(exp, obs, strictness)]
    for check in checks:
        if check is not None and not check.held:
            return check
    return as_expected


def _body_differences(want: dict, got: dict) -> dict:
    """The expected key/values the observed body lacks (expected body is a subset)."""
    out = {}
    for k, v in want.items():
        if k not in got:
            out[k] = "<missing>"
        elif v == "*":
            continue
        elif isinstance(v, dict) and isinstance(got[k], dict):
            sub = _body_differences(v, got[k])
            if sub:
                out[k] = sub
        elif got[k] != v:
            out[k] = got[k]
    return out


_REFUSAL_NOTE = (
    "; the request must be refused with a client error (4xx), never answered with success or a "
    "server error (PROTO-005), so this is a FAIL even though the expected error code is a SHOULD"
)
_REFUSAL_NOTE_SUCCESS = (
    "; the request must be refused, never answered with success, so this is a FAIL even though the "
    "expected error code is a SHOULD"
)


def check_refusal(expected: Any, obs: Any, differs: Check) -> Check | None:
    """PROTO-005: when every acceptable outcome is a client error, success or a 5xx is a FAIL even for a SHOULD.

    A SHOULD that is only unsure *which* error AWS sends (an [INFER]red code) still
    rests on the certain rule that the request is refused as a client error.
    None when the rule does not apply.
    """
    outcomes = [expected, *(expected.alternatives or ())]
    if any(o.error_code is None or (o.status is not None and o.status >= 500) for o in outcomes):
        return None
    if obs.status is None:
        return None
    broken = obs.status >= 500 or (200 <= obs.status < 300 and not obs.error_code)
    if not broken:
        return None
    if obs.status >= 500:  # a server error for a client's mistake: the status rule
        return conclude("refusal", False, differs.detail + _REFUSAL_NOTE, requirements=(STATUS_RULE,))
    # Accepted: the case's own rule that the request is refused (judge_checks cites the case's ids).
    return conclude("refusal", False, differs.detail + _REFUSAL_NOTE_SUCCESS)


def check_secret_echo(observation: Any, request: Any) -> Check | None:
    """VAL-004, UPD-007: a response never quotes a secret value the request sent, at any strictness.

    None when there is no request to compare with or no response.
    """
    from conformance.redact import echoes_secret

    if request is None or observation.status is None:
        return None
    headers = " ".join(str(v) for v in (observation.headers or {}).values())
    echoed = echoes_secret(f"{observation.raw_body or ''} {headers}", request)
    # A validation message breaks the validation rule; any other answer the rule that secrets never come back.
    if observation.error_code == "ValidationException":
        rules: tuple[str, ...] = (SENSITIVE_IN_VALIDATION_RULE,)
    elif isinstance(request, dict) and request.get("operation") not in (None, "UpdateCustomKeyStore"):
        rules = (SENSITIVE_IN_VALIDATION_RULE, SECRET_NEVER_RETURNED_RULE)
    else:
        rules = (SECRET_NEVER_RETURNED_RULE,)
    return conclude("secret echo", not echoed,
                    f"observed {_describe_observed(observation)} whose response quotes a secret value "
                    f"the request sent (a password or secret key); sensitive values are never echoed "
                    f"({', '.join(rules)})", requirements=rules)


def check_answered(observation: Any) -> Check | None:
    """An answer at all: UNIMPLEMENTED when the target lacks the operation, ERROR without a response."""
    if observation.unimplemented:
        return Check("answered", Verdict.UNIMPLEMENTED,
                     f"target does not implement {observation.operation or 'this operation'} "
                     f"(observed {_describe_observed(observation)})")
    if observation.transport_error:
        return Check("answered", Verdict.ERROR, f"no response from target: {_short(observation.transport_error)}")
    return None


def check_available(observation: Any, expected: Any = None) -> Check | None:
    """ERROR when the answer was still the infrastructure's after the retries (targets/health.py).

    A 503, throttling, a reset or a reply cut off mid-body that outlasted the
    retry budget says the target was unavailable, not that it breaks a rule:
    "target unavailable: 503 after 12 tries", never FAIL or NON_STRICT. Not
    applied when the failure is the case's subject (`expected` or an
    alternative names its error code, or its 5xx status): then it is judged.
    None when the observation is an answer.
    """
    infra = getattr(observation, "infrastructure", None)
    if not infra:
        return None
    if expected is not None:
        for outcome in (expected, *(getattr(expected, "alternatives", None) or ())):
            if outcome.error_code and outcome.error_code == observation.error_code:
                return None
            if outcome.status is not None and outcome.status >= 500 and outcome.status == observation.status:
                return None
    return Check("available", Verdict.ERROR, f"target unavailable: {_short(infra)}")


def judge_checks(expected: Any, observation: Any, strictness: str = "code", request: Any = None,
                 requirements: Iterable[str] = (),
                 failing: Iterable[str] | Mapping[str, Iterable[str]] | None = None) -> list[Check]:
    """`judge_check`, with what else the comparison showed: the deciding check comes last.

    When the deciding check cites a rule of its own (a status, header, message grammar,
    secret echo or refusal rule) and not the case's `requirements`, the part of the
    answer the case is about was judged too: that judgement comes first, citing
    `requirements`, so each requirement is blamed only for what was checked against it.
    `failing` (default `requirements`) is what a wrong status or code cites: a case that
    cites generic rules beside its own (a member's bound and the message grammar) blames
    its own rule for a wrong code; a mapping picks by the observed error code ("*": any
    other answer). Invalid input answered with an existence or state
    error breaks the validation order rule (VAL-009) too.
    """
    if strictness not in STRICTNESS:
        raise ValueError(f"strictness must be one of {STRICTNESS}, not {strictness!r}")
    ids = tuple(requirements)
    answered = check_answered(observation) or check_available(observation, expected)
    if answered is not None:
        return [replace(answered, requirements=ids)]
    if isinstance(failing, Mapping):
        failing = failing.get(observation.error_code or "", failing.get("*"))
    wrong = tuple(failing) if failing is not None else ids  # what a wrong status or code cites
    echo = check_secret_echo(observation, request)
    if echo is not None and not echo.held:
        return [*judge_checks(expected, observation, strictness, None, ids, failing), echo]
    results = [_judge_one(expected, observation, strictness)]
    for alt in expected.alternatives or ():
        results.append(_judge_one(alt, observation, strictness))
    chosen = next((c for c in results if c.verdict is Verdict.PASS), None)
    context: list[Check] = []
    if chosen is None:
        chosen = next((c for c in results if c.verdict is Verdict.NON_STRICT), None)
        if chosen is not None:
            refused = check_refusal(expected, observation, chosen)
            if refused is not None:
                context = [replace(chosen, requirements=chosen.requirements or wrong)]
                chosen = refused
    if chosen is None:
        chosen = results[0]
        if len(results) > 1:
            alts = ", ".join(_describe_expected(a) for a in expected.alternatives)
            chosen = chosen.restated(chosen.detail + f" (also acceptable: {alts})")
    if not context and chosen.requirements and not chosen.held and ids and not set(chosen.requirements) & set(ids):
        # The status and code the case is about were as expected: only the own rule's part differed.
        got = _describe_observed(observation)
        context = [conclude("status" if expected.error_code in (None, "*") else "code", True,
                            f"{got}: the answer the case is about, as expected", level=expected.level,
                            requirements=ids)]
    own = chosen.requirements
    if not own and not chosen.held and chosen.verdict in (Verdict.FAIL, Verdict.NON_STRICT):
        own = wrong
        if expected.error_code == "ValidationException" and observation.error_code in EXISTENCE_AND_STATE_ERRORS:
            own = tuple(dict.fromkeys((*own, VALIDATION_ORDER_RULE)))
    return [*context, replace(chosen, requirements=own or ids)]


def judge_check(expected: Any, observation: Any, strictness: str = "code", request: Any = None,
                requirements: Iterable[str] = ()) -> Check:
    """Compare an Expected (conformance.steps) with an Observation at a strictness.

    `code`: status and error code; `regex`: plus the message shape; `exact`: plus
    the exact message (order-free parts compared as sets). A right code with a
    different message is NON_STRICT (FAIL only at `exact`); a SHOULD that differs is
    NON_STRICT, unless the request had to be refused and the target answered with
    success or a 5xx (FAIL). Alternatives the contract also allows are accepted.
    Given the `request`, a response that quotes one of its secret values (a password, a
    secret key) is a FAIL at any strictness: sensitive values are never echoed.
    The check cites `requirements`, or the protocol rule it found broken (judge_checks).
    """
    return judge_checks(expected, observation, strictness, request, requirements)[-1]


def judge(expected: Any, observation: Any, strictness: str = "code", request: Any = None) -> tuple[Verdict, str]:
    """`judge_check` as (verdict, detail)."""
    check = judge_check(expected, observation, strictness, request)
    return check.verdict, check.detail


# --------------------------------------------------------------------------------------------
# Checks of the other case kinds: effects, properties, the stateful model, Schemathesis.
# --------------------------------------------------------------------------------------------


def check_effect(label: str, held: bool, detail: str, *, level: str = "MUST",
                 requirements: Iterable[str] = ()) -> Check:
    """A state seen after the request ("Describe shows the new name", "entry unchanged")."""
    return conclude("effect", held, f"{label}: {detail}", level=level, requirements=requirements)


def check_not_rejected_by_validation(observation: Any, requirements: Iterable[str] = ()) -> Check:
    """A valid input whose outcome the contract leaves open: anything but a validation rejection or a 5xx."""
    answered = check_answered(observation) or check_available(observation)
    if answered is not None:
        return answered
    obs = observation
    if obs.status is None or obs.status >= 500 or (obs.body is None and (obs.raw_body or "").strip()):
        return conclude("not rejected", False,
                        f"expected a non-validation answer, observed {obs.status} {obs.raw_body[:120]!r}",
                        requirements=requirements)
    return conclude("not rejected", True, f"{obs.status} {obs.error_code or 'success'} (not a validation rejection)",
                    requirements=requirements)


def check_valid_input_accepted(observation: Any, message: str, requirements: Iterable[str] = ()) -> Check | None:
    """VAL-008: input meeting every constraint is never answered with a validation error."""
    from conformance import VALIDATION_CODES

    if observation.error_code not in VALIDATION_CODES:
        return None
    return conclude("valid input accepted", False,
                    f"valid input rejected: {observation.status} {observation.error_code} {message!r}",
                    requirements=requirements)


def check_property(label: str, examples: int, counterexample: Check | None, *, note: str = "",
                   requirements: Iterable[str] = ()) -> Check:
    """A property over `examples` generated inputs: it holds unless a counterexample's check did not."""
    if counterexample is None:
        return conclude(label, True, f"{examples} examples held{note}", requirements=requirements)
    return replace(counterexample, name=label, requirements=tuple(requirements) or counterexample.requirements)


def check_model_agreement(label: str, same: bool, detail: str, *, requirements: Iterable[str] = ()) -> Check:
    """The target answered a step as the model did (stateful differential run)."""
    return conclude("model agreement", same, detail, requirements=requirements)


def check_schemathesis(check: str, finding: str | None, detail: str, *, requirements: Iterable[str] = ()) -> Check:
    """A Schemathesis check over the judged requests: it holds unless it has a finding."""
    return conclude(f"schemathesis {check}", finding is None, detail, requirements=requirements)


def check_judged_anything(check: str, judged: int, detail: str, *, requirements: Iterable[str] = ()) -> Check | None:
    """A check that could judge none of the generated requests shows nothing: NOT_TRIGGERABLE."""
    if judged:
        return None
    return Check(f"schemathesis {check}", Verdict.NOT_TRIGGERABLE, detail, tuple(requirements))


def unimplemented(detail: str, requirements: Iterable[str] = ()) -> Check:
    """The target says it lacks an operation the check needs."""
    return Check("answered", Verdict.UNIMPLEMENTED, detail, tuple(requirements))


def harness_error(detail: str, requirements: Iterable[str] = ()) -> Check:
    """The suite itself could not finish the check (Hypothesis/Schemathesis trouble, a setup that failed)."""
    return Check("harness", Verdict.ERROR, detail, tuple(requirements))


# --------------------------------------------------------------------------------------------
# Outcomes that end a case early, and a case's verdict from its checks.
# --------------------------------------------------------------------------------------------


def verdict_for_outcome(exc: BaseException, requirements: Iterable[str] = ()) -> Check:
    """What an exception that ended a case means, by its class (errors.CaseOutcome and the rest).

    A missing world role is SKIPPED, a state the target cannot show NOT_TRIGGERABLE, an
    operation the target lacks UNIMPLEMENTED, a setup that could not be done ERROR with its
    reason, and anything else a harness crash: ERROR, one line and where it happened.
    """
    from conformance.errors import MissingRole, NotTriggerable, SetupFailed, Unimplemented
    from conformance.redact import scrub

    ids = tuple(requirements)
    text = scrub(str(exc))
    if isinstance(exc, MissingRole):
        return Check("outcome", Verdict.SKIPPED, text, ids)
    if isinstance(exc, NotTriggerable):
        return Check("outcome", Verdict.NOT_TRIGGERABLE, text or "target cannot be made to show this", ids)
    if isinstance(exc, (Unimplemented, NotImplementedError)):
        return Check("outcome", Verdict.UNIMPLEMENTED, text or "operation not implemented", ids)
    if isinstance(exc, SetupFailed):
        return Check("outcome", Verdict.ERROR, text, ids)
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    at = f" (at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})" if where else ""
    line = scrub(f"{type(exc).__name__}: {exc}".splitlines()[0])[:300]
    return Check("outcome", Verdict.ERROR, f"harness error: {line}{at}", ids)


# An outcome that says the case could not be run at all replaces whatever was checked before it.
_OVERRIDING = (Verdict.UNIMPLEMENTED, Verdict.SKIPPED)


def case_verdict(checks: Sequence[Check], outcome: Check | None = None) -> Verdict | None:
    """The worst-of rule: a case's verdict is its worst check's; None when it checked nothing.

    An early outcome (verdict_for_outcome) counts as one more check, except that an
    operation the target lacks or a missing role replaces the checks made before it.
    """
    if outcome is not None and outcome.verdict in _OVERRIDING:
        return outcome.verdict
    verdicts = [c.verdict for c in checks] + ([outcome.verdict] if outcome is not None else [])
    return worst(verdicts) if verdicts else None


# --------------------------------------------------------------------------------------------
# Blame: a requirement's verdict within one case, from the checks that cite it.
# --------------------------------------------------------------------------------------------

BLAME_DETAIL_LIMIT = 300


def requirement_blame(requirements: Sequence[str], checks: Sequence[Check],
                      outcome: Check | None = None) -> dict[str, dict[str, Any]]:
    """Per requirement: its verdict within the case and the checks that cited it.

    A check cites its own requirement ids (a check citing none stands for all of the
    case's). A requirement is FAIL only when a check citing it failed; the others keep
    their own checks' verdicts. Outcomes that end a case early are no check of any
    single requirement, so they count for every requirement the case cites:
    UNIMPLEMENTED and SKIPPED replace what was checked (as for the case verdict);
    NOT_TRIGGERABLE and ERROR (a failed setup, a harness crash) join the checks, so a
    requirement the case could not get to shows why, and a setup ERROR is never a FAIL.
    A requirement the case cites that no check reached (the case stopped at another
    requirement's failure first) has verdict None: this case did not decide it.
    Ids a check cites beyond the case's (a protocol rule found broken) are listed too.
    Case verdict == worst of these verdicts (`case_verdict`).
    """
    case_ids = tuple(dict.fromkeys(requirements))
    cited: dict[str, list[Check]] = {rid: [] for rid in case_ids}
    if outcome is not None and outcome.verdict in _OVERRIDING:
        for rid in case_ids:
            cited[rid].append(outcome)
    else:
        for check in checks:
            for rid in check.requirements or case_ids:
                cited.setdefault(rid, []).append(check)
        if outcome is not None:
            for rid in case_ids:
                cited[rid].append(outcome)
    out: dict[str, dict[str, Any]] = {}
    for rid, found in cited.items():
        out[rid] = {
            "verdict": worst(c.verdict for c in found).value if found else None,
            "checks": [{"name": c.name, "verdict": c.verdict.value, "detail": _short(c.detail, BLAME_DETAIL_LIMIT)}
                       for c in found],
        }
    return out
