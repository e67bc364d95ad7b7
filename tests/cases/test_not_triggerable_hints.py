"""Every NOT_TRIGGERABLE reason that suggests an option names one that exists (issue 15: a reason told
users to "opt in with the run option create_keys", which no flag or config key set).

The reasons are assembled from string pieces in the modules that raise NotTriggerable (and the notes
they append), so every string literal there is scanned: each `--flag` must be a flag of some
`kms-conformance` command, each `target.x` / `run.x` / `world.cloudhsm.x` / `world.timeouts.x` a key the
config file accepts.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import conformance
from conformance.cli import build_parser
from conformance.targets import config as config_schema

ROOT = Path(conformance.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
CONFIG_KEY = re.compile(r"\b(?:target|run|world)\.[a-z_]+(?:\.[a-z_]+)?\b")
# Modules whose strings become NOT_TRIGGERABLE reasons without naming NotTriggerable themselves.
NOTE_MODULES = ("targets/capabilities.py",)


def reason_modules() -> list[Path]:
    found = [p for p in ROOT.rglob("*.py") if "NotTriggerable" in p.read_text(encoding="utf-8")]
    return sorted({*found, *(ROOT / m for m in NOTE_MODULES)} - {ROOT / "errors.py"})


def strings(path: Path) -> list[str]:
    """String literals, docstrings left out (they name Python attributes, not options)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)}
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


def cli_flags() -> set[str]:
    flags: set[str] = set()
    todo = [build_parser()]
    while todo:
        parser = todo.pop()
        for action in parser._actions:  # argparse keeps no public list of a parser's options
            flags.update(s for s in action.option_strings if s.startswith("--"))
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())
    return flags


def config_keys() -> set[str]:
    keys = {f"target.{k}" for k in config_schema.TARGET_KEYS} | {f"run.{k}" for k in config_schema.RUN_KEYS}
    keys |= {f"world.{k}" for k in config_schema.WORLD_KEYS}
    keys |= {f"world.cloudhsm.{k}" for k in config_schema.CLOUDHSM_KEYS}
    keys |= {f"world.timeouts.{k}" for k in config_schema.TIMEOUT_KEYS}
    return keys


def suggestions() -> list[tuple[str, str]]:
    out = []
    for path in reason_modules():
        for text in strings(path):
            out += [(path.name, m) for m in FLAG.findall(text) + CONFIG_KEY.findall(text)]
    return out


def test_the_scan_sees_the_reasons_that_suggest_options():
    found = {s for _, s in suggestions()}
    # Reasons known to suggest options: keys in stores, observable transitions, the control surface.
    assert {"--create-keys", "run.create_keys", "target.observable_transitions", "--enable-control"} <= found


def test_every_suggested_flag_and_config_key_exists():
    flags, keys = cli_flags(), config_keys()
    missing = [(where, s) for where, s in suggestions() if s not in (flags if s.startswith("--") else keys)]
    assert missing == []


def test_no_reason_names_an_option_by_its_internal_name():
    vague = [(p.name, t) for p in reason_modules() for t in strings(p) if re.search(r"run option \w", t)]
    assert vague == []
