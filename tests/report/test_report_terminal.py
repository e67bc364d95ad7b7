"""Terminal output: the progress bar counts what the runner feeds it; the summary table adds up."""

from __future__ import annotations

import io

from rich.console import Console

from report_synthetic import synthetic_cases, write_run
from conformance.report.terminal import Progress, print_summary


def _console():
    return Console(file=io.StringIO(), width=200, force_terminal=False, color_system=None)


def test_summary_table_per_operation_with_totals_and_report_location(tmp_path):
    writer, results = write_run(tmp_path)
    console = _console()
    print_summary(results, console=console)
    out = console.file.getvalue()
    lines = [line for line in out.splitlines() if "│" in line or "┃" in line]
    header = next(line for line in lines if "operation" in line)
    assert [h.strip() for h in header.strip("┃ ").split("┃")] == [
        "operation", "PASS", "NOT_TRIGGERABLE", "SKIPPED", "NON_STRICT", "FAIL", "ERROR", "total"]
    row = next(line for line in lines if "UpdateCustomKeyStore" in line)
    assert [c.strip() for c in row.strip("│ ").split("│")] == ["UpdateCustomKeyStore", "2", "", "", "1", "2", "", "5"]
    total = next(line for line in lines if line.strip("│ ").startswith("total"))
    assert [c.strip() for c in total.strip("│ ").split("│")] == ["total", "3", "1", "1", "1", "2", "1", "9"]
    assert "FAIL UpdateCustomKeyStore/structural/KeyStorePassword-max+1: expected 400" in out
    assert "9 cases: 3 PASS" in out
    assert f"report: {writer.report_dir / 'report.html'}" in out


def test_progress_counts_failures_as_cases_complete():
    console = Console(file=io.StringIO(), width=200, force_terminal=True)
    cases = synthetic_cases()
    with Progress(len(cases), console=console) as bar:
        for c in cases:
            bar.start_case(c.id)
            bar.advance(c)
        task = bar._progress.tasks[0]
        assert task.completed == len(cases) == task.total
        assert bar.counts["FAIL"] == 2 and bar.counts["ERROR"] == 1
        assert "2 FAIL" in bar._tally()
    assert console.file.getvalue()  # something was drawn on a terminal


def test_progress_disabled_draws_nothing():
    console = Console(file=io.StringIO(), width=200, force_terminal=True)
    with Progress(2, console=console, enabled=False) as bar:
        bar.advance({"id": "x", "verdict": "PASS"})
    assert console.file.getvalue() == ""


def test_a_target_implementing_nothing_is_said_first_and_last(tmp_path):
    from report_synthetic import case

    _, results = write_run(tmp_path, cases=[case(f"UpdateCustomKeyStore/structural/x{i}", "UNIMPLEMENTED")
                                            for i in range(2)])
    console = _console()
    print_summary(results, console=console)
    lines = [line for line in console.file.getvalue().splitlines() if line.strip()]
    assert lines[0].startswith("The target implements none of the custom key store operations:")
    assert any(line.startswith("The target implements none") for line in lines[-3:])
    _, partial = write_run(tmp_path, cases=[case("UpdateCustomKeyStore/structural/x", "UNIMPLEMENTED"),
                                            case("UpdateCustomKeyStore/structural/y", "PASS")], name="partial")
    console = _console()
    print_summary(partial, console=console)
    assert "implements none" not in console.file.getvalue()
