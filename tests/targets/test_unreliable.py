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
    started = time.monotonic()
    obs = target.call("DescribeCustomKeyStores", {})
    raw = target.send_raw("{}", amz_target="TrentService.DescribeCustomKeyStores")
    assert time.monotonic() - started < 3
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
    started = time.monotonic()
    seen = [target.call("DescribeCustomKeyStores", {}) for _ in range(6)]
    assert time.monotonic() - started < 3  # two real timeouts (0.5 s each), then fail-fast
    assert all(o.transport_error for o in seen)
    assert "not sent" in seen[-1].transport_error and "timeout" in seen[0].transport_error
    # Once the retry window passes and the target answers again, calls go through.
    server.mode = "ok"
    server.release.set()
    target.health.breaker.next_try = 0
    assert target.call("DescribeCustomKeyStores", {}).status == 200
    assert target.call("DescribeCustomKeyStores", {}).status == 200
