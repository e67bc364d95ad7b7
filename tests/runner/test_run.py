"""run_suite / `kms-conformance run`: exit codes, reports written, -k, faults, Ctrl-C, moto, plugin."""

import json
import re
import socket
import subprocess
import sys

import pytest

from conformance.cli import main
from conformance.errors import ConfigError, TargetUnreachable, UsageError
from conformance.runner import RunOptions, run_suite
from conformance.runner.session import RunSession


def results_of(report_dir):
    return json.loads((report_dir / "results.json").read_text())


def test_subset_against_reference_exits_0_and_writes_every_report(in_tmp):
    out = in_tmp / "rep"
    outcome = run_suite(RunOptions(report_dir=str(out), keyword="UpdateCustomKeyStore and KeyStorePassword and structural", progress=False))
    assert outcome.exit_code == 0
    for name in ("results.json", "junit.xml", "report.md", "report.html"):
        assert (out / name).is_file(), name
    res = results_of(out)
    ids = [c["id"] for c in res["cases"]]
    assert ids and all("KeyStorePassword" in i and "/structural/" in i for i in ids)
    assert {c["verdict"] for c in res["cases"]} == {"PASS"}
    assert res["target"]["adapter"] == "reference" and res["edition"] == "current"
    # the password never reaches the report, although every one of these requests carried one
    text = (out / "results.json").read_text()
    assert "probe-password-1" not in text and "aaaaaaa" not in json.dumps([c["request"] for c in res["cases"]])


def test_seeded_fault_makes_cases_fail_and_exit_1(in_tmp):
    outcome = run_suite(RunOptions(report_dir=str(in_tmp / "f"), keyword="DescribeCustomKeyStores and structural and CustomKeyStoreId",
                                   faults=("notfound-404",), progress=False))
    assert outcome.exit_code == 1
    failing = [c for c in outcome.results["cases"] if c["verdict"] == "FAIL"]
    assert failing and all("observed 404 CustomKeyStoreNotFoundException" in c["detail"] for c in failing)


def test_strictness_exact_and_edition_2019_12(in_tmp):
    outcome = run_suite(RunOptions(report_dir=str(in_tmp / "e"), edition="2019-12", strictness="exact",
                                   keyword="CreateCustomKeyStore and structural and KeyStorePassword", progress=False))
    assert outcome.exit_code == 0
    ids = {c["id"] for c in outcome.results["cases"]}
    assert "CreateCustomKeyStore/structural/KeyStorePassword/length-below-min" in ids
    assert not any("length-max" in i for i in ids)  # 2019-12: no maximum
    assert outcome.results["strictness"] == "exact" and outcome.results["edition"] == "2019-12"


def test_unreachable_url_is_exit_3_in_one_line(in_tmp, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TargetUnreachable):
        run_suite(RunOptions(endpoint_url=f"http://127.0.0.1:{port}", report_dir=str(in_tmp / "u"), progress=False))
    assert main(["run", "--endpoint-url", f"http://127.0.0.1:{port}", "--report-dir", str(in_tmp / "u"), "--no-progress"]) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"kms-conformance: target unreachable at http://127.0.0.1:{port} (connection refused)"


def test_bad_config_and_bad_options_are_exit_2(in_tmp, capsys):
    bad = in_tmp / "bad.yaml"
    bad.write_text("target:\n  adapter: nonsense\n")
    with pytest.raises(ConfigError):
        run_suite(RunOptions(config=str(bad), report_dir=str(in_tmp / "b"), progress=False))
    assert main(["run", "--config", str(bad), "--report-dir", str(in_tmp / "b")]) == 2
    assert "target.adapter" in capsys.readouterr().err
    assert main(["run", "-k", "and (", "--report-dir", str(in_tmp / "b")]) == 2
    assert main(["run", "--update-expectations", "--report-dir", str(in_tmp / "b")]) == 2
    with pytest.raises(UsageError):
        RunOptions(strictness="loose").validate()
    assert "Traceback" not in capsys.readouterr().err


def test_ctrl_c_keeps_results_and_cleans_up(in_tmp, monkeypatch, capsys):
    done = []
    real = RunSession.run_case

    def interrupted_after_three(self, case):
        if len(done) == 3:
            raise KeyboardInterrupt
        done.append(case.id)
        return real(self, case)

    monkeypatch.setattr(RunSession, "run_case", interrupted_after_three)
    cleaned = []
    real_cleanup = RunSession.cleanup
    monkeypatch.setattr(RunSession, "cleanup", lambda self: cleaned.append(1) or real_cleanup(self))
    outcome = run_suite(RunOptions(report_dir=str(in_tmp / "c"), keyword="structural and UpdateCustomKeyStore", progress=False))
    assert outcome.interrupted and outcome.exit_code == 130
    res = results_of(in_tmp / "c")
    assert [c["id"] for c in res["cases"]] == done and res["finished"] and res["interrupted"] is True
    assert cleaned == [1]
    # the summary says how far the run got: "3 of N cases"
    from conformance.report.formatting import summary_line

    assert res["selected"] > 3 and f": 3 of {res['selected']} cases: 3 PASS" in summary_line(res)
    assert f"3 of {res['selected']} cases" in capsys.readouterr().err


def test_a_crashing_case_is_error_and_the_run_goes_on(in_tmp, monkeypatch):
    import conformance.cases.auth as auth

    real = auth.collect
    crashed = []

    def collect(cc):
        cases = real(cc)
        cases[0].run = lambda ctx: 1 / 0
        crashed.append(cases[0].id)
        return cases

    monkeypatch.setattr(auth, "collect", collect)
    outcome = run_suite(RunOptions(report_dir=str(in_tmp / "x"), keyword="DescribeCustomKeyStores and auth", progress=False))
    verdicts = {c["id"]: c for c in outcome.results["cases"]}
    first = verdicts[crashed[0]]
    assert first["verdict"] == "ERROR" and first["detail"].startswith("harness error: ZeroDivisionError")
    assert len(verdicts) == 5 and sum(c["verdict"] == "PASS" for c in verdicts.values()) == 4
    assert outcome.exit_code == 1


def test_moto_in_process_custom_key_store_cases_are_unimplemented(in_tmp):
    outcome = run_suite(RunOptions(target="moto", report_dir=str(in_tmp / "m"), keyword="structural or protocol or auth", progress=False))
    verdicts = {c["verdict"] for c in outcome.results["cases"]}
    assert verdicts == {"UNIMPLEMENTED"}
    assert outcome.exit_code == 0


def test_cli_run_with_k(in_tmp):
    rc = main(["run", "-k", "DescribeCustomKeyStores and auth", "--report-dir", str(in_tmp / "cli"), "--no-progress", "--seed", "3"])
    assert rc == 0
    res = results_of(in_tmp / "cli")
    assert len(res["cases"]) == 5 and res["seed"] == 3


@pytest.mark.slow
def test_pytest_plugin_runs_the_suite(in_tmp):
    out = in_tmp / "pt"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "conformance.runner.suite", "-q", "-p", "no:cacheprovider",
         "-k", "DescribeCustomKeyStores and auth", "--kms-report-dir", str(out)],
        capture_output=True, text=True, cwd=in_tmp, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "5 passed" in proc.stdout and "kms-conformance: 5 PASS" in proc.stdout
    assert len(results_of(out)["cases"]) == 5


@pytest.mark.parametrize(
    "verdict,outcome",
    [("PASS", None), ("NON_STRICT", None), ("FAIL", "failed"), ("ERROR", "failed"), ("UNEXPECTED_PASS", "failed"),
     ("UNIMPLEMENTED", "skipped"), ("SKIPPED", "skipped"), ("NOT_TRIGGERABLE", "skipped"), ("EXPECTED_FAIL", "xfailed")],
)
def test_plugin_maps_verdicts_to_pytest_outcomes(verdict, outcome):
    from conformance.steps import CaseResult
    from conformance.runner.pytest_plugin import PluginRun, check_case
    from conformance.verdicts import Verdict

    class Session:
        def run_case(self, case):
            return CaseResult(id="X/structural/y", operation="X", kind="structural", requirements=[],
                              verdict=Verdict(verdict), detail="why", reproduce="curl ...")

    if outcome is None:
        check_case(PluginRun(Session()), None)
        return
    exc = {"failed": pytest.fail.Exception, "skipped": pytest.skip.Exception, "xfailed": pytest.xfail.Exception}[outcome]
    with pytest.raises(exc, match=f"{verdict}.*: why"):
        check_case(PluginRun(Session()), None)


def test_pytest_plugin_with_a_fault_fails_and_an_expectation_file_turns_it_into_xfail(in_tmp):
    """--kms-fault seeds the reference target; --kms-expectations makes the known failure an xfail."""
    base = [sys.executable, "-m", "pytest", "--pyargs", "conformance.runner.suite", "-q", "-p", "no:cacheprovider",
            "-k", "refused-while-disconnected and DisconnectCustomKeyStore", "--kms-fault", "disconnect-idempotent"]
    proc = subprocess.run(base + ["--kms-report-dir", str(in_tmp / "a")], capture_output=True, text=True,
                          cwd=in_tmp, timeout=120)
    assert proc.returncode == 1 and "1 failed" in proc.stdout, proc.stdout[-2000:]
    exp = in_tmp / "exp.yaml"
    exp.write_text("cases:\n  DisconnectCustomKeyStore/scenario/refused-while-disconnected:\n"
                   "    verdict: FAIL\n    reason: seeded fault disconnect-idempotent\n")
    proc = subprocess.run(base + ["--kms-report-dir", str(in_tmp / "b"), "--kms-expectations", str(exp)],
                          capture_output=True, text=True, cwd=in_tmp, timeout=120)
    assert proc.returncode == 0 and "1 xfailed" in proc.stdout, proc.stdout[-2000:]
    assert results_of(in_tmp / "b")["cases"][0]["verdict"] == "EXPECTED_FAIL"


@pytest.mark.slow
@pytest.mark.parametrize("edition", ["current", "2019-12"])
def test_full_default_run_against_reference_is_clean(in_tmp, edition):
    outcome = run_suite(RunOptions(report_dir=str(in_tmp / edition), edition=edition, progress=False))
    assert outcome.exit_code == 0
    cases = outcome.results["cases"]
    assert len(cases) > 300 if edition == "current" else len(cases) > 200
    bad = [(c["id"], c["verdict"], c["detail"]) for c in cases if c["verdict"] not in ("PASS", "NOT_TRIGGERABLE", "NON_STRICT")]
    assert not bad, bad[:5]
    for c in cases:
        if c["verdict"] == "NOT_TRIGGERABLE":
            assert c["detail"], c["id"]  # a reason is always given
            # ...about the target or the service, never about the suite's own plans
            assert not SUITE_PLANS.search(c["detail"]), (c["id"], c["detail"])
    # The reachability ledger of the clean reference: nothing answered wrong, and every Xks* error of the
    # current edition is reached through the proxy double (the 2019-12 model has none).
    ledger = outcome.results["reachability"]
    states = {(r["operation"], r["error"]): r["state"] for r in ledger["rows"]}
    assert ledger["available"] and ledger["summary"]["wrong"] == 0, [r for r in ledger["rows"] if r["state"] == "wrong"]
    assert states[("UpdateCustomKeyStore", "CustomKeyStoreInvalidStateException")] == "right"
    assert states[("*", "InvalidSignatureException")] == "right"
    xks = {key: state for key, state in states.items() if key[1].startswith("Xks")}
    assert (len(xks) > 10) == (edition == "current")
    assert set(xks.values()) <= {"right"}, xks


# Words by which a reason would talk about the suite's own plans rather than about the target.
SUITE_PLANS = re.compile(r"\bissues?\b|\blater\b|\bfuture\b|\bnot yet\b|\bcome with\b|\bdeferred\b|\btodo\b",
                         re.IGNORECASE)


def test_plugin_adds_requirement_ids_as_keywords():
    from types import SimpleNamespace

    from conformance.cases.base import Case
    from conformance.runner.pytest_plugin import pytest_collection_modifyitems

    case = Case(id="UpdateCustomKeyStore/auth/wrong-secret", operation="UpdateCustomKeyStore", kind="auth",
                requirements=("AUTH-003",), title="t", run=lambda ctx: None)
    item = SimpleNamespace(callspec=SimpleNamespace(params={"kms_case": case}), extra_keyword_matches=set())
    other = SimpleNamespace(extra_keyword_matches=set())
    pytest_collection_modifyitems(None, None, [item, other])
    assert {"AUTH-003", "auth", "UpdateCustomKeyStore"} <= item.extra_keyword_matches
    assert other.extra_keyword_matches == set()
