"""What a case expects, the steps it records and the result it produces: plain data every stage
shares (the StoreDriver records steps, the judge reads Expected, reports read CaseResult)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from conformance.verdicts import Verdict


@dataclass
class Expected:
    """The outcome AWS's contract predicts for one request.

    error_code None means success (2xx); error_code "*" means any error answer in the
    4xx range (status None) or with the given status. `message` is the exact AWS text when
    known; `message_pattern` a regex for its shape; `message_unordered` means
    the message holds a set whose order AWS does not fix (enum value sets).
    `body` is a subset the response body must contain; a value "*" only requires the key.
    `alternatives` lists other outcomes the contract also allows (e.g. the
    seed says both "{}" and "empty body").
    """

    status: int | None = 200
    error_code: str | None = None
    message: str | None = None
    message_pattern: str | None = None
    message_unordered: bool = False
    body: Any = None  # for success: a subset the body must contain (None = anything JSON-object)
    level: str = "MUST"
    note: str = ""
    alternatives: list["Expected"] = field(default_factory=list)
    # Response headers that must be present: name (lower-case) -> value, or None for "any
    # non-empty value". Content-Type values are compared without parameters (; charset=...).
    headers: dict[str, str | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Step:
    """One request inside a case, kept for the report (multi-step scenarios have several)."""

    label: str
    request: dict[str, Any]
    observed: dict[str, Any]
    expected: dict[str, Any] | None = None
    verdict: str | None = None


@dataclass
class CaseResult:
    id: str
    operation: str
    kind: str
    requirements: list[str]
    verdict: "Verdict"
    title: str = ""
    request: dict[str, Any] | None = None  # redacted before it is written
    expected: dict[str, Any] | None = None
    observed: dict[str, Any] | None = None
    detail: str = ""
    reproduce: str | None = None
    steps: list[Step] = field(default_factory=list)
    duration_s: float = 0.0
    # Per requirement the case cites (and any protocol rule a check found broken): its verdict within
    # this case and the checks that cited it, {id: {"verdict", "checks": [{"name", "verdict", "detail"}]}}
    # (verdicts.requirement_blame). The case verdict stays the worst of all its checks.
    blame: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = str(self.verdict)
        return d
