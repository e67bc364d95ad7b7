"""Render every format from results.json (the only source), for one run or several."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conformance.report.html import write_html
from conformance.report.junit import write_junit
from conformance.report.markdown import write_markdown
from conformance.report.results import load_results

FORMATS = ("junit.xml", "report.md", "report.html")


def render_results(results: dict[str, Any], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write junit.xml, report.md and report.html for one run into out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return {
        "junit.xml": write_junit(results, out / "junit.xml"),
        "report.md": write_markdown(results, out / "report.md"),
        "report.html": write_html([results], out / "report.html"),
    }


def render_all(results_path: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Re-render every format from a results.json (or a report folder); out_dir defaults to its folder."""
    results = load_results(results_path)
    if out_dir is None:
        out_dir = Path(results["_source"]).parent
    return render_results(results, out_dir)


def render_combined_html(results_paths: list[str | os.PathLike], out_path: str | os.PathLike,
                         title: str | None = None) -> Path:
    """One report.html whose matrix has a column per run (e.g. several targets)."""
    return write_html([load_results(p) for p in results_paths], out_path, title=title)
