"""What a case is, what it expects, and what it produced.

A case is data plus a `run` callable. Every case names the requirement ids it
checks. Verdicts are never decided here: `conformance.verdicts.judge` compares
an Expected with an Observation at the run's strictness.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from conformance import EDITIONS

if TYPE_CHECKING:  # pragma: no cover
    from conformance.targets.base import Target
    from conformance.verdicts import Verdict

from conformance.steps import CaseResult

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
