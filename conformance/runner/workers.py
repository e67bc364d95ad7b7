"""`run --workers N`: the selected cases split over N worker processes that never contend.

A verdict must not depend on N, so the split follows what cases share on the target:

- Each worker is its own RunSession: its own target connection, store-name prefix, cleanup
  ledger and results; the parent merges the results into one results.json
  (report/merge.py) and writes the reports, the expectation file and the exit code from it.
- A target whose world lives in the worker's process (the in-process reference, moto, a
  replay) gives every worker its own world: cases that need stores, and so a CloudHSM
  cluster lineage, are split by schedule group (a group's cases share stores and run in
  order), and the others one by one.
- A target every worker reaches (an endpoint, AWS) has one world: every case that may hold
  or need the cluster lineage, or whose answer depends on which stores exist, runs in the
  first worker, in the run's order; only cases that send inputs no store can change the
  answer to (`spreadable`) go to the others.

Inside a worker the cases keep the run's order (schedule.order_cases). Workers are forked
from the parent after collection, so they share its collected cases and its loaded modules
(Hypothesis draws from the constants of the loaded modules: see determinism.py).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import queue as queue_module
import shutil
import signal
from pathlib import Path
from typing import Any, Iterable, Sequence

from conformance.cases.base import Case
from conformance.errors import EXIT_UNEXPECTED, EXIT_UNREACHABLE, UsageError

# Adapters whose world lives in the process that opened the target (each worker gets its own).
OWN_WORLD_ADAPTERS = ("reference", "moto", "replay")
# Case kinds that only send inputs whose answer no store state changes (validation, protocol, auth,
# generated inputs), unless they create something (then the lineage may be held meanwhile).
SPREADABLE_KINDS = ("structural", "protocol", "auth", "property", "schemathesis")
STORE_MAKING_CALLS = ("CreateCustomKeyStore", "CreateKey")
# Relative cost of a case by kind, to balance workers (Hypothesis-driven kinds send many requests).
KIND_WEIGHT = {"stateful": 40.0, "property": 15.0, "schemathesis": 4.0, "scenario": 2.0, "combination": 2.0}
DEFAULT_WEIGHT = 0.3
# The worker folders inside --report-dir, removed once merged.
WORKERS_DIR = ".workers"


def spreadable(case: Case) -> bool:
    """Whether the case may run beside stores of other workers on one shared world."""
    return ((case.schedule_group or "stateless") == "stateless" and case.kind in SPREADABLE_KINDS
            and not any(op in STORE_MAKING_CALLS for op in case.api_calls))


def case_weight(case: Case) -> float:
    return KIND_WEIGHT.get(case.kind, DEFAULT_WEIGHT) + 20.0 * case.connect_cycles


def partition(cases: Sequence[Case], workers: int, *, shared_world: bool) -> list[list[Case]]:
    """The cases of each worker (run order kept inside each); see the module docstring for the rules.

    Units that must stay together (a schedule group; on a shared world every non-spreadable
    case, pinned to the first worker) are dealt heaviest first to the least loaded worker.
    """
    index = {id(c): i for i, c in enumerate(cases)}
    pinned: list[Case] = []
    groups: dict[str, list[Case]] = {}
    singles: list[list[Case]] = []
    for case in cases:
        if shared_world and not spreadable(case):
            pinned.append(case)
        elif (case.schedule_group or "stateless") != "stateless":
            groups.setdefault(case.schedule_group, []).append(case)
        else:
            singles.append([case])
    workers = max(1, min(workers, len(cases)))
    parts: list[list[Case]] = [[] for _ in range(workers)]
    load = [0.0] * workers
    if pinned:
        parts[0] += pinned
        load[0] += sum(map(case_weight, pinned))
    units = sorted([*groups.values(), *singles], key=lambda u: (-sum(map(case_weight, u)), index[id(u[0])]))
    for unit in units:
        i = min(range(workers), key=lambda w: (load[w], w))
        parts[i] += unit
        load[i] += sum(map(case_weight, unit))
    return [sorted(p, key=lambda c: index[id(c)]) for p in parts if p]


def shared_world(adapter: str) -> bool:
    return adapter not in OWN_WORLD_ADAPTERS


def distinct_prefixes(n: int, make) -> list[str]:
    """n store-name prefixes, no two alike (make_run_prefix has 16 random bits per second)."""
    out: list[str] = []
    while len(out) < n:
        prefix = make()
        if prefix not in out:
            out.append(prefix)
    return out


# ------------------------------------------------------------------------------------ the run

def run_parallel(session, cases: list[Case], workers: int, *, progress: bool):
    """Run `cases` in worker processes and merge their results; returns the parent's RunOutcome."""
    from conformance.report.results import load_results, utc_now
    from conformance.runner.session import RunOutcome
    from conformance.targets import make_run_prefix

    options = session.options
    if options.record:
        raise UsageError("--record writes one cassette: it needs --workers 1")
    session.check_inputs()
    adapter = session._config.target.adapter
    parts = partition(cases, workers, shared_world=shared_world(adapter))
    started = utc_now()
    root = Path(options.report_dir) / WORKERS_DIR
    shutil.rmtree(root, ignore_errors=True)
    dirs = [root / f"w{i + 1}" for i in range(len(parts))]
    prefixes = distinct_prefixes(len(parts), make_run_prefix)
    ctx = multiprocessing.get_context("fork")  # workers share the parent's collected cases and modules
    events = ctx.Queue()
    procs = []
    for i, part in enumerate(parts):
        worker_options = dataclasses.replace(options, report_dir=str(dirs[i]), expectations=None,
                                             update_expectations=False, progress=False, workers=1)
        proc = ctx.Process(target=_worker_main, name=f"kms-conformance-w{i + 1}",
                           args=(worker_options, part, prefixes[i], session, events))
        proc.start()
        procs.append(proc)
    interrupted, stop_signal = False, None
    stops: list[str] = []
    session.signals.install()
    from contextlib import nullcontext

    from conformance.report.terminal import Progress

    with (Progress(len(cases)) if progress else nullcontext(None)) as bar:
        while any(p.is_alive() for p in procs) or not events.empty():
            try:
                kind, *payload = events.get(timeout=0.2)
            except queue_module.Empty:
                continue
            except KeyboardInterrupt as exc:  # the parent was signalled: pass it on, then wait for the results
                interrupted = True
                stop_signal = getattr(exc, "signum", None) or signal.SIGINT
                for p in procs:
                    if p.is_alive():
                        try:
                            os.kill(p.pid, stop_signal)
                        except OSError:
                            pass
                session.signals.phase = "cleanup"
                continue
            if kind == "case" and bar is not None:
                bar.advance({"id": payload[0], "verdict": payload[1]})
            elif kind == "stopped":
                stops.append(payload[0])
    for p in procs:
        p.join()
    session.signals.phase = "reporting"
    found = [load_results(d) for d in dirs if (d / "results.json").is_file()]
    results, code = write_merged(options, found, cases, started=started, selected=session.selected,
                                 since=session.started, interrupted=interrupted, stops=stops,
                                 exit_codes=[p.exitcode for p in procs])
    shutil.rmtree(root, ignore_errors=True)
    if interrupted:
        from conformance.runner.signals import exit_code_for_signal

        code = exit_code_for_signal(stop_signal)
    outcome = RunOutcome(exit_code=code, results=results, report_dir=Path(options.report_dir),
                         interrupted=interrupted, duration_s=results["duration_s"])
    return outcome, stops


def write_merged(options, found: list[dict[str, Any]], cases: Sequence[Case], *, started: str | None,
                 selected: int | None, since: float, interrupted: bool, stops: Sequence[str],
                 exit_codes: Sequence[Any] = (), check_missing: bool = True) -> tuple[dict[str, Any], int]:
    """Merge the workers' results into --report-dir's results.json, render the reports, apply
    the expectation file; returns the results and the run's exit code (as one process would).

    `cases` orders the merged cases; with `check_missing`, a case of it without a result is
    named in the notes and makes the exit code 1 (under pytest, pytest reports such tests itself)."""
    from conformance.report.merge import merge_results, missing_cases
    from conformance.report.render import render_results
    from conformance.report.results import load_results, write_results
    from conformance.runner.session import exit_code_for

    order = [c.id for c in cases]
    extra: dict[str, Any] = {"selected": selected}
    if started:
        extra["started"] = started
    results = merge_results(found, order, extra=extra) if found else _empty(options, started)
    lost = missing_cases(results, order) if check_missing else []
    notes: list[str] = []
    if stops:
        notes.append(f"{stops[0]}; stopped early: results cover the cases run so far")
    if interrupted:
        notes.append(f"interrupted by the user: results cover {len(results['cases'])} of "
                     f"{len(order) if check_missing else 'the selected'} cases")
    elif lost and not stops:
        codes = f" (worker exit codes {', '.join(map(str, exit_codes))})" if exit_codes else ""
        notes.append(f"{len(lost)} case(s) have no result: a worker ended early{codes}")
    if notes:
        results["notes"] = [*results.get("notes", []), *notes]
    results["interrupted"] = bool(results.get("interrupted") or interrupted)
    results["duration_s"] = round(_monotonic() - since, 3)
    out = Path(options.report_dir) / "results.json"
    write_results(results, out)
    results = load_results(out)
    render_results(results, options.report_dir)
    code = exit_code_for(results)
    if options.expectations:
        results, code = _apply_expectations(options, results, out)
    if lost and not interrupted and not stops:
        code = max(code, EXIT_UNEXPECTED)
    if stops and not interrupted:
        code = EXIT_UNREACHABLE
    return results, code


def _empty(options, started: str | None) -> dict[str, Any]:
    """Results with no case (every worker failed before its first): still a valid results.json."""
    from conformance import __version__
    from conformance.report.results import SCHEMA_VERSION, refresh_derived

    return refresh_derived({"schema_version": SCHEMA_VERSION, "target": {"name": None, "adapter": None, "version": None,
                                                             "endpoint": None},
                            "edition": options.edition, "strictness": options.strictness, "seed": options.seed,
                            "suite_version": __version__, "started": started, "finished": None,
                            "requirements": [], "cases": []})


def _monotonic() -> float:
    import time

    return time.monotonic()


def _apply_expectations(options, results: dict[str, Any], out: Path) -> tuple[dict, int]:
    from conformance.report import expectations as ex
    from conformance.report.render import render_results
    from conformance.report.results import write_results

    if options.update_expectations:
        ex.write_expectations(results, options.expectations)
    results = ex.apply_expectations(results, ex.load_expectations(options.expectations))
    write_results(results, out)
    render_results(results, options.report_dir)
    return results, ex.exit_code(results)


def _worker_main(options, cases: list[Case], prefix: str, parent, events) -> None:
    """One worker (a forked process): the run's loop over its cases, results.json only (no reports)."""
    from conformance.runner.session import RunSession

    os.setpgrp()  # a terminal's Ctrl-C reaches the parent alone, which passes it on once (run_parallel)

    session = RunSession(options)
    session.prefix = prefix
    session.model, session.requirements, session.selected = parent.model, parent.requirements, parent.selected
    notes: list[str] = []
    interrupted = False
    try:
        session.open()
        session.start_results()
        done = 0
        try:
            for case in cases:
                result = session.run_case(case)
                done += 1
                events.put(("case", result.id, str(getattr(result.verdict, "value", result.verdict))))
                stopped = session.health_stop()
                if stopped:
                    notes.append(f"{stopped}; stopped early: results cover the cases run so far")
                    events.put(("stopped", stopped))
                    break
        except KeyboardInterrupt:
            interrupted = True
        problem = session.cleanup()
        if problem:
            notes.append(problem)
        session.signals.phase = "reporting"
        extra: dict[str, Any] = {"interrupted": interrupted or session.signals.received}
        if notes:
            extra["notes"] = notes
        session.writer.finish(extra=extra)
    except Exception as exc:  # noqa: BLE001 - the parent reports the worker's missing cases
        from conformance.redact import scrub

        events.put(("stopped", scrub(f"worker {prefix}: {type(exc).__name__}: {exc}")))
    finally:
        session.close()
        events.close()
        events.join_thread()


def worker_count(options, config_workers: int | None) -> int:
    """--workers, else the config's run.workers, else 1."""
    return options.workers or config_workers or 1


def describe_partition(parts: Iterable[list[Case]]) -> str:
    return ", ".join(f"w{i + 1}: {len(p)}" for i, p in enumerate(parts))
