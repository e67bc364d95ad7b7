"""`kms-conformance adequacy`: run the suite once per seeded fault of the reference and say which it detects.

Exit 0 when every fault (of the edition) is detected, 1 when one goes undetected (or its run
failed), 2 for bad input, 3 when the reference cannot run the selection even without a fault,
130 when interrupted (the report then covers the faults that finished).
"""

from __future__ import annotations

import argparse
import os
import sys

from conformance.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNEXPECTED
from conformance.runner.options import OPTIONS, RunOptions

DEFAULT_REPORT_DIR = "./kms-conformance-adequacy"
# The run options that mean the same here as for `kms-conformance run` (same flags, same help).
_SHARED = ("edition", "strictness", "keyword", "seed")


def _default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "adequacy",
        help="run the suite once per seeded fault of the reference emulator; exit 1 if a fault goes undetected",
        description=__doc__,
    )
    for option in OPTIONS:
        if option.field in _SHARED:
            p.add_argument(*option.flags, **option.argparse_kwargs(option.field))
    p.add_argument("--fault", dest="faults", action="append", metavar="NAME", default=None,
                   help="run only this fault (repeatable; default: every fault, `kms-conformance serve --list-faults`)")
    p.add_argument("--jobs", type=_positive, default=None, metavar="N",
                   help=f"runs at once, in worker processes (default: the CPUs this process may use, here {_default_jobs()})")
    p.add_argument("--report-dir", default=DEFAULT_REPORT_DIR, metavar="DIR",
                   help=f"where adequacy.md, adequacy.json and each fault's results.json go (default: {DEFAULT_REPORT_DIR})")
    p.add_argument("--no-control", dest="control", action="store_false",
                   help="skip the run without faults (then every failure of a fault's run counts as the fault's)")
    p.set_defaults(func=cmd_adequacy)


def _progress_line(outcome, done: int, total: int) -> None:
    if not outcome.applies:
        what = "not of this edition (none of the requirements it breaks belongs to it)"
    elif outcome.problem:
        what = f"RUN FAILED: {outcome.problem}"
    elif outcome.detected:
        what = f"detected ({', '.join(outcome.shown)}) by {len(outcome.cases)} case(s)"
    else:
        what = "NOT DETECTED"
    print(f"[{done}/{total}] {outcome.fault}: {what} ({outcome.duration_s:.1f} s)", file=sys.stderr, flush=True)


def cmd_adequacy(args: argparse.Namespace) -> int:
    from conformance.runner import adequacy as ad

    faults = ad.select_faults(args.faults or ())
    jobs = min(args.jobs or _default_jobs(), max(1, len(faults)))
    options = RunOptions(edition=args.edition, strictness=args.strictness, keyword=args.keyword, seed=args.seed,
                         report_dir=args.report_dir, progress=False)
    plan = ad.prepare(options, args.report_dir)
    print(f"kms-conformance adequacy: {len(faults)} fault(s) x {len(plan.cases)} cases, edition {args.edition}, "
          f"{jobs} job(s){', plus a control run without faults' if args.control else ''}", file=sys.stderr, flush=True)
    result = ad.run_adequacy(plan, faults, jobs=jobs, control=args.control, progress=_progress_line)
    paths = ad.write_reports(result, args.report_dir)
    _print_table(result)
    print(f"kms-conformance adequacy: {ad.summary_line(result)}")
    if result.control_failing:
        print(f"kms-conformance adequacy: warning: without any fault, {len(result.control_failing)} case(s) do not "
              f"pass ({', '.join(result.control_failing[:5])}); their failures are not credited to any fault")
    print(f"report: {paths[ad.REPORT_MD]} and {paths[ad.REPORT_JSON]} (each fault's results.json in "
          f"{plan.report_dir / 'faults'})")
    if result.interrupted:
        print(f"kms-conformance: interrupted after {len(result.faults)} of {len(faults)} faults; partial report kept",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_UNEXPECTED if result.undetected else EXIT_OK


def _print_table(result) -> None:
    """Per fault: detected, by how many cases, the requirements shown failing (and what its breaks add)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="seeded faults", title_justify="left")
    table.add_column("fault", no_wrap=True)
    table.add_column("detected", no_wrap=True)
    table.add_column("cases", justify="right")
    table.add_column("requirements shown failing", overflow="fold")
    table.add_column("breaks, not shown", overflow="fold")
    for f in result.faults:
        if not f.applies:
            state = "n/a"
        elif f.problem:
            state = "[bold red]run failed[/]"
        else:
            state = "yes" if f.detected else "[bold red]NO[/]"
        shown = ", ".join(rid + ("" if rid in f.breaks else " (beyond)") for rid in f.shown)
        table.add_row(escape(f.fault), state, str(len(f.cases)), escape(shown), escape(", ".join(f.missed)))
    console = Console(width=None if sys.stdout.isatty() else 140)  # a CI log is wider than rich's 80 columns
    console.print(table)
    guarded = [r for r in result.requirements if r["faults"]]
    unguarded = [r["id"] for r in result.requirements if not r["faults"]]
    most = sorted(guarded, key=lambda r: (-len(r["faults"]), r["id"]))[:5]
    top = ", ".join(f"{r['id']} {len(r['faults'])}" for r in most)
    console.print(escape(f"requirements guarded by at least one fault: {len(guarded)} of {len(result.requirements)}"
                         + (f" (most faults: {top})" if most else "")),
                  highlight=False, soft_wrap=True)
    console.print(escape(f"guarded by no fault ({len(unguarded)}): {', '.join(unguarded)}"), highlight=False,
                  soft_wrap=True)

