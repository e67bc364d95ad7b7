"""One run of the suite against one target: open, collect, run each case, clean up, report.

Shared by `kms-conformance run` (run.py) and the pytest plugin, so both execute
cases the same way and write the same results.json.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import SETTLES_TO, __version__
from conformance.cases import collect_cases
from conformance.cases.base import Case, CaseContext, CaseOptions
from conformance.cases.kernel import run_case, run_case_steps
from conformance.cases.model_resources import release as release_resources
from conformance.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNEXPECTED, UsageError
from conformance.redact import scrub
from conformance.report import expectations as ex
from conformance.report.render import render_results
from conformance.report.results import ResultsWriter
from conformance.runner.determinism import import_suite_modules
from conformance.runner.options import RunOptions, rerun_args
from conformance.runner.schedule import PHASE_ORDER, decide_phases, order_cases, stateful_transitions
from conformance.runner.select import select_for_run
from conformance.runner.signals import StopSignals
from conformance.targets.capabilities import probe_transitions, transitions_note
from conformance.targets.cassette import RecordingTarget
from conformance.targets.keys_pending import hold_pending_stores
from conformance.targets.ledger import ledger_dir_for, target_fingerprint
from conformance.targets.live import is_live
from conformance.targets import (
    RetryBudget,
    StoreDriver,
    config_from_options,
    make_run_prefix,
    open_target,
    probe_capabilities,
    require_kms_endpoint,
)
from conformance.spec import edition_model
from conformance.spec.model_wide import model_requirements, select_operations
from conformance.spec.requirements import load_requirements
from conformance.steps import CaseResult
from conformance.verdicts import UNEXPECTED, Verdict


MODEL_WIDE_MODULE = "conformance.cases.model_wide"


@dataclass
class RunOutcome:
    exit_code: int
    results: dict[str, Any] = field(default_factory=dict)
    report_dir: Path | None = None
    interrupted: bool = False
    duration_s: float = 0.0

    @property
    def summary(self) -> dict[str, int]:
        return dict(self.results.get("summary") or {})

    def summary_line(self) -> str:
        """One line for logs: verdict counts (severity order) and where the report is."""
        counts = ", ".join(f"{v} {k}" for k, v in self.summary.items() if v and k != "total")
        return f"kms-conformance: {counts or 'no cases'}; report in {self.report_dir}"


class RunSession:
    """Holds the opened target, the driver and the results writer."""

    def __init__(self, options: RunOptions):
        self.options = options.validate()
        self.target = None
        self.driver = None
        self.writer = None
        self.model = None
        self.requirements: list[Any] = []
        self.prefix = make_run_prefix()  # stores this run creates start with it (cleanup finds them)
        self.started = time.monotonic()
        self._ctx: CaseContext | None = None
        self.selected: int | None = None  # how many cases collect() selected ("421 of 532 cases")
        self._config = None  # the target config, read by check_inputs
        self.signals = StopSignals()  # SIGTERM / SIGHUP stop the run as Ctrl-C does (see signals.py)
        self.held_notes: list[str] = []  # stores earlier runs left holding keys pending deletion (keys_pending.py)
        self.phases_note: dict[str, Any] = {}  # state phases: on/off and why (results.json `state_phases`)
        self._held: tuple | None = None  # (case, its steps, the Hold it yielded, phase marks) while parked
        self.operations: list[str] = []  # a model-wide run's operations (--operations / run.operations)
        self.resource_notes: list[str] = []  # what the model-wide cases' shared resources left (cleanup)

    # -- setup -------------------------------------------------------------------------------
    def load_spec(self) -> None:
        self.model = edition_model(self.options.edition)
        self.requirements = list(load_requirements())
        spec = self.options.operations
        if spec is None and self.options.config:
            spec = self.target_config().operations  # run.operations; --operations wins
        self.operations = select_operations(self.model, spec)  # UsageError (exit 2) for an unknown one
        if self.operations:
            self.requirements += model_requirements(self.model, self.operations)

    def collect(self) -> list[Case]:
        """Cases for the edition, filtered by -k and ordered for the run (no target needed)."""
        import_suite_modules()  # same Hypothesis examples on every target (see determinism.py)
        if self.model is None:
            self.load_spec()
        cases = collect_cases(
            self.options.edition,
            model=self.model,
            requirements=self.requirements,
            seed=self.options.seed,
            options={"strictness": self.options.strictness, **self.options.extra,
                     **({"operations": self.operations} if self.operations else {})},
            modules=(MODEL_WIDE_MODULE,) if self.operations else self.options.modules,
        )
        selected = select_for_run(cases, self.options.keyword, self.options.cases, self.options.edition)
        self.selected = len(selected)
        return order_cases(selected)

    def target_config(self):
        o = self.options
        return config_from_options(target=o.target, config_path=o.config, endpoint_url=o.endpoint_url)

    def open(self) -> None:
        """Open and probe the target; raises ConfigError (2) / TargetUnreachable (3)."""
        o = self.options
        self.check_inputs()  # every input the user gave, before the first request
        config = self._config
        self.signals.install()
        kwargs: dict[str, Any] = {"edition": o.edition, "allow_live": o.allow_live, "faults": list(o.faults),
                                  "retry": RetryBudget(tries=o.retry_tries, total_s=o.retry_budget), "seed": o.seed}
        if o.call_timeout is not None:
            kwargs["call_timeout_s"] = o.call_timeout
        self.target = open_target(config, **kwargs)
        require_kms_endpoint(self.target)  # TargetUnusable (3): not KMS, or failing every call
        if o.record:
            self.target = RecordingTarget(self.target, o.record, run_tokens=[self.prefix])
        probe_capabilities(self.target)  # fills target.capabilities.unimplemented
        self.driver = StoreDriver(self.target, self.ledger_dir(), self.prefix)
        self.held_notes = hold_pending_stores(self.driver)  # before any store is made (the probe makes one)
        for note in self.held_notes:
            print(f"kms-conformance: {note}", file=sys.stderr)
        probe_transitions(self.target, self.driver)  # endpoint targets whose config leaves it open
        try:
            # Keys go into stores by default; on live AWS only when asked (a key holds its store 7-30 days).
            create_keys = o.create_keys or config.create_keys or not is_live(config)
            case_options = CaseOptions.from_mapping({"run_prefix": self.prefix, "create_keys": create_keys,
                                                     **o.extra})
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        self._ctx = CaseContext(
            target=self.target,
            edition=o.edition,
            strictness=o.strictness,
            seed=o.seed,
            driver=self.driver,
            model=self.model,
            options=case_options,
            rerun_args=rerun_args(o),
        )
        self._budget_transitions(config, "stateful_transitions" in o.extra)

    def _slowness(self, config) -> dict[str, Any]:
        from conformance.targets.live import is_live

        caps = self.target.capabilities
        # A replayed live run is scheduled as it was recorded (its requests must come in the same order).
        recorded = (getattr(self.target, "recorded_identity", None) or {}).get("adapter")
        return {"live": is_live(config) or recorded == "aws", "clock": self.target.abilities.clock is not None,
                "observable": bool(caps.observable_transitions), "transition_s": getattr(caps, "transition_s", None),
                "connect_timeout_s": config.world.timeouts.connect_s if config.timeouts_given else None}

    def _budget_transitions(self, config, fixed: bool) -> None:
        """The stateful run's connects + disconnects: option, config `run.stateful_transitions`, else per target."""
        if fixed:
            return
        given = self.options.stateful_transitions
        if given is None:
            given = config.run.get("stateful_transitions")
        facts = self._slowness(config)
        slow = decide_phases("auto", **facts)[0]
        self._ctx.options.stateful_transitions = stateful_transitions(given, live=facts["live"], slow=slow)

    def schedule(self, cases: list[Case]) -> list[Case]:
        """The run order once the target is open: with state phases (decided here) the state groups share
        one store per state (kit.PhaseStores); the pytest plugin never calls this (one case per item)."""
        from conformance.cases.scenarios.kit import PhaseStores

        mode = self.options.state_phases or self._config.run.get("state_phases") or "auto"
        on, why = decide_phases(mode, **self._slowness(self._config))
        self.phases_note = {"mode": mode, "on": on, "why": why}
        if not on:
            return cases
        self._ctx.phases = PhaseStores(self.driver)
        return order_cases(cases, phased=True)

    def start_results(self) -> None:
        ident = self.target.identity
        meta = {
            "target": {"name": ident.name, "adapter": ident.adapter, "version": ident.version, "endpoint": ident.endpoint,
                       "server": getattr(ident, "server", None)},
            "transitions": transitions_note(self.target.capabilities),
            "edition": self.options.edition,
            "strictness": self.options.strictness,
            "suite_version": __version__,
            "seed": self.options.seed,
            "keyword": self.options.keyword,
            "selected": self.selected,
            "faults": list(self.options.faults),
            "unimplemented_operations": sorted(self.target.capabilities.unimplemented),
            **({"operations": list(self.operations)} if self.operations else {}),  # a model-wide run's scope
            "run_prefix": self.prefix,  # the name prefix of every store this run creates
            "ledger": str(self.driver.ledger.path) if self.driver else None,  # for `kms-conformance cleanup`
        }
        self.writer = ResultsWriter(self.options.report_dir, meta, self.requirements)

    # -- running -----------------------------------------------------------------------------
    def run_case(self, case: Case) -> CaseResult:
        phases = self._ctx.phases if self._ctx is not None else None
        if phases is not None and phases.store_id is not None and not _phase_member(case):
            phases.release()  # the tour is over: its store must not hold the lineage for what follows
        result = run_case(case, self._ctx)
        return self._record(result)

    def _record(self, result: CaseResult) -> CaseResult:
        if self.writer is not None:
            self.writer.add(result)
        return result

    def run_scheduled(self, case: Case) -> list[CaseResult]:
        """Run `case` in the schedule's order; the results that are complete now (none, one or two).

        With state phases, a case that opens a phase with its own transition (tag `enters:STATE`) holds
        the shared store there (kit.Scenario.hold): it is parked while the cases of that phase run and
        resumed before the first case that is not one of them; its result comes then.
        """
        done: list[CaseResult] = []
        phases = self._ctx.phases if self._ctx is not None else None
        if self._held is not None and not _inside_hold(case, self._held[2].state):
            done.append(self._resume_held())
        if phases is None:
            return done + [self.run_case(case)]
        if phases.store_id is not None and not _phase_member(case):
            phases.release()
        steps = run_case_steps(case, self._ctx)
        try:
            hold = next(steps)
        except StopIteration as finished:
            return done + [self._record(finished.value)]
        self._held = (case, steps, hold, _phase_marks(phases))
        return done

    def finish_held(self) -> list[CaseResult]:
        """The parked case's result, when the schedule ended inside its hold."""
        return [self._resume_held()] if self._held is not None else []

    def _resume_held(self) -> CaseResult:
        """Resume the parked case, or, when a case of its phase moved or replaced the shared store (a target
        that wrongly accepted a refused request), end it and run it again on its own store: what it checks
        after its hold must be about its own transition, never about another case's doing."""
        case, steps, hold, marks = self._held
        self._held = None
        phases = self._ctx.phases
        try:
            entry = self.driver.describe(hold.store_id, record=False) if phases.store_id == hold.store_id else None
        except Exception:  # noqa: BLE001 - unknown state: the case is run again on its own
            entry = None
        seen = (entry or {}).get("ConnectionState")
        if _phase_marks(phases) == marks and seen in (hold.state, *SETTLES_TO.get(hold.state, ())):
            while True:
                try:
                    next(steps)
                except StopIteration as finished:
                    return self._record(finished.value)
        steps.close()  # its cleanup runs; the shared store is not its own
        phases.rebuilds += 1
        phases.release()  # it holds the lineage the case's own store needs
        self._ctx.phases = None
        try:
            result = run_case(case, self._ctx)
        finally:
            self._ctx.phases = phases
        result.detail = scrub(f"{result.detail} [run again on a store of its own: a case of its "
                              f"{hold.state} phase moved the shared store (seen {seen or 'gone'})]")
        return self._record(result)

    # -- inputs, checked before the first request ------------------------------------------
    def check_inputs(self) -> None:
        """Every file and folder the options name, and the target config: UsageError/ConfigError (exit 2).

        A run can take hours against live AWS; a typo in a path must not wait for its end.
        (An empty selection is refused where cases are selected.)
        """
        o = self.options
        self._config = self.target_config()
        if o.expectations:
            if o.update_expectations:
                _check_writable_dir(os.path.dirname(os.path.abspath(o.expectations)), "--expectations")
            elif not os.path.isfile(o.expectations):
                raise UsageError(f"--expectations: no such file: {o.expectations}")
            else:
                ex.load_expectations(o.expectations)  # a bad file: one line naming the entry
        _check_writable_dir(o.report_dir, "--report-dir")
        if o.record:
            _check_writable_dir(o.record, "--record")

    def ledger_dir(self) -> Path:
        """This target's ledger folder in the per-user state directory (found again from any directory)."""
        return ledger_dir_for(target_fingerprint(self.target))

    def cleanup_command(self) -> str:
        """The `kms-conformance cleanup` command line that removes what this run left."""
        o = self.options
        parts = ["kms-conformance", "cleanup"]
        for flag, value in (("--config", o.config), ("--target", o.target), ("--endpoint-url", o.endpoint_url)):
            if value:
                parts += [flag, shlex.quote(str(value))]
        parts += ["--run-prefix", self.prefix]
        if o.allow_live:
            parts.append("--allow-live")
        return " ".join(parts)

    def health_stop(self) -> str | None:
        """A one-line diagnosis when the target fails most calls even after retries: stop the run early.

        The run then cleans up, writes every report and exits 3 (run.py).
        """
        health = getattr(self.target, "health", None) if self.target is not None else None
        return health.stop_reason() if health is not None else None

    # -- teardown ----------------------------------------------------------------------------
    def cleanup(self) -> str | None:
        """Remove every store the run created; a failure is reported, never raised."""
        if self.driver is None:
            return None
        self.signals.phase = "cleanup"
        try:
            if self._held is not None:  # interrupted inside a hold: end the parked case (its cleanup runs)
                self._held[1].close()
                self._held = None
            phases = self._ctx.phases if self._ctx is not None else None
            if phases is not None:
                phases.release()
            self.resource_notes = release_resources(self.target) if self.target is not None else []
            outcome = self.driver.cleanup()
        except KeyboardInterrupt:
            return f"cleanup skipped (second stop signal): run `{self.cleanup_command()}` to remove leftover stores"
        except Exception as exc:  # noqa: BLE001
            return scrub(f"cleanup failed: {type(exc).__name__}: {exc}")
        finally:
            self.signals.phase = "reporting"  # from here on a signal must not cost the reports
        left = list(getattr(outcome, "left", None) or [])
        if left:
            return scrub(f"cleanup left {len(left)} store(s): {'; '.join(left)[:300]} "
                         f"(run `{self.cleanup_command()}`)")
        return None

    def finish(self, *, interrupted: bool = False, notes: list[str] | None = None) -> RunOutcome:
        self.signals.phase = "reporting"
        interrupted = interrupted or self.signals.received
        if self.signals.received and self.signals.name != "SIGINT":
            notes = [*(notes or []), f"stopped by {self.signals.name}"]
        extra = {"interrupted": interrupted}
        notes = [*self.held_notes, *(notes or [])]
        phases = self._ctx.phases if self._ctx is not None else None
        if self.phases_note:
            extra["state_phases"] = {**self.phases_note, **(phases.summary() if phases is not None else {})}
            if phases is not None and phases.notes:
                notes = [*(notes or []), *phases.notes]
        notes = [*(notes or []), *self.resource_notes]
        if notes:
            extra["notes"] = notes
        results = self.writer.finish(extra=extra) if self.writer else {}
        if self.writer:
            render_results(results, self.options.report_dir)
        code = exit_code_for(results)
        if self.writer and self.options.expectations:
            results, code = self._apply_expectations(results)
        if interrupted:
            code = self.signals.exit_code if self.signals.received else EXIT_INTERRUPTED
        return RunOutcome(
            exit_code=code,
            results=results,
            report_dir=Path(self.options.report_dir),
            interrupted=interrupted,
            duration_s=round(time.monotonic() - self.started, 3),
        )

    def _apply_expectations(self, results: dict) -> tuple[dict, int]:
        path = self.options.expectations
        if self.options.update_expectations:
            ex.write_expectations(results, path)
        if not os.path.exists(path):
            raise UsageError(f"--expectations: no such file: {path}")
        results = ex.apply_expectations(results, ex.load_expectations(path))
        self.writer.replace_results(results)
        render_results(results, self.options.report_dir)
        return results, ex.exit_code(results)

    def close(self) -> None:
        self.signals.restore()
        if self.target is not None:
            try:
                self.target.close()
            except Exception:  # noqa: BLE001 - closing must not hide the run's outcome
                pass
            self.target = None


def _phase_member(case: Case) -> bool:
    from conformance.cases.scenarios.kit import phase_state

    return phase_state(case) in PHASE_ORDER


def _inside_hold(case: Case, state: str) -> bool:
    """Whether `case` runs while a case holds the shared store in `state`: a case of that phase that
    keeps the state or moves it on as planned (not another phase's opener)."""
    from conformance.cases.scenarios.kit import entered_state, phase_state

    return phase_state(case) == state and entered_state(case) is None


def _phase_marks(phases) -> tuple:
    """What changes when a phase's shared store was moved or replaced against the plan."""
    return phases.store_id, phases.rebuilds, phases.reentries, phases.stores


def _check_writable_dir(path: str | os.PathLike, flag: str) -> None:
    """Create the folder if needed and make sure files can be written in it; else one UsageError line."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{flag}: {p} exists and is not a folder") from None
    except OSError as exc:
        raise UsageError(f"{flag}: cannot create folder {p}: {exc.strerror or exc}") from None
    if not p.is_dir():
        raise UsageError(f"{flag}: {p} is not a folder")
    if not os.access(p, os.W_OK | os.X_OK):
        raise UsageError(f"{flag}: folder {p} is not writable")


def exit_code_for(results: dict) -> int:
    """1 when any case is FAIL, ERROR or UNEXPECTED_PASS (no expectation file), else 0."""
    for case in results.get("cases") or ():
        if Verdict(case.get("verdict")) in UNEXPECTED:
            return EXIT_UNEXPECTED
    return EXIT_OK
