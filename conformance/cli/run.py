"""`kms-conformance run`: the main job. With no options it runs every case against the
in-process reference target and writes the report to ./kms-conformance-report."""

from __future__ import annotations

import argparse

from conformance import EDITIONS
from conformance.runner.options import DEFAULT_REPORT_DIR, DEFAULT_STRICTNESS, RunOptions
from conformance.verdicts import STRICTNESS


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", metavar="NAME", help="adapter: reference (default), moto, endpoint, aws, replay")
    p.add_argument("--config", metavar="FILE", help="target config file (YAML: target + world)")
    p.add_argument("--endpoint-url", metavar="URL", help="URL of the target (implies --target endpoint)")
    p.add_argument("--edition", choices=EDITIONS, default="current", help="contract edition (default: current)")
    p.add_argument("--strictness", choices=STRICTNESS, default=DEFAULT_STRICTNESS,
                   help="code: error code+status; regex: plus message shape; exact: plus exact message "
                        f"(default: {DEFAULT_STRICTNESS})")
    p.add_argument("--report-dir", metavar="DIR", default=DEFAULT_REPORT_DIR, help=f"default: {DEFAULT_REPORT_DIR}")
    p.add_argument("-k", dest="keyword", metavar="EXPR",
                   help="select cases by id/kind/operation/requirement id (pytest -k grammar)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="seed for generated and Hypothesis cases (default 0)")
    p.add_argument("--fault", dest="faults", action="append", default=[], metavar="NAME",
                   help="seed a fault into the reference target (repeatable)")
    p.add_argument("--expectations", metavar="FILE", help="expected verdicts per case/requirement (YAML)")
    p.add_argument("--update-expectations", action="store_true", help="write --expectations FILE from this run")
    p.add_argument("--record", metavar="DIR", help="record every observation as a cassette in DIR")
    p.add_argument("--allow-live", action="store_true", help="allow the aws adapter to call real AWS")
    p.add_argument("--call-timeout", type=float, metavar="S", help="per-call timeout in seconds")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar or summary table")


def options_from_args(args: argparse.Namespace) -> RunOptions:
    return RunOptions(
        target=args.target,
        config=args.config,
        endpoint_url=args.endpoint_url,
        edition=args.edition,
        strictness=args.strictness,
        report_dir=args.report_dir,
        keyword=args.keyword,
        seed=args.seed,
        faults=tuple(args.faults or ()),
        expectations=args.expectations,
        update_expectations=args.update_expectations,
        record=args.record,
        allow_live=args.allow_live,
        call_timeout=args.call_timeout,
        progress=args.progress,
    )


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.runner.run import run_suite

    return run_suite(options_from_args(args)).exit_code


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "run",
        help="run the conformance suite against a target and write the report",
        description=__doc__,
    )
    add_run_arguments(p)
    p.set_defaults(func=cmd_run)
