"""`kms-conformance`: a thin dispatcher over one module per command group (the CLI layer).

Any ConformanceError becomes one line on stderr and its exit code; nothing
else the user did wrong should ever print a traceback.
"""

from __future__ import annotations

import argparse
import sys

from conformance import __version__
from conformance.errors import EXIT_INTERRUPTED, EXIT_USAGE, ConformanceError
from conformance.redact import scrub

from conformance.cli import adequacy, cases, report, run, serve, spec, targets, xks

# Command groups, in help order; each has `register(subparsers)`.
COMMAND_GROUPS = (
    spec,  # spec sync | diff | requirements | openapi
    serve,  # serve
    xks,  # xks-proxy
    targets,  # plan | cleanup
    run,  # run
    cases,  # cases [--where ID]
    report,  # compare | dashboard | render
    adequacy,  # adequacy
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kms-conformance",
        description="Conformance suite for the AWS KMS custom key store API.",
    )
    parser.add_argument("--version", action="version", version=f"kms-conformance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args) or 0)
    except ConformanceError as exc:
        print(f"kms-conformance: {scrub(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM / SIGHUP while a run is open (runner/signals.py)
        signum = getattr(exc, "signum", None)
        print(f"kms-conformance: interrupted{f' ({exc})' if signum else ''}", file=sys.stderr)
        return 128 + signum if signum else EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into `head` and friends: stop quietly, as Unix tools do.
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
