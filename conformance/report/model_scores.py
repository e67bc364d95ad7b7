"""Scores and most common deviations of a model-wide run (results.json with `operations`).

A score is the share of PASS among the cases the target answered as implemented (UNIMPLEMENTED,
SKIPPED and NOT_TRIGGERABLE are left out: they say nothing about how well an operation is done).
A deviation is a family of non-PASS cases with the same kind of input (wrong JSON type, length
below the minimum, ...) and the same expected -> observed answer; each family keeps one example
case with its reproduce line, so an emulator author can start from the most common one.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

NOT_JUDGED = ("UNIMPLEMENTED", "SKIPPED", "NOT_TRIGGERABLE")
DEVIATING = ("FAIL", "NON_STRICT", "ERROR")
MAX_LINE = 600  # longer reproduce lines (a 6 KiB blob) are left to the results

# What the last part of a structural case id says about the input, in words.
_INPUT_KINDS = (
    (re.compile(r"^type-"), "member of the wrong JSON type"),
    (re.compile(r"^required-missing$"), "required member missing"),
    (re.compile(r"^required-null$"), "required member as JSON null"),
    (re.compile(r"^(length|value)-(below-min|above-max)$"), "value outside its length/value bounds"),
    (re.compile(r"^enum-(violation|wrong-case)$"), "value not in the enum"),
    (re.compile(r"^pattern-violation$"), "value not matching the pattern"),
    (re.compile(r"^empty-object$"), "the empty object {}"),
    (re.compile(r"^unknown-member$"), "an unknown member"),
    (re.compile(r"^(length|value)-"), "valid value on a bound"),
    (re.compile(r"^enum-"), "valid enum value"),
)


def input_kind(case_id: str) -> str:
    last = case_id.rsplit("/", 1)[-1]
    for rx, words in _INPUT_KINDS:
        if rx.search(last):
            return words
    return last


def _answer(d: dict[str, Any] | None) -> str:
    d = d or {}
    status = d.get("status")
    code = d.get("error_code")
    if code:
        return f"{status} {code}" if status is not None else str(code)
    if status is None:
        return "no answer"
    return f"{status} success" if 200 <= status < 300 else str(status)


@dataclass
class Deviation:
    input: str
    expected: str
    observed: str
    verdict: str
    count: int = 0
    operations: set[str] = field(default_factory=set)
    example: str = ""  # a case id
    reproduce: str = ""
    message_only: bool = False  # right code, different message

    @property
    def summary(self) -> str:
        what = (f"right code, other message ({self.expected})" if self.message_only
                else f"expected {self.expected}, observed {self.observed}")
        return f"{self.input}: {what}"


def _is_message_only(case: dict[str, Any]) -> bool:
    return "as expected but message differs" in (case.get("detail") or "")


def deviations(results: dict[str, Any], top: int | None = 5) -> list[Deviation]:
    """The most common deviation families of a run, most frequent first (ties: by name)."""
    found: dict[tuple, Deviation] = {}
    for case in results.get("cases") or ():
        if case.get("verdict") not in DEVIATING:
            continue
        msg = _is_message_only(case)
        key = (input_kind(case.get("id", "")), _answer(case.get("expected")),
               "message" if msg else _answer(case.get("observed")), case.get("verdict"))
        dev = found.get(key)
        if dev is None:
            dev = found[key] = Deviation(key[0], key[1], _answer(case.get("observed")), key[3],
                                         example=case.get("id", ""), reproduce=case.get("reproduce") or "",
                                         message_only=msg)
        dev.count += 1
        dev.operations.add(case.get("operation") or "")
        line = case.get("reproduce") or ""
        if line and (not dev.reproduce or len(line) < len(dev.reproduce)):  # the shortest example reads best
            dev.example, dev.reproduce = case.get("id", ""), line
    ordered = sorted(found.values(), key=lambda d: (-d.count, d.summary))
    return ordered[:top] if top else ordered


@dataclass
class Score:
    passed: int = 0
    judged: int = 0
    non_strict: int = 0
    failed: int = 0
    unimplemented: int = 0

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.passed / self.judged, 1) if self.judged else None

    def text(self) -> str:
        if not self.judged:
            return "unimplemented" if self.unimplemented else "-"
        return f"{self.percent:g}% ({self.passed}/{self.judged})"


def _add(score: Score, verdict: str) -> None:
    if verdict in NOT_JUDGED:
        score.unimplemented += verdict == "UNIMPLEMENTED"
        return
    score.judged += 1
    score.passed += verdict == "PASS"
    score.non_strict += verdict == "NON_STRICT"
    score.failed += verdict in ("FAIL", "ERROR")


def scores(results: dict[str, Any]) -> tuple[Score, dict[str, Score]]:
    """The run's overall score and one per operation."""
    total = Score()
    per: dict[str, Score] = defaultdict(Score)
    for case in results.get("cases") or ():
        verdict = case.get("verdict") or ""
        _add(total, verdict)
        _add(per[case.get("operation") or ""], verdict)
    return total, dict(sorted(per.items()))


def implemented_operations(results: dict[str, Any]) -> list[str]:
    _total, per = scores(results)
    return [op for op, s in per.items() if s.judged]


def is_model_wide(results: dict[str, Any]) -> bool:
    return bool(results.get("operations"))


def portable(line: str, results: dict[str, Any]) -> str:
    """A reproduce line with the run's own endpoint (an emulator's port of the moment) as $KMS_ENDPOINT_URL."""
    endpoint = ((results.get("target") or {}).get("endpoint") or "").rstrip("/")
    if endpoint.startswith("http") and endpoint in line:
        return line.replace(endpoint, "${KMS_ENDPOINT_URL}")
    return line


def deviation_lines(results: dict[str, Any], top: int | None = 5) -> Iterable[str]:
    """Markdown list items: the most common deviations, each with an example and its reproduce line."""
    for i, dev in enumerate(deviations(results, top), 1):
        dev.reproduce = portable(dev.reproduce, results)
        ops = sorted(dev.operations)
        where = ", ".join(ops[:4]) + (f" and {len(ops) - 4} more" if len(ops) > 4 else "")
        yield f"{i}. **{dev.summary}** — {dev.count} case(s), {dev.verdict}, in {where}; e.g. `{dev.example}`"
        if dev.reproduce and len(dev.reproduce) <= MAX_LINE:
            yield f"   `{dev.reproduce}`"
        elif dev.reproduce:
            yield f"   (its reproduce line has {len(dev.reproduce)} characters: see the case in the results)"


__all__ = ["Deviation", "Score", "deviation_lines", "deviations", "implemented_operations", "input_kind",
           "is_model_wide", "portable", "scores"]
