"""The one case kernel: every kind of case records its steps and checks here and gets its verdict here.

A case's `run(rec)` sends requests through a `Recorder`, hands each observation to a
named check of `conformance.verdicts` (or records a check verdicts made), and may end
early by raising a typed outcome (conformance.errors). `run_case` turns all of that
into the CaseResult: the verdict is `verdicts.case_verdict` (worst of the checks and
the outcome); only the detail text and which step is shown are composed here.
"""

from __future__ import annotations

import inspect
import time
from typing import Any, Callable, Generator, Iterable

from conformance.cases.base import Case, CaseContext
from conformance.cases.requests import boto3_request, reproduce_command, send, wire_request
from conformance.errors import MissingRole
from conformance.observation import Observation
from conformance.redact import redact, scrub
from conformance.steps import CaseResult, Expected, Step
from conformance.verdicts import Check, Verdict, case_verdict, check_available, check_effect, harness_error, \
    judge_checks, requirement_blame, unimplemented, verdict_for_outcome, worst

# How a case's detail reads: "first" names the first check with the case's verdict (one-request
# cases); "all" joins every check with it, or says how many held (multi-step scenarios).
STYLES = ("first", "all")


class Recorder:
    """The steps, checks and early outcome of one running case."""

    def __init__(self, ctx: CaseContext, case: Case, *, style: str = "first"):
        if style not in STYLES:
            raise ValueError(f"style must be one of {STYLES}")
        self.ctx = ctx
        self.case = case
        self.style = style
        self.steps: list[Step] = []
        self.checks: list[Check] = []
        self.notes: list[str] = []
        self.outcome: Check | None = None
        self.primary: int | None = None  # the step the report shows as the case's request
        self.keep_single_step = False
        self.reproduce_command: str | None = None  # instead of replaying the primary step's request
        self._raw: dict[int, dict[str, Any]] = {}  # step index -> unredacted request (for reproduce)
        self._index: dict[int, int] = {}  # id(observation) -> step index
        self._finalizers: list[Callable[[], None]] = []
        self._unavailable: list[int] = []  # steps whose answer was still the infrastructure's after retries

    # -- steps ------------------------------------------------------------------------------
    def pull_driver_steps(self) -> None:
        """Setup/cleanup calls the StoreDriver made for this case, in call order."""
        if self.ctx.driver is not None:
            self.steps.extend(self.ctx.driver.take_steps())

    def add(self, step: Step, raw_request: dict[str, Any] | None = None, obs: Observation | None = None) -> int:
        """Record a step (its request unredacted in `raw_request`, for the reproduce command)."""
        idx = len(self.steps)
        self.steps.append(step)
        if raw_request is not None:
            self._raw[idx] = raw_request
        if obs is not None:
            self._index[id(obs)] = idx
        return idx

    def send(self, request: dict[str, Any], label: str = "request") -> Observation:
        self.pull_driver_steps()
        obs = send(self.ctx, request)
        idx = self.add(Step(label=label, request=request, observed=obs.to_dict()), request, obs)
        if obs.infrastructure:
            self._unavailable.append(idx)
        return obs

    def call(self, operation: str, params: dict | None = None, label: str | None = None) -> Observation:
        return self.send(boto3_request(operation, params), label or operation)

    def send_raw(self, body, *, amz_target, label: str = "raw request", **kw) -> Observation:
        return self.send(wire_request(body, amz_target=amz_target, **kw), label)

    # -- checks -----------------------------------------------------------------------------
    def record(self, check: Check, step: int | None = None) -> Check:
        """Keep a check verdicts decided; its step (if any) shows the verdict."""
        if step is not None:
            self.steps[step].verdict = str(check.verdict)
        self.checks.append(check)
        return check

    def cites(self, requirements: Iterable[str] | None) -> tuple[str, ...]:
        """The requirement ids a check cites: those given, else every id the case cites."""
        ids = tuple(requirements) if requirements is not None else ()
        return ids or tuple(self.case.requirements)

    def judge(self, expected: Expected, obs: Observation | None = None, *, primary: bool = True,
              request: Any = None, requirements: Iterable[str] | None = None,
              failing: Iterable[str] | dict[str, Iterable[str]] | None = None) -> Verdict:
        """Judge the last step (or the step whose observation is `obs`) against `expected`.

        The check cites `requirements` (default: the case's), or the protocol rule it found
        broken while the rest of the answer held; a wrong status or code cites `failing`
        when given (verdicts.judge_checks).
        """
        if obs is not None and id(obs) not in self._index:
            self.add(Step(label="observation", request={"via": "unknown"}, observed=obs.to_dict()), None, obs)
        idx = self._index[id(obs)] if obs is not None else len(self.steps) - 1
        step = self.steps[idx]
        observation = obs or Observation.from_dict(step.observed)
        *context, check = judge_checks(expected, observation, self.ctx.strictness,
                                       request=step.request if request is None else request,
                                       requirements=self.cites(requirements), failing=failing)
        labelled = self.style == "first" and len(self.steps) > 1 or self.style == "all"
        for part in context:  # what else the comparison decided: blame only, the step shows the deciding check
            self.checks.append(part.restated(f"{step.label}: {part.detail}") if labelled else part)
        if labelled:
            check = check.restated(f"{step.label}: {check.detail}")
        step.expected = expected.to_dict()
        self.record(check, idx)
        if primary and self.style == "first" and (
                self.primary is None or worst([check.verdict, Verdict(self.steps[self.primary].verdict)]) == check.verdict):
            self.primary = idx
        return check.verdict

    def effect(self, label: str, held: bool, detail: str, *, level: str = "MUST",
               requirements: Iterable[str] | None = None) -> bool:
        """An effect check (state seen through Describe etc.), recorded as a step with its own verdict.

        It cites `requirements` (default: every id the case cites)."""
        check = check_effect(label, held, detail, level=level, requirements=self.cites(requirements))
        idx = self.add(Step(label=label, request={"check": label}, observed={"detail": scrub(detail)}))
        self.record(check, idx)
        return check.held

    def note(self, text: str) -> None:
        self.notes.append(text)

    def on_exit(self, finalizer: Callable[[], None]) -> None:
        """Run when the case ends, however it ends (a scenario's store cleanup)."""
        self._finalizers.append(finalizer)

    # -- ending -----------------------------------------------------------------------------
    def stop(self, exc: BaseException) -> None:
        """The case ended early with an exception: its meaning is decided by verdicts."""
        self.outcome = verdict_for_outcome(exc, self.case.requirements)

    def finish(self) -> None:
        for finalizer in reversed(self._finalizers):
            try:
                finalizer()
            except Exception as exc:  # noqa: BLE001 - the runner's ledger cleanup retries at the end
                self.note(f"cleanup failed: {scrub(str(exc))}")
        self._finalizers.clear()
        self.pull_driver_steps()

    def _check_unavailable_steps(self) -> None:
        """A step the case did not judge (a Describe behind an effect) that the target never answered
        properly makes the case ERROR, so what the case concluded from it cannot become a FAIL."""
        for idx in self._unavailable:
            step = self.steps[idx]
            if step.expected is None:
                check = check_available(Observation.from_dict(step.observed))
                if check is not None:
                    self.record(check, idx)
        self._unavailable.clear()

    def result(self) -> CaseResult:
        self._check_unavailable_steps()
        verdict = case_verdict(self.checks, self.outcome)
        outcome = self.outcome
        if verdict is None:
            outcome = harness_error("case made no check" if self.style == "first" else "the scenario checked nothing")
            verdict, detail = outcome.verdict, outcome.detail
        elif self.outcome is not None and verdict == self.outcome.verdict:
            detail = self.outcome.detail
        else:
            detail = self._detail(verdict)
        if self.notes:
            detail = f"{detail} [{'; '.join(self.notes)}]"
        idx = self.primary
        step = self.steps[idx] if idx is not None else None
        raw = self._raw.get(idx) if idx is not None else None
        keep = self.style == "all" or len(self.steps) > 1 or self.keep_single_step
        return self.case.result(
            verdict,
            request=step.request if step else None,
            expected=step.expected if step else None,
            observed=step.observed if step else None,
            detail=scrub(detail),
            reproduce=self.reproduce_command or reproduce_command(self.ctx, self.case, raw, steps=len(self.steps),
                                                                  observed=step.observed if step else None),
            steps=self.steps if keep else [],
            blame=requirement_blame(self.case.requirements, self.checks, outcome),
        )

    def _detail(self, verdict: Verdict) -> str:
        same = [c.detail for c in self.checks if c.verdict == verdict]
        if self.style == "first":
            return same[0]
        if verdict != Verdict.PASS:
            return "; ".join(same)
        main_label = self.steps[self.primary].label if self.primary is not None else None
        lead = next((c.detail for c in self.checks if main_label and c.detail.startswith(main_label + ":")),
                    self.checks[0].detail)
        return f"all {len(self.checks)} checks held; {lead}"


def precheck(case: Case, ctx: CaseContext) -> CaseResult | None:
    """The verdict a case gets without running: unimplemented operation or missing role."""
    caps = ctx.target.capabilities
    for op in tuple(case.needs_operations) or (case.operation,):
        if not caps.is_implemented(op):
            evidence = caps.unimplemented.get(op, "")
            check = unimplemented(f"target does not implement {op}"
                                  + (f": {scrub(str(evidence))[:200]}" if evidence else ""))
            return case.result(check.verdict, detail=check.detail, reproduce=ctx.rerun_command(case.id),
                               blame=requirement_blame(case.requirements, [], check))
    missing = ctx.target.world.missing(case.needs_roles) if case.needs_roles else []
    if missing:
        check = verdict_for_outcome(MissingRole(missing[0]))
        return case.result(check.verdict, detail="; ".join(str(MissingRole(r)) for r in missing),
                           reproduce=ctx.rerun_command(case.id),
                           blame=requirement_blame(case.requirements, [], check))
    return None


def run_case(case: Case, ctx: CaseContext) -> CaseResult:
    """Run one case of any kind; whatever happens, return a CaseResult (never raise, except Ctrl-C)."""
    steps = run_case_steps(case, ctx)
    while True:
        try:
            next(steps)  # a hold (state phases) is a no-op here: the case simply goes on
        except StopIteration as done:
            return done.value


def run_case_steps(case: Case, ctx: CaseContext) -> Generator[Any, None, CaseResult]:
    """`run_case` as a generator: a case whose run yields (a scenario holding its store in a state for
    the cases of a state phase, kit.Scenario.hold) pauses there; the CaseResult is the return value.
    Closing the generator ends the case as an exception would, cleanup included."""
    started = time.monotonic()
    result = precheck(case, ctx)
    if result is None:
        rec = Recorder(ctx, case, style=case.style)
        try:
            ctx.target.begin_case(case.id)
            if ctx.driver is not None:
                ctx.driver.take_steps()  # steps of an earlier case's cleanup do not belong to this one
            out = case.run(rec)
            if inspect.isgenerator(out):
                yield from out
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - a case's crash must not stop the run
            rec.stop(exc)
        finally:
            rec.finish()
        result = rec.result()
    result.duration_s = round(time.monotonic() - started, 4)
    return result


def record_observation(rec: Recorder, label: str, request: dict[str, Any], obs: Observation, check: Check) -> None:
    """One redacted example step carrying `check` (property counterexamples, Schemathesis findings)."""
    idx = rec.add(Step(label=label, request=redact(request), observed=redact(obs.to_dict())), request, obs)
    rec.primary = idx
    rec.keep_single_step = True
    rec.record(check, idx)


__all__ = ["Recorder", "run_case", "precheck", "record_observation", "STYLES"]
