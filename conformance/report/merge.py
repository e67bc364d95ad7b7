"""One results.json from the results of several worker processes of one run (`run --workers N`, pytest-xdist).

Every report, expectation file and `compare` reads one results.json; a parallel run must look
like a run in one process. A case that two parts both hold is a harness bug, and is refused
rather than silently dropped; cases the parts lack are reported by `missing_cases`.
"""

from __future__ import annotations

from typing import Any, Iterable

from conformance.report.results import refresh_derived

# Keys recomputed from the merged cases (refresh_derived), never taken from one part.
_DERIVED = ("cases", "requirements", "summary", "requirements_summary", "_source")


class DuplicateCase(ValueError):
    """Two worker results hold the same case id: the partition gave a case to two workers."""


def merge_results(parts: list[dict[str, Any]], order: Iterable[str] = (), *,
                  extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The results of `parts` (loaded results.json dicts) as one run.

    Cases follow `order` (the run's case order); ids not in it follow, in part order.
    The header is the first part's, with `started` the earliest, `finished` the latest
    (None when a part never finished: a partial run), `interrupted` when any part was,
    `notes` of every part, and `workers`: each part's run prefix, ledger and case count.
    """
    if not parts:
        raise ValueError("no results to merge")
    by_id: dict[str, dict[str, Any]] = {}
    for part in parts:
        for case in part.get("cases") or ():
            if case["id"] in by_id:
                raise DuplicateCase(f"case {case['id']} is in the results of two workers")
            by_id[case["id"]] = case
    ordered = [by_id.pop(cid) for cid in order if cid in by_id]
    ordered += list(by_id.values())
    merged = {k: v for k, v in parts[0].items() if k not in _DERIVED}
    merged["started"] = min(p.get("started") or "" for p in parts) or parts[0].get("started")
    finished = [p.get("finished") for p in parts]
    merged["finished"] = None if None in finished else max(finished)
    merged["interrupted"] = any(p.get("interrupted") for p in parts)
    notes = [n for p in parts for n in (p.get("notes") or ())]
    if notes:
        merged["notes"] = list(dict.fromkeys(notes))
    merged["workers"] = [
        {"worker": i + 1, "run_prefix": p.get("run_prefix"), "ledger": p.get("ledger"),
         "cases": len(p.get("cases") or ()), "duration_s": p.get("duration_s")}
        for i, p in enumerate(parts)
    ]
    merged.update(extra or {})
    merged["requirements"] = [{k: v for k, v in r.items() if k not in ("cases", "verdict", "checks")}
                              for r in parts[0].get("requirements") or ()]
    merged["cases"] = ordered
    return refresh_derived(merged)


def missing_cases(results: dict[str, Any], expected: Iterable[str]) -> list[str]:
    """The expected case ids the results lack (a worker that crashed or was stopped first)."""
    have = {c["id"] for c in results.get("cases") or ()}
    return [cid for cid in expected if cid not in have]
