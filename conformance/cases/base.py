"""What a case is, what it expects, and what it produced.

A case is data plus a `run` callable that records its steps and checks into the case
kernel's Recorder (conformance.cases.kernel). Every case names the requirement ids it
checks. Verdicts are never decided here: `conformance.verdicts` decides them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

from conformance import EDITIONS
from conformance.spec.model import ServiceModel
from conformance.spec.requirements import Requirement
from conformance.steps import CaseResult
from conformance.targets.base import Target
from conformance.targets.driving import StoreDriver
from conformance.verdicts import Verdict

KINDS = (
    "structural",  # generated from the spec: required, bounds, patterns, enums, types, unknown members
    "combination",  # generated from the catalogue's combination rules (either-or, both-or-neither)
    "protocol",  # generated: wire format (body, content type, X-Amz-Target, malformed JSON)
    "auth",  # generated: SigV4 missing / malformed / wrong / expired
    "scenario",  # hand-written: documented errors, state preconditions, effects, workflows
    "property",  # Hypothesis property tests
    "stateful",  # Hypothesis RuleBasedStateMachine against the model
    "schemathesis",  # findings of a Schemathesis run
)


@dataclass
class CaseOptions:
    """Run options cases read (the `extra` options of a run; bounds of the generated runs)."""

    run_prefix: str = ""
    property_examples: int = 25
    # Wall-clock caps are off by default: the example counts bound a run, so what is judged never
    # depends on how fast the machine or target is (a cap set here notes "time budget reached").
    property_budget_s: float | None = None
    stateful_examples: int = 10
    stateful_steps: int = 15
    stateful_budget_s: float = 30.0
    stateful_shrink_budget_s: float = 10.0
    # Connects and disconnects the stateful run may make in all (None: no limit). On a slow target
    # each costs minutes; 0 turns the connect/disconnect rules off (the default on live AWS).
    stateful_transitions: int | None = None
    schemathesis_examples: int = 6  # per operation and generation mode
    schemathesis_budget_s: float | None = None  # per operation
    # Put KMS keys into stores even when the target cannot pass their 7-30 day deletion window.
    create_keys: bool = False

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "CaseOptions":
        """From a run's option dict; an unknown name is an error naming it (a typo must not be ignored)."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown case option(s): {', '.join(unknown)} (known: {', '.join(known)})")
        casts = {"int": int, "float": float, "bool": bool, "str": str}
        return cls(**{k: None if v is None else casts[known[k].replace(" | None", "")](v) for k, v in values.items()})


@dataclass
class CaseContext:
    """Everything a running case may use. `options` may be given as a dict (the runner's extra options)."""

    target: Target
    edition: str
    strictness: str  # code | regex | exact
    seed: int
    driver: StoreDriver | None  # None only for cases that create no store (unit tests of single checks)
    model: ServiceModel
    options: CaseOptions = field(default_factory=CaseOptions)
    # The `kms-conformance run` flags that select this run's target and judge as it does
    # (conformance.runner.options.rerun_args); empty: the in-process reference, defaults.
    rerun_args: tuple[str, ...] = ()
    # State phases (`run --state-phases`): the shared stores of the state groups
    # (cases.scenarios.kit.PhaseStores); None: every case makes its own store.
    phases: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.options, CaseOptions):
            self.options = CaseOptions.from_mapping(self.options or {})

    def rerun_command(self, case_id: str) -> str:
        """The shell command that runs exactly this case again against the same target."""
        import shlex

        return shlex.join(["kms-conformance", "run", "--case", case_id, *self.rerun_args])


@dataclass
class Case:
    id: str  # stable: "<Operation>/<kind>/<what>", unique across the suite
    operation: str
    kind: str
    requirements: tuple[str, ...]
    title: str
    run: Callable[[Any], None]  # records into a conformance.cases.kernel.Recorder
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
    # How the kernel words the case's detail: "first" failing check, or "all" checks (scenarios).
    style: str = "first"

    def result(self, verdict: Verdict, **values: Any) -> CaseResult:
        """A CaseResult carrying this case's identity (id, operation, kind, requirements, title)."""
        values.setdefault("operation", self.operation)
        return CaseResult(id=self.id, kind=self.kind, requirements=list(self.requirements), verdict=verdict,
                          title=self.title, **values)


@dataclass
class CollectContext:
    """What case generators get: the edition's model and the requirement catalogue."""

    edition: str
    model: ServiceModel
    requirements: list[Requirement]
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
