"""Make Hypothesis-driven cases draw the same examples in every run with the same --seed.

Hypothesis draws a share of its examples from constants found in the non-library
modules loaded at draw time (hypothesis/internal/conjecture/providers.py,
`_get_local_constants`); it offers no public switch for this. Which suite modules
happen to be loaded depends on the target (a replay loads no emulator, moto loads
none of ours) and on the entry point (the CLI loads conformance.cli, pytest does
not), so property, stateful and Schemathesis cases would send other requests
against other targets, and a replay would miss its cassette. Loading every suite
module before any case runs makes the pool, and so the examples, the same everywhere.

This is the one place that imports modules by name: it loads them for their
constants only and never uses what it loaded, so it adds no dependency between stages.
"""

from __future__ import annotations

import importlib
import pkgutil

import conformance


def import_suite_modules() -> None:
    """Import every module of the suite (see the module docstring for why)."""
    for info in pkgutil.walk_packages(conformance.__path__, "conformance."):
        if not info.name.endswith("__main__"):  # running it would start the CLI
            importlib.import_module(info.name)
