"""The architecture holds: import contracts kept, no stage reached by name, seeded faults named in one place."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import conformance
from conformance.reference.faults import FAULTS

PACKAGE = Path(conformance.__file__).resolve().parent
REPO = PACKAGE.parent
# Imports modules by name only to load their constants for Hypothesis and never uses
# them (see its docstring); every such call there must discard its result.
LOAD_ONLY = PACKAGE / "runner" / "determinism.py"


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "BROKEN" not in proc.stdout and re.search(r"Contracts: \d+ kept, 0 broken", proc.stdout)


def _dynamic_imports(tree: ast.AST):
    """(call node, its parent) for importlib.import_module(...) and __import__(...) calls."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        if name in ("import_module", "__import__"):
            yield node, parents.get(node)


def test_no_module_reaches_a_stage_by_name():
    found = []
    for path in modules():
        for call, parent in _dynamic_imports(ast.parse(path.read_text(), str(path))):
            if path == LOAD_ONLY and isinstance(parent, ast.Expr):
                continue  # loaded, never used
            found.append(f"{path.relative_to(REPO)}:{call.lineno}")
    assert not found, "modules reached by name instead of a plain import: " + ", ".join(found)


def test_the_load_only_module_really_loads_modules():
    """The exemption above is not vacuous: determinism.py does import by name, and discards the result."""
    calls = list(_dynamic_imports(ast.parse(LOAD_ONLY.read_text())))
    assert calls and all(isinstance(parent, ast.Expr) for _, parent in calls)


def test_seeded_fault_names_appear_only_in_the_fault_catalogue():
    home = PACKAGE / "reference" / "faults.py"
    assert FAULTS
    found = []
    for path in modules() + sorted(PACKAGE.rglob("*.yaml")) + sorted(PACKAGE.rglob("*.json")):
        if path == home:
            continue
        text = path.read_text(errors="replace")
        found += [f"{name} in {path.relative_to(REPO)}" for name in FAULTS if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)]
    assert not found, "fault names outside conformance/reference/faults.py: " + "; ".join(found)
