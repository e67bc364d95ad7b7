"""What a person watching `kms-conformance run` sees: a live progress bar and a final summary table."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from conformance.report.formatting import FAILING, by_operation, none_implemented, present_verdicts, summary_line
from conformance.report.reachability import ledger_of
from conformance.report.reachability import summary_line as ledger_line

STYLE = {
    "PASS": "green",
    "NON_STRICT": "yellow",
    "FAIL": "bold red",
    "ERROR": "bold magenta",
    "UNIMPLEMENTED": "blue",
    "NOT_TRIGGERABLE": "dim",
    "SKIPPED": "dim",
    "EXPECTED_FAIL": "dark_orange",
    "UNEXPECTED_PASS": "bold magenta",
}


def _verdict_of(case_result: Any) -> str:
    v = case_result.get("verdict") if isinstance(case_result, dict) else getattr(case_result, "verdict", None)
    return str(getattr(v, "value", v))


class Progress:
    """Context manager the runner drives: `with Progress(total) as p: ... p.advance(case_result)`.

    Shows cases done / total, the current case id and a running count of
    failures. On a non-terminal (CI logs) rich draws nothing live, so logs stay clean.
    """

    def __init__(self, total: int, console: Console | None = None, enabled: bool = True, label: str = "cases"):
        self.total = total
        self.counts: Counter[str] = Counter()
        self.console = console or Console(stderr=True)
        self.enabled = enabled
        self._progress = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[tally]}"),
            TextColumn("[dim]{task.fields[current]}"),
            console=self.console,
            transient=True,
            disable=not enabled,
        )
        self._task = self._progress.add_task(label, total=total, tally="", current="")

    def __enter__(self) -> "Progress":
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def _tally(self) -> str:
        parts = []
        for name in ("FAIL", "ERROR", "UNEXPECTED_PASS", "NON_STRICT", "UNIMPLEMENTED"):
            if self.counts[name]:
                parts.append(f"[{STYLE[name]}]{self.counts[name]} {name}[/]")
        return " ".join(parts)

    def start_case(self, case_id: str) -> None:
        """Optional: show which case is running (a slow live connect should not look like a hang)."""
        self._progress.update(self._task, current=escape(case_id))

    def advance(self, case_result: Any) -> None:
        verdict = _verdict_of(case_result)
        self.counts[verdict] += 1
        cid = case_result.get("id") if isinstance(case_result, dict) else getattr(case_result, "id", "")
        self._progress.update(self._task, advance=1, tally=self._tally(), current=escape(cid or ""))


def summary_table(results: dict[str, Any]) -> Table:
    verdicts = present_verdicts([results]) or ["PASS"]
    table = Table(title="kms-conformance results", title_justify="left")
    table.add_column("operation")
    for v in verdicts:
        table.add_column(v, justify="right", style=STYLE.get(v))
    table.add_column("total", justify="right", style="bold")
    totals = {v: 0 for v in verdicts}
    grand = 0
    for op, row in by_operation(results).items():
        table.add_row(escape(op), *[str(row.get(v, 0) or "") for v in verdicts], str(row["total"]))
        for v in verdicts:
            totals[v] += row.get(v, 0)
        grand += row["total"]
    table.add_section()
    table.add_row("total", *[str(totals[v]) for v in verdicts], str(grand), style="bold")
    return table


def print_summary(results: dict[str, Any], report_dir: str | Path | None = None, console: Console | None = None,
                  show_failures: int = 10) -> None:
    """The final table (operation x verdict + totals), the worst cases, and where the report is."""
    console = console or Console()
    headline = none_implemented(results)
    if headline:
        console.print(f"[bold]{escape(headline)}[/]", highlight=False, soft_wrap=True)
    console.print(summary_table(results))
    failing = [c for c in results.get("cases", []) if c["verdict"] in FAILING]
    for case in failing[:show_failures]:
        console.print(f"[{STYLE.get(case['verdict'], 'bold')}]{case['verdict']}[/] "
                      f"{escape(case['id'])}: {escape(case.get('detail') or '')}",
                      highlight=False, markup=True, soft_wrap=True)
    if len(failing) > show_failures:
        console.print(f"... and {len(failing) - show_failures} more (see the report)", highlight=False)
    blamed = [q for q in results.get("requirements", []) if q.get("verdict") in FAILING]
    if blamed:
        console.print("requirements failing: " + ", ".join(escape(q["id"]) for q in blamed), highlight=False,
                      soft_wrap=True)
    console.print(escape(summary_line(results)), highlight=False, soft_wrap=True)
    console.print(escape(ledger_line(ledger_of(results))), highlight=False, soft_wrap=True)
    if headline:
        console.print(escape(headline), highlight=False, soft_wrap=True)
    if report_dir is None and results.get("_source"):
        report_dir = Path(results["_source"]).parent
    if report_dir is not None:
        rd = Path(report_dir)
        console.print(escape(f"report: {rd / 'report.html'} (also results.json, report.md, junit.xml in {rd})"),
                      highlight=False, soft_wrap=True)
