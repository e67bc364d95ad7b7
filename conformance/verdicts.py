"""Verdict names and their order of severity (a requirement takes its worst case's)."""

from __future__ import annotations

from enum import Enum


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
