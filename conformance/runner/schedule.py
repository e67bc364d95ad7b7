"""Case order: group cases by `schedule_group` so a live run needs few connect/disconnect cycles.

On real AWS a connect takes up to 20 minutes, so cases sharing a group run back to
back and groups that connect nothing come first. Groups that need no store holding
the active cluster's lineage (`lineage-free`: Create errors that a store in the
lineage would turn into CloudHsmClusterInUseException) run before anything creates one.
Inside a group the collection order is kept (it is stable and meaningful).

Cases whose wrong success can leave a KMS key in a store (tag MAY_LEAVE_KEY) run after
everything else: such a store cannot be deleted for the key's 7-30 day waiting period and
holds its cluster lineage meanwhile, so only cases after it could suffer from it.
"""

from __future__ import annotations

from typing import Iterable

from conformance.cases.base import Case
from conformance.cases.scenarios.kit import MAY_LEAVE_KEY

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


def order_cases(cases: Iterable[Case]) -> list[Case]:
    """Cases grouped by schedule group (stable inside a group); those that may leave a key last."""
    indexed = list(enumerate(cases))
    indexed.sort(key=lambda ic: (MAY_LEAVE_KEY in ic[1].tags, _rank(ic[1].schedule_group or "stateless"), ic[0]))
    return [c for _, c in indexed]


def schedule_groups(cases: Iterable[Case]) -> list[tuple[str, list[Case]]]:
    """The ordered groups with their cases (for `plan`); the tail of MAY_LEAVE_KEY cases says why it is last."""
    out: list[tuple[str, list[Case]]] = []
    for case in order_cases(cases):
        group = case.schedule_group or "stateless"
        if MAY_LEAVE_KEY in case.tags:
            group += LAST_SUFFIX
        if not out or out[-1][0] != group:
            out.append((group, []))
        out[-1][1].append(case)
    return out
