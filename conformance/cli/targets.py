"""`kms-conformance plan` and `kms-conformance cleanup`.

plan: what a run would do, without calling the target at all (nothing is
even opened): the cases in run order, their API calls, the connect /
disconnect cycles (a live connect can take 20 minutes) and the billable
resources involved. cleanup: remove the stores a crashed or interrupted run
left behind, from the cleanup ledger and, when that is gone, by the run
prefix in their names on the target itself.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from collections import Counter
from typing import Any, Iterable

from conformance import EDITIONS
from conformance.errors import EXIT_OK, EXIT_UNEXPECTED

BILLING_NOTE_HSM = ("CloudHSM: HSM-hours accrue for every HSM in the clusters the world names, for as long as "
                    "they exist; the suite creates and deletes no cluster or HSM")


def register(subparsers) -> None:
    p = subparsers.add_parser("plan", help="list what a run would do (cases, API calls, connect cycles, costs); "
                                           "calls nothing")
    _target_arguments(p)
    p.add_argument("--edition", choices=EDITIONS, default="current")
    p.add_argument("-k", dest="keyword", metavar="EXPR", help="select cases as `run -k` does")
    p.add_argument("--brief", action="store_true", help="groups and totals only, not every case")
    p.add_argument("--create-keys", action="store_true",
                   help="plan as `run --create-keys` would (live AWS: the key cases put keys into stores)")
    p.set_defaults(func=cmd_plan)

    c = subparsers.add_parser("cleanup", help="remove custom key stores a crashed run left (from the ledger)")
    _target_arguments(c)
    c.add_argument("--ledger-dir", metavar="DIR", default=None,
                   help="cleanup ledger folder (default: this target's folder in the per-user state directory, "
                        "$XDG_STATE_HOME/kms-conformance or ~/.local/state/kms-conformance, overridden by "
                        "$KMS_CONFORMANCE_STATE_DIR; also ./.kms-conformance/ledger when it exists)")
    c.add_argument("--run-prefix", metavar="PREFIX", default=None,
                   help="also remove the stores of this run found on the target by name (results.json "
                        "`run_prefix`); without it, every store the suite named, except on live AWS")
    c.add_argument("--no-scan", action="store_true",
                   help="only the ledger: do not look for the suite's stores on the target")
    c.add_argument("--allow-live", action="store_true",
                   help="required for live AWS (the aws adapter or any AWS service endpoint)")
    c.set_defaults(func=cmd_cleanup)


def _target_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="target config file (YAML)")
    p.add_argument("--target", metavar="NAME", help="reference | moto | endpoint | aws | replay")
    p.add_argument("--endpoint-url", metavar="URL", help="target URL (endpoint adapter)")


# ------------------------------------------------------------------------------------------ plan


def cmd_plan(args: argparse.Namespace) -> int:
    from conformance.targets.config import config_from_options

    config = config_from_options(target=args.target, config_path=args.config, endpoint_url=args.endpoint_url)
    cases = _collect(args.edition, args.keyword)
    for line in render_plan(config, cases, edition=args.edition, brief=args.brief,
                            create_keys=args.create_keys):
        print(line)
    from conformance.targets.keys_pending import planned_holds

    held = planned_holds(config)  # stores earlier runs left holding keys (read from the ledger, no call)
    if held:
        print("\nlineages in use (cleanup ledger):")
        for line in held:
            print(f"  - {line}")
    return EXIT_OK


def _collect(edition: str, keyword: str | None) -> list[Any]:
    from conformance.cases import collect_cases
    from conformance.runner.select import select_cases

    return select_cases(collect_cases(edition), keyword)


def case_calls(case: Any) -> tuple[str, ...]:
    return tuple(case.api_calls) or (case.operation,)


def keys_hold_line(config: Any, live: bool, create_keys: bool) -> str:
    """What the key cases leave: on live AWS a store (and its cluster lineage) in use for the waiting period."""
    from datetime import datetime, timedelta, timezone

    until = (datetime.now(timezone.utc) + timedelta(days=7)).strftime("%Y-%m-%d")
    if live and not (create_keys or config.create_keys):
        return ("key cases: NOT_TRIGGERABLE on live AWS unless you opt in with --create-keys "
                "(or run.create_keys: true in the config)")
    if live:
        return (f"key cases: a store holding a key pending deletion, and its cluster lineage, stay in use until "
                f"about {until} (7-day waiting period; the key and the cluster's HSM-hours are billed meanwhile); "
                "in the cleanup ledger: `kms-conformance cleanup` deletes the store after that date")
    return (f"key cases: where the target cannot pass the waiting period itself (no clock or control surface) the "
            f"run leaves a store holding a key pending deletion until about {until}, in the cleanup ledger "
            "(`kms-conformance cleanup` deletes it after that date); otherwise the run finishes the deletion itself")


def render_plan(config: Any, cases: Iterable[Any], *, edition: str, brief: bool = False,
                create_keys: bool = False) -> list[str]:
    """The plan as lines of text (pure: no target is opened or called)."""
    from conformance.reference import default_world
    from conformance.runner.schedule import schedule_groups
    from conformance.targets.adapters import EMULATOR_TIMEOUTS, REFERENCE_TIMEOUTS
    from conformance.world import Timeouts

    from conformance.targets.live import is_live

    s = config.target
    world = config.world
    live = is_live(config)  # by destination, not by the adapter's name
    if not config.world_given and s.adapter in ("reference", "moto", "endpoint"):
        world = default_world()
    timeouts = config.world.timeouts if config.timeouts_given else (
        Timeouts() if live else REFERENCE_TIMEOUTS if s.adapter == "reference" else EMULATOR_TIMEOUTS)

    lines = [f"kms-conformance plan (edition {edition}) - no call is made to the target"]
    where = s.endpoint_url or ("AWS" if live else "in-process" if s.adapter in ("reference", "moto") else "-")
    lines.append(f"target: {s.adapter} at {where}, region {s.region}"
                 + ("  [LIVE AWS: `run` and `cleanup` need --allow-live]" if live else ""))

    runnable: list[Any] = []
    skipped: list[tuple[Any, list[str]]] = []
    for case in cases:
        missing = world.missing(case.needs_roles) if case.needs_roles else []
        (skipped.append((case, missing)) if missing else runnable.append(case))
    missing_roles = sorted({r for _, m in skipped for r in m})
    if missing_roles:
        lines.append(f"world roles missing: {', '.join(missing_roles)} -> {len(skipped)} case(s) SKIPPED")

    lines.append("")
    lines.append(f"run order ({len(runnable)} case(s), grouped to minimise connect/disconnect cycles):")
    calls: Counter[str] = Counter()
    total_cycles = 0
    for group, members in schedule_groups(runnable):
        cycles = sum(int(c.connect_cycles or 0) for c in members)
        group_calls = sum(len(case_calls(c)) for c in members)
        total_cycles += cycles
        lines.append(f"  [{group}] {len(members)} case(s), {group_calls} API call(s), {cycles} connect cycle(s)")
        for case in members:
            calls.update(case_calls(case))
            if not brief:
                cyc = f", {case.connect_cycles} cycle(s)" if case.connect_cycles else ""
                lines.append(f"    {case.id}: {', '.join(case_calls(case))}{cyc}")
    if skipped and not brief:
        lines.append("  skipped (world role missing):")
        for case, missing in skipped:
            lines.append(f"    {case.id}: needs {', '.join(missing)}")

    lines.append("")
    lines.append("totals:")
    lines.append(f"  API calls: {sum(calls.values())} ("
                 + ", ".join(f"{op} {n}" for op, n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])))
                 + ")")
    worst = total_cycles * (timeouts.connect_s + timeouts.disconnect_s)
    lines.append(f"  connect/disconnect cycles: {total_cycles} (worst case {worst / 60:.0f} min at "
                 f"connect {timeouts.connect_s:g} s + disconnect {timeouts.disconnect_s:g} s each)")
    stores = calls.get("CreateCustomKeyStore", 0)
    keys = calls.get("CreateKey", 0)
    lines.append("billable resources:")
    clusters = [getattr(world, r) for r in ("active_cluster_id", "related_cluster_id", "unrelated_cluster_id",
                                             "inactive_cluster_id", "invalid_config_cluster_id")
                if getattr(world, r, None)]
    lines.append(f"  - {BILLING_NOTE_HSM} ({len(clusters)} cluster(s) named: {', '.join(clusters) or 'none'})")
    lines.append(f"  - custom key stores: {stores} CreateCustomKeyStore call(s); every store created is "
                 "deleted again (run-prefixed names, kept in the cleanup ledger)")
    lines.append(f"  - KMS keys in the CloudHSM store: {keys} CreateKey call(s); each key is billed until "
                 "deleted and is scheduled for deletion (7-day minimum waiting period)")
    if keys:
        lines.append(f"  - {keys_hold_line(config, live, create_keys)}")
    lines.append(f"  - KMS API requests: {sum(calls.values())} (plus Describe polls while waiting for states)")
    return lines


# ------------------------------------------------------------------------------------------ cleanup


def cmd_cleanup(args: argparse.Namespace) -> int:
    from conformance.targets.adapters import open_target
    from conformance.targets.config import config_from_options
    from conformance.targets.driving import CleanupOutcome, cleanup_ledger, target_fingerprint
    from conformance.targets.ledger import DEFAULT_LEDGER_DIR, ledger_dir_for
    from conformance.targets.live import is_live
    from conformance.targets.sweep import SweepError, run_prefix_of, suite_stores, sweep_stores

    config = config_from_options(target=args.target, config_path=args.config, endpoint_url=args.endpoint_url)
    live = is_live(config)
    target = open_target(config, allow_live=args.allow_live)  # refuses live AWS without --allow-live
    outcome = CleanupOutcome()
    unlisted: list[dict] = []
    try:
        if args.ledger_dir:
            dirs = [Path(args.ledger_dir)]
        else:  # the per-user state folder of this target; also the folder older versions used (cwd)
            dirs = [ledger_dir_for(target_fingerprint(target))]
            dirs += [DEFAULT_LEDGER_DIR] if DEFAULT_LEDGER_DIR.is_dir() else []
        for ledger_dir in dirs:
            found = cleanup_ledger(target, ledger_dir)
            outcome.removed += found.removed
            outcome.left += found.left
        if not args.no_scan:
            try:
                stores = suite_stores(target, args.run_prefix)
            except SweepError as exc:
                outcome.left.append(f"(scan of the target) {exc}")
                stores = []
            # One line per store: those the ledger step could not remove (e.g. a key pending deletion) say why there.
            stores = [e for e in stores if not any(str(e.get("CustomKeyStoreId")) in line for line in outcome.left)]
            if live and not args.run_prefix:
                unlisted = stores  # a shared account may hold another run in progress: name the run
            elif stores:
                found = sweep_stores(target, dirs[0], stores)
                outcome.removed += found.removed
                outcome.left += found.left
    finally:
        target.close()
    for line in outcome.removed:
        print(f"removed {line}")
    for line in outcome.left:
        print(f"LEFT    {line}")
    for entry in unlisted:
        print(f"FOUND   {entry.get('CustomKeyStoreName')} ({entry.get('CustomKeyStoreId')}): not in a ledger; on "
              f"live AWS remove it with --run-prefix {run_prefix_of(entry.get('CustomKeyStoreName') or '')}")
    if not outcome.removed and not outcome.left and not unlisted:
        print("nothing to clean up: no outstanding store for this target in the ledger"
              + ("" if args.no_scan else " or on the target"))
    return EXIT_OK if outcome.ok and not unlisted else EXIT_UNEXPECTED  # stores remain: say so in the exit code
