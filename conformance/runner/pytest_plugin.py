"""pytest11 plugin: `pytest --pyargs conformance.runner.suite [--kms-target ...] [-k EXPR]`.

Loaded by every pytest session (entry point), so it stays inert and cheap unless a
test asks for the `kms_case` fixture, which only `conformance.runner.suite` does.
Cases run through the same RunSession as `kms-conformance run` (same execution,
same results.json and reports).
"""

from __future__ import annotations

from typing import Any

import pytest

_SESSION_KEY = pytest.StashKey[Any]()
_CASES_KEY = pytest.StashKey[Any]()
_OUTCOME_KEY = pytest.StashKey[Any]()


def pytest_addoption(parser):
    group = parser.getgroup("kms-conformance", "KMS custom key store conformance suite")
    group.addoption("--kms-target", default=None, help="target adapter (reference, moto, endpoint, replay, aws)")
    group.addoption("--kms-config", default=None, help="target config file (YAML)")
    group.addoption("--kms-endpoint-url", default=None, help="endpoint URL of the target")
    group.addoption("--kms-edition", default="current", choices=("current", "2019-12"))
    group.addoption("--kms-strictness", default=None, choices=("code", "regex", "exact"))
    group.addoption("--kms-report-dir", default=None, help="where results.json and the reports go")
    group.addoption("--kms-seed", default=0, type=int)
    group.addoption("--kms-allow-live", action="store_true", default=False, help="allow the aws adapter")
    group.addoption("--kms-fault", action="append", default=[], metavar="NAME",
                    help="seed a reference-target fault (repeatable; `kms-conformance serve --list-faults`)")
    group.addoption("--kms-expectations", default=None, metavar="FILE",
                    help="expectation file: known failures xfail, unexpected passes fail")
    group.addoption("--kms-record", default=None, metavar="DIR", help="record every observation as a cassette")


def _options(config) -> Any:
    from conformance.runner.options import DEFAULT_REPORT_DIR, DEFAULT_STRICTNESS, RunOptions

    return RunOptions(
        target=config.getoption("kms_target"),
        config=config.getoption("kms_config"),
        endpoint_url=config.getoption("kms_endpoint_url"),
        edition=config.getoption("kms_edition"),
        strictness=config.getoption("kms_strictness") or DEFAULT_STRICTNESS,
        report_dir=config.getoption("kms_report_dir") or DEFAULT_REPORT_DIR,
        seed=config.getoption("kms_seed"),
        allow_live=config.getoption("kms_allow_live"),
        faults=tuple(config.getoption("kms_fault") or ()),
        expectations=config.getoption("kms_expectations"),
        record=config.getoption("kms_record"),
        progress=False,
    )


def _session(config):
    session = config.stash.get(_SESSION_KEY, None)
    if session is None:
        from conformance.runner.session import RunSession

        session = RunSession(_options(config))
        session.load_spec()
        config.stash[_SESSION_KEY] = session
    return session


def pytest_generate_tests(metafunc):
    if "kms_case" not in metafunc.fixturenames:
        return
    session = _session(metafunc.config)
    cases = metafunc.config.stash.get(_CASES_KEY, None)
    if cases is None:
        cases = session.collect()
        metafunc.config.stash[_CASES_KEY] = cases
    metafunc.parametrize("kms_case", cases, ids=[c.id for c in cases])


@pytest.fixture(scope="session")
def kms_run(request):
    """The opened run (target probed, results writer started); cleaned up and reported at the end."""
    from conformance.errors import ConformanceError

    session = _session(request.config)
    try:
        session.open()
        session.start_results()
    except ConformanceError as exc:
        session.close()
        pytest.exit(f"kms-conformance: {exc}", returncode=exc.exit_code)
    yield session
    problem = session.cleanup()
    outcome = session.finish(notes=[problem] if problem else None)
    session.close()
    request.config.stash[_OUTCOME_KEY] = outcome


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    outcome = config.stash.get(_OUTCOME_KEY, None)
    if outcome is None:
        return
    terminalreporter.write_line(outcome.summary_line())


# Verdicts that fail the pytest test; the others pass or skip with the verdict named.
_FAILING = {"FAIL", "ERROR", "UNEXPECTED_PASS"}
_SKIPPING = {"UNIMPLEMENTED", "SKIPPED", "NOT_TRIGGERABLE", "EXPECTED_FAIL"}


def _expected_verdict(session, result) -> str:
    """The case's verdict after the run's expectation file, if any (EXPECTED_FAIL, UNEXPECTED_PASS)."""
    path = getattr(getattr(session, "options", None), "expectations", None)
    if not path:
        return str(result.verdict)
    from conformance.report import expectations as ex

    loaded = getattr(session, "_plugin_expectations", None)
    if loaded is None:
        loaded = session._plugin_expectations = ex.load_expectations(path)
    applied = ex.apply_expectations({"cases": [result.to_dict()], "requirements": []}, loaded)
    return str(applied["cases"][0]["verdict"])


def check_case(session, case) -> None:
    """Run one case and turn its verdict (after any expectation file) into a pytest outcome."""
    result = session.run_case(case)
    verdict = _expected_verdict(session, result)
    if verdict == "EXPECTED_FAIL":
        pytest.xfail(f"EXPECTED_FAIL ({result.verdict}): {result.detail}")
    if verdict in _FAILING:
        pytest.fail(f"{verdict}: {result.detail}" + (f"\nreproduce: {result.reproduce}" if result.reproduce else ""), pytrace=False)
    if verdict in _SKIPPING:
        pytest.skip(f"{verdict}: {result.detail}")


def pytest_collection_modifyitems(session, config, items):
    """Let pytest's -k also match a case's kind, operation, requirement ids and tags."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("kms_case") if callspec is not None else None
        if case is not None:
            item.extra_keyword_matches.update((case.kind, case.operation, *case.requirements, *case.tags))
