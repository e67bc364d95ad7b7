"""`kms-conformance run`: the main job. With no options it runs every case against the
in-process reference target and writes the report to ./kms-conformance-report."""

from __future__ import annotations

import argparse

from conformance.runner.options import add_cli_arguments, options_from_cli


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.runner.run import run_suite

    return run_suite(options_from_cli(args)).exit_code


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the conformance suite against a target and write the report",
        description=__doc__,
    )
    add_cli_arguments(p)
    p.set_defaults(func=cmd_run)
