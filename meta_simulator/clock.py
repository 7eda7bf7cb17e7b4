"""Clocks for the simulator.

Everything time-based in the simulator (token expiry, the 90-day lead
retention, the 5-minute ``appsecret_time`` window, usage windows) reads the
clock through ``now()`` so that tests can move time instead of waiting.
Real sleeps (hang faults, webhook retry waits) stay in wall-clock time
because they exist to exercise the *client's* real timeouts.
"""

import threading
import time


class Clock:
    """Wall-clock time plus an adjustable offset.

    ``advance()`` works on the real clock too, so a long-running simulator
    (the CLI) can be aged by days from the control API without faking time.
    """

    def __init__(self):
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Current simulated Unix time in seconds."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move simulated time forward (or back, if negative); return now()."""
        with self._lock:
            self._offset += float(seconds)
        return self.now()


class FakeClock(Clock):
    """A clock that only moves when told to: fully deterministic tests."""

    def __init__(self, start: float = 1790000000.0):
        super().__init__()
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, timestamp: float) -> None:
        """Jump to an absolute Unix time."""
        with self._lock:
            self._now = float(timestamp)
