"""Report subcommands: `compare`, `render`, `dashboard`."""

from __future__ import annotations

import argparse

from conformance.errors import EXIT_OK, UsageError


def cmd_compare(args: argparse.Namespace) -> int:
    from conformance.report.compare import compare_files, print_comparison, write_comparison_html

    cmp = compare_files(args.a, args.b, args.strictness)
    print_comparison(cmp, show_all=args.all)
    if args.html:
        path = write_comparison_html(cmp, args.html)
        print(f"comparison: {path}")
    return cmp.exit_code


def cmd_render(args: argparse.Namespace) -> int:
    from conformance.report.render import render_all, render_combined_html

    if len(args.results) > 1 and not args.html:
        raise UsageError("several results files: give --html OUT to write their combined matrix")
    if len(args.results) == 1 and (args.out or not args.html):
        for name, path in render_all(args.results[0], args.out).items():
            print(f"{name}: {path}")
    if args.html:
        print(f"report.html: {render_combined_html(args.results, args.html, title=args.title)}")
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace) -> int:
    from conformance.runner.dashboard import cli_dashboard

    return cli_dashboard(args)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "compare",
        help="show where two runs' verdicts and observations differ (exit 1 on any verdict change or a "
        "difference beyond --strictness)",
        description="Compare two results.json files case by case: first every verdict change (a case whose "
        "verdict differs, or that one run lacks), then observation differences: status, error code, message "
        "and body (at JSON-path level), with ids and timestamps normalised. Exit 0 when no verdict changed "
        "and the observations are equal at the chosen strictness, 1 otherwise, 2 when an input cannot be read.",
    )
    p.add_argument("a", metavar="A", help="results.json (or its report folder) of the first run")
    p.add_argument("b", metavar="B", help="results.json (or its report folder) of the second run")
    p.add_argument("--strictness", choices=("code", "regex", "exact"), default=None,
                   help="which observation differences count: code (status/code), regex (+ message shape, "
                   "body structure), exact (+ message text, body values); default: A's strictness. "
                   "Verdict changes count at every strictness")
    p.add_argument("--html", metavar="OUT", help="also write the comparison as a self-contained HTML page")
    p.add_argument("--all", action="store_true", help="also list differences below the strictness")
    p.set_defaults(func=cmd_compare)

    p = subparsers.add_parser(
        "render",
        help="re-render junit.xml, report.md and report.html from results.json (or combine runs)",
        description="Re-render every format from a results.json. With several results files and --html, "
        "write one report.html whose matrix has a column per run.",
    )
    p.add_argument("results", nargs="+", metavar="RESULTS", help="results.json files or report folders")
    p.add_argument("--out", metavar="DIR", help="folder for the rendered files (default: next to results.json)")
    p.add_argument("--html", metavar="OUT", help="write a (combined) report.html to this path")
    p.add_argument("--title", help="title of the combined page")
    p.set_defaults(func=cmd_render)

    p = subparsers.add_parser(
        "dashboard",
        help="run the suite against every target that can run here and regenerate reports/",
    )
    p.add_argument("--out", metavar="DIR", default="reports", help="dashboard folder (default: reports)")
    p.add_argument("--targets", metavar="LIST", default=None,
                   help="comma-separated subset of targets (default: all that can run here)")
    p.set_defaults(func=cmd_dashboard)
