"""Make Hypothesis-driven cases draw the same examples in every run with the same --seed.

Hypothesis draws a share of its examples from constants found in the non-library
modules loaded at draw time (hypothesis/internal/conjecture/providers.py,
`_get_local_constants`). Which suite modules happen to be loaded depends on the
target (a replay loads no emulator, moto loads none of ours), so property,
stateful and Schemathesis cases would send other requests against other targets,
and a replay would miss its cassette. Loading every suite module before any case
runs makes the pool, and so the examples, the same everywhere.
"""

from __future__ import annotations


def import_suite_modules() -> None:
    """Import every module of the suite (see the module docstring for why)."""
    import importlib
    import pkgutil

    import conformance

    for info in pkgutil.walk_packages(conformance.__path__, "conformance."):
        if info.name.endswith("__main__"):
            continue  # running it would start the CLI
        try:
            importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - an optional module that cannot load here is not needed
            continue


