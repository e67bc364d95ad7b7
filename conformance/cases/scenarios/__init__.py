"""Hand-written scenarios: what structural generation cannot reach.

One module per operation or theme; each exports `collect(cc) -> list[Case]`.
Every case owns the stores it creates (made through the driver's ledger, deleted
before the case ends) and records each request as a Step.
"""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios import (
    connection,
    create,
    describe,
    keys_and_delete,
    not_triggerable,
    update,
    update_states,
    workflows,
    xks_connect,
    xks_create,
    xks_keys,
    xks_update,
)

MODULES = (update, update_states, workflows, create, connection, describe, keys_and_delete, not_triggerable,
           xks_create, xks_update, xks_connect, xks_keys)


def collect(cc: CollectContext) -> list[Case]:
    cases: list[Case] = []
    for module in MODULES:
        cases.extend(c for c in module.collect(cc) if cc.edition in c.editions)
    return cases
