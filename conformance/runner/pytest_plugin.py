"""pytest11 plugin: `pytest --pyargs conformance.runner.suite [--kms-target ...] [-k EXPR]`.

Loaded by every pytest session (entry point), so it stays inert and cheap unless a
test asks for the `kms_case` fixture, which only `conformance.runner.suite` does.
Cases run through the same RunSession as `kms-conformance run` (same execution,
same results.json and reports). Per-session state lives in `config.stash`.

Under pytest-xdist (`-n N`) the cases are split by the rules of `run --workers N`
(runner/workers.py): each case's partition unit becomes an `xdist_group` and the suite
is scheduled with `--dist loadgroup`; each xdist worker writes its own results.json,
which the controller merges into the one results.json and the reports.
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


# The suite's pytest module; only a session that runs it is changed by the hooks below.
SUITE_MODULE = "conformance.runner.suite"


def _runs_the_suite(config) -> bool:
    return any(SUITE_MODULE in str(arg) or "conformance/runner/suite" in str(arg) for arg in config.args)


def _xdist_worker(config) -> str | None:
    """The xdist worker id ("gw0") when this process is an xdist worker, else None."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput.get("workerid") if workerinput else None


def pytest_configure(config):
    """Under `pytest -n N`, the suite is scheduled by partition units (xdist_group), never case by case."""
    if _xdist_worker(config) is None and _runs_the_suite(config) and getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadgroup"


def pytest_sessionstart(session):
    config = session.config
    if _xdist_worker(config) is None and _runs_the_suite(config) and getattr(config.option, "numprocesses", None):
        from conformance.runner.xdist import forget_worker_results

        forget_worker_results(options_from_plugin(config.getoption).report_dir)


def _session(config) -> "RunSession":
    if _SESSION_KEY not in config.stash:
        from conformance.runner.session import RunSession

        options = options_from_plugin(config.getoption)
        worker = _xdist_worker(config)
        if worker is not None:  # each xdist worker writes its own results; the controller merges them
            from conformance.runner.xdist import worker_options

            options = worker_options(options, worker)
        session = RunSession(options)
        if worker is not None:
            from conformance.runner.xdist import worker_prefix

            session.prefix = worker_prefix(session.prefix, worker)
        session.load_spec()
        config.stash[_SESSION_KEY] = session
    return config.stash[_SESSION_KEY]


def pytest_generate_tests(metafunc):
    if "kms_case" not in metafunc.fixturenames:
        return
    cases = _cases(metafunc.config)
    metafunc.parametrize("kms_case", cases, ids=[c.id for c in cases])


def _cases(config) -> "list[Case]":
    if _CASES_KEY not in config.stash:
        config.stash[_CASES_KEY] = _session(config).collect()
    return config.stash[_CASES_KEY]


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
    if _xdist_worker(request.config) is not None:
        from conformance.runner.xdist import finish_worker

        finish_worker(session, notes=[problem] if problem else None)
        session.close()
        return
    outcome = session.finish(notes=[problem] if problem else None)
    session.close()
    request.config.stash[_OUTCOME_KEY] = outcome


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session, exitstatus):
    """After the fixtures' teardown (cleanup, reports): a run stopped by a signal exits 128+signal, as the CLI does."""
    result = yield
    config = session.config
    if _xdist_worker(config) is None and _runs_the_suite(config) and getattr(config.option, "numprocesses", None):
        from conformance.runner.xdist import merge_worker_results

        merged = merge_worker_results(_session(config), _cases(config))
        if merged is not None:
            config.stash[_OUTCOME_KEY] = merged
            if merged.exit_code and session.exitstatus == 0:
                session.exitstatus = merged.exit_code
    outcome = config.stash.get(_OUTCOME_KEY, None)
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


@pytest.hookimpl(tryfirst=True)  # before xdist's worker names each item after its xdist_group
def pytest_collection_modifyitems(session, config, items):
    """Let pytest's -k also match a case's kind, operation, requirement ids and tags; under xdist, group them."""
    grouped = bool(getattr(getattr(config, "option", None), "loadgroup", False))  # set on xdist workers
    kms_items = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("kms_case") if callspec is not None else None
        if case is not None:
            item.extra_keyword_matches.update((case.kind, case.operation, *case.requirements, *case.tags))
            kms_items.append((item, case))
    if grouped and kms_items:
        from conformance.runner.xdist import group_names

        names = group_names([c for _, c in kms_items], _session(config).target_config().target.adapter)
        for item, case in kms_items:
            if case.id in names:
                item.add_marker(pytest.mark.xdist_group(names[case.id]))
