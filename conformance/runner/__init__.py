"""The runner: `run_suite(RunOptions) -> RunOutcome`, `kms-conformance run`, the pytest plugin.

Exports load lazily: the pytest plugin module lives in this package and is
imported by every pytest session, which must not pay for (or break on) the suite.
"""

from typing import Any

__all__ = ["RunOptions", "RunOutcome", "RunSession", "run_suite"]

_EXPORTS = {
    "RunOptions": "conformance.runner.options",
    "run_suite": "conformance.runner.run",
    "RunOutcome": "conformance.runner.session",
    "RunSession": "conformance.runner.session",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
