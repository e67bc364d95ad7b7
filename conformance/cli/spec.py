"""`kms-conformance spec ...`: sync, diff, openapi, requirements."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from conformance.errors import EXIT_OK, EXIT_UNEXPECTED, UsageError


def _edition_arg(value: str) -> str:
    from conformance.spec.editions import known_editions

    if value not in known_editions():
        raise argparse.ArgumentTypeError(f"unknown edition {value!r} (known: {', '.join(known_editions())})")
    return value


def register(subparsers) -> None:
    spec = subparsers.add_parser("spec", help="the model slice, editions, OpenAPI and the requirement catalogue")
    sub = spec.add_subparsers(dest="spec_command", metavar="SPEC_COMMAND")
    spec.set_defaults(func=lambda args: (spec.print_help(sys.stderr), 2)[1])

    p = sub.add_parser("sync", help="regenerate the checkout's specs/kms-custom-key-stores.json from a model")
    p.add_argument("--source", default="botocore", help="botocore (default), smithy, or a model file path")
    p.add_argument("--check", action="store_true", help="only compare; exit 1 with a diff summary if they disagree")
    p.add_argument("--out", type=Path, default=None,
                   help="slice file (default: specs/kms-custom-key-stores.json of the source checkout)")
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("diff", help="every model and requirement difference between two editions")
    p.add_argument("old", type=_edition_arg, help="edition, e.g. 2019-12")
    p.add_argument("new", type=_edition_arg, help="edition, e.g. current")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--operation", action="append", default=None, help="limit to this operation (repeatable)")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("openapi", help="render the operations as an OpenAPI 3.1 document (for Schemathesis)")
    p.add_argument("--edition", type=_edition_arg, default="current")
    p.add_argument("--operation", action="append", default=None, help="limit to this operation (repeatable)")
    p.add_argument("--out", type=Path, default=None, help="write here instead of stdout")
    p.set_defaults(func=cmd_openapi)

    p = sub.add_parser("requirements", help="list the requirement catalogue, or the cases citing one requirement")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--operation", default=None, metavar="OP")
    which.add_argument("--cases", default=None, metavar="ID", help="list the case ids citing requirement ID")
    p.add_argument("--edition", type=_edition_arg, default=None, metavar="E")
    p.add_argument("--format", choices=("table", "yaml", "json"), default="table")
    p.set_defaults(func=cmd_requirements)


def cmd_sync(args) -> int:
    from conformance.spec.slice import sync_slice

    result = sync_slice(source=args.source, path=args.out, check=args.check)
    if not result.changed:
        print(f"{result.path}: up to date")
        return EXIT_OK
    if args.check:
        changed = sum(1 for line in result.diff if line[:1] in "+-" and line[:3] not in ("+++", "---"))
        print(f"{result.path}: differs from a regeneration from {args.source} ({changed} changed lines)", file=sys.stderr)
        if result.semantic:
            print(f"model differences (committed -> regenerated), {len(result.semantic)}:", file=sys.stderr)
            for d in result.semantic[:40]:
                print(f"  {d.where}: {d.kind} {d.item}: {d.old} -> {d.new}", file=sys.stderr)
            if len(result.semantic) > 40:
                print(f"  ... {len(result.semantic) - 40} more", file=sys.stderr)
        print("text diff:", file=sys.stderr)
        for line in result.diff[:30]:
            print("  " + line, file=sys.stderr)
        if len(result.diff) > 30:
            print(f"  ... {len(result.diff) - 30} more diff lines", file=sys.stderr)
        print("run `kms-conformance spec sync` to update it", file=sys.stderr)
        return EXIT_UNEXPECTED
    print(f"{result.path}: regenerated from {args.source}")
    return EXIT_OK


def cmd_diff(args) -> int:
    from conformance.spec.diff import diff_models, render_diff_table, requirement_differences
    from conformance.spec.editions import edition_model

    diffs = diff_models(edition_model(args.old), edition_model(args.new), operations=args.operation)
    diffs += requirement_differences(args.old, args.new, operations=args.operation)
    if args.format == "json":
        print(json.dumps({"old": args.old, "new": args.new, "differences": [d.to_dict() for d in diffs]}, indent=1))
    else:
        render_diff_table(diffs, args.old, args.new)
    return EXIT_OK


def cmd_openapi(args) -> int:
    from conformance.spec.editions import edition_model
    from conformance.spec.openapi import render_openapi

    try:
        doc = render_openapi(edition_model(args.edition), operations=args.operation)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if args.out:
        try:
            args.out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {args.out}: {exc.strerror}") from None
        print(f"wrote {args.out} ({len(doc['paths'])} operations, edition {args.edition})")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_requirements(args) -> int:
    from conformance.spec.requirements import load_requirements

    if args.cases:
        return _list_citing_cases(args.cases, args.edition, args.format)
    reqs = load_requirements(edition=args.edition)
    if args.operation:
        known = sorted({r.operation for r in load_requirements()})
        if args.operation not in known:
            raise UsageError(f"no requirements for operation {args.operation!r} (known: {', '.join(known)})")
        reqs = [r for r in reqs if r.operation == args.operation]
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in reqs], indent=2, sort_keys=False))
    elif args.format == "yaml":
        import yaml

        print(yaml.safe_dump({"requirements": [r.to_dict() for r in reqs]}, sort_keys=False, allow_unicode=True), end="")
    else:
        _print_requirements_table(reqs, args.edition, args.operation)
    return EXIT_OK


def _list_citing_cases(requirement_id: str, edition: str | None, fmt: str) -> int:
    """The cases citing one requirement, per edition: where a reviewer checks what a requirement's verdict rests on."""
    from conformance import EDITIONS
    from conformance.cases import collect_cases
    from conformance.spec.requirements import by_id

    requirement = by_id().get(requirement_id)
    if requirement is None:
        raise UsageError(f"unknown requirement id {requirement_id!r} (see `kms-conformance spec requirements`)")
    citing: dict[str, list[str]] = {}  # case id -> editions, in collection order
    for e in [edition] if edition else EDITIONS:
        for case in collect_cases(e):
            if requirement_id in case.requirements:
                citing.setdefault(case.id, []).append(e)
    if fmt == "json":
        print(json.dumps({"requirement": requirement_id, "cases": [{"id": c, "editions": e} for c, e in citing.items()]}, indent=2))
    elif fmt == "yaml":
        import yaml

        print(yaml.safe_dump({"requirement": requirement_id, "cases": [{"id": c, "editions": e} for c, e in citing.items()]},
                             sort_keys=False), end="")
    else:
        scope = f" in edition {edition}" if edition else ""
        print(f"{requirement.id} ({requirement.operation}, {requirement.level}): {requirement.title}")
        print(f"{len(citing)} case(s) cite it{scope}:")
        for case_id, editions in citing.items():
            print(f"  {case_id}  [{', '.join(editions)}]")
    return EXIT_OK


def _expected_text(r) -> str:
    e = r.expected
    parts = []
    if "status" in e:
        parts.append(str(e["status"]))
    if "error_code" in e:
        parts.append(str(e["error_code"]))
    if "any_of" in e:
        parts.append("one of " + " | ".join(json.dumps(a, sort_keys=True) for a in e["any_of"]))
    if "constraint" in e:
        member = e.get("member", "")
        parts.append(f"[{e['constraint']}{' ' + member if member else ''}]")
    if "effect" in e:
        parts.append(f"— {e['effect']}")
    return " ".join(parts) or json.dumps(e, sort_keys=True)


def _print_requirements_table(reqs, edition: str | None, operation: str | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from conformance import EDITIONS
    from conformance.spec.requirements import counts

    console = Console()
    if not console.is_terminal:  # piped/redirected: rich would squeeze into 80 columns
        console = Console(width=180)
    scope = ", ".join(x for x in (operation, f"edition {edition}" if edition else None) if x)
    table = Table(title=escape(f"Requirements ({len(reqs)}{': ' + scope if scope else ''})"), show_lines=False)
    table.add_column("id", no_wrap=True)
    table.add_column("operation", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("editions", no_wrap=True)
    table.add_column("requirement / expected", ratio=3, overflow="fold")
    table.add_column("source", ratio=1, overflow="fold")
    for r in reqs:
        expected = _expected_text(r)
        if r.not_triggerable:
            expected += " (not triggerable)"
        if r.deferred:
            expected += " (deferred)"
        editions = "both" if set(r.editions) == set(EDITIONS) else ",".join(r.editions)
        # Catalogue text is data, not markup: escape it (a pattern's [a-z] would vanish otherwise).
        table.add_row(escape(r.id), escape(r.operation), r.level, editions,
                      f"{escape(r.title)}\n[dim]{escape(expected)}[/dim]", escape(str(r.source)))
    console.print(table)
    summary = counts(reqs)
    console.print(
        "per operation: "
        + "; ".join(f"{op} {c['MUST']} MUST / {c['SHOULD']} SHOULD" for op, c in summary.items())
    )
