"""`run_suite(options) -> RunOutcome`: the whole run, as `kms-conformance run` does it.

Exit codes: 0 no unexpected result, 1 unexpected failures, 2 usage/config error
(raised as UsageError/ConfigError; also -k/--case selecting no case), 3 target
unreachable (TargetUnreachable), 130 interrupted (results so far are kept and
stores cleaned up).
"""

from __future__ import annotations

import sys
from contextlib import nullcontext

from conformance.errors import EXIT_UNREACHABLE
from conformance.report.reachability import summary_line as ledger_line
from conformance.report.terminal import Progress, print_summary
from conformance.runner.options import RunOptions
from conformance.runner.session import RunOutcome, RunSession


def _progress(total: int, enabled: bool):
    return Progress(total) if enabled else nullcontext(None)


def _print_summary(outcome: RunOutcome, enabled: bool) -> None:
    """The summary table; with --no-progress one line, so CI logs still say what happened."""
    if enabled:
        print_summary(outcome.results, report_dir=outcome.report_dir)
        return
    print(outcome.summary_line(), file=sys.stderr)
    if outcome.results.get("reachability"):
        print(f"kms-conformance: {ledger_line(outcome.results['reachability'])}", file=sys.stderr)


def run_suite(options: RunOptions) -> RunOutcome:
    """Run the selected cases against the target and write the report; see module doc."""
    session = RunSession(options)
    session.load_spec()
    cases = session.collect()  # -k/--case selecting nothing is a UsageError (exit 2) here
    workers = options.workers or session.target_config().run_workers or 1
    if workers > 1 and len(cases) > 1:
        return _run_in_workers(session, cases, workers)
    interrupted = False
    stopped: str | None = None
    notes: list[str] = []
    done = 0
    try:
        session.open()
        cases = session.schedule(cases)  # state phases, where the target is slow (decided once it is open)
        session.start_results()
        with _progress(len(cases), options.progress) as bar:
            try:
                for case in [*cases, None]:
                    if bar is not None and case is not None:
                        bar.start_case(case.id)
                    # A case holding a shared store for its phase comes back when its phase is over.
                    for result in session.run_scheduled(case) if case is not None else session.finish_held():
                        done += 1
                        if bar is not None:
                            bar.advance(result)
                    stopped = session.health_stop()
                    if stopped:
                        notes.append(f"{stopped}; stopped early: results cover the cases run so far")
                        break
            except KeyboardInterrupt:
                interrupted = True
                notes.append(f"interrupted by the user: results cover {done} of {len(cases)} cases")
        problem = session.cleanup()
        if problem:
            notes.append(problem)
            print(f"kms-conformance: {problem}", file=sys.stderr)
        outcome = session.finish(interrupted=interrupted, notes=notes)
        if stopped and not interrupted:
            outcome.exit_code = EXIT_UNREACHABLE
    finally:
        session.close()
    _print_summary(outcome, options.progress)
    if stopped:
        print(f"kms-conformance: {stopped}; stopped early, partial results kept", file=sys.stderr)
    if interrupted:
        print(f"kms-conformance: interrupted after {done} of {len(cases)} cases; partial results kept in "
              f"{outcome.report_dir}", file=sys.stderr)
    return outcome


def _run_in_workers(session: RunSession, cases: list, workers: int) -> RunOutcome:
    """`--workers N` (runner/workers.py): the same outcome, summary and messages as one process."""
    from conformance.runner.workers import run_parallel

    try:
        outcome, stops = run_parallel(session, cases, workers, progress=session.options.progress)
    finally:
        session.close()
    _print_summary(outcome, session.options.progress)
    if stops:
        print(f"kms-conformance: {stops[0]}; stopped early, partial results kept", file=sys.stderr)
    if outcome.interrupted:
        done = len(outcome.results.get("cases") or ())
        print(f"kms-conformance: interrupted after {done} of {len(cases)} cases; partial results kept in "
              f"{outcome.report_dir}", file=sys.stderr)
    return outcome
