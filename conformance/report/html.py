"""report.html: one self-contained page (no external assets) for one or several runs.

A requirement x target matrix (like Autobahn's test-suite table), a case x
target table, filters, and a drill-down per case showing the request, what
the contract expects and what the target answered side by side. The tables
are rendered server-side (readable without JS); the case data is embedded as
JSON for the drill-down and always inserted as text, never as HTML (target
responses may contain markup).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.report.formatting import (
    VERDICT_NAMES,
    failing_checks_line,
    none_implemented,
    outcome_line,
    present_verdicts,
    summary_line,
    target_label,
)
from conformance.report.reachability import ROW_ORDER, STATE_LABELS, ledger_of
from conformance.report.reachability import summary_line as ledger_line
from conformance.report.results import NOT_RUN, utc_now
from conformance.report.templating import environment


def _compact_observed(observed: dict[str, Any] | None) -> dict[str, Any] | None:
    if not observed:
        return observed
    out = dict(observed)
    if out.get("body") is not None:
        out.pop("raw_body", None)  # the parsed body says the same
    return out


def _case_payload(case: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": case["id"],
        "operation": case.get("operation"),
        "kind": case.get("kind"),
        "title": case.get("title") or "",
        "requirements": case.get("requirements") or [],
        "verdict": case["verdict"],
        "raw_verdict": case.get("raw_verdict"),
        "expectation": case.get("expectation"),
        "detail": case.get("detail") or "",
        "expected_line": outcome_line(case.get("expected"), expected=True),
        "observed_line": outcome_line(case.get("observed")),
        "request": case.get("request"),
        "expected": case.get("expected"),
        "observed": _compact_observed(case.get("observed")),
        "reproduce": case.get("reproduce"),
        "duration_s": case.get("duration_s"),
        "blame": case.get("blame") or {},
        "steps": [
            {
                "label": s.get("label", ""),
                "verdict": s.get("verdict"),
                "request": s.get("request"),
                "expected": s.get("expected"),
                "observed": _compact_observed(s.get("observed")),
                "observed_line": outcome_line(s.get("observed")),
            }
            for s in case.get("steps") or []
        ],
    }


def build_view(results_list: list[dict[str, Any]]) -> dict[str, Any]:
    """The page model: targets, requirement rows, case rows, and the per-target case payloads."""
    targets = []
    req_rows: dict[str, dict[str, Any]] = {}
    case_rows: dict[str, dict[str, Any]] = {}
    payload: list[dict[str, Any]] = []
    for t_index, results in enumerate(results_list):
        targets.append({
            "index": t_index,
            "label": target_label(results),
            "name": (results.get("target") or {}).get("name") or "target",
            "target": results.get("target") or {},
            "edition": results.get("edition"),
            "strictness": results.get("strictness"),
            "transitions": results.get("transitions"),
            "started": results.get("started"),
            "finished": results.get("finished"),
            "summary": results.get("summary") or {},
            "line": summary_line(results),
            "headline": none_implemented(results),
            "source": results.get("_source"),
        })
        for q in results.get("requirements", []):
            row = req_rows.setdefault(q["id"], {
                "id": q["id"], "title": q.get("title") or "", "operation": q.get("operation") or "",
                "level": q.get("level") or "", "cells": {},
            })
            for key in ("title", "operation", "level"):
                if not row[key] and q.get(key):
                    row[key] = q[key]
            checks = q.get("checks") or []
            row["cells"][t_index] = {"verdict": q["verdict"], "cases": q.get("cases") or [], "checks": checks,
                                     "blamed": failing_checks_line(checks, limit=2)}
        cases = {}
        for c in results.get("cases", []):
            row = case_rows.setdefault(c["id"], {"id": c["id"], "operation": c.get("operation") or "",
                                                 "kind": c.get("kind") or "", "title": c.get("title") or "",
                                                 "requirements": c.get("requirements") or [], "cells": {}})
            row["cells"][t_index] = {"verdict": c["verdict"], "detail": c.get("detail") or ""}
            cases[c["id"]] = _case_payload(c)
        payload.append(cases)
    for row in req_rows.values():
        for t in range(len(results_list)):
            row["cells"].setdefault(t, {"verdict": NOT_RUN, "cases": [], "checks": [], "blamed": ""})
    for row in case_rows.values():
        for t in range(len(results_list)):
            row["cells"].setdefault(t, None)
        row["levels"] = sorted({req_rows[r]["level"] for r in row["requirements"] if r in req_rows} - {""})
    operations = sorted(({r["operation"] for r in req_rows.values()} | {r["operation"] for r in case_rows.values()}) - {""})
    levels = sorted({r["level"] for r in req_rows.values()} - {""})
    rank = {name: i for i, name in enumerate(VERDICT_NAMES)}

    def worst_first(row: dict[str, Any]) -> int:
        """Failures first: FAIL/ERROR rows before PASS ones (worst cell of the row; NOT_RUN with PASS)."""
        return -max((rank.get((cell or {}).get("verdict"), 0) for cell in row["cells"].values()), default=0)

    return {
        "targets": targets,
        "ledger": _ledger_view(results_list),
        "requirements": sorted(req_rows.values(), key=lambda r: (worst_first(r), r["id"])),
        "cases": sorted(case_rows.values(), key=worst_first),  # stable: run order within a verdict
        "payload": payload,
        "operations": operations,
        "levels": levels,
        "verdicts": present_verdicts(results_list) + [NOT_RUN],
        "all_verdicts": VERDICT_NAMES + [NOT_RUN],
    }


def _ledger_view(results_list: list[dict[str, Any]]) -> dict[str, Any]:
    """The reachability ledger as one table: a row per (operation, error), a cell per run (problems first)."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    lines = []
    for t_index, results in enumerate(results_list):
        ledger = ledger_of(results)
        lines.append(ledger_line(ledger))  # with the ledger's note, if any
        for r in ledger.get("rows") or ():
            row = rows.setdefault((r["operation"], r["error"]), {"operation": r["operation"], "error": r["error"],
                                                                  "cells": {}})
            row["cells"][t_index] = {"state": r["state"], "label": STATE_LABELS.get(r["state"], r["state"]),
                                     "detail": r.get("detail") or "", "cases": r.get("cases") or []}

    def first_problem(row: dict[str, Any]) -> tuple[int, bool, str, str]:
        worst = min((ROW_ORDER.index(c["state"]) for c in row["cells"].values() if c["state"] in ROW_ORDER),
                    default=len(ROW_ORDER))
        return worst, row["operation"] == "*", row["operation"], row["error"]

    for row in rows.values():
        details = [(t, c["detail"]) for t, c in sorted(row["cells"].items()) if c["detail"]]
        same = len({d for _, d in details}) == 1 and len(details) == len(results_list)
        # One line when every run says the same; else each run's line, labelled (in the template).
        row["details"] = [(None, details[0][1])] if same else details
    return {"rows": sorted(rows.values(), key=first_problem), "lines": lines}


def render_html(results_list: list[dict[str, Any]], title: str | None = None) -> str:
    view = build_view(results_list)
    env = environment(autoescape=True)
    if title is None:
        title = "kms-conformance: " + ", ".join(t["label"] for t in view["targets"])
    return env.get_template("report.html.j2").render(
        view=view, title=title, generated=utc_now(), suite_version=__version__,
        data={"targets": view["targets"], "cases": view["payload"], "severity": VERDICT_NAMES},
    )


def write_html(results_list: list[dict[str, Any]] | dict[str, Any], path: str | Path, title: str | None = None) -> Path:
    if isinstance(results_list, dict):
        results_list = [results_list]
    path = Path(path)
    path.write_text(render_html(list(results_list), title=title), encoding="utf-8")
    return path
