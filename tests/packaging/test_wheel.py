"""The built wheel works on its own: installed into a fresh venv, run from a directory
outside the checkout, with nothing of the checkout on the path.

An editable install reads the checkout, so it hides files the wheel forgets to ship;
this is the check that catches them. The fresh venv borrows this venv's installed
dependencies through a .pth line (no network, no reinstall); a directory added that
way is not a site dir, so its .pth files (this checkout's editable finder) stay inert.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[2]
# What the build reads: the package sources (conformance/specs links to specs/) and the packaging files.
BUILD_INPUTS = ("pyproject.toml", "README.md", "conformance", "specs")
SELECTION = "DescribeCustomKeyStores and auth"  # five quick cases, both editions


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def _tracked_files(folder: str) -> set[str]:
    root = CHECKOUT / folder
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """(python, bin dir, env, elsewhere): the wheel installed alone into a fresh venv."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    for name in BUILD_INPUTS:
        item = CHECKOUT / name
        if item.is_dir():
            shutil.copytree(item, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(item, src / name)
    dist = base / "dist"
    build = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)], base, dict(os.environ), 300)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("kms_conformance-*.whl")

    venv = base / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], base, dict(os.environ))
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = _run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
                     base, dict(os.environ))
    assert installed.returncode == 0, installed.stderr[-3000:]
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], base,
                     dict(os.environ)).stdout.strip())
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return python, venv / "bin", env, elsewhere, site


def test_the_package_imports_from_the_fresh_venv_not_the_checkout(fresh):
    python, _, env, elsewhere, site = fresh
    probe = ("import json, sys, conformance, conformance.specs; from conformance.spec.data import checkout_specs_dir;"
             "print(json.dumps({'package': conformance.__file__, 'data': conformance.specs.__file__,"
             " 'checkout': str(checkout_specs_dir()), 'path': sys.path}))")
    proc = _run([str(python), "-c", probe], elsewhere, env)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert Path(seen["package"]).is_relative_to(site) and Path(seen["data"]).is_relative_to(site)
    assert seen["checkout"] == "None"
    borrowed = Path(sysconfig.get_paths()["purelib"]).resolve()
    from_checkout = [p for p in seen["path"] if p and Path(p).resolve().is_relative_to(CHECKOUT) and Path(p).resolve() != borrowed]
    assert not from_checkout, seen["path"]


def test_the_wheel_ships_every_module_and_every_spec_data_file(fresh):
    _, _, _, _, site = fresh
    shipped_specs = {str(p.relative_to(site / "conformance" / "specs")) for p in (site / "conformance" / "specs").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts}
    assert shipped_specs == _tracked_files("specs")
    for name in shipped_specs:
        assert (site / "conformance" / "specs" / name).read_bytes() == (CHECKOUT / "specs" / name).read_bytes(), name
    modules = {f for f in _tracked_files("conformance") if f.endswith(".py") and not f.startswith("specs/")}
    shipped = {str(p.relative_to(site / "conformance")) for p in (site / "conformance").rglob("*.py")}
    assert modules <= shipped


@pytest.mark.parametrize("edition", ["current", "2019-12"])
def test_kms_conformance_run_works_from_another_directory(fresh, edition):
    _, bindir, env, elsewhere, _ = fresh
    out = elsewhere / f"run-{edition}"
    proc = _run([str(bindir / "kms-conformance"), "run", "--no-progress", "--edition", edition, "-k", SELECTION,
                 "--report-dir", str(out)], elsewhere, env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((out / "results.json").read_text())
    assert results["edition"] == edition
    assert len(results["cases"]) == 5 and {c["verdict"] for c in results["cases"]} == {"PASS"}
    assert all(c["requirements"] for c in results["cases"])


def test_the_pytest_plugin_works_from_another_directory(fresh):
    python, _, env, elsewhere, _ = fresh
    out = elsewhere / "plugin"
    proc = _run([str(python), "-m", "pytest", "--pyargs", "conformance.runner.suite", "-q", "-p", "no:cacheprovider",
                 "--kms-target", "reference", "-k", SELECTION, "--kms-report-dir", str(out)], elsewhere, env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "5 passed" in proc.stdout and "kms-conformance: 5 PASS" in proc.stdout
    assert len(json.loads((out / "results.json").read_text())["cases"]) == 5


def test_spec_commands_of_an_installed_package(fresh):
    _, bindir, env, elsewhere, _ = fresh
    cli = str(bindir / "kms-conformance")
    proc = _run([cli, "spec", "sync"], elsewhere, env)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no source checkout" in proc.stderr, proc.stderr
    proc = _run([cli, "spec", "sync", "--check"], elsewhere, env)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("up to date"), proc.stdout + proc.stderr
    proc = _run([cli, "spec", "requirements", "--cases", "UPD-013", "--format", "json"], elsewhere, env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["cases"]
    proc = _run([cli, "spec", "diff", "2019-12", "current", "--format", "json"], elsewhere, env)
    assert proc.returncode == 0 and json.loads(proc.stdout)["differences"], proc.stderr
