"""The runner: `run_suite(RunOptions) -> RunOutcome`, `kms-conformance run`, the pytest plugin.

Exports load on first use: the pytest plugin module lives in this package and is
imported by every pytest session, which must not pay for the whole suite.
"""

from typing import Any

__all__ = ["RunOptions", "RunOutcome", "RunSession", "run_suite"]


def __getattr__(name: str) -> Any:
    if name == "RunOptions":
        from conformance.runner.options import RunOptions

        return RunOptions
    if name == "run_suite":
        from conformance.runner.run import run_suite

        return run_suite
    if name in ("RunOutcome", "RunSession"):
        from conformance.runner import session

        return getattr(session, name)
    raise AttributeError(name)
