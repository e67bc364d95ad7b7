"""A clock the caller moves by hand, so CONNECTING / DISCONNECTING can be observed without sleeping."""

from __future__ import annotations

import threading
import time


class ManualClock:
    """Callable like `time.time`; starts at the wall time (or `start`) and only moves on `advance`."""

    def __init__(self, start: float | None = None):
        self._now = time.time() if start is None else float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    __call__ = now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._now += seconds
            return self._now


def manual_clock(start: float | None = None) -> ManualClock:
    return ManualClock(start)
