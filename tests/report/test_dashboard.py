"""The dashboard: per-target folders, README matrix, index.html, manifest, and targets that cannot run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
import yaml

from conformance.steps import CaseResult
from conformance.errors import UsageError
from conformance.runner import dashboard
from conformance.report.results import ResultsWriter, load_results
from conformance.verdicts import Verdict

EMULATORS_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "emulators" / "emulators.py"


def fake_runner(verdicts_by_adapter: dict[str, list[str]], calls: list):
    """Stands in for `kms-conformance run`: writes a results.json like the runner does."""

    def run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
        calls.append((argv, env))
        config = yaml.safe_load(Path(argv[argv.index("--config") + 1]).read_text())["target"]
        report_dir = argv[argv.index("--report-dir") + 1]
        edition = argv[argv.index("--edition") + 1]
        verdicts = verdicts_by_adapter[config["adapter"]]
        if verdicts == "crash":
            return 3, f"kms-conformance: target unreachable at {config.get('endpoint_url')}"
        writer = ResultsWriter(report_dir, {"target": {"name": config["name"], "adapter": config["adapter"],
                                                        "endpoint": config.get("endpoint_url")},
                                            "edition": edition, "strictness": "regex"},
                               [{"id": "UPD-001", "operation": "UpdateCustomKeyStore", "level": "MUST"}])
        for i, v in enumerate(verdicts):
            writer.add(CaseResult(id=f"UpdateCustomKeyStore/structural/c{i}", operation="UpdateCustomKeyStore",
                                  kind="structural", requirements=["UPD-001"], verdict=Verdict(v)))
        writer.finish()
        return (1 if "FAIL" in verdicts else 0), ""

    return run


class FakeEmulators:
    """The conformance.targets.emulators interface, without starting anything."""

    def __init__(self):
        self.started, self.stopped, self.installed = [], [], []

    def is_installed(self, name):
        return name != "ministack"

    def install(self, name):
        self.installed.append(name)
        raise RuntimeError("pip failed: no network")

    def free_port(self):
        return 45999

    def start(self, name, port):
        self.started.append(name)
        return types.SimpleNamespace(name=name, url=f"http://127.0.0.1:{port}", version="5.2.5", pid=1)

    def stop(self, running):
        self.stopped.append(running.name)


def test_dashboard_writes_every_format_readme_matrix_and_index(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "someone-real")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-real-looking-secret")
    calls: list = []
    runner = fake_runner({"reference": ["PASS", "PASS", "NOT_TRIGGERABLE"], "moto": ["UNIMPLEMENTED"] * 2,
                          "endpoint": ["UNIMPLEMENTED", "FAIL"]}, calls)
    emus = FakeEmulators()
    outcomes = dashboard.build_dashboard(tmp_path, ["reference", "reference-2019-12", "moto-server", "ministack"],
                                         runner=runner, emulators=emus)
    assert [o.status for o in outcomes] == ["ran", "ran", "ran", "not-run"]
    for slug in ("reference", "reference-2019-12", "moto-server"):
        for name in ("results.json", "report.md", "report.html", "junit.xml"):
            assert (tmp_path / slug / name).is_file(), (slug, name)
    assert not (tmp_path / "ministack").exists()
    # the emulator was started, its URL handed to the run, and stopped; its version recorded
    assert emus.started == ["moto-server"] and emus.stopped == ["moto-server"]
    moto = load_results(tmp_path / "moto-server")
    assert moto["target"]["version"] == "5.2.5" and moto["target"]["name"] == "moto server"
    assert moto["target"]["endpoint"] == "http://127.0.0.1:45999"
    assert load_results(tmp_path / "reference-2019-12")["edition"] == "2019-12"
    # runs never see real credentials
    for _, env in calls:
        assert env["AWS_ACCESS_KEY_ID"] == dashboard.EXAMPLE_CREDENTIALS["AWS_ACCESS_KEY_ID"]
        assert env["AWS_SECRET_ACCESS_KEY"] != "a-real-looking-secret"
        assert "AWS_PROFILE" not in env and env["PYTHONHASHSEED"]  # reproducible Hypothesis draws
    readme = (tmp_path / "README.md").read_text()
    assert "`reference emulator 0.1.0 [current]: 3 cases, 2 PASS, 1 NOT_TRIGGERABLE`" in readme
    assert "`moto server 5.2.5 [current]: 2 cases, 1 UNIMPLEMENTED, 1 FAIL`" in readme
    assert "ministack: not run (RuntimeError: pip failed: no network)" in readme
    assert re.search(r"\| moto server \| 5\.2\.5 \| current \| \d{4}-\d\d-\d\d \d\d:\d\d \| 2 \|", readme)
    assert "| UPD-001 | NOT_TRIGGERABLE | NOT_TRIGGERABLE | FAIL |" in readme  # worst case wins
    index = (tmp_path / "index.html").read_text()
    assert "reference emulator (2019-12 edition)" in index and "moto server" in index
    manifest = json.loads((tmp_path / "dashboard.json").read_text())["targets"]
    assert manifest["ministack"]["status"] == "not-run" and manifest["moto-server"]["version"] == "5.2.5"


def test_a_subset_run_keeps_the_other_targets(tmp_path):
    calls: list = []
    runner = fake_runner({"reference": ["PASS"], "moto": ["UNIMPLEMENTED"]}, calls)
    dashboard.build_dashboard(tmp_path, ["reference"], runner=runner)
    dashboard.build_dashboard(tmp_path, ["moto"], runner=runner)
    readme = (tmp_path / "README.md").read_text()
    assert "reference emulator 0.1.0 [current]: 1 cases, 1 PASS" in readme
    assert "moto (in-process)" in readme and "UNIMPLEMENTED" in readme
    assert len(calls) == 2


def test_a_target_whose_run_fails_is_reported_not_run_and_the_rest_goes_on(tmp_path):
    runner = fake_runner({"endpoint": "crash", "reference": ["PASS"]}, [])
    outcomes = dashboard.build_dashboard(tmp_path, ["moto-server", "reference"], runner=runner,
                                         emulators=FakeEmulators())
    assert outcomes[0].status == "not-run" and "exited 3" in outcomes[0].reason
    assert "target unreachable" in outcomes[0].reason
    assert outcomes[1].status == "ran"


def test_cli_dashboard_exit_codes_and_unknown_target(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(dashboard, "run_in_subprocess", fake_runner({"reference": ["PASS"]}, []))
    args = types.SimpleNamespace(out=str(tmp_path), targets="reference")
    assert dashboard.cli_dashboard(args) == 0
    assert "reference emulator 0.1.0 [current]: 1 cases, 1 PASS" in capsys.readouterr().out
    with pytest.raises(UsageError, match="unknown target 'nope'"):
        dashboard.cli_dashboard(types.SimpleNamespace(out=str(tmp_path), targets="reference,nope"))


def test_the_dashboard_starts_emulators_with_the_packaged_module_and_the_script_path_still_works():
    from conformance.targets import emulators

    assert dashboard.emulator_tools is emulators
    assert set(emulators.EMULATORS) >= {"moto-server", "localstack", "ministack"}
    assert emulators.is_installed("moto-server")  # moto[server] is one of our own dependencies
    # command lines that name scripts/emulators/emulators.py (tox -e gate-moto, CI examples) run the same main()
    listed = subprocess.run([sys.executable, str(EMULATORS_SCRIPT), "list"], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == list(emulators.EMULATORS)


@pytest.mark.slow  # one real `kms-conformance run` subprocess (a few seconds)
def test_dashboard_end_to_end_on_the_reference_target(tmp_path):
    outcomes = dashboard.build_dashboard(tmp_path, ["reference"],
                                         run_args=["-k", "DescribeCustomKeyStores/scenario", "--no-progress"])
    assert outcomes[0].status == "ran", outcomes[0].reason
    results = load_results(tmp_path / "reference")
    assert results["target"]["name"] == "reference emulator" and results["target"]["version"] == "0.1.0"
    assert results["summary"]["total"] > 5 and results["summary"]["FAIL"] == results["summary"]["ERROR"] == 0
    assert all(c["id"].startswith("DescribeCustomKeyStores/scenario") for c in results["cases"])
    for name in ("report.md", "report.html", "junit.xml"):
        assert (tmp_path / "reference" / name).stat().st_size > 0
    readme = (tmp_path / "README.md").read_text()
    assert f"`{outcomes[0].summary_line}`" in readme and "reference emulator 0.1.0 [current]" in readme
    assert "reference emulator" in (tmp_path / "index.html").read_text()
