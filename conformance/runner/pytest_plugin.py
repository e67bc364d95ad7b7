"""pytest11 plugin: `pytest --pyargs conformance.runner.suite [--kms-target ...] [-k EXPR]`.

Loaded by every pytest session (entry point), so it stays inert and cheap unless a
test asks for the `kms_case` fixture, which only `conformance.runner.suite` does.
Cases run through the same RunSession as `kms-conformance run` (same execution,
same results.json and reports). Per-session state lives in `config.stash`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from conformance.runner.options import add_plugin_options, options_from_plugin
from conformance.verdicts import UNEXPECTED, Verdict

if TYPE_CHECKING:  # pragma: no cover
    from conformance.cases.base import Case
    from conformance.runner.session import RunOutcome, RunSession


@dataclass
class PluginRun:
    """The opened session and the expectation file's entries (None without --kms-expectations)."""

    session: "RunSession"
    expectations: Any = None


_SESSION_KEY = pytest.StashKey["RunSession"]()
_CASES_KEY = pytest.StashKey["list[Case]"]()
_OUTCOME_KEY = pytest.StashKey["RunOutcome"]()


def pytest_addoption(parser):
    add_plugin_options(parser.getgroup("kms-conformance", "KMS custom key store conformance suite"))


def _session(config) -> "RunSession":
    if _SESSION_KEY not in config.stash:
        from conformance.runner.session import RunSession

        session = RunSession(options_from_plugin(config.getoption))
        session.load_spec()
        config.stash[_SESSION_KEY] = session
    return config.stash[_SESSION_KEY]


def pytest_generate_tests(metafunc):
    if "kms_case" not in metafunc.fixturenames:
        return
    session = _session(metafunc.config)
    if _CASES_KEY not in metafunc.config.stash:
        metafunc.config.stash[_CASES_KEY] = session.collect()
    cases = metafunc.config.stash[_CASES_KEY]
    metafunc.parametrize("kms_case", cases, ids=[c.id for c in cases])


@pytest.fixture(scope="session")
def kms_run(request):
    """The opened run (target probed, results writer started); cleaned up and reported at the end."""
    from conformance.errors import ConformanceError
    from conformance.report.expectations import load_expectations

    session = _session(request.config)
    try:
        session.open()
        session.start_results()
        path = session.options.expectations
        run = PluginRun(session, load_expectations(path) if path else None)
    except ConformanceError as exc:
        session.close()
        pytest.exit(f"kms-conformance: {exc}", returncode=exc.exit_code)
    yield run
    problem = session.cleanup()
    outcome = session.finish(notes=[problem] if problem else None)
    session.close()
    request.config.stash[_OUTCOME_KEY] = outcome


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session, exitstatus):
    """After the fixtures' teardown (cleanup, reports): a run stopped by a signal exits 128+signal, as the CLI does."""
    result = yield
    outcome = session.config.stash.get(_OUTCOME_KEY, None)
    if outcome is not None and outcome.interrupted:
        session.exitstatus = outcome.exit_code
    return result


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _OUTCOME_KEY in config.stash:
        terminalreporter.write_line(config.stash[_OUTCOME_KEY].summary_line())


def _verdict_after_expectations(run: PluginRun, result) -> Verdict:
    """The case's verdict after the run's expectation file, if any (EXPECTED_FAIL, UNEXPECTED_PASS)."""
    if run.expectations is None:
        return Verdict(result.verdict)
    from conformance.report.expectations import apply_expectations

    applied = apply_expectations({"cases": [result.to_dict()], "requirements": []}, run.expectations)
    return Verdict(applied["cases"][0]["verdict"])


def check_case(run: PluginRun, case) -> None:
    """Run one case and turn its verdict (after any expectation file) into a pytest outcome."""
    from conformance.report.expectations import PASSING

    result = run.session.run_case(case)
    verdict = _verdict_after_expectations(run, result)
    if verdict is Verdict.EXPECTED_FAIL:
        pytest.xfail(f"EXPECTED_FAIL ({result.verdict}): {result.detail}")
    if verdict in UNEXPECTED:
        pytest.fail(f"{verdict}: {result.detail}" + (f"\nreproduce: {result.reproduce}" if result.reproduce else ""), pytrace=False)
    if verdict.value not in PASSING:  # the case could not judge the target here
        pytest.skip(f"{verdict}: {result.detail}")


def pytest_collection_modifyitems(session, config, items):
    """Let pytest's -k also match a case's kind, operation, requirement ids and tags."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("kms_case") if callspec is not None else None
        if case is not None:
            item.extra_keyword_matches.update((case.kind, case.operation, *case.requirements, *case.tags))
