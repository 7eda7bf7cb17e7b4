"""Rate-limit usage headers (docs/meta-facts.md §9.2).

Percentages are of an hourly call budget over a sliding window of the
simulated clock: ``X-App-Usage`` for the app and
``X-Business-Use-Case-Usage`` per Page and bucket type (``pages``,
``leadgen``, …).  By default the numbers are informational and calls are
only refused when a throttle fault is set (see :mod:`faults`); with
``sim.enforce_usage_limits`` a used-up budget answers Meta's throttle code
(4 app, 80005 leadgen, 32/80001 pages …) until calls leave the window —
and refused calls still count, so calling while throttled prolongs it (§9.2).
"""

import json
import threading
from collections import defaultdict, deque

WINDOW_SECONDS = 3600


class UsageMeter:
    def __init__(self, clock, app_budget: int = 10000, buc_budget: int = 4800):
        self._clock = clock
        self.app_budget = app_budget
        self.buc_budget = buc_budget
        self._app: deque[float] = deque()
        self._buc: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def record(self, bucket: tuple[str, str] | None) -> None:
        """Count one call (every batch item counts as one, §9.3)."""
        now = self._clock.now()
        with self._lock:
            self._app.append(now)
            if bucket:
                self._buc[bucket].append(now)

    def reset(self) -> None:
        with self._lock:
            self._app.clear()
            self._buc.clear()

    def _percent(self, calls: deque, budget: int) -> int:
        horizon = self._clock.now() - WINDOW_SECONDS
        while calls and calls[0] <= horizon:
            calls.popleft()
        return min(100, (len(calls) * 100) // max(1, budget))

    def exhausted(self, bucket: tuple[str, str] | None):
        """``("app" or the bucket type, seconds to regain)`` when a budget is
        used up, else None."""
        with self._lock:
            now = self._clock.now()
            if self._percent(self._app, self.app_budget) >= 100:
                return "app", self._app[0] + WINDOW_SECONDS - now
            calls = self._buc.get(bucket) if bucket else None
            if calls and self._percent(calls, self.buc_budget) >= 100:
                return bucket[1], calls[0] + WINDOW_SECONDS - now
        return None

    def app_usage(self) -> dict:
        with self._lock:
            pct = self._percent(self._app, self.app_budget)
        return {"call_count": pct, "total_cputime": pct, "total_time": pct}

    def buc_usage(self, page_id: str) -> list[dict]:
        with self._lock:
            rows = []
            for (key, kind), calls in sorted(self._buc.items()):
                if key != page_id:
                    continue
                pct = self._percent(calls, self.buc_budget)
                rows.append(
                    {
                        "type": kind,
                        "call_count": pct,
                        "total_cputime": pct,
                        "total_time": pct,
                        "estimated_time_to_regain_access": 0,
                    }
                )
            return rows

    def headers(self, bucket: tuple[str, str] | None, throttle=None, fallback_key=None):
        """The usage headers for one answer; a throttle pins them at 100 %.

        ``fallback_key`` names the BUC row of a throttled call that is not
        about a Page (Meta keys BUC rows by business/account id).
        """
        app = self.app_usage()
        buc = self.buc_usage(bucket[0]) if bucket else []
        if throttle is not None:
            app = {"call_count": 100, "total_cputime": 100, "total_time": 100}
            kind = throttle.buc_type or (bucket[1] if bucket else "pages")
            regain = throttle.regain_in(self._clock.now())
            full = {
                "type": kind,
                "call_count": 100,
                "total_cputime": 100,
                "total_time": 100,
                "estimated_time_to_regain_access": regain,
            }
            buc = [row for row in buc if row["type"] != kind] + [full]
        headers = {"X-App-Usage": json.dumps(app, separators=(",", ":"))}
        key = bucket[0] if bucket else None
        if key is None and throttle is not None:
            key = throttle.page_id or fallback_key
        if buc and key:
            headers["X-Business-Use-Case-Usage"] = json.dumps(
                {key: buc}, separators=(",", ":")
            )
        return headers
