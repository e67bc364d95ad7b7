"""SIGINT, SIGTERM and SIGHUP stop a run the same way: stop the cases, clean up, write every report.

A CI cancel, a timeout or `docker stop` sends SIGTERM, a closed terminal
SIGHUP; by default both kill Python at once, leaving stores on the target and
no report. While a run is open they raise `Interrupted` (a KeyboardInterrupt,
so every path that already handles Ctrl-C handles them too). The first signal
stops the cases (and lets a cleanup already running finish); a second one stops
the cleanup; once the cleanup is over or stopped, signals are ignored until the
reports are written, which takes a moment. The exit code is 128 + the first signal's number, as shells report it.
"""

from __future__ import annotations

import signal
import threading

from conformance.errors import EXIT_INTERRUPTED

HANDLED = ("SIGINT", "SIGTERM", "SIGHUP")


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; `signum` says which."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def exit_code_for_signal(signum: int | None) -> int:
    return 128 + int(signum) if signum else EXIT_INTERRUPTED


class StopSignals:
    """The run's signal handlers and what they have seen. Phases: cases -> cleanup -> reporting."""

    def __init__(self) -> None:
        self.signum: int | None = None  # the first signal received
        self.count = 0
        self.phase = "cases"
        self._previous: dict[int, object] = {}

    @property
    def received(self) -> bool:
        return self.signum is not None

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name if self.signum else ""

    @property
    def exit_code(self) -> int:
        return exit_code_for_signal(self.signum)

    def install(self) -> None:
        """Take over the stop signals (main thread only: Python delivers signals there alone)."""
        if self._previous or threading.current_thread() is not threading.main_thread():
            return
        for name in HANDLED:
            sig = getattr(signal, name, None)  # Windows has no SIGHUP
            if sig is not None:
                self._previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame) -> None:
        self.count += 1
        if self.signum is None:
            self.signum = signum
        if self.phase == "reporting":
            return  # the reports are being written: that finishes in a moment
        if self.phase == "cleanup" and self.count == 1:
            return  # already stopping: the first signal lets the cleanup finish
        raise Interrupted(signum)  # cases: stop them (again, if some code swallowed the first); cleanup: stop it
