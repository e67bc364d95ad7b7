"""Requirements no target can be made to show on demand: each becomes a NOT_TRIGGERABLE case.

The reason comes from the catalogue (`not_triggerable`), so the report says why a requirement
cannot be shown: a reason about the target or the service, never about the suite's own plans.
"""

from __future__ import annotations

from conformance.cases.base import Case, CollectContext
from conformance.cases.scenarios.kit import Scenario, scenario
from conformance.errors import NotTriggerable


def _field(req, name):
    return req.get(name) if isinstance(req, dict) else getattr(req, name, None)


def _not_triggerable(reason: str):
    def body(s: Scenario) -> None:
        raise NotTriggerable(reason)

    return body


def collect(cc: CollectContext) -> list[Case]:
    cases: list[Case] = []
    for req in cc.requirements or []:
        rid = _field(req, "id")
        editions = tuple(_field(req, "editions") or ())
        if editions and cc.edition not in editions:
            continue
        reason = _field(req, "not_triggerable")
        if not reason:
            continue
        op = _field(req, "operation") or "*"
        op = "DescribeCustomKeyStores" if op == "*" else op
        title = _field(req, "title") or rid
        cases.append(scenario(f"{op}/scenario/not-triggerable-{rid.lower()}", op, [rid],
                              f"{title} (cannot be triggered)", _not_triggerable(str(reason)), editions=(cc.edition,),
                              needs_roles=(), needs_operations=(), schedule_group="stateless"))
    return cases
