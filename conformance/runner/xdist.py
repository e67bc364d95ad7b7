"""The pytest plugin under pytest-xdist (`pytest -n N --pyargs conformance.runner.suite`).

The same split as `run --workers N` (runner/workers.py): every partition unit that must stay
in one process becomes an `xdist_group` (scheduled with `--dist loadgroup`, which the plugin
selects); each xdist worker is its own RunSession writing `<report-dir>/.workers/<id>/results.json`
with its own store-name prefix; the controller merges them into the one results.json, the
reports and the expectation file at the end of the session.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

from conformance.cases.base import Case
from conformance.runner.workers import WORKERS_DIR, shared_world, spreadable, write_merged


def group_names(cases: Sequence[Case], adapter: str) -> dict[str, str]:
    """case id -> xdist_group for the cases that must share a worker (the others are spread freely)."""
    shared = shared_world(adapter)
    names: dict[str, str] = {}
    for case in cases:
        if shared and not spreadable(case):
            names[case.id] = "kms-lineage"
        elif not shared and (case.schedule_group or "stateless") != "stateless":
            names[case.id] = f"kms-{case.schedule_group}"
    return names


def _root(report_dir: str) -> Path:
    return Path(report_dir) / WORKERS_DIR


def forget_worker_results(report_dir: str) -> None:
    """The controller, before the workers start: no stale worker results may be merged."""
    shutil.rmtree(_root(report_dir), ignore_errors=True)


def worker_options(options, worker: str):
    return dataclasses.replace(options, report_dir=str(_root(options.report_dir) / worker))


def worker_prefix(prefix: str, worker: str) -> str:
    """The run prefix plus the worker's number in hex (still `kmsconf-<stamp>-<hex>`): distinct per worker."""
    digits = "".join(ch for ch in worker if ch.isdigit()) or "0"
    return f"{prefix}{int(digits):x}"


def finish_worker(session, notes: list[str] | None = None) -> None:
    """A worker's end: its results.json only; the controller renders the reports from the merge."""
    session.signals.phase = "reporting"
    extra: dict[str, Any] = {"interrupted": session.signals.received}
    if notes:
        extra["notes"] = notes
    if session.writer is not None:
        session.writer.finish(extra=extra)


def merge_worker_results(session, cases: Sequence[Case]):
    """The controller's RunOutcome from the workers' results, or None when no worker wrote any."""
    from conformance.report.results import load_results
    from conformance.runner.session import RunOutcome

    options = session.options
    root = _root(options.report_dir)
    dirs = sorted(d for d in root.glob("*") if (d / "results.json").is_file()) if root.is_dir() else []
    if not dirs:
        return None
    started = time.monotonic()
    found = [load_results(d) for d in dirs]
    results, code = write_merged(options, found, cases, started=None, selected=session.selected,
                                 since=session.started if session.started < started else started,
                                 interrupted=any(r.get("interrupted") for r in found), stops=[],
                                 check_missing=False)
    shutil.rmtree(root, ignore_errors=True)
    return RunOutcome(exit_code=code, results=results, report_dir=Path(options.report_dir),
                      interrupted=bool(results.get("interrupted")), duration_s=results["duration_s"])
