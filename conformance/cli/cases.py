"""`kms-conformance cases`: list the case ids of an edition, or show where one case is defined.

Generated cases (structural, protocol, auth) have ids no source line spells out, so
`--where ID` names the place the id is made: the innermost caller of `Case(...)`
that did not receive the id as an argument (a scenario's `scenario("<id>", ...)`
line, the structural generator's loop, the property collector).
"""

from __future__ import annotations

import argparse
import os
import sys
from types import FrameType
from typing import TYPE_CHECKING

from conformance import EDITIONS
from conformance.errors import EXIT_OK, UsageError

if TYPE_CHECKING:  # pragma: no cover
    from conformance.cases import Case


def _is_handed_the_id(frame: FrameType, case_id: str) -> bool:
    code = frame.f_code
    arg_names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
    return any(frame.f_locals.get(name) == case_id for name in arg_names)


def _definition_site(frame: FrameType | None, case_id: str) -> str:
    while frame is not None and _is_handed_the_id(frame, case_id):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    path = frame.f_code.co_filename
    shown = os.path.relpath(path) if path.startswith(os.getcwd() + os.sep) else path
    return f"{shown}:{frame.f_lineno}"


def collect_with_sites(edition: str) -> tuple[list[Case], dict[str, str]]:
    """The edition's cases and, per id, the file:line where it is made (watched with sys.setprofile)."""
    # Imported here, as the other command groups do: every `kms-conformance` start builds the parser.
    from conformance.cases import Case, collect_cases

    init_code = Case.__init__.__code__
    sites: dict[str, str] = {}

    def watch(frame: FrameType, event: str, _arg) -> None:
        if event == "call" and frame.f_code is init_code:
            case_id = frame.f_locals["id"]
            sites.setdefault(case_id, _definition_site(frame, case_id))

    previous = sys.getprofile()
    sys.setprofile(watch)
    try:
        cases = collect_cases(edition)
    finally:
        sys.setprofile(previous)
    return cases, sites


def cmd_cases(args: argparse.Namespace) -> int:
    from conformance.cases import collect_cases
    from conformance.runner.select import select_cases

    if args.where:
        cases, sites = collect_with_sites(args.edition)
        if args.where not in {c.id for c in cases}:
            raise UsageError(f"no case {args.where!r} in edition {args.edition} (list them: kms-conformance cases)")
        print(sites.get(args.where, "<unknown>"))
        return EXIT_OK
    for case in select_cases(collect_cases(args.edition), args.keyword):
        print(f"{case.id}\t{case.kind}\t{case.operation}\t{','.join(case.requirements)}")
    return EXIT_OK


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "cases",
        help="list case ids (id, kind, operation, requirements) or show where a case is defined",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--edition", choices=EDITIONS, default="current", help="contract edition (default: current)")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="select cases (the grammar of `run -k`)")
    p.add_argument("--where", metavar="CASE_ID", help="print file:line where CASE_ID is defined")
    p.set_defaults(func=cmd_cases)
