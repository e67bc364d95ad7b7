"""Runs behind the chaos proxy: transient faults are retried away, a failing target stops the run (exit 3),
infrastructure is ERROR never FAIL, and what is not KMS is refused before any case runs."""

from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest
from chaos_proxy import ChaosProxy
from targethelpers import serve_wsgi

from conformance.cli import main
from conformance.reference import ReferenceConfig, make_app
from conformance.runner import RunOptions, run_suite
from conformance.runner import session as session_module
from conformance.targets import RetryBudget, TargetUnusable, config_from_options, open_target, require_kms_endpoint

# Scenarios (create/connect/delete sequences), structural, protocol, auth and Schemathesis cases of one operation.
SELECTION = "DeleteCustomKeyStore and not property"


@pytest.fixture
def quick_backoff(monkeypatch):
    """Real backoff with a short base step, so a test waits milliseconds (tries and budget unchanged)."""
    monkeypatch.setattr(session_module, "RetryBudget", functools.partial(RetryBudget, base_s=0.005, cap_s=0.05))


def _run(tmp_path, name, url, keyword=SELECTION, **kw):
    out = tmp_path / name
    outcome = run_suite(RunOptions(endpoint_url=url, report_dir=str(out), keyword=keyword, progress=False, **kw))
    return outcome, {c["id"]: c for c in json.loads((out / "results.json").read_text())["cases"]}


def _verdicts(cases):
    return {cid: c["verdict"] for cid, c in cases.items()}


def test_behind_503s_and_throttling_the_verdicts_are_those_of_a_clean_run(served_reference, tmp_path, monkeypatch,
                                                                           quick_backoff):
    monkeypatch.chdir(tmp_path)
    url, _app = served_reference
    clean, clean_cases = _run(tmp_path, "clean", url)
    assert clean.exit_code == 0 and len(clean_cases) > 30
    # A fresh target: the clean run left a store holding a key pending deletion (and its cluster lineage).
    with serve_wsgi(make_app(ReferenceConfig())) as fresh, \
            ChaosProxy(fresh, seed=7, unavailable=0.10, throttle=0.30) as proxy:
        chaos, chaos_cases = _run(tmp_path, "chaos", proxy.url)
    assert proxy.injected["unavailable"] > 10 and proxy.injected["throttle"] > 30  # the faults did happen
    assert _verdicts(chaos_cases) == _verdicts(clean_cases)
    assert chaos.exit_code == 0


@pytest.mark.parametrize("fault", ["unavailable", "throttle"])
def test_a_target_failing_everything_is_refused_with_exit_3_before_any_case(served_reference, tmp_path, monkeypatch,
                                                                           capsys, fault):
    """Default budget (no quick backoff): the probe gives up after its tries, not after 35 minutes."""
    monkeypatch.chdir(tmp_path)
    url, app = served_reference
    with ChaosProxy(url, max_burst=None, **{fault: 1.0}) as proxy:
        code = main(["run", "--endpoint-url", proxy.url, "--no-progress", "--report-dir", str(tmp_path / "r")])
    assert code == 3
    err = capsys.readouterr().err.strip().splitlines()[-1]
    reason = "503" if fault == "unavailable" else "400 ThrottlingException"
    assert err == f"kms-conformance: target unavailable: ListKeys got {reason} after 12 tries"
    assert sum(proxy.injected.values()) == 12 and proxy.forwarded == 0 and not app.requests


@pytest.mark.parametrize("fault", ["unavailable", "throttle"])
def test_a_target_that_starts_failing_mid_run_is_stopped_early_with_partial_results(
        served_reference, tmp_path, monkeypatch, quick_backoff, fault):
    monkeypatch.chdir(tmp_path)
    url, _app = served_reference
    with ChaosProxy(url, max_burst=None) as proxy:
        session_open = session_module.RunSession.open

        def open_then_fail(self):  # the target passes the probes, then fails every call
            session_open(self)
            proxy.set_rates(**{fault: 1.0})

        monkeypatch.setattr(session_module.RunSession, "open", open_then_fail)
        outcome, cases = _run(tmp_path, "r", proxy.url, keyword="DescribeCustomKeyStores")
    assert outcome.exit_code == 3
    verdicts = set(_verdicts(cases).values())
    assert verdicts == {"ERROR"}, verdicts  # never FAIL or NON_STRICT
    assert all("target unavailable" in c["detail"] for c in cases.values())
    assert 0 < len(cases) < 30  # stopped early: DescribeCustomKeyStores has many more cases
    assert any("stopped early" in n for n in outcome.results["notes"])
    assert (tmp_path / "r" / "report.html").is_file()


def test_truncated_replies_are_error_not_fail(served_reference, tmp_path, monkeypatch, quick_backoff):
    monkeypatch.chdir(tmp_path)
    url, _app = served_reference
    with ChaosProxy(url, max_burst=None) as proxy:
        session_open = session_module.RunSession.open

        def open_then_truncate(self):
            session_open(self)
            proxy.set_rates(truncate=1.0)

        monkeypatch.setattr(session_module.RunSession, "open", open_then_truncate)
        outcome, cases = _run(tmp_path, "r", proxy.url, keyword="DescribeCustomKeyStores and protocol")
    assert cases and {c["verdict"] for c in cases.values()} == {"ERROR"}
    assert all("cut off mid-body" in c["detail"] for c in cases.values()), [c["detail"] for c in cases.values()]


class _NotFound(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - http.server API
        self.send_error(404)

    do_GET = do_POST


@pytest.fixture
def plain_web_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_plain_web_server_is_refused_as_not_kms(plain_web_server, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["run", "--endpoint-url", plain_web_server, "--no-progress", "--report-dir", str(tmp_path / "r")])
    assert code == 3
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("kms-conformance: not a KMS endpoint: ListKeys got HTTP 404 (text/html")
    assert "a non-JSON body and no x-amzn-RequestId header" in err and "<!DOCTYPE HTML" in err
    assert not (tmp_path / "r" / "results.json").exists()  # refused before any case: nothing graded


def test_json_without_a_request_id_is_not_kms(broken_server):
    target = open_target(config_from_options(endpoint_url=broken_server.url))
    try:
        with pytest.raises(TargetUnusable, match=r"not a KMS endpoint: ListKeys got HTTP 200 .* no x-amzn-RequestId"):
            require_kms_endpoint(target)  # mode "ok" answers {} and nothing else
    finally:
        target.close()


def test_the_served_reference_and_moto_server_pass_the_kms_probe(served_reference, moto_server_url):
    for url in (served_reference[0], moto_server_url):
        target = open_target(config_from_options(endpoint_url=url))
        try:
            obs = require_kms_endpoint(target)
            # An answer in AWS JSON 1.1 (the reference has no ListKeys: its UnknownOperationException is one too).
            assert isinstance(obs.body, dict) and obs.headers.get("x-amzn-requestid") and obs.infrastructure is None
        finally:
            target.close()
    # In-process targets are not network endpoints: nothing to probe.
    for adapter in ("reference", "moto"):
        target = open_target(config_from_options(target=adapter))
        try:
            assert require_kms_endpoint(target) is None
        finally:
            target.close()


def test_resets_are_retried_for_reads_and_never_resent_for_writes(served_reference):
    url, app = served_reference
    with ChaosProxy(url, max_burst=None, reset=1.0) as proxy:
        target = open_target(config_from_options(endpoint_url=proxy.url), retry=RetryBudget(base_s=0.001, cap_s=0.01))
        try:
            read = target.call("DescribeCustomKeyStores", {})
            write = target.call("DeleteCustomKeyStore", {"CustomKeyStoreId": "cks-1234567890abcdef0"})
        finally:
            target.close()
    assert read.infrastructure == "connection reset after 12 tries" and read.transport_error
    assert write.attempts == 1 and write.infrastructure == "connection reset after 1 try"
    assert proxy.injected["reset"] == 13 and not app.requests  # nothing reached the target
