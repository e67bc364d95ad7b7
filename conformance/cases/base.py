"""What a case is, what it expects, and what it produced.

A case is data plus a `run` callable. Every case names the requirement ids it
checks. Verdicts are never decided here: `conformance.verdicts.judge` compares
an Expected with an Observation at the run's strictness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from conformance import EDITIONS

if TYPE_CHECKING:  # pragma: no cover
    from conformance.targets.base import Target
    from conformance.verdicts import Verdict

KINDS = (
    "structural",  # generated from the spec: required, bounds, patterns, enums, types, unknown members
    "protocol",  # generated: wire format (body, content type, X-Amz-Target, malformed JSON)
    "auth",  # generated: SigV4 missing / malformed / wrong / expired
    "scenario",  # hand-written: documented errors, state preconditions, effects, workflows
    "property",  # Hypothesis property tests
    "stateful",  # Hypothesis RuleBasedStateMachine against the model
    "schemathesis",  # findings of a Schemathesis run
)


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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = str(self.verdict)
        return d


@dataclass
class CaseContext:
    """Everything a running case may use."""

    target: "Target"
    edition: str
    strictness: str  # code | regex | exact
    seed: int
    driver: Any  # conformance.targets.driving.StoreDriver
    model: Any  # conformance.spec.model.ServiceModel for the edition
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case:
    id: str  # stable: "<Operation>/<kind>/<what>", unique across the suite
    operation: str
    kind: str
    requirements: tuple[str, ...]
    title: str
    run: Callable[[CaseContext], CaseResult]
    editions: tuple[str, ...] = EDITIONS
    needs_roles: tuple[str, ...] = ()  # world roles; missing -> SKIPPED naming the role
    needs_operations: tuple[str, ...] = ()  # unimplemented on the target -> UNIMPLEMENTED
    # Cases sharing a group run together so a live run minimises connect/disconnect cycles.
    schedule_group: str = "stateless"
    tags: tuple[str, ...] = ()
    # For `kms-conformance plan` (live AWS cost): calls the case makes and the
    # connect/disconnect cycles it needs (a live connect can take 20 minutes).
    api_calls: tuple[str, ...] = ()
    connect_cycles: int = 0

    def result(self, verdict: "Verdict", **fields: Any) -> CaseResult:
        """A CaseResult carrying this case's identity (id, operation, kind, requirements, title)."""
        fields.setdefault("operation", self.operation)
        return CaseResult(id=self.id, kind=self.kind, requirements=list(self.requirements), verdict=verdict,
                          title=self.title, **fields)


@dataclass
class CollectContext:
    """What case generators get: the edition's model and the requirement catalogue."""

    edition: str
    model: Any  # ServiceModel for the edition
    requirements: list[Any]  # conformance.spec.requirements.Requirement
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
