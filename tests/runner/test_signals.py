"""SIGTERM and SIGHUP stop a run as Ctrl-C does: cleanup, every report, `interrupted`, exit 128+signal (issue 11, Why 5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conformance.reference import ReferenceConfig, make_app
from conformance.runner.options import RunOptions
from conformance.runner.session import RunSession
from conformance.runner.signals import Interrupted, StopSignals

REPORT_FILES = ("results.json", "junit.xml", "report.md", "report.html")
SELECTION = "scenario"  # 111 cases, stores from the first ones on: a signal lands mid-run


@pytest.fixture
def served():
    """(url, app) of a reference target served on loopback in this process, so the test sees its stores."""
    app = make_app(ReferenceConfig())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app
    finally:
        server.shutdown()
        server.server_close()


def _wait_until(predicate, proc, what: str, limit_s: float = 120.0) -> None:
    """Poll until predicate() holds (a bound against a hung test, not a timed assertion)."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (exit {proc.returncode}) before {what}: {proc.stderr.read()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_signal_mid_run_cleans_up_and_writes_every_report(served, tmp_path, sig, code):
    url, app = served
    report = tmp_path / "report"
    env = {**os.environ, "KMS_CONFORMANCE_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance", "run", "--no-progress", "--endpoint-url", url,
         "--report-dir", str(report), "-k", SELECTION],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # Mid-run, with a store of the run on the target.
    # After the transition probe (its store is gone again once results.json exists): a case's store.
    _wait_until(lambda: (report / "results.json").is_file() and app.backend.snapshot(), proc,
                "the run created a store")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == code, err
    for name in REPORT_FILES:
        assert (report / name).is_file(), name
    results = json.loads((report / "results.json").read_text())
    assert results["interrupted"] is True
    assert f"stopped by {signal.Signals(sig).name}" in results["notes"]
    selected = len(RunSession(RunOptions(keyword=SELECTION)).collect())
    assert 0 < len(results["cases"]) < selected  # partial results kept
    assert app.backend.snapshot() == []  # the stores were removed on the target (what Describe lists)
    assert "Traceback" not in err


def test_second_signal_skips_cleanup_and_says_how_to_run_it(tmp_path):
    """First signal stops the cases; a second one during the cleanup stops it and names the command."""
    options = RunOptions(endpoint_url="http://127.0.0.1:9", report_dir=str(tmp_path / "r"), progress=False)
    session = RunSession(options)
    before = signal.getsignal(signal.SIGTERM)

    class SignalledDuringCleanup:
        calls = 0

        def cleanup(self):
            SignalledDuringCleanup.calls += 1
            os.kill(os.getpid(), signal.SIGTERM)  # the second signal arrives while stores are being removed
            time.sleep(5)  # interrupted by the handler long before this ends
            raise AssertionError("the second signal did not stop the cleanup")

    session.signals.install()
    try:
        with pytest.raises(Interrupted):  # the first signal, while cases run
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        session.driver = SignalledDuringCleanup()
        problem = session.cleanup()
        assert SignalledDuringCleanup.calls == 1
        assert problem.startswith("cleanup skipped (second stop signal): run `kms-conformance cleanup "
                                  "--endpoint-url http://127.0.0.1:9 --run-prefix kmsconf-")
        outcome = session.finish(notes=[problem])
        assert outcome.interrupted and outcome.exit_code == 143
    finally:
        session.close()
    assert signal.getsignal(signal.SIGTERM) == before  # handlers restored once the run is closed


def test_first_signal_during_cleanup_lets_it_finish():
    stop = StopSignals()
    stop.phase = "cleanup"
    stop._handle(signal.SIGTERM, None)  # noted, not raised
    assert stop.received and stop.exit_code == 143
    with pytest.raises(Interrupted):
        stop._handle(signal.SIGINT, None)
    stop.phase = "cases"
    for _ in range(3):  # while cases run, every signal stops them, even if some code swallowed the first
        with pytest.raises(Interrupted):
            stop._handle(signal.SIGTERM, None)
    stop.phase = "reporting"
    stop._handle(signal.SIGTERM, None)  # reports are being written: ignored
    assert stop.exit_code == 143  # the first signal decides


def test_cli_exit_code_for_a_signal_before_the_run_opened(monkeypatch, capsys):
    """A signal while the target is still being opened: no report yet, but the same exit code and one line."""
    import conformance.runner.run as run_module
    from conformance.cli import main

    def stopped(options):
        raise Interrupted(signal.SIGHUP)

    monkeypatch.setattr(run_module, "run_suite", stopped)
    assert main(["run"]) == 129
    assert capsys.readouterr().err.strip() == "kms-conformance: interrupted (SIGHUP)"


@pytest.mark.slow
def test_pytest_plugin_sigterm_cleans_up_and_reports(served, tmp_path):
    """The plugin runs cases through the same RunSession: same handlers, same cleanup, same exit code."""
    url, app = served
    report = tmp_path / "report"
    env = {**os.environ, "KMS_CONFORMANCE_STATE_DIR": str(tmp_path / "state")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance.runner.suite", "-q", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-k", SELECTION, "--kms-endpoint-url", url, "--kms-report-dir", str(report)],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # After the transition probe (its store is gone again once results.json exists): a case's store.
    _wait_until(lambda: (report / "results.json").is_file() and app.backend.snapshot(), proc,
                "the run created a store")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 143, out[-2000:] + err[-2000:]
    for name in REPORT_FILES:
        assert (report / name).is_file(), name
    assert json.loads((report / "results.json").read_text())["interrupted"] is True
    assert app.backend.snapshot() == []
