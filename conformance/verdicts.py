"""Verdict names and their order of severity (a requirement takes its worst case's)."""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Any


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


# Worst last. A requirement's verdict is max(case verdicts) under this order.
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


def _judge_one(exp: Any, obs: Any, strictness: str) -> tuple["Verdict", str]:
    want, got = _describe_expected(exp), _describe_observed(obs)
    mismatch = f"expected {want}, observed {got}"
    differs = Verdict.NON_STRICT if exp.level == "SHOULD" else Verdict.FAIL
    headers = _header_differences(getattr(exp, "headers", None), obs) if obs.status is not None else []

    if exp.error_code is None:  # success expected
        if obs.status is None or not (200 <= obs.status < 300) or obs.error_code:
            return differs, mismatch
        if obs.body is None or not isinstance(obs.body, dict):
            what = "a non-JSON body" if obs.body is None else f"a JSON {type(obs.body).__name__}"
            return differs, f"expected {want} with a JSON object body, observed {obs.status} with {what} {_short(obs.raw_body, 100)!r}"
        if exp.status is not None and obs.status != exp.status:
            return differs, mismatch
        if isinstance(exp.body, dict):
            missing = _body_differences(exp.body, obs.body)
            if missing:
                return differs, f"expected {want} with body containing {_short(exp.body)}, observed {_short(missing)}"
        if headers:
            return differs, f"{got} as expected but {'; '.join(headers)}"
        return Verdict.PASS, f"{got} as expected"

    if exp.error_code == "*":  # any client error answer (e.g. a request no operation accepts)
        ok_status = (obs.status == exp.status) if exp.status is not None else (obs.status is not None and 400 <= obs.status < 500)
        if not ok_status:
            return differs, mismatch
        if headers:
            return differs, f"{got} as expected but {'; '.join(headers)}"
        return Verdict.PASS, f"{got} as expected"

    # A specific error expected.
    if obs.body is None and obs.raw_body.strip():
        return differs, f"expected {want}, observed {obs.status} with a non-JSON body {_short(obs.raw_body, 100)!r}"
    if obs.error_code != exp.error_code or (exp.status is not None and obs.status != exp.status):
        return differs, mismatch
    if isinstance(exp.body, dict):
        missing = _body_differences(exp.body, obs.body if isinstance(obs.body, dict) else {})
        if missing:
            return differs, f"{got} as expected but the error body lacks {_short(missing)} (body {_short(obs.raw_body, 100)!r})"
    if headers:
        return differs, f"{got} as expected but {'; '.join(headers)}"
    verdict = _message_matches(exp, obs.message or "", strictness)
    if verdict is None or verdict:
        return Verdict.PASS, f"{got} as expected"
    expected_text = exp.message if exp.message is not None else f"/{exp.message_pattern}/"
    detail = f"{got} as expected but message differs: expected {_short(expected_text)!r}, observed {_short(obs.message or '')!r}"
    if strictness == "exact" and exp.level != "SHOULD":
        return Verdict.FAIL, detail
    return Verdict.NON_STRICT, detail


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


def _refusal_broken(expected: Any, obs: Any) -> bool:
    """Every acceptable outcome is a client error, yet the target succeeded or failed with a 5xx.

    A SHOULD that is only unsure *which* error AWS sends (an [INFER]red code) still
    rests on the certain rule that the request is refused as a client error.
    """
    outcomes = [expected, *(expected.alternatives or ())]
    if any(o.error_code is None or (o.status is not None and o.status >= 500) for o in outcomes):
        return False
    if obs.status is None:
        return False
    return obs.status >= 500 or (200 <= obs.status < 300 and not obs.error_code)


def _echoes_secret(observation: Any, request: Any) -> bool:
    from conformance.redact import echoes_secret

    headers = " ".join(str(v) for v in (observation.headers or {}).values())
    return echoes_secret(f"{observation.raw_body or ''} {headers}", request)


def judge(expected: Any, observation: Any, strictness: str = "code", request: Any = None) -> tuple[Verdict, str]:
    """Compare an Expected (conformance.cases.base) with an Observation at a strictness.

    `code`: status and error code; `regex`: plus the message shape; `exact`: plus
    the exact message (order-free parts compared as sets). A right code with a
    different message is NON_STRICT (FAIL only at `exact`); a SHOULD that differs is
    NON_STRICT, unless the request had to be refused and the target answered with
    success or a 5xx (FAIL). Alternatives the contract also allows are accepted.
    Given the `request`, a response that quotes one of its secret values (a password, a
    secret key) is a FAIL at any strictness: sensitive values are never echoed.
    """
    if strictness not in STRICTNESS:
        raise ValueError(f"strictness must be one of {STRICTNESS}, not {strictness!r}")
    if observation.unimplemented:
        return Verdict.UNIMPLEMENTED, f"target does not implement {observation.operation or 'this operation'} (observed {_describe_observed(observation)})"
    if observation.transport_error:
        return Verdict.ERROR, f"no response from target: {_short(observation.transport_error)}"
    if request is not None and _echoes_secret(observation, request):
        return Verdict.FAIL, (f"observed {_describe_observed(observation)} whose response quotes a secret value "
                              "the request sent (a password or secret key); sensitive values are never echoed "
                              "(VAL-004, UPD-007)")
    results = [_judge_one(expected, observation, strictness)]
    for alt in expected.alternatives or ():
        results.append(_judge_one(alt, observation, strictness))
    for verdict, detail in results:
        if verdict is Verdict.PASS:
            return verdict, detail
    for verdict, detail in results:
        if verdict is Verdict.NON_STRICT:
            if _refusal_broken(expected, observation):
                return Verdict.FAIL, detail + _REFUSAL_NOTE
            return verdict, detail
    verdict, detail = results[0]
    if len(results) > 1:
        alts = ", ".join(_describe_expected(a) for a in expected.alternatives)
        detail += f" (also acceptable: {alts})"
    return verdict, detail
