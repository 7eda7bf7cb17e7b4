"""Programmable faults (``§`` numbers refer to ``docs/meta-facts.md``).

All random decisions come from seeded streams, so the same seed and the
same request sequence give the same faults.  Each request draws its fault
numbers even when the rates are zero: changing a rate mid-test does not
shift the decisions of later requests.
"""

import math
import threading
from dataclasses import dataclass

from . import errors

#: Which Business-Use-Case bucket a throttle code belongs to (§9.1, §9.2).
BUC_TYPE_BY_CODE = {
    32: "pages",
    80000: "ads_insights",
    80001: "pages",
    80002: "instagram",
    80003: "custom_audience",
    80004: "ads_management",
    80005: "leadgen",
    80006: "messenger",
}


@dataclass
class Throttle:
    """One active throttle.

    Counted (``calls=N``): the next N matching calls fail.  Timed
    (``calls=None``): calls fail until ``regain_minutes`` of simulated time
    have passed.  ``page_id`` limits it to calls about that Page.
    """

    code: int
    calls: int | None
    regain_minutes: float
    page_id: str | None = None
    until: float | None = None

    def regain_in(self, now: float) -> int:
        """Minutes to report in ``estimated_time_to_regain_access``."""
        if self.until is None:
            return int(math.ceil(self.regain_minutes))
        return max(0, int(math.ceil((self.until - now) / 60)))

    @property
    def buc_type(self) -> str | None:
        return BUC_TYPE_BY_CODE.get(self.code)


@dataclass
class ScriptedFault:
    """A fault for the calls whose path contains ``path``.

    The first ``skip`` matching calls pass; the next ``times`` fail with
    ``kind``: ``transient`` (HTTP 500, code 2), ``throttle`` (``code``, with
    the usage headers Meta sends), ``token`` (190 with ``subcode``),
    ``not_found`` (100/33), ``permission`` (``code``, 200 by default:
    Meta's "(#200) Permissions error" for one object the token may not
    touch, although it holds every permission), ``app`` (3: the app lacks
    the capability for the call) or ``hang`` (the HTTP
    answer waits
    ``hang_seconds``, so the client's read timeout fires). Batch items are
    never matched: a scripted fault is about one HTTP request.
    """

    path: str
    kind: str = "transient"
    method: str | None = "GET"
    skip: int = 0
    times: int = 1
    code: int | None = None
    subcode: int | None = None
    regain_minutes: float = 5
    #: matching calls seen so far (passed or failed)
    seen: int = 0

    KINDS = (
        "transient",
        "throttle",
        "token",
        "not_found",
        "permission",
        "app",
        "hang",
    )

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.path in path

    @property
    def spent(self) -> bool:
        return self.seen >= self.skip + self.times

    def error(self, path: str) -> errors.GraphError | None:
        """The Graph error this fault answers (None for a hang)."""
        if self.kind == "transient":
            return errors.transient(self.code or 2)
        if self.kind == "throttle":
            return errors.throttled(self.code or 4)
        if self.kind == "token":
            return errors.token_invalid(self.subcode or 460)
        if self.kind == "not_found":
            return errors.unknown_object("GET", path.rsplit("/", 1)[-1])
        if self.kind == "permission":
            return errors.permission(self.code or 200, subcode=self.subcode)
        if self.kind == "app":
            return errors.app_capability()
        return None


class Faults:
    """Fault switches read by the Graph pipeline on every call."""

    def __init__(self, ids, clock):
        self._ids = ids
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Back to a healthy Meta."""
        with self._lock:
            #: share of calls answered with HTTP 500 code 2/1 is_transient.
            self.error_rate = 0.0
            #: share of HTTP requests that sleep ``hang_seconds`` first.
            self.hang_rate = 0.0
            self.hang_seconds = 30.0
            #: occasionally answer short or empty pages that still have next.
            self.short_pages = False
            self.short_page_rate = 0.3
            self._throttles: list[Throttle] = []
            self._scripted: list[ScriptedFault] = []

    # --- throttling ----------------------------------------------------------

    def throttle(
        self,
        code: int = 4,
        calls: int | None = 1,
        regain_minutes: float = 5,
        page_id: str | None = None,
    ) -> Throttle:
        """Make the next ``calls`` calls (or ``regain_minutes``) fail with ``code``.

        Codes: 4 app, 17 user, 32 page, 613 custom, 80000-80006 BUC (§9.1).
        """
        errors.throttled(code)  # validates the code
        until = None
        if calls is None:
            until = self._clock.now() + regain_minutes * 60
        throttle = Throttle(code, calls, regain_minutes, page_id, until)
        with self._lock:
            self._throttles.append(throttle)
        return throttle

    def take_throttle(self, page_id: str | None) -> Throttle | None:
        """The throttle hitting a call about ``page_id`` (consumes one call)."""
        now = self._clock.now()
        with self._lock:
            for throttle in list(self._throttles):
                if throttle.until is not None and now >= throttle.until:
                    self._throttles.remove(throttle)
                    continue
                if throttle.page_id and throttle.page_id != page_id:
                    continue
                if throttle.calls is not None:
                    throttle.calls -= 1
                    if throttle.calls <= 0:
                        self._throttles.remove(throttle)
                return throttle
        return None

    @property
    def throttles(self) -> list[Throttle]:
        with self._lock:
            return list(self._throttles)

    # --- scripted faults -----------------------------------------------------

    def fail_calls(
        self, path: str, kind: str = "transient", **options
    ) -> ScriptedFault:
        """Make calls whose path contains ``path`` fail; see :class:`ScriptedFault`.

        ``fail_calls("/leads", skip=2, kind="throttle", code=80005)`` lets the
        first two pages of a form's leads through and throttles the third.
        """
        if kind not in ScriptedFault.KINDS:
            raise ValueError(f"unknown fault kind: {kind}")
        fault = ScriptedFault(path=path, kind=kind, **options)
        if kind == "throttle":
            errors.throttled(fault.code or 4)  # validates the code
        with self._lock:
            self._scripted.append(fault)
        return fault

    def take_scripted(self, method: str, path: str) -> ScriptedFault | None:
        """The scripted fault that fails this call, if any (counts the call)."""
        with self._lock:
            for fault in list(self._scripted):
                if not fault.matches(method, path):
                    continue
                fault.seen += 1
                failing = fault.seen > fault.skip
                if fault.spent:
                    self._scripted.remove(fault)
                if failing:
                    return fault
        return None

    @property
    def scripted(self) -> list[ScriptedFault]:
        with self._lock:
            return list(self._scripted)

    # --- random faults -------------------------------------------------------

    def draw_hang(self) -> bool:
        """Should this HTTP request hang before answering?"""
        return self._ids.rng("faults:hang").random() < self.hang_rate

    def draw_error(self) -> errors.GraphError | None:
        """A transient 500 for this call, or None."""
        rng = self._ids.rng("faults:error")
        with self._lock:
            roll, pick = rng.random(), rng.random()
        if roll >= self.error_rate:
            return None
        return errors.transient(2 if pick < 0.7 else 1)

    def short_page_length(self, length: int) -> int | None:
        """A shortened length for a page of ``length`` rows, or None."""
        if not self.short_pages or length == 0:
            return None
        rng = self._ids.rng("faults:pages")
        with self._lock:
            roll, empty, cut = rng.random(), rng.random(), rng.random()
        if roll >= self.short_page_rate:
            return None
        # A third of the short pages come back empty (still with `next`).
        if empty < 1 / 3 or length == 1:
            return 0
        return 1 + int(cut * (length - 1))
