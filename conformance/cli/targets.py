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
from conformance.errors import EXIT_OK, EXIT_UNEXPECTED, UsageError

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
    p.add_argument("--state-phases", choices=("auto", "on", "off"), default=None,
                   help="plan the order `run --state-phases` would use (default: the config's run.state_phases, "
                        "else auto)")
    p.add_argument("--stateful-transitions", type=int, default=None, metavar="N",
                   help="connects + disconnects the stateful run may make, as `run --stateful-transitions`")
    p.set_defaults(func=cmd_plan)

    c = subparsers.add_parser("cleanup", help="remove custom key stores a crashed run left (from the ledger) "
                                              "and schedule the deletion of its model-wide keys")
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
    if args.stateful_transitions is not None and args.stateful_transitions < 0:
        raise UsageError("--stateful-transitions must be >= 0")
    for line in render_plan(config, cases, edition=args.edition, brief=args.brief, create_keys=args.create_keys,
                            state_phases=args.state_phases, stateful_transitions=args.stateful_transitions):
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


# What a plan assumes for its estimates (said in its output).
CALL_ESTIMATE_S = 0.1  # one API call that is not a connect or disconnect
# HSMs in each named cluster: two active HSMs in two AZs where a store must connect or a related
# cluster must be usable, one in the clusters that stand for "not active" / "one HSM only".
HSMS_PER_CLUSTER = {"active_cluster_id": 2, "related_cluster_id": 2, "unrelated_cluster_id": 2,
                    "inactive_cluster_id": 1, "invalid_config_cluster_id": 1}
# Cases that put a key in a store: on live AWS they end NOT_TRIGGERABLE before making one (the key's
# deletion waits 7-30 days) unless the run opts in with --create-keys / run.create_keys.
KEY_GROUP = "with-keys"
# External key store cases are tagged so; those that may leave a key in a store all refuse (NOT_TRIGGERABLE)
# before they make their store on live AWS without --create-keys, as the KEY_GROUP cases do, though they keep
# the connect group (their stores hold no cluster lineage).
XKS_TAG = "xks"


def needs_a_key(case: Any) -> bool:
    """Whether the case puts a KMS key in a store (on live AWS NOT_TRIGGERABLE unless the run opts in)."""
    from conformance.cases.scenarios.kit import MAY_LEAVE_KEY

    return case.schedule_group == KEY_GROUP or (XKS_TAG in case.tags and MAY_LEAVE_KEY in case.tags)


def plan_phases(mode: str, config: Any, live: bool) -> tuple[bool | None, str]:
    """What `run` would decide about state phases, as far as a plan can know without calling the target."""
    from conformance.runner.schedule import decide_phases

    s = config.target
    if mode != "auto" or live:
        return decide_phases(mode, live=live, clock=False, observable=True, transition_s=None,
                             connect_timeout_s=None)
    if s.adapter in ("reference", "moto") and not s.endpoint_url:
        return decide_phases(mode, live=False, clock=s.adapter == "reference", observable=s.adapter == "reference",
                             transition_s=None, connect_timeout_s=None)
    timeout = config.world.timeouts.connect_s if config.timeouts_given else None
    on, why = decide_phases(mode, live=False, clock=False, observable=True, transition_s=None,
                            connect_timeout_s=timeout)
    if on:
        return on, why
    return None, "auto: decided when the run starts, by how long the transition probe's connect takes"


def case_cost(case: Any, *, live: bool, stateful_budget: int | None, create_keys: bool = False) -> tuple[int, int]:
    """(connects, disconnects) a case costs when it runs on its own store."""
    if case.kind == "stateful" and stateful_budget is not None:
        cycles = min(int(case.connect_cycles or 0), (stateful_budget + 1) // 2)
        return cycles, cycles
    if live and not create_keys and needs_a_key(case):
        return 0, 0
    cycles = int(case.connect_cycles or 0)
    return cycles, cycles


def render_plan(config: Any, cases: Iterable[Any], *, edition: str, brief: bool = False, create_keys: bool = False,
                state_phases: str | None = None, stateful_transitions: int | None = None) -> list[str]:
    """The plan as lines of text (pure: no target is opened or called)."""
    from conformance.cases.scenarios.kit import phase_state
    from conformance.reference import default_world
    from conformance.runner.schedule import PHASE_ORDER, order_cases, phased_groups, schedule_groups, \
        stateful_transitions as stateful_budget_for, tour_transitions
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
    mode = state_phases or config.run.get("state_phases") or "auto"
    phased, phases_why = plan_phases(mode, config, live)
    given_budget = stateful_transitions if stateful_transitions is not None else config.run.get("stateful_transitions")
    budget = stateful_budget_for(given_budget, live=live, slow=bool(phased))

    lines = [f"kms-conformance plan (edition {edition}) - no call is made to the target"]
    where = s.endpoint_url or ("AWS" if live else "in-process" if s.adapter in ("reference", "moto") else "-")
    lines.append(f"target: {s.adapter} at {where}, region {s.region}"
                 + ("  [LIVE AWS: `run` and `cleanup` need --allow-live]" if live else ""))
    state = {True: "on", False: "off", None: "auto"}[phased]
    lines.append(f"state phases: {state} ({phases_why}); set with --state-phases auto|on|off or the config's "
                 "run.state_phases")
    if budget == 0:
        lines.append("stateful run: its connect/disconnect rules are off here (stateful_transitions 0"
                     + (", the default on live AWS" if given_budget is None else "") + "); enable them with "
                     "--stateful-transitions N or run.stateful_transitions: N (each transition costs up to "
                     f"{timeouts.connect_s:g} s)")
    elif budget is not None:
        lines.append(f"stateful run: at most {budget} connect/disconnect transition(s) (--stateful-transitions, "
                     "run.stateful_transitions)")

    runnable: list[Any] = []
    skipped: list[tuple[Any, list[str]]] = []
    from conformance.world import XKS_ROLES

    # The in-process reference serves its own XKS proxy double and names it in world.xks when it opens.
    own_proxy = s.adapter == "reference" and not s.endpoint_url
    no_xks = not own_proxy and len(world.missing(XKS_ROLES)) == len(XKS_ROLES)
    for case in cases:
        missing = world.missing(case.needs_roles) if case.needs_roles else []
        if not missing and no_xks and XKS_TAG in case.tags and case.connect_cycles:
            # XKS cases check their roles as they run; every one that makes a store needs some world.xks role.
            missing = ["world.xks"]
        (skipped.append((case, missing)) if missing else runnable.append(case))
    missing_roles = sorted({r for _, m in skipped for r in m})
    if missing_roles:
        lines.append(f"world roles missing: {', '.join(missing_roles)} -> {len(skipped)} case(s) SKIPPED")

    def is_member(case: Any) -> bool:
        return phase_state(case) in PHASE_ORDER

    tour = {id(c): (cn, dn) for c, cn, dn in tour_transitions([c for c in order_cases(runnable, phased=True)
                                                                if is_member(c)])}

    def cost(case: Any, in_phases: bool) -> tuple[int, int]:
        if in_phases and is_member(case):
            return tour[id(case)]
        return case_cost(case, live=live, stateful_budget=budget, create_keys=create_keys or config.create_keys)

    use_phases = phased is not False
    lines.append("")
    blocks = phased_groups(runnable) if use_phases else schedule_groups(runnable)
    lines.append(f"run order ({len(runnable)} case(s), "
                 + ("state groups as one tour of shared stores" + (" if the probe finds the target slow"
                                                                     if phased is None else "")
                    if use_phases else "grouped to minimise connect/disconnect cycles") + "):")
    calls: Counter[str] = Counter()
    for group, members in blocks:
        cycles = sum(cost(c, use_phases)[0] for c in members)
        group_calls = sum(len(case_calls(c)) for c in members)
        lines.append(f"  [{group}] {len(members)} case(s), {group_calls} API call(s), {cycles} connect cycle(s)")
        for case in members:
            calls.update(case_calls(case))
            if not brief:
                own = cost(case, use_phases)[0]
                cyc = f", {own} cycle(s)" if own else ""
                lines.append(f"    {case.id}: {', '.join(case_calls(case))}{cyc}")
    if skipped and not brief:
        lines.append("  skipped (world role missing):")
        for case, missing in skipped:
            lines.append(f"    {case.id}: needs {', '.join(missing)}")

    total_calls = sum(calls.values())
    lines.append("")
    lines.append("totals:")
    lines.append(f"  API calls: {total_calls} ("
                 + ", ".join(f"{op} {n}" for op, n in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0])))
                 + ")")
    hsms = sum(n for role, n in HSMS_PER_CLUSTER.items() if getattr(world, role, None))

    def estimate(in_phases: bool) -> tuple[int, float, float]:
        connects = disconnects = 0
        for case in runnable:
            cn, dn = cost(case, in_phases)
            connects, disconnects = connects + cn, disconnects + dn
        wall_s = connects * timeouts.connect_s + disconnects * timeouts.disconnect_s + total_calls * CALL_ESTIMATE_S
        return connects, wall_s, hsms * wall_s / 3600

    chosen = estimate(use_phases)
    naive = estimate(False)
    xks_cycles = sum(cost(c, use_phases)[0] for c in runnable if XKS_TAG in c.tags)
    xks_note = f"; {xks_cycles} of them external key stores, which use no HSM" if xks_cycles else ""
    lines.append(f"  connect/disconnect cycles: {chosen[0]}{xks_note} (worst case {chosen[1] / 60:.0f} min at "
                 f"connect {timeouts.connect_s:g} s + disconnect {timeouts.disconnect_s:g} s each, plus "
                 f"{CALL_ESTIMATE_S:g} s per other API call)")
    lines.append("  cost by order             cycles   wall time (worst case)   billable HSM-hours")
    for label, (cycles, wall_s, hsm_h) in (("phased (state phases)", estimate(True)), ("naive (no phases)", naive)):
        mark = "  <- this run" if (label.startswith("phased") == use_phases) else ""
        lines.append(f"    {label:<22} {cycles:>6}   {_duration(wall_s):>22}   {hsm_h:>18.1f}{mark}")
    lines.append(f"  (a cycle is one connect, successful or failed, and the disconnect after it; HSM-hours: {hsms} "
                 f"HSM(s) assumed in the clusters named - 2 in active/related/unrelated, 1 in inactive and "
                 f"invalid-config - times the wall time; "
                 + ("cases that need a key in a store end NOT_TRIGGERABLE before making one on live AWS unless "
                    "the run sets --create-keys / run.create_keys; " if live else "")
                 + "the transition probe of endpoint targets adds one cycle)")
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
    lines.append(f"  - KMS API requests: {total_calls} (plus Describe polls while waiting for states)")
    return lines


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


# ------------------------------------------------------------------------------------------ cleanup


def cmd_cleanup(args: argparse.Namespace) -> int:
    from conformance.targets.adapters import open_target
    from conformance.targets.config import config_from_options
    from conformance.targets.driving import CleanupOutcome, cleanup_ledger, target_fingerprint
    from conformance.targets.ledger import DEFAULT_LEDGER_DIR, ledger_dir_for
    from conformance.targets.live import is_live
    from conformance.targets.sweep import SweepError, cleanup_keys, run_prefix_of, suite_stores, sweep_stores

    config = config_from_options(target=args.target, config_path=args.config, endpoint_url=args.endpoint_url)
    live = is_live(config)
    target = open_target(config, allow_live=args.allow_live)  # refuses live AWS without --allow-live
    outcome = CleanupOutcome()
    keys = CleanupOutcome()  # KMS keys a model-wide run made (ledger only: never looked for on the target)
    unlisted: list[dict] = []
    try:
        if args.ledger_dir:
            dirs = [Path(args.ledger_dir)]
        else:  # the per-user state folder of this target; also the folder older versions used (cwd)
            dirs = [ledger_dir_for(target_fingerprint(target))]
            dirs += [DEFAULT_LEDGER_DIR] if DEFAULT_LEDGER_DIR.is_dir() else []
        for ledger_dir in dirs:
            found = cleanup_keys(target, ledger_dir)
            keys.removed += found.removed
            keys.left += found.left
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
    for line in keys.removed:
        print(f"key     {line.removeprefix('key ')}")
    for line in outcome.removed:
        print(f"removed {line}")
    for line in keys.left + outcome.left:
        print(f"LEFT    {line}")
    for entry in unlisted:
        print(f"FOUND   {entry.get('CustomKeyStoreName')} ({entry.get('CustomKeyStoreId')}): not in a ledger; on "
              f"live AWS remove it with --run-prefix {run_prefix_of(entry.get('CustomKeyStoreName') or '')}")
    if not outcome.removed and not outcome.left and not keys.removed and not keys.left and not unlisted:
        print("nothing to clean up: no outstanding store or key for this target in the ledger"
              + ("" if args.no_scan else ", no suite store on the target"))
    # Stores or keys remain: say so in the exit code.
    return EXIT_OK if outcome.ok and keys.ok and not unlisted else EXIT_UNEXPECTED
