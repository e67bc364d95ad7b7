"""The exception-reachability ledger: which documented errors a run actually reached on its target.

A PASS per requirement says the target did what was asked; it does not say which of the
contract's errors the run ever provoked. The ledger answers that, one row per modelled
error of each operation the run covers (the edition's model) and per protocol or
authentication error the catalogue cites (requirements of operation "*"), from nothing but
what results.json holds: each step's (or step-less case's) expected against observed
answer, and for cases that never sent their request (NOT_TRIGGERABLE, SKIPPED,
UNIMPLEMENTED) the errors their requirements name. So `report render` builds it for any
results.json, and a results.json without expected/observed data says so instead of a table.

A row's state, the first that holds:
  wrong            a case expected the error and the target answered something else
  right            a case expected it and got its code with the expected status
  otherwise        a case expected it and the target gave another answer the contract also allows
  not-triggerable  only cases that could not try on this target (their reasons are listed)
  never-attempted  no case of this run expects it
A wrong answer outranks right ones: one operation/state answering wrong is a defect even when
other cases reached the error correctly (the row's counts say how many of each).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from conformance.verdicts import Verdict

WRONG = "wrong"
RIGHT = "right"
OTHERWISE = "otherwise"
NOT_TRIGGERABLE = "not-triggerable"
NEVER = "never-attempted"
STATES = (RIGHT, WRONG, OTHERWISE, NOT_TRIGGERABLE, NEVER)  # the order counts are given in
# Rows are listed problems first: a wrong answer, then what the suite never tries, then what this target
# cannot show, then what was reached.
ROW_ORDER = (WRONG, OTHERWISE, NEVER, NOT_TRIGGERABLE, RIGHT)
STATE_LABELS = {
    WRONG: "triggered wrong",
    RIGHT: "triggered right",
    OTHERWISE: "answered otherwise (allowed)",
    NOT_TRIGGERABLE: "not triggerable here",
    NEVER: "never attempted",
}
ANY_OPERATION = "*"  # the operation of a protocol / authentication error's row
# Case verdicts of cases that did not send their request: their requirements say what they would have tried.
_DID_NOT_TRY = {Verdict.NOT_TRIGGERABLE.value, Verdict.SKIPPED.value, Verdict.UNIMPLEMENTED.value}
_SHOWN = 5  # case ids / answers kept per row in the reports (the counts are whole)


@dataclass
class _Row:
    operation: str
    error: str
    source: str  # model | protocol | case (expected by a case, modelled for none of the run's operations)
    right: list[str] = field(default_factory=list)
    wrong: list[dict[str, str]] = field(default_factory=list)
    otherwise: list[dict[str, str]] = field(default_factory=list)
    not_triggerable: list[dict[str, str]] = field(default_factory=list)

    def state(self) -> str:
        if self.wrong:
            return WRONG
        if self.right:
            return RIGHT
        if self.otherwise:
            return OTHERWISE
        return NOT_TRIGGERABLE if self.not_triggerable else NEVER

    def to_dict(self) -> dict[str, Any]:
        tried = list(dict.fromkeys([*self.right, *(w["case"] for w in self.wrong),
                                    *(o["case"] for o in self.otherwise),
                                    *(n["case"] for n in self.not_triggerable)]))
        state = self.state()
        return {
            "operation": self.operation,
            "error": self.error,
            "source": self.source,
            "state": state,
            "counts": {RIGHT: len(self.right), WRONG: len(self.wrong), OTHERWISE: len(self.otherwise),
                       NOT_TRIGGERABLE: len(self.not_triggerable)},
            "cases": tried,
            "wrong_answers": _first_per_case(self.wrong),
            "other_answers": _first_per_case(self.otherwise),
            "not_triggerable": _first_per_case(self.not_triggerable),
            "detail": _detail(state, self),
        }


def _first_per_case(items: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for item in items:
        seen.setdefault(item["case"], item)
    return list(seen.values())


def _detail(state: str, row: _Row) -> str:
    """One line a reader can act on: what was answered instead, or why nothing tried."""
    if state == WRONG:
        w = row.wrong[0]
        more = f" (and {len(row.wrong) - 1} more)" if len(row.wrong) > 1 else ""
        right = f"; right in {len(row.right)}" if row.right else ""
        return f"expected {w['expected']}, got {w['observed']} in {w['case']}{more}{right}"
    if state == RIGHT:
        nt = f"; not triggerable in {len(row.not_triggerable)}" if row.not_triggerable else ""
        return f"reached by {len(dict.fromkeys(row.right))} case(s){nt}"
    if state == OTHERWISE:
        o = row.otherwise[0]
        return f"the target answered {o['observed']} (allowed) in {o['case']}"
    if state == NOT_TRIGGERABLE:
        reasons = list(dict.fromkeys(n["reason"] for n in row.not_triggerable))
        return "; ".join(reasons[:2]) + (f" (and {len(reasons) - 2} more reasons)" if len(reasons) > 2 else "")
    return "no case of this run expects it"


def _head(status: Any, code: Any) -> str:
    return f"{status if status is not None else '?'} {code}" if code else f"{status if status is not None else '?'} success"


def _answer(observed: dict[str, Any] | None) -> str:
    """What the target answered, briefly: '409 CustomKeyStoreInvalidStateException', '200 success'."""
    if not isinstance(observed, dict) or not observed:
        return "nothing recorded"
    if observed.get("transport_error"):
        return f"no answer ({observed['transport_error']})"
    if observed.get("infrastructure"):
        return f"no answer from the target ({observed['infrastructure']})"
    code, status = observed.get("error_code"), observed.get("status")
    if code is None and status is not None and not 200 <= int(status) < 300:
        return f"{status} (no error code)"
    return _head(status, code)


def _outcomes(expected: dict[str, Any]) -> list[dict[str, Any]]:
    return [expected, *[a for a in expected.get("alternatives") or () if isinstance(a, dict)]]


def _matches(outcome: dict[str, Any], observed: dict[str, Any]) -> bool:
    """Code and status only: the ledger is about reaching the error, not its message."""
    code = outcome.get("error_code")
    if code == "*":
        ok_code = observed.get("error_code") is not None or (observed.get("status") or 0) >= 400
    else:
        ok_code = observed.get("error_code") == code
    status = outcome.get("status")
    return ok_code and (status is None or observed.get("status") == status)


def _pairs(case: dict[str, Any]) -> Iterable[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(operation, expected, observed) for every judged request of a case.

    The steps with an expectation; a case without any (a single-request case) is its own
    expected/observed (its case-level fields repeat the deciding step otherwise).
    """
    steps = [s for s in case.get("steps") or () if isinstance(s, dict) and isinstance(s.get("expected"), dict)]
    if steps:
        for s in steps:
            yield _operation_of(s.get("request"), case), s["expected"], s.get("observed") or {}
    elif isinstance(case.get("expected"), dict) and case.get("observed") is not None:
        yield _operation_of(case.get("request"), case), case["expected"], case.get("observed") or {}


def _operation_of(request: Any, case: dict[str, Any]) -> str:
    op = request.get("operation") if isinstance(request, dict) else None
    if not op and isinstance(request, dict) and isinstance(request.get("amz_target"), str):
        op = request["amz_target"].rpartition(".")[2]
    return str(op or case.get("operation") or ANY_OPERATION).split(" ")[0]


def _requirement_errors(req: Any) -> list[str]:
    """The error codes a requirement names: its model error, expected code and alternatives' codes."""
    expected = getattr(req, "expected", None) or {}
    codes = [getattr(req, "model_error", None), expected.get("error_code")]
    codes += [a.get("error_code") for a in expected.get("any_of") or () if isinstance(a, dict)]
    return [c for c in dict.fromkeys(codes) if c and c != "*"]


class _Universe:
    """The rows a run's ledger has before any evidence: modelled errors of its operations, protocol errors."""

    def __init__(self, edition: str | None, operations: list[str], catalogue: list[Any]):
        self.notes: list[str] = []
        self.modelled: dict[str, tuple[str, ...]] = {}
        model = _model(edition)
        if model is None:
            self.notes.append(f"edition {edition!r} has no model here: only errors the cases expect are listed")
        for op in operations:
            operation = model.operations.get(op) if model is not None else None
            if operation is not None:
                self.modelled[op] = tuple(operation.errors)
        modelled_anywhere = {e for errors in self.modelled.values() for e in errors}
        self.protocol = [e for r in catalogue if getattr(r, "operation", None) == ANY_OPERATION
                         and (not edition or edition in (getattr(r, "editions", None) or (edition,)))
                         for e in _requirement_errors(r) if e not in modelled_anywhere]
        self.protocol = list(dict.fromkeys(self.protocol))
        self.rows: dict[tuple[str, str], _Row] = {}
        for op, errors in self.modelled.items():
            for e in errors:
                self.rows[(op, e)] = _Row(op, e, "model")
        for e in self.protocol:
            self.rows[(ANY_OPERATION, e)] = _Row(ANY_OPERATION, e, "protocol")

    def row(self, operation: str, error: str) -> _Row:
        if error in self.modelled.get(operation, ()):
            return self.rows[(operation, error)]
        if (ANY_OPERATION, error) in self.rows:
            return self.rows[(ANY_OPERATION, error)]
        key = (operation, error)
        if key not in self.rows:
            self.rows[key] = _Row(operation, error, "case")
        return self.rows[key]


def _model(edition: str | None):
    if not edition:
        return None
    from conformance.spec import edition_model

    try:
        return edition_model(edition)
    except Exception:  # noqa: BLE001 - an unknown or unloadable edition degrades to the cases' own errors
        return None


def _catalogue() -> list[Any]:
    from conformance.spec.requirements import load_requirements

    try:
        return list(load_requirements())
    except Exception:  # noqa: BLE001 - a broken catalogue must not cost the report
        return []


def run_operations(results: dict[str, Any]) -> list[str]:
    """The operations a run covers: those its cases are about (plus a run's own `operations` list)."""
    ops = [c.get("operation") for c in results.get("cases") or () if isinstance(c, dict)]
    listed = results.get("operations")
    if isinstance(listed, list):
        ops += [o for o in listed if isinstance(o, str)]
    return [o for o in dict.fromkeys(ops) if o and o != ANY_OPERATION]


def has_ledger_data(results: dict[str, Any]) -> bool:
    """Whether the cases carry expected/observed answers (results of every suite version that has steps)."""
    return any(isinstance(c, dict) and ("steps" in c or "expected" in c) for c in results.get("cases") or ())


def reachability(results: dict[str, Any]) -> dict[str, Any]:
    """The ledger of one run (see the module doc): {available, note?, operations, summary, rows}."""
    cases = [c for c in results.get("cases") or () if isinstance(c, dict)]
    if not cases or not has_ledger_data(results):
        why = "no cases" if not cases else "its cases carry no expected/observed answers (an older results.json)"
        return {"available": False, "note": f"no reachability ledger: {why}", "operations": [],
                "summary": summarize([]), "rows": []}
    edition = results.get("edition")
    operations = run_operations(results)
    catalogue = _catalogue()
    universe = _Universe(edition, operations, catalogue)
    by_id = {getattr(r, "id", None): r for r in catalogue}
    for case in cases:
        cid = str(case.get("id"))
        for op, expected, observed in _pairs(case):
            _record(universe, op, cid, expected, observed)
        if case.get("verdict") in _DID_NOT_TRY:
            reason = f"{case['verdict']}: {case.get('detail') or 'no reason given'}"
            for rid in case.get("requirements") or ():
                req = by_id.get(rid)
                if req is None:
                    continue
                op = req.operation if req.operation != ANY_OPERATION else str(case.get("operation") or ANY_OPERATION)
                for code in _requirement_errors(req):
                    universe.row(op, code).not_triggerable.append({"case": cid, "reason": reason})
    rows = sorted((r.to_dict() for r in universe.rows.values()),
                  key=lambda r: (ROW_ORDER.index(r["state"]), r["operation"] == ANY_OPERATION, r["operation"], r["error"]))
    out = {"available": True, "operations": operations, "summary": summarize(rows), "rows": rows}
    if universe.notes:
        out["note"] = "; ".join(universe.notes)
    return out


def _record(universe: _Universe, op: str, cid: str, expected: dict[str, Any], observed: dict[str, Any]) -> None:
    """One judged request: credit the error it reached, or mark the expected one wrong / answered otherwise."""
    outcomes = _outcomes(expected)
    hit = next((o for o in outcomes if _matches(o, observed)), None)
    primary = expected.get("error_code")
    if hit is not None and hit.get("error_code") not in (None, "*"):
        universe.row(op, hit["error_code"]).right.append(cid)
    if primary in (None, "*") or (hit is not None and hit.get("error_code") == primary):
        return
    entry = {"case": cid, "expected": _head(expected.get("status"), primary), "observed": _answer(observed)}
    target = universe.row(op, primary)
    (target.otherwise if hit is not None else target.wrong).append(entry)


def summarize(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts = {state: 0 for state in STATES}
    for row in rows:
        counts[row["state"]] += 1
    counts["total"] = len(rows)
    return counts


def summary_line(ledger: dict[str, Any] | None) -> str:
    """'errors reached: 30 triggered right, 0 triggered wrong, ... (of 61 modelled and protocol errors)'."""
    if not ledger or not ledger.get("available"):
        return (ledger or {}).get("note") or "no reachability ledger"
    s = ledger.get("summary") or {}
    parts = [f"{s.get(state, 0)} {STATE_LABELS[state]}" for state in STATES if s.get(state) or state in (RIGHT, WRONG)]
    note = f"; {ledger['note']}" if ledger.get("note") else ""
    return f"errors reached: {', '.join(parts)} (of {s.get('total', 0)} modelled and protocol errors){note}"


def ledger_of(results: dict[str, Any]) -> dict[str, Any]:
    """The ledger a report shows: computed from the cases when they allow it, else the stored one (if any)."""
    if has_ledger_data(results):
        return reachability(results)
    stored = results.get("reachability")
    return stored if isinstance(stored, dict) and stored.get("rows") else reachability(results)


def shown_cases(row: dict[str, Any]) -> str:
    """The first case ids of a row, for a table cell."""
    cases = row.get("cases") or []
    more = f" (+{len(cases) - _SHOWN})" if len(cases) > _SHOWN else ""
    return ", ".join(cases[:_SHOWN]) + more
