"""A deliberately broken local server: hangs, garbage, HTML 500s, truncated bodies, throttling, refusal."""

from __future__ import annotations

import time

import pytest

from conformance.targets import config_from_options, open_target, probe_capabilities


@pytest.fixture
def broken_target(broken_server):
    target = open_target(config_from_options(endpoint_url=broken_server.url), call_timeout_s=0.5)
    target.health.budget.base_s = 0.01  # keep backoff real but short in tests
    yield target, broken_server
    target.close()


def test_hang_becomes_a_timeout_observation(broken_target):
    target, server = broken_target
    server.mode = "hang"
    obs = target.call("DescribeCustomKeyStores", {})
    raw = target.send_raw("{}", amz_target="TrentService.DescribeCustomKeyStores")
    for o in (obs, raw):
        assert o.status is None and "timeout" in o.transport_error
        assert not o.unimplemented
    # The run goes on: the next call gets an answer once the server behaves.
    server.mode = "ok"
    server.release.set()
    assert target.call("DescribeCustomKeyStores", {}).status == 200


def test_garbage_body_is_kept_as_received(broken_target):
    target, server = broken_target
    server.mode = "garbage"
    obs = target.call("DescribeCustomKeyStores", {})
    assert obs.status == 200 and obs.transport_error is None
    assert obs.body is None and obs.raw_body == "this is not JSON {{{"
    assert obs.error_code is None and not obs.unimplemented


def test_html_500_is_not_unimplemented_on_a_server_that_never_speaks_json(broken_target):
    target, server = broken_target
    server.mode = "html500"
    assert probe_capabilities(target) == {}
    assert target.capabilities.speaks_json is False
    obs = target.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-0000000000000dead"})
    assert obs.status == 500 and obs.body is None and "<h1>500" in obs.raw_body
    assert not obs.unimplemented


def test_json_500_is_an_answer(broken_target):
    target, server = broken_target
    server.mode = "json500"
    obs = target.call("DescribeCustomKeyStores", {})
    assert (obs.status, obs.error_code, obs.message) == (500, "KMSInternalException", "boom")


def test_truncated_body_keeps_what_arrived(broken_target):
    target, server = broken_target
    server.mode = "truncated"
    obs = target.call("DescribeCustomKeyStores", {})
    assert obs.status == 200 and obs.transport_error is None
    assert obs.body is None
    assert obs.raw_body.startswith('{"CustomKeyStores": [{"CustomKeyStoreId": "cks-1234567890abcdef0"')
    assert "[truncated" in obs.raw_body
    # A read-only call is sent again; still cut off after every try, it is infrastructure, not an answer.
    assert obs.attempts == target.health.budget.tries
    assert obs.infrastructure == f"200 reply cut off mid-body after {obs.attempts} tries"


def test_throttling_is_retried_with_bounded_backoff(broken_target):
    target, server = broken_target
    server.mode = "throttle"
    server.throttle_times = 2
    obs = target.call("ListKeys", {})
    assert obs.status == 200 and obs.attempts == 3 and obs.infrastructure is None
    assert len(target.health.log) == 2 and "ThrottlingException" in target.health.log[0]
    # Bounded: a target that always throttles is answered after the budget's tries, marked unavailable.
    server.hits = 0
    server.throttle_times = 100
    obs = target.send_raw("{}", amz_target="TrentService.ListKeys")
    tries = target.health.budget.tries
    assert obs.error_code == "ThrottlingException" and obs.attempts == tries
    assert obs.infrastructure == f"400 ThrottlingException after {tries} tries"


def test_server_gone_mid_run_is_an_observation_not_a_crash(broken_server):
    target = open_target(config_from_options(endpoint_url=broken_server.url), call_timeout_s=1)
    try:
        broken_server.shutdown()
        broken_server.server_close()
        obs = target.call("DescribeCustomKeyStores", {})
        assert obs.status is None and obs.transport_error
        assert "refused" in obs.transport_error.lower() or "connect" in obs.transport_error.lower()
    finally:
        target.close()


def test_hung_target_trips_the_breaker_so_the_run_goes_on_quickly(broken_target):
    target, server = broken_target
    server.mode = "hang"
    target.health.breaker.threshold = 2
    target.health.breaker.retry_s = 60
    seen = [target.call("DescribeCustomKeyStores", {}) for _ in range(6)]
    assert all(o.transport_error for o in seen)
    # Two real timeouts trip the breaker; every later call fails fast without being sent.
    assert all("not sent" in o.transport_error for o in seen[2:])
    assert "not sent" in seen[-1].transport_error and "timeout" in seen[0].transport_error
    # Once the retry window passes and the target answers again, calls go through.
    server.mode = "ok"
    server.release.set()
    target.health.breaker.next_try = 0
    assert target.call("DescribeCustomKeyStores", {}).status == 200
    assert target.call("DescribeCustomKeyStores", {}).status == 200


# ------------------------------------------------------------------------------------------------
# The health policy: what is retried, what is marked, what the verdict is
# ------------------------------------------------------------------------------------------------


def _context(target, tmp_path, **options):
    from conformance.cases.base import CaseContext
    from conformance.spec import edition_model
    from conformance.targets import StoreDriver

    return CaseContext(target=target, edition="current", strictness="code", seed=0,
                       driver=StoreDriver(target, ledger_dir=tmp_path / "ledger"), model=edition_model("current"),
                       options=dict(options))


def test_a_mutating_call_is_not_sent_twice_after_a_cut_off_reply(broken_target):
    """The target may have applied it: a second Create would see the first. ERROR at once, not FAIL."""
    target, server = broken_target
    server.mode = "truncated"
    obs = target.call("UpdateCustomKeyStore", {"CustomKeyStoreId": "cks-1234567890abcdef0"})
    assert server.hits == 1 and obs.attempts == 1
    assert obs.infrastructure == "200 reply cut off mid-body after 1 try"


def test_a_persistent_json_500_is_the_targets_answer_and_is_judged(broken_target):
    from conformance.steps import Expected
    from conformance.verdicts import Verdict, judge_check

    target, server = broken_target
    server.mode = "json500"
    obs = target.call("DescribeCustomKeyStores", {})
    assert obs.attempts == target.health.budget.tries and obs.infrastructure is None
    # A 500 where the contract wants success stays a finding (PROTO-005), not "unavailable".
    assert judge_check(Expected(), obs).verdict is Verdict.FAIL
    assert judge_check(Expected(status=500, error_code="KMSInternalException"), obs).verdict is Verdict.PASS


def test_infrastructure_after_the_retries_is_error_unless_the_case_expects_that_5xx(broken_target):
    from conformance.steps import Expected
    from conformance.verdicts import Verdict, check_available, judge_check

    target, server = broken_target
    server.mode = "throttle"
    server.throttle_times = 100
    obs = target.call("ListKeys", {})
    check = judge_check(Expected(error_code="ValidationException", status=400), obs)
    assert check.verdict is Verdict.ERROR  # was FAIL: "expected ValidationException, observed ThrottlingException"
    assert check.detail == f"target unavailable: 400 ThrottlingException after {obs.attempts} tries"
    assert check_available(obs, Expected(error_code="ThrottlingException", status=400)) is None


def test_the_run_budget_bounds_all_retries_and_jitter_is_seeded(broken_target):
    from conformance.targets.health import HealthMonitor, RetryBudget

    target, server = broken_target
    server.mode = "throttle"
    server.throttle_times = 10_000
    target.health.configure(RetryBudget(tries=8, total_s=0.05, base_s=0.01), seed=3)
    first = target.call("ListKeys", {})
    assert 1 < first.attempts < 8 and first.infrastructure  # the run's budget ran out inside the first call
    second = target.call("ListKeys", {})
    assert second.attempts == 1 and second.infrastructure == "400 ThrottlingException after 1 try"
    assert target.health.spent_s <= 0.05

    def delays(seed):
        monitor = HealthMonitor(RetryBudget(tries=8), seed=seed)
        return [monitor.delay(n, first) for n in range(1, 8)]

    assert delays(5) == delays(5) != delays(6)


def test_schemathesis_checks_against_an_html_500_server_are_error_not_pass(broken_target, tmp_path):
    from conformance.cases import schemathesis_run
    from conformance.cases.kernel import run_case
    from conformance.verdicts import Verdict

    target, server = broken_target
    server.mode = "html500"
    ctx = _context(target, tmp_path, schemathesis_examples=3)
    cases = [c for c in schemathesis_run.collect(_collect_context()) if c.operation == "DescribeCustomKeyStores"]
    results = [run_case(case, ctx) for case in cases]
    assert len(results) == 5
    assert {r.verdict for r in results} == {Verdict.ERROR}, [r.detail for r in results]
    assert all("target unavailable: 500 without an AWS error body after" in r.detail for r in results)
    assert server.hits == target.health.budget.tries  # one request, tried; nothing judged after it


def _collect_context():
    from conformance.cases.base import CollectContext
    from conformance.spec import edition_model
    from conformance.spec.requirements import load_requirements

    return CollectContext(edition="current", model=edition_model("current"), requirements=list(load_requirements()),
                          seed=0, options={})


@pytest.mark.parametrize("mode,verdict,detail", [
    ("garbage", "FAIL", "with a non-JSON body"),  # the target's own answer is wrong: a finding, and no crash
    ("html500", "ERROR", "target unavailable: 500 without an AWS error body after 1 try"),
    ("gone", "ERROR", "no response from target"),
])
def test_the_stateful_case_on_a_broken_target(broken_target, tmp_path, mode, verdict, detail):
    from conformance.cases import stateful
    from conformance.cases.kernel import run_case

    target, server = broken_target
    if mode == "gone":
        server.shutdown()
        server.server_close()
    else:
        server.mode = mode
    (case,) = stateful.collect(_collect_context())
    result = run_case(case, _context(target, tmp_path, stateful_examples=2, stateful_steps=3,
                                     stateful_shrink_budget_s=2))
    assert str(result.verdict) == verdict and detail in result.detail, result.detail
    assert "AttributeError" not in result.detail and "harness error" not in result.detail


def test_after_a_call_failed_every_try_the_next_ones_retry_little_until_the_target_answers(broken_target):
    """A target that went down mid-run reaches the early stop in seconds, not tries x calls."""
    target, server = broken_target
    server.mode = "throttle"
    server.throttle_times = 10_000
    assert target.call("ListKeys", {}).attempts == target.health.budget.tries
    assert target.call("ListKeys", {}).attempts == 2
    server.mode = "ok"
    assert target.call("ListKeys", {}).attempts == 1
    server.mode = "throttle"
    assert target.call("ListKeys", {}).attempts == target.health.budget.tries
    assert target.health.stop_reason() is None  # 3 failed calls in a row: not yet "most calls"


def test_a_reply_we_cut_at_the_size_limit_is_the_targets_answer_not_a_network_fault(broken_target):
    target, server = broken_target
    server.mode = "huge"
    obs = target.call("ListKeys", {})
    assert obs.status == 200 and "[truncated" in obs.raw_body
    assert obs.attempts == 1 and obs.infrastructure is None and server.hits == 1
