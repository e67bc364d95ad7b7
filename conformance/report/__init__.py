"""Results and reports: incremental results.json (+ JSON Schema), JUnit, Markdown, HTML,
terminal output, expectation files, compare.

Public entry points: `ResultsWriter`, `load_results`, `validate_results`,
`render_all(results_path, out_dir)`; expectations in conformance.report.expectations.
"""

from conformance.report.render import render_all
from conformance.report.results import ResultsWriter, load_results, validate_results

__all__ = ["ResultsWriter", "load_results", "render_all", "validate_results"]
