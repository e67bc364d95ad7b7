"""report.md: a summary a pull request or CI log can show, with every non-PASS case explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance.report.formatting import (
    VERDICT_NAMES,
    WORST_FIRST,
    blame_lines,
    by_operation,
    failing_checks_line,
    none_implemented,
    outcome_line,
    present_verdicts,
    pretty,
    summary_line,
    target_label,
)
from conformance.report.reachability import STATE_LABELS, ledger_of, shown_cases
from conformance.report.reachability import summary_line as ledger_line
from conformance.report.templating import environment


def _md_cell(text: Any) -> str:
    return str(text or "").replace("|", "\\|").replace("\n", " ")


def _md_code(text: Any) -> str:
    return str(text or "").replace("`", "'").replace("\n", " ")


def _observation_for_report(observed: dict[str, Any] | None) -> dict[str, Any] | None:
    """Drop the raw body when the parsed body says the same thing (keeps the report readable)."""
    if not observed:
        return observed
    out = dict(observed)
    if out.get("body") is not None:
        out.pop("raw_body", None)
    return out


def render_markdown(results: dict[str, Any]) -> str:
    env = environment(autoescape=False)
    env.filters["mdcell"] = _md_cell
    env.filters["mdcode"] = _md_code
    env.filters["ledger_cases"] = shown_cases
    groups = []
    for verdict in WORST_FIRST:
        if verdict == "PASS":
            continue
        cases = [c for c in results.get("cases", []) if c["verdict"] == verdict]
        if not cases:
            continue
        shown = []
        for c in cases:
            d = dict(c)
            d["expected_line"] = outcome_line(c.get("expected"), expected=True)
            d["observed_line"] = outcome_line(c.get("observed"))
            d["request_json"] = pretty(c.get("request"))
            d["expected_json"] = pretty(c.get("expected"))
            d["observed_json"] = pretty(_observation_for_report(c.get("observed")))
            d["steps"] = [dict(s, observed_line=outcome_line(s.get("observed"))) for s in c.get("steps") or []]
            d["blame_lines"] = blame_lines(c)
            shown.append(d)
        groups.append((verdict, shown))
    rank = {v: i for i, v in enumerate(WORST_FIRST)}
    bad_reqs = [dict(q, blame_line=failing_checks_line(q.get("checks") or [])) for q in sorted(
        (q for q in results.get("requirements", []) if q["verdict"] not in ("PASS", "NOT_RUN")),
        key=lambda q: (rank.get(q["verdict"], 99), q["id"]),
    )]
    ledger = ledger_of(results)
    return env.get_template("report.md.j2").render(
        r=results,
        ledger=ledger,
        ledger_line=ledger_line(ledger),
        state_labels=STATE_LABELS,
        headline=none_implemented(results),
        label=target_label(results),
        line=summary_line(results),
        verdicts=VERDICT_NAMES,
        present=present_verdicts([results]),
        ops=by_operation(results),
        bad_reqs=bad_reqs,
        groups=groups,
    )


def write_markdown(results: dict[str, Any], path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render_markdown(results), encoding="utf-8")
    return path
