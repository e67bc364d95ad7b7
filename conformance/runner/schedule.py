"""Case order: group cases by `schedule_group` so a live run needs few connect/disconnect cycles.

On real AWS a connect takes up to 20 minutes, so cases sharing a group run back to
back and groups that connect nothing come first. Groups that need no store holding
the active cluster's lineage (`lineage-free`: Create errors that a store in the
lineage would turn into CloudHsmClusterInUseException) run before anything creates one.
Inside a group the collection order is kept (it is stable and meaningful).

Cases whose wrong success can leave a KMS key in a store (tag MAY_LEAVE_KEY) run after
everything else: such a store cannot be deleted for the key's 7-30 day waiting period and
holds its cluster lineage meanwhile, so only cases after it could suffer from it.

With state phases (`phased=True`, for live and slow targets) the state groups run last but
for that tail, as one tour of one shared store (kit.PhaseStores): CONNECTING, CONNECTED,
DISCONNECTING, FAILED. Inside a phase, cases that keep the state come first, those that may
leave a key next, and those that move the store on (tag `leaves:STATE`) last, the one that
leaves it where the next phase needs it at the very end: one connect serves every "while
CONNECTING" and "while CONNECTED" case, one disconnect every "while DISCONNECTING" case,
one failed connect every "while FAILED" case.
"""

from __future__ import annotations

from typing import Iterable

from conformance.cases.base import Case
from conformance.cases.scenarios.kit import MAY_LEAVE_KEY, entered_state, left_state, phase_state

# How `plan` names a group of the tail that runs last because it may leave a key in a store.
LAST_SUFFIX = " (last: may leave a key)"
# Known groups, earliest first; unknown groups follow, alphabetically, then connecting ones.
GROUP_ORDER = (
    "lineage-free",  # no store may hold the active lineage yet
    "stateless",  # no store at all (generated cases)
    "disconnected",  # stores that never connect
    "stores",
    "two-stores",
    "limit",
    "connect",  # connect/disconnect cycles from here on
    "state-connecting",
    "state-connected",
    "state-disconnecting",
    "state-failed",
)


def _rank(group: str) -> tuple[int, str]:
    if group in GROUP_ORDER:
        return GROUP_ORDER.index(group), group
    connects = any(w in group for w in ("connect", "state-", "failed"))
    return (len(GROUP_ORDER) + (1 if connects else 0)), group


# The state phases in tour order: the store goes DISCONNECTED -> CONNECTING -> CONNECTED ->
# DISCONNECTING -> DISCONNECTED -> (wrong password) FAILED.
PHASE_ORDER = ("CONNECTING", "CONNECTED", "DISCONNECTING", "FAILED")
# How `plan` names a state phase's block.
PHASE_PREFIX = "phase "


def order_cases(cases: Iterable[Case], *, phased: bool = False) -> list[Case]:
    """Cases grouped by schedule group (stable inside a group); those that may leave a key last.

    `phased`: the state groups form one tour of phases just before that tail (module doc).
    """
    indexed = list(enumerate(cases))
    indexed.sort(key=lambda ic: (MAY_LEAVE_KEY in ic[1].tags, _rank(ic[1].schedule_group or "stateless"), ic[0]))
    ordered = [c for _, c in indexed]
    if not phased:
        return ordered
    members = [c for c in ordered if phase_state(c) in PHASE_ORDER]
    others = [c for c in ordered if phase_state(c) not in PHASE_ORDER]
    head = [c for c in others if MAY_LEAVE_KEY not in c.tags]
    tail = [c for c in others if MAY_LEAVE_KEY in c.tags]
    return head + phase_tour(members) + tail


def phase_tour(members: Iterable[Case]) -> list[Case]:
    """State-phase cases in phase order. Inside a phase: the case that opens it with its own transition
    (tag `enters:STATE`, it holds the store while the others run), the cases that keep the state, those
    that may leave a key, then the one that moves the store on to the next phase's state. A case that
    moves it anywhere else would end the state for the next phase too: those run after the last phase."""
    members = list(members)
    out: list[Case] = []
    after: list[Case] = []
    for i, state in enumerate(PHASE_ORDER):
        following = PHASE_ORDER[i + 1] if i + 1 < len(PHASE_ORDER) else None
        # The next phase's entry: CONNECTING settles to CONNECTED; CONNECTED is left by a disconnect.
        onward = {"CONNECTING": "CONNECTED"}.get(state, following)

        def rank(case: Case) -> int:
            left = left_state(case)
            if entered_state(case) is not None:
                return -1
            if left is None:
                return 1 if MAY_LEAVE_KEY in case.tags else 0
            return 3 if left == onward else 2

        phase = sorted((c for c in members if phase_state(c) == state), key=rank)  # stable inside a rank
        if following is not None:
            after += [c for c in phase if rank(c) == 2]
            phase = [c for c in phase if rank(c) != 2]
        out += phase
    return out + after


def phased_groups(cases: Iterable[Case]) -> list[tuple[str, list[Case]]]:
    """The phased order's blocks for `plan`: groups as usual, the tour's phases named `phase STATE`."""
    return _blocks(order_cases(cases, phased=True), phased=True)


def schedule_groups(cases: Iterable[Case]) -> list[tuple[str, list[Case]]]:
    """The ordered groups with their cases (for `plan`); the tail of MAY_LEAVE_KEY cases says why it is last."""
    return _blocks(order_cases(cases), phased=False)


def _blocks(ordered: list[Case], *, phased: bool) -> list[tuple[str, list[Case]]]:
    out: list[tuple[str, list[Case]]] = []
    for case in ordered:
        group = case.schedule_group or "stateless"
        if phased and phase_state(case) in PHASE_ORDER:
            group = PHASE_PREFIX + phase_state(case)
        elif MAY_LEAVE_KEY in case.tags:
            group += LAST_SUFFIX
        if not out or out[-1][0] != group:
            out.append((group, []))
        out[-1][1].append(case)
    return out


# A target whose connect takes at least this long (the transition probe's measure) is slow:
# state phases pay off there. Only the cost depends on it, never a verdict.
SLOW_TRANSITION_S = 1.0
# A config whose world.timeouts allow a connect longer than this says the target is slow.
SLOW_CONNECT_TIMEOUT_S = 60.0
# Stateful transitions on a slow target that is not live AWS, unless the run says otherwise.
SLOW_STATEFUL_TRANSITIONS = 2


def decide_phases(mode: str, *, live: bool, clock: bool, observable: bool, transition_s: float | None,
                  connect_timeout_s: float | None) -> tuple[bool, str]:
    """Whether a run uses state phases, and why (for the report). `mode`: auto | on | off.

    auto: on for live AWS and for a target whose transitions are slow (the probe saw a connect
    take seconds, or the config's timeouts allow minutes); off where a virtual clock makes them
    free (the in-process reference) or where connects complete at once.
    """
    if mode in ("on", "off"):
        return mode == "on", f"state_phases: {mode}"
    if live:
        return True, "auto: live AWS"
    if clock:
        return False, "auto: the target's clock is virtual, transitions cost no wall time"
    if transition_s is not None and transition_s >= SLOW_TRANSITION_S:
        return True, f"auto: the transition probe's connect took {transition_s:.3g} s"
    if connect_timeout_s is not None and connect_timeout_s > SLOW_CONNECT_TIMEOUT_S:
        return True, f"auto: the config allows {connect_timeout_s:g} s for a connect"
    if not observable:
        return False, "auto: connects complete at once here"
    return False, "auto: transitions are fast here"


def stateful_transitions(given: int | None, *, live: bool, slow: bool) -> int | None:
    """The stateful run's transition budget: as given, else 0 on live AWS, a few on slow targets, else no limit."""
    if given is not None:
        return given
    if live:
        return 0
    return SLOW_STATEFUL_TRANSITIONS if slow else None


# ------------------------------------------------------------------------------ cost estimates (plan)


def _path(frm: str, to: str) -> tuple[int, int]:
    """(connects, disconnects) the driver makes to bring a store from `frm` to `to` (driving.bring_to_state)."""
    settled = {"CONNECTING": "CONNECTED", "DISCONNECTING": "DISCONNECTED"}
    if frm == to:
        return 0, 0
    frm = settled.get(frm, frm)  # a transitional state is waited out
    if frm == to:
        return 0, 0
    disconnects = 0
    if frm in ("CONNECTED", "FAILED"):
        if frm == "CONNECTED" and to == "DISCONNECTING":
            return 0, 1
        disconnects, frm = 1, "DISCONNECTED"
    if to == "DISCONNECTED":
        return 0, disconnects
    return 1, disconnects + (1 if to == "DISCONNECTING" else 0)


def tour_transitions(members: Iterable[Case]) -> list[tuple[Case, int, int]]:
    """Each phase member with the (connects, disconnects) it costs in the phased order.

    The first case of a phase pays for the entry; a case that moves the store on pays its own
    disconnect; the last one also pays for taking the store back to DISCONNECTED for deletion.
    """
    state = "DISCONNECTED"
    out: list[tuple[Case, int, int]] = []
    for case in members:
        need = phase_state(case)
        connects, disconnects = _path(state, need)
        left = left_state(case)
        if left == "DISCONNECTED":
            disconnects += 1
        state = left or need
        out.append((case, connects, disconnects))
    if out:
        case, c, d = out[-1]
        out[-1] = (case, c, d + _path(state, "DISCONNECTED")[1])
    return out
