"""The one retry and health policy of every live target: what is retried, for how long, and when to stop.

A 503, a throttling answer, a reset connection or a reply cut off mid-body says
nothing about whether the target conforms: it is the network's or the
service's infrastructure. Such answers are retried with jittered exponential
backoff, within a number of tries per call and a total retry time per run.
What is still failing after that is marked on the Observation
(`infrastructure`), and verdicts.check_available makes the case ERROR
("target unavailable: 503 after 12 tries"), never FAIL.

A JSON 500 with an AWS error type (KMSInternalException) is retried too, as
every AWS SDK does, but when it persists it is the target's answer and is
judged: a 500 where the contract wants a 4xx is a real finding (PROTO-005).

The monitor also watches the outcome of every call: a target failing most
calls (several in a row, or most of a recent window) is unusable, and the run
stops early with exit 3 and a one-line diagnosis (runner/session.py). A JSON
500 that persists counts as an answer there, not as a failed call.

Jitter comes from a seeded random generator and the run's retry budget counts
the planned delays, not the wall clock, so no verdict depends on timing.
"""

from __future__ import annotations

import collections
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable

from conformance.errors import EXIT_UNREACHABLE, ConformanceError
from conformance.observation import IN_PROCESS_CRASH_HEADER, Observation

THROTTLE_CODES = frozenset({"ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
                            "RequestLimitExceeded", "SlowDown", "RequestThrottled"})
# Statuses a gateway, load balancer or overloaded service answers: transient by definition.
TRANSIENT_STATUSES = frozenset({502, 503, 504})
# The mark WireTarget appends to the raw body of a reply whose connection closed early.
READ_ONLY_PREFIXES = ("Describe", "List", "Get", "GenerateRandom")
TRUNCATED_NOTE = "[truncated: the connection closed before the declared body arrived]"

DEFAULT_TRIES = 12  # at 40% transient faults per try, 1 call in 60,000 still failing
DEFAULT_RETRY_BUDGET_S = 300.0
DEFAULT_BASE_S = 0.05  # waits 0.025-0.05, 0.05-0.1, ... s: a target failing every call is refused in ~10 s
# Once a call failed all its tries, the next calls get this many until the target answers again,
# so a target that went down mid-run reaches the early stop in seconds, not minutes.
DEGRADED_TRIES = 2
DEFAULT_CAP_S = 2.0
# Early stop: this many calls in a row unavailable after retries, or this share of the last WINDOW.
DEFAULT_STOP_AFTER = 10
DEFAULT_WINDOW = 40
DEFAULT_WINDOW_SHARE = 0.8


class TargetUnusable(ConformanceError):
    """The target cannot be tested: it is not KMS, or it fails (nearly) every call. One line, exit 3."""

    exit_code = EXIT_UNREACHABLE


def is_throttled(obs: Observation) -> bool:
    return obs.status == 429 or (obs.error_code in THROTTLE_CODES)


def transient_reason(obs: Observation, *, truncated: bool = False, transport_kind: str | None = None) -> str | None:
    """Why this answer is worth sending again (short, for "... after N tries"), or None for a real answer.

    `truncated`: the connection closed before the declared body arrived.
    `transport_kind`: no response at all (TransportFailure.kind); a timeout is
    not retried (the circuit breaker deals with a hung target).
    """
    if obs.unimplemented or IN_PROCESS_CRASH_HEADER in (obs.headers or {}):
        return None
    if transport_kind is not None or (obs.status is None and obs.transport_error):
        if transport_kind in (None, "timeout"):
            return None
        return "connection reset" if transport_kind == "reset" else f"no response ({transport_kind})"
    if obs.status is None:
        return None
    if truncated:
        return f"{obs.status} reply cut off mid-body"
    if is_throttled(obs):
        return f"{obs.status} {obs.error_code or 'throttled'}".strip()
    if obs.status in TRANSIENT_STATUSES:
        return f"{obs.status} {obs.error_code or ''}".strip()
    if obs.status == 500:
        return f"500 {obs.error_code}" if obs.error_code else "500 without an AWS error body"
    return None


def may_repeat(obs: Observation) -> bool:
    """Whether sending the request again cannot apply it twice.

    Throttling and a 503 mean the request was not processed; after a reset, a
    cut-off reply or another 5xx it may have been, so only a read-only operation
    is sent again (a second CreateCustomKeyStore would see its own first one).
    """
    if is_throttled(obs) or obs.status == 503:
        return True
    operation = (obs.operation or "").rpartition(":")[2]
    return operation.startswith(READ_ONLY_PREFIXES)


def persists_as_infrastructure(obs: Observation, reason: str) -> bool:
    """After the retries: is this still infrastructure (ERROR), or the target's own answer (judged)?

    A JSON 500 with an AWS error type is the target saying it failed internally:
    judged, so a 500 where the contract wants a client error stays a finding.
    """
    return not (obs.status == 500 and obs.error_code and not reason.endswith("mid-body"))


@dataclass
class RetryBudget:
    """Tries per call and total planned retry time per run."""

    tries: int = DEFAULT_TRIES
    total_s: float = DEFAULT_RETRY_BUDGET_S
    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S

    def __post_init__(self):
        if self.tries < 1:
            raise ValueError("retry tries must be at least 1")
        if self.total_s < 0:
            raise ValueError("retry budget must be >= 0 seconds")


class CircuitBreaker:
    """After `threshold` requests in a row got no answer, fail fast (one real try per `retry_s`).

    A hung target then costs minutes, not hours.
    """

    def __init__(self, threshold: int = 5, retry_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.threshold = threshold
        self.retry_s = retry_s
        self.silent = 0
        self.next_try = 0.0
        self._clock = clock

    def blocked(self) -> str | None:
        """Why the next request is not sent, or None to send it."""
        if self.threshold <= 0 or self.silent < self.threshold:
            return None
        now = self._clock()
        if now >= self.next_try:
            self.next_try = now + self.retry_s
            return None  # let one request through: the target may be back
        return (f"not sent: the target did not answer the last {self.silent} requests; "
                f"retrying it every {self.retry_s:g} s")

    def note(self, obs: Observation) -> None:
        if obs.status is None and obs.transport_error:
            self.silent += 1
            if self.silent == self.threshold:
                self.next_try = self._clock() + self.retry_s
        else:
            self.silent = 0


class HealthMonitor:
    """Retries transient answers within the budget and watches whether the target is usable at all."""

    def __init__(self, budget: RetryBudget | None = None, *, seed: int = 0,
                 sleep: Callable[[float], None] = time.sleep, breaker: CircuitBreaker | None = None,
                 stop_after: int = DEFAULT_STOP_AFTER, window: int = DEFAULT_WINDOW,
                 window_share: float = DEFAULT_WINDOW_SHARE):
        self.budget = budget or RetryBudget()
        self.breaker = breaker or CircuitBreaker()
        self.sleep = sleep
        self.spent_s = 0.0  # planned retry delays so far this run
        self.log: list[str] = []  # one line per retry (for the report and tests)
        self.stop_after = stop_after
        self.window_share = window_share
        self._recent: collections.deque[bool] = collections.deque(maxlen=window)
        self._in_a_row = 0
        self._degraded = False  # the last call failed every try: retry little until an answer comes
        self._last_failure = ""
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    def configure(self, budget: RetryBudget, *, seed: int = 0) -> None:
        """The run's budget and jitter seed (before the first call)."""
        with self._lock:
            self.budget = budget
            self._rng = random.Random(seed)

    # -- one call ----------------------------------------------------------------------------
    def delay(self, attempt: int, obs: Observation) -> float | None:
        """Seconds to wait before try `attempt + 1`, or None when the call or the run's budget is spent."""
        with self._lock:
            tries = min(self.budget.tries, DEGRADED_TRIES) if self._degraded else self.budget.tries
            if attempt >= tries:
                return None
            step = min(self.budget.cap_s, self.budget.base_s * (2 ** (attempt - 1)))
            delay = step / 2 + self._rng.random() * step / 2  # "equal jitter": never less than half the step
            retry_after = (obs.headers or {}).get("retry-after", "")
            if retry_after.replace(".", "", 1).isdigit():
                delay = min(self.budget.cap_s, max(delay, float(retry_after)))
            if self.spent_s + delay > self.budget.total_s:
                return None
            self.spent_s += delay
            return delay

    def run(self, once: Callable[[], tuple[Observation, str | None]], operation: str | None = None) -> Observation:
        """Send with `once()` (observation, transient reason) until it is an answer or the budget is spent."""
        attempts = 0
        while True:
            attempts += 1
            blocked = self.breaker.blocked()
            if blocked:
                obs = Observation(operation=operation, transport_error=blocked, attempts=attempts)
                obs.infrastructure = blocked
                self.record(obs)
                return obs
            obs, reason = once()
            if reason is None:  # the breaker is for silence (timeouts); a reset or refusal is quick and retried
                self.breaker.note(obs)
            obs.attempts = attempts
            if reason is None:
                self._degraded = False
                self.record(obs)
                return obs
            delay = self.delay(attempts, obs) if may_repeat(obs) else None
            if delay is None:
                self._degraded = attempts > 1 or self._degraded
                if persists_as_infrastructure(obs, reason):
                    obs.infrastructure = f"{reason} after {attempts} {'try' if attempts == 1 else 'tries'}"
                # A JSON 500 that persists is the target's answer (judged), not a sign it is down: an
                # emulator that crashes on one kind of request must not stop a run of thousands.
                self.record(obs, failed=obs.infrastructure is not None)
                return obs
            self.log.append(f"{obs.operation}: {reason}, retry {attempts} after {delay:.2f} s")
            self.sleep(delay)

    # -- the run -----------------------------------------------------------------------------
    def record(self, obs: Observation, *, failed: bool | None = None) -> None:
        """Count a call's final outcome for the early stop."""
        bad = bool(obs.infrastructure or obs.transport_error) if failed is None else failed
        with self._lock:
            self._recent.append(bad)
            if bad:
                self._in_a_row += 1
                self._last_failure = obs.infrastructure or obs.transport_error or (
                    f"{obs.status} {obs.error_code or ''} after {obs.attempts} tries".strip())
            else:
                self._in_a_row = 0

    def stop_reason(self) -> str | None:
        """A one-line diagnosis when the target fails most calls, else None."""
        with self._lock:
            if self.stop_after > 0 and self._in_a_row >= self.stop_after:
                return (f"target unavailable: the last {self._in_a_row} calls failed after retries "
                        f"(last: {self._last_failure})")
            full = self._recent.maxlen and len(self._recent) == self._recent.maxlen
            failed = sum(self._recent)
            if full and failed > self.window_share * len(self._recent):
                return (f"target unavailable: {failed} of the last {len(self._recent)} calls failed after "
                        f"retries (last: {self._last_failure})")
        return None
