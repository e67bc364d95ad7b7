"""Results and reports: incremental results.json (+ JSON Schema), JUnit, Markdown, HTML,
terminal output, expectation files, compare, record/replay cassettes, the dashboard.

Public entry points: `ResultsWriter`, `render_all(results_path, out_dir)`,
`load_results`, `load_expectations` / `apply_expectations` / `exit_code`.
"""

from conformance.report.results import ResultsWriter, load_results, validate_results  # noqa: F401


def render_all(results_path, out_dir=None):
    """Re-render junit.xml, report.md and report.html from a results.json."""
    from conformance.report.render import render_all as _render_all

    return _render_all(results_path, out_dir)
