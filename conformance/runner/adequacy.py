"""Adequacy: does the suite detect every seeded fault of the reference emulator?

A suite that passes a correct emulator proves little by itself; one that also fails each
realistic bug (`conformance.reference.faults`) proves its checks bite. This runs the selected
cases once per fault against the in-process reference with that one fault seeded (and once
with none, the control), and judges each fault from the run's requirement verdicts:

- detected: some requirement is shown FAIL or NON_STRICT that the control run does not show so;
- the cases that found it: those FAIL or NON_STRICT with the fault and not in the control;
- beyond: requirements shown failing that the fault does not declare it breaks (imprecise blame);
- missed: requirements it breaks that no case of the selection showed failing.

Cases are collected once; runs are independent, so they go to worker processes (`jobs`, a
multiprocessing pool), forked from the collecting process so each worker starts with the cases
already built.
`kms-conformance adequacy` (cli/adequacy.py) is the command; tests/reference/test_reference_faults.py
runs `check_fault` for every fault, narrowed to the cases that can observe it (`observing_cases`),
which is how CI proves adequacy.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from conformance.cases.base import Case
from conformance.errors import EXIT_UNREACHABLE, ConformanceError, UsageError
from conformance.reference import FAULTS
from conformance.runner.options import RunOptions
from conformance.runner.session import RunSession, _check_writable_dir

SHOWN_FAILING = ("FAIL", "NON_STRICT")  # a requirement verdict that shows a deviation
CONTROL = "(none)"  # the control run's name: the reference with no fault
REPORT_JSON = "adequacy.json"
REPORT_MD = "adequacy.md"


class ReferenceUnusable(ConformanceError):
    """The reference cannot run the selection even without a fault: no fault can be judged (exit 3)."""

    exit_code = EXIT_UNREACHABLE


@dataclass
class FaultOutcome:
    """How one fault's run went, judged against the fault's declared `breaks` and the control run."""

    fault: str
    description: str
    breaks: list[str]
    detected: bool = False
    cases: list[str] = field(default_factory=list)  # cases FAIL / NON_STRICT with the fault, not in the control
    shown: dict[str, str] = field(default_factory=dict)  # requirement -> FAIL | NON_STRICT (beyond the control)
    beyond: dict[str, list[str]] = field(default_factory=dict)  # shown failing but not in breaks -> blamed checks
    missed: list[str] = field(default_factory=list)  # in breaks (and this edition) but shown failing by no case
    errors: list[str] = field(default_factory=list)  # cases ERROR with the fault (harness or setup)
    applies: bool = True  # False: none of its breaks is a requirement of this edition (not run)
    problem: str | None = None  # the run itself failed (one line)
    results_path: str | None = None
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Plan:
    """What every fault run shares: the options (without faults) and the cases, collected once."""

    options: RunOptions
    cases: list[Case]
    model: Any
    requirements: list[Any]
    report_dir: Path

    @property
    def edition_requirements(self) -> set[str]:
        edition = self.options.edition
        return {r.id for r in self.requirements if not r.editions or edition in r.editions}


def prepare(options: RunOptions, report_dir: str | Path) -> Plan:
    """Check the options and collect the selected cases once (a -k selecting nothing: UsageError, exit 2)."""
    options = dataclasses.replace(options, faults=(), progress=False, record=None, expectations=None,
                                  update_expectations=False, target="reference", config=None, endpoint_url=None)
    session = RunSession(options)  # validates edition, strictness ...
    _check_writable_dir(report_dir, "--report-dir")
    session.load_spec()
    cases = session.collect()
    return Plan(options=options, cases=cases, model=session.model, requirements=session.requirements,
                report_dir=Path(report_dir))


def select_faults(names: Iterable[str] = ()) -> list[str]:
    """The faults to run: the named ones (an unknown name is a usage error), else all of them."""
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise UsageError(f"--fault {unknown[0]}: no such fault (list them: kms-conformance serve --list-faults)")
    return names or list(FAULTS)


def run_once(plan: Plan, fault: str | None) -> dict[str, Any]:
    """One run of the plan's cases against the in-process reference with `fault` seeded; its results.

    The results are also written to <report dir>/faults/<fault>/results.json (`kms-conformance report
    render` makes the usual reports from it).
    """
    folder = plan.report_dir / "faults" / (fault or "none")
    options = dataclasses.replace(plan.options, faults=(fault,) if fault else (), report_dir=str(folder))
    session = RunSession(options)
    session.model, session.requirements, session.selected = plan.model, plan.requirements, len(plan.cases)
    try:
        session.open()
        session.start_results()
        session.writer.min_interval_s = float("inf")  # one write at the end: a fault run is not watched live
        for case in plan.cases:
            session.run_case(case)
        problem = session.cleanup()
        return session.writer.finish(extra={"interrupted": False, **({"notes": [problem]} if problem else {})})
    finally:
        session.close()


def shown_failing(results: dict[str, Any]) -> dict[str, str]:
    """Requirement id -> verdict, for the requirements a report shows FAIL or NON_STRICT."""
    return {q["id"]: q["verdict"] for q in results.get("requirements") or () if q.get("verdict") in SHOWN_FAILING}


def failing_cases(results: dict[str, Any], verdicts: Iterable[str] = SHOWN_FAILING) -> list[str]:
    wanted = set(verdicts)
    return [c["id"] for c in results.get("cases") or () if c.get("verdict") in wanted]


def judge(fault: str, results: dict[str, Any], control: dict[str, Any] | None, plan: Plan) -> FaultOutcome:
    """A fault's outcome from its run's results (see the module doc); `control` is the run without faults."""
    spec = FAULTS[fault]
    out = FaultOutcome(fault=fault, description=spec.description, breaks=list(spec.breaks))
    base_reqs = shown_failing(control) if control else {}
    base_cases = set(failing_cases(control, (*SHOWN_FAILING, "ERROR"))) if control else set()
    out.shown = {rid: v for rid, v in shown_failing(results).items() if rid not in base_reqs}
    out.cases = [c for c in failing_cases(results) if c not in base_cases]
    out.errors = [c for c in failing_cases(results, ("ERROR",)) if c not in base_cases]
    out.detected = bool(out.shown)
    rows = {q["id"]: q for q in results.get("requirements") or ()}
    for rid in out.shown:
        if rid not in spec.breaks:
            checks = rows.get(rid, {}).get("checks") or []
            out.beyond[rid] = [f"{c.get('case')}: {c.get('name')} {c.get('verdict')} {str(c.get('detail'))[:160]}"
                               for c in checks[:3]]
    in_edition = plan.edition_requirements
    out.missed = [rid for rid in spec.breaks if rid in in_edition and rid not in out.shown]
    return out


def applies(fault: str, plan: Plan) -> bool:
    """Whether the fault can show in this edition: one of the requirements it breaks belongs to it."""
    return any(rid in plan.edition_requirements for rid in FAULTS[fault].breaks)


def observing_cases(plan: Plan, fault: str) -> list[Case]:
    """The plan's cases that can observe `fault`, in plan order: those of an operation one of its breaks belongs
    to, or citing one of its breaks, plus the protocol and auth cases when a break is cross-cutting (operation
    "*": PROTO, AUTH, VAL).

    Why: a fault only changes the answers of the operations whose rules it breaks, so the other operations'
    cases pass with or without it; skipping them keeps detection and blame-beyond-breaks among the cases that
    exercise those operations (cross-operation blame is left to the full run, `kms-conformance adequacy`).
    """
    breaks = set(FAULTS[fault].breaks)
    operation = {r.id: r.operation for r in plan.requirements}
    operations = {operation.get(rid) for rid in breaks} - {None, "*"}
    cross_cutting = any(operation.get(rid) == "*" for rid in breaks)
    return [case for case in plan.cases
            if case.operation in operations or breaks.intersection(case.requirements)
            or (cross_cutting and case.kind in ("protocol", "auth"))]


def check_fault(plan: Plan, fault: str, control: dict[str, Any] | None = None, *,
                narrow: bool = False) -> FaultOutcome:
    """Run the plan with one fault and judge it (no control: every failure counts as the fault's).

    narrow: run only the cases that can observe the fault (`observing_cases`), not the whole plan.
    """
    started = time.monotonic()
    if not applies(fault, plan):
        out = FaultOutcome(fault=fault, description=FAULTS[fault].description, breaks=list(FAULTS[fault].breaks),
                           applies=False)
        return out
    if narrow:
        plan = dataclasses.replace(plan, cases=observing_cases(plan, fault))
    results = run_once(plan, fault)
    out = judge(fault, results, control, plan)
    out.results_path = results.get("_source")
    out.duration_s = round(time.monotonic() - started, 3)
    return out


# ---------------------------------------------------------------------------------------------- parallel
_PLAN: Plan | None = None  # the plan a forked worker inherits (set before the pool starts)


def _worker(fault: str | None, control: dict[str, Any] | None) -> tuple[str | None, Any]:
    assert _PLAN is not None
    try:
        if fault is None:
            results = run_once(_PLAN, None)
            return None, {"requirements": [{"id": q["id"], "verdict": q["verdict"]} for q in results["requirements"]],
                          "cases": [{"id": c["id"], "verdict": c["verdict"]} for c in results["cases"]],
                          "_source": results.get("_source"), "summary": results.get("summary")}
        return fault, check_fault(_PLAN, fault, control)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one broken run must not cost the others' outcomes
        from conformance.redact import scrub

        return fault, scrub(f"{type(exc).__name__}: {exc}")


def _worker_task(args: tuple[str | None, dict[str, Any] | None]) -> tuple[str | None, Any]:
    return _worker(*args)


@dataclass
class Adequacy:
    """The whole adequacy run: every fault's outcome, the control, and per requirement its guards."""

    edition: str
    keyword: str | None
    cases: int
    faults: list[FaultOutcome]
    control: dict[str, Any] | None
    requirements: list[dict[str, Any]]  # {id, operation, level, faults: [...]} for the edition
    interrupted: bool = False
    duration_s: float = 0.0

    @property
    def undetected(self) -> list[FaultOutcome]:
        return [f for f in self.faults if f.applies and not f.detected]

    @property
    def control_failing(self) -> list[str]:
        if not self.control:
            return []
        return failing_cases(self.control, (*SHOWN_FAILING, "ERROR"))

    def to_dict(self) -> dict[str, Any]:
        ran = [f for f in self.faults if f.applies]
        guarded = [r for r in self.requirements if r["faults"]]
        return {
            "edition": self.edition,
            "keyword": self.keyword,
            "cases_per_run": self.cases,
            "interrupted": self.interrupted,
            "duration_s": self.duration_s,
            "summary": {
                "faults": len(self.faults),
                "run": len(ran),
                "detected": sum(f.detected for f in ran),
                "undetected": [f.fault for f in self.undetected],
                "not_applicable": [f.fault for f in self.faults if not f.applies],
                "blame_beyond_breaks": [f.fault for f in ran if f.beyond],
                "requirements": len(self.requirements),
                "requirements_guarded": len(guarded),
                "requirements_unguarded": len(self.requirements) - len(guarded),
                "control_failing_cases": self.control_failing,
            },
            "control": {"results": (self.control or {}).get("_source"),
                        "summary": (self.control or {}).get("summary")} if self.control else None,
            "faults": [f.to_dict() for f in self.faults],
            "requirements": self.requirements,
        }


def guards(plan: Plan, outcomes: list[FaultOutcome]) -> list[dict[str, Any]]:
    """Per requirement the selected cases cite (catalogue order): the faults whose run showed it failing."""
    by_req: dict[str, list[str]] = {}
    for out in outcomes:
        for rid in out.shown:
            by_req.setdefault(rid, []).append(out.fault)
    cited = {rid for case in plan.cases for rid in case.requirements} | set(by_req)
    return [{"id": r.id, "operation": r.operation, "level": r.level, "faults": by_req.get(r.id, [])}
            for r in plan.requirements if r.id in cited]


def run_adequacy(plan: Plan, faults: list[str], *, jobs: int = 1, control: bool = True,
                 progress: Callable[[FaultOutcome, int, int], None] | None = None) -> Adequacy:
    """Run the control (unless told not to) and then every fault, `jobs` at a time; see the module doc.

    Ctrl-C stops the runs: what finished is returned with `interrupted` set.
    """
    global _PLAN
    started = time.monotonic()
    _PLAN = plan
    outcomes: dict[str, FaultOutcome] = {}
    control_results: dict[str, Any] | None = None
    interrupted = False

    def record(name: str, out: Any) -> None:
        outcomes[name] = _as_outcome(name, out)
        if progress:
            progress(outcomes[name], len(outcomes), len(faults))

    try:
        if control:
            _, control_results = _worker(None, None)
            if isinstance(control_results, str):  # the reference itself cannot be run: nothing to compare with
                raise ReferenceUnusable(f"adequacy: the control run (no fault) failed: {control_results}")
        if jobs <= 1:
            for name in faults:
                record(*_worker(name, control_results))
        else:
            # Forked workers inherit the collected cases; leaving the block (done, Ctrl-C) terminates them,
            # so an interrupted run never waits for a fault's run to end.
            with multiprocessing.get_context("fork").Pool(processes=jobs) as pool:
                for name, out in pool.imap_unordered(_worker_task, [(n, control_results) for n in faults]):
                    record(name, out)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        _PLAN = None
    ordered = [outcomes[n] for n in faults if n in outcomes]
    return Adequacy(edition=plan.options.edition, keyword=plan.options.keyword, cases=len(plan.cases),
                    faults=ordered, control=control_results, requirements=guards(plan, ordered),
                    interrupted=interrupted, duration_s=round(time.monotonic() - started, 3))


def _as_outcome(name: str, out: Any) -> FaultOutcome:
    if isinstance(out, FaultOutcome):
        return out
    spec = FAULTS[name]
    return FaultOutcome(fault=name, description=spec.description, breaks=list(spec.breaks), problem=str(out))


# ---------------------------------------------------------------------------------------------- reports
def write_reports(adequacy: Adequacy, report_dir: str | Path) -> dict[str, Path]:
    """adequacy.json (everything) and adequacy.md (the tables a pull request can show)."""
    from conformance.report.results import atomic_write_text

    out = Path(report_dir)
    data = adequacy.to_dict()
    paths = {REPORT_JSON: out / REPORT_JSON, REPORT_MD: out / REPORT_MD}
    atomic_write_text(paths[REPORT_JSON], json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    atomic_write_text(paths[REPORT_MD], render_markdown(adequacy))
    return paths


def summary_line(adequacy: Adequacy) -> str:
    s = adequacy.to_dict()["summary"]
    line = (f"{s['detected']} of {s['run']} seeded faults detected"
            + (f" (undetected: {', '.join(s['undetected'])})" if s["undetected"] else "")
            + f"; {s['requirements_guarded']} of {s['requirements']} requirements guarded by a fault, "
            f"{s['requirements_unguarded']} by none")
    if s["not_applicable"]:
        line += f"; {len(s['not_applicable'])} fault(s) not of edition {adequacy.edition}"
    if adequacy.interrupted:
        line += " (interrupted: partial)"
    return line


def _md(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def render_markdown(adequacy: Adequacy) -> str:
    data = adequacy.to_dict()
    lines = [f"# kms-conformance adequacy: edition {adequacy.edition}", "",
             f"{summary_line(adequacy)}.", "",
             f"Each fault is one run of {adequacy.cases} cases"
             + (f" (`-k {adequacy.keyword}`)" if adequacy.keyword else "")
             + " against the in-process reference with that fault seeded; a fault is detected when a requirement "
             "is shown FAIL or NON_STRICT that the run without faults does not show.", ""]
    if adequacy.control is not None:
        bad = adequacy.control_failing
        lines += [f"Control run (no fault): {', '.join(f'{v} {k}' for k, v in (adequacy.control.get('summary') or {}).items() if v and k != 'total')}"
                  + (f"; **{len(bad)} case(s) not passing without any fault**: {', '.join(bad[:10])}" if bad else ""), ""]
    lines += ["## Faults", "", "| fault | detected | cases | requirements shown failing | breaks, not shown | beyond its breaks |",
              "|---|---|---:|---|---|---|"]
    for f in adequacy.faults:
        if not f.applies:
            state = "n/a (edition)"
        elif f.problem:
            state = f"**run failed**: {_md(f.problem)}"
        else:
            state = "yes" if f.detected else "**NO**"
        shown = ", ".join(f"{rid}" + (" (non-strict)" if v == "NON_STRICT" else "") for rid, v in f.shown.items())
        lines.append(f"| {f.fault} | {state} | {len(f.cases)} | {shown} | {', '.join(f.missed)} | "
                     f"{', '.join(f.beyond)} |")
    lines += ["", "## Cases that detected each fault", ""]
    for f in adequacy.faults:
        if f.cases:
            shown = ", ".join(f"`{c}`" for c in f.cases[:8]) + (f" and {len(f.cases) - 8} more" if len(f.cases) > 8 else "")
            lines.append(f"- **{f.fault}** ({_md(f.description)}): {shown}")
    lines += ["", "## Requirements and the faults that guard them", "",
              f"{data['summary']['requirements_guarded']} of the {data['summary']['requirements']} requirements the "
              f"cases cite are shown failing by at least one seeded fault.", "",
              "| requirement | operation | level | faults |", "|---|---|---|---|"]
    for r in sorted(adequacy.requirements, key=lambda r: (-len(r["faults"]), r["id"])):
        if r["faults"]:
            lines.append(f"| {r['id']} | {r['operation']} | {r['level']} | {len(r['faults'])}: {', '.join(r['faults'])} |")
    unguarded = [r["id"] for r in adequacy.requirements if not r["faults"]]
    lines += ["", f"Guarded by no fault ({len(unguarded)}): {', '.join(unguarded) or 'none'}.", ""]
    return "\n".join(lines)
