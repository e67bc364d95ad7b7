"""Small text helpers every renderer shares, so junit, Markdown, HTML and terminal say the same thing."""

from __future__ import annotations

import json
from typing import Any

from conformance.verdicts import SEVERITY, UNEXPECTED, Verdict

VERDICT_NAMES = [v.value for v in SEVERITY]
# Worst first: the order non-PASS cases are listed in.
WORST_FIRST = list(reversed(VERDICT_NAMES))
FAILING = {v.value for v in UNEXPECTED}
NOT_EXERCISED = {Verdict.UNIMPLEMENTED.value, Verdict.SKIPPED.value, Verdict.NOT_TRIGGERABLE.value,
                 Verdict.EXPECTED_FAIL.value}


def outcome_line(outcome: dict[str, Any] | None, *, expected: bool = False) -> str:
    """'400 ValidationException: message' for an expected or observed dict."""
    if not outcome:
        return "(none)"
    if outcome.get("transport_error"):
        return f"no response ({outcome['transport_error']})"
    if not expected and "status" not in outcome and "error_code" not in outcome:
        # A step that is a check or a poll, not an HTTP answer: say what it found.
        if "detail" in outcome:
            return str(outcome["detail"])
        return ", ".join(f"{k} {v}" for k, v in outcome.items() if not isinstance(v, (dict, list)))[:300] or "(none)"
    status = outcome.get("status")
    code = outcome.get("error_code")
    if expected and code == "*":
        head = f"{status} any error" if status is not None else "any error"
    elif code is None and (expected and status is None or status is not None and 200 <= int(status) < 300):
        head = f"{status or 200} success"
    elif code:
        head = f"{status if status is not None else '?'} {code}"
    else:
        head = f"{status if status is not None else '?'}" + ("" if expected else " (no error code)")
    msg = outcome.get("message")
    if not msg and expected and outcome.get("message_pattern"):
        msg = f"/{outcome['message_pattern']}/"
    if outcome.get("unimplemented"):
        head += " [unimplemented]"
    line = f"{head}: {msg}" if msg else head
    if expected and outcome.get("alternatives"):
        line += "".join(" | or " + outcome_line(alt, expected=True) for alt in outcome["alternatives"])
    return line


def pretty(value: Any) -> str:
    """JSON text for a report block (stable key order, unicode kept)."""
    if value is None:
        return "null"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def by_operation(results: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{operation: {verdict: count, ..., 'total': n}} in first-seen operation order."""
    table: dict[str, dict[str, int]] = {}
    for case in results.get("cases", []):
        row = table.setdefault(case.get("operation") or "?", {v: 0 for v in VERDICT_NAMES} | {"total": 0})
        row[case["verdict"]] = row.get(case["verdict"], 0) + 1
        row["total"] += 1
    return table


def present_verdicts(results_list: list[dict[str, Any]]) -> list[str]:
    """Verdict names that occur in any of the runs, in severity order (PASS first)."""
    seen = {c["verdict"] for r in results_list for c in r.get("cases", [])}
    return [v for v in VERDICT_NAMES if v in seen]


def none_implemented(results: dict[str, Any]) -> str | None:
    """The sentence a report leads with when the target implements none of the custom key store
    operations (every case UNIMPLEMENTED); None otherwise."""
    from conformance import CUSTOM_KEY_STORE_OPERATIONS

    cases = results.get("cases") or []
    if not cases or any(c.get("raw_verdict", c["verdict"]) != Verdict.UNIMPLEMENTED.value for c in cases):
        return None
    return (f"The target implements none of the custom key store operations: {', '.join(CUSTOM_KEY_STORE_OPERATIONS)} "
            f"all answer as unknown or unsupported, so each of the {len(cases)} cases is UNIMPLEMENTED and nothing "
            f"was checked.")


def failing_checks_line(checks: list[dict[str, Any]], limit: int = 3) -> str:
    """'FAIL case: check: detail; ...' for a requirement's failing checks (the blame), worst first, at most `limit`."""
    checks = sorted(checks, key=lambda c: WORST_FIRST.index(c["verdict"]) if c.get("verdict") in WORST_FIRST else 99)
    parts = [f"{c.get('verdict')} {c.get('case', '')}: {c.get('name', '')}: {c.get('detail', '')}".strip()
             for c in checks[:limit]]
    if len(checks) > limit:
        parts.append(f"and {len(checks) - limit} more")
    return "; ".join(parts)


def blame_lines(case: dict[str, Any]) -> list[str]:
    """'UPD-036 FAIL: code (detail)' per requirement of a case that is not PASS: which check blamed it."""
    out = []
    for rid, entry in (case.get("blame") or {}).items():
        verdict = entry.get("verdict")
        if verdict in (None, "PASS"):
            continue
        bad = [c for c in entry.get("checks") or [] if c.get("verdict") != "PASS"]
        why = "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in bad[:2])
        out.append(f"{rid} {verdict}" + (f" ({why})" if why else ""))
    passing = [rid for rid, e in (case.get("blame") or {}).items() if e.get("verdict") == "PASS"]
    if out and passing:
        out.append(f"{', '.join(passing)} PASS")
    return out


def target_label(results: dict[str, Any]) -> str:
    t = results.get("target") or {}
    name = t.get("name") or t.get("adapter") or "target"
    parts = [name]
    if t.get("version"):
        parts.append(str(t["version"]))
    if results.get("edition"):
        parts.append(f"edition {results['edition']}")
    return " ".join(parts)


def summary_line(results: dict[str, Any]) -> str:
    """One line a CI log or the dashboard README can quote."""
    s = results.get("summary") or {}
    parts = [f"{s.get(v, 0)} {v}" for v in VERDICT_NAMES if s.get(v)]
    state = "" if results.get("finished") else " (incomplete run)"
    total, selected = s.get("total", 0), results.get("selected")
    count = f"{total} of {selected}" if isinstance(selected, int) and selected != total else f"{total}"
    return f"{target_label(results)}: {count} cases: " + (", ".join(parts) or "none") + state
