"""The Graph request pipeline and the route registry.

Every Graph call — a top-level HTTP request or one item of a batch — goes
through :meth:`GraphApp.execute`, in the order Meta applies its checks:

1. version (first path segment, docs/meta-facts.md §1.2), against the
   simulator's :class:`VersionCalendar` and its clock;
2. transient fault draw (``faults.error_rate``, §9.1);
3. token presence and validity (2500/104, 190 + subcode, §2.1, §9.1);
4. ``appsecret_proof`` (§2.3);
5. object resolution and access (100/33, 803), ``deny_object`` (10/200);
   on a Marketing API route, the Marketing API's own calendar (2635 or an
   auto-upgrade with ``X-Ad-Api-Version-Warning``, §1.2);
6. throttle faults (4/17/32/613/800xx with usage headers at 100 %, §9.2);
7. the route handler, which checks scopes and ``fields``.

Routes register themselves with the :data:`ROUTES` decorators; adding an
endpoint is one decorated function in ``routes/<domain>.py``::

    @ROUTES.node("GET", PAGE_NODE, "conversations")
    def page_conversations(call): ...

    @ROUTES.path("GET", "debug_token")
    def debug_token(call): ...
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from . import errors
from .faults import Throttle
from .fields import dropped_fields, parse_fields, project
from .models import APP, PAGE, USER
from .server import Headers
from .store import (
    AD_ACCOUNT_NODE,
    AUDIENCE_NODE,
    DATASET_NODE,
    FORM_NODE,
    IG_NODE,
    LEAD_NODE,
    NODE_LABELS,
    PAGE_NODE,
    USER_NODE,
)

_logger = logging.getLogger("meta_simulator")

#: The versions the simulator starts with (§1.2, §13): v27.0 shipped on
#: 2026-11-04 for both APIs and is served whatever the clock says, so the
#: client can be tested against the next version.
VERSIONS = ("v21.0", "v22.0", "v23.0", "v24.0", "v25.0", "v26.0", "v27.0")
#: The version the simulator's own links and dialog URLs use by default.
CURRENT_VERSION = "v26.0"
_VERSION_RE = re.compile(r"^v(\d+)\.(\d+)$")

#: The time-stamped appsecret_proof is valid for 5 minutes (§2.3).
PROOF_WINDOW_SECONDS = 300

GRAPH_API = "graph"
MARKETING_API = "marketing"
#: Meta's header on a Marketing API call made with a version on its way out
#: or auto-upgraded from an expired one (§1.2).
VERSION_WARNING_HEADER = "X-Ad-Api-Version-Warning"
#: Node types whose routes belong to the Marketing API (ad accounts, Custom
#: Audiences, datasets and their Conversions API events, §1.2); a route
#: registered with ``marketing=True``/``False`` overrides this.
MARKETING_NODES = frozenset({AD_ACCOUNT_NODE, AUDIENCE_NODE, DATASET_NODE})


def version_key(version: str) -> tuple[int, int]:
    match = _VERSION_RE.match(version)
    return (int(match.group(1)), int(match.group(2)))


def to_timestamp(value) -> float:
    """Unix time of a timestamp, a ``date`` (00:00 UTC), a ``datetime``
    (naive = UTC) or an ISO 8601 text of either."""
    if isinstance(value, bool):
        raise TypeError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        value = (
            dt.date.fromisoformat(text)
            if len(text) == 10
            else dt.datetime.fromisoformat(text)
        )
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(
            value.year, value.month, value.day, tzinfo=dt.UTC
        ).timestamp()
    raise TypeError(f"not a time: {value!r}")


def iso_day(timestamp: float | None) -> str | None:
    """``2026-11-04`` for a midnight (UTC), else ``2026-11-04T12:00:00+0000``."""
    if timestamp is None:
        return None
    moment = dt.datetime.fromtimestamp(timestamp, dt.UTC)
    if moment.time() == dt.time(0):
        return moment.date().isoformat()
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _label(node_type: str) -> str:
    """The node type's label (``CustomAudience``) from either spelling."""
    return NODE_LABELS.get(node_type, node_type)


# --- the version calendar ----------------------------------------------------


@dataclass
class ApiVersion:
    """One version in the calendar (Unix times; ``None``: not announced).

    ``served_from`` is when the simulator starts serving it: ``None`` for the
    seeded versions (always served), ``released`` for one added with
    :meth:`VersionCalendar.release`.
    """

    name: str
    released: float | None = None
    graph_expires: float | None = None
    marketing_expires: float | None = None
    served_from: float | None = None
    deprecation: str | None = None

    def expires(self, api: str) -> float | None:
        return self.graph_expires if api == GRAPH_API else self.marketing_expires

    def live(self, api: str, now: float) -> bool:
        if self.served_from is not None and now < self.served_from:
            return False
        expires = self.expires(api)
        return expires is None or now < expires


@dataclass(frozen=True)
class VersionChange:
    """A change a version made: a removed field or a changed endpoint."""

    version: str
    label: str
    field: str | None = None
    edge: str | None = None
    method: str | None = None

    def touches(self, method: str, label: str, edge: str | None) -> bool:
        if label != self.label:
            return False
        if self.field is not None:
            # a removed field changes the node's own read; edges listing the
            # node type are marked with change_endpoint
            return method == "GET" and not edge
        if self.method is not None and self.method != method:
            return False
        return self.edge is None or self.edge == (edge or "")


def _day(year: int, month: int, day: int) -> float:
    return to_timestamp(dt.date(year, month, day))


#: (version, released, Graph expiry, Marketing expiry) as Meta's version
#: pages list them late 2026 (§1.2, §13); an expiry starts at 00:00 UTC [U].
_SEED = (
    ("v21.0", (2024, 10, 2), (2027, 1, 21), (2025, 9, 9)),
    ("v22.0", (2025, 1, 21), (2027, 5, 20), (2026, 2, 19)),
    ("v23.0", (2025, 5, 29), (2027, 10, 8), (2026, 6, 9)),
    ("v24.0", (2025, 10, 8), (2028, 2, 18), (2026, 11, 10)),
    ("v25.0", (2026, 2, 18), (2028, 7, 29), (2027, 2, 23)),
    ("v26.0", (2026, 7, 29), None, None),
    ("v27.0", (2026, 11, 4), None, None),
)


class VersionCalendar:
    """The versions a simulator knows, their Graph and Marketing API
    lifetimes against the simulator's clock, and what each one changed.

    * A version older than every known one is expired for both APIs; one
      newer than the newest known, a non-existent minor (``v26.1``) or one
      not yet released is an unknown path (2500).
    * Graph: an expired version is served by the next live one (§1.2).
    * Marketing API routes: an expired version is served by the next live
      Marketing version when no change lies between them, else 2635.
    """

    def __init__(self, clock):
        self.clock = clock
        self._lock = threading.RLock()
        self._versions: dict[str, ApiVersion] = {}
        self._changes: list[VersionChange] = []
        for name, released, graph, marketing in _SEED:
            self._versions[name] = ApiVersion(
                name,
                released=_day(*released),
                graph_expires=_day(*graph) if graph else None,
                marketing_expires=_day(*marketing) if marketing else None,
            )

    # reading -------------------------------------------------------------------

    def __iter__(self):
        with self._lock:
            return iter(sorted(self._versions.values(), key=_entry_key))

    def get(self, name: str) -> ApiVersion | None:
        return self._versions.get(name)

    def as_dicts(self) -> list[dict]:
        """The calendar, oldest first, with ISO dates and today's status."""
        now = self.clock.now()
        return [
            {
                "version": entry.name,
                "released": iso_day(entry.released),
                "graph_expires": iso_day(entry.graph_expires),
                "marketing_expires": iso_day(entry.marketing_expires),
                "graph_live": entry.live(GRAPH_API, now),
                "marketing_live": entry.live(MARKETING_API, now),
                "deprecation": entry.deprecation,
                "dropped_fields": sorted(
                    f"{c.label}.{c.field}"
                    for c in self._changes
                    if c.version == entry.name and c.field
                ),
            }
            for entry in self
        ]

    def status(self, name: str, api: str, now: float) -> str:
        """``live``, ``expired`` or ``unknown`` (answered with 2500)."""
        entry = self._versions.get(name)
        if entry is not None:
            if entry.live(api, now):
                return "live"
            if entry.served_from is not None and now < entry.served_from:
                return "unknown"  # announced but not released yet
            return "expired"
        known = [version_key(v) for v in self._versions]
        if known and version_key(name) < min(known):
            return "expired"
        return "unknown"

    def live(self, api: str, now: float) -> list[str]:
        return [entry.name for entry in self if entry.live(api, now)]

    def next_live(self, name: str | None, api: str, now: float) -> str | None:
        """The version serving ``name`` once expired: the oldest live one
        newer than it (``None``: the oldest live one), else the oldest."""
        live = self.live(api, now)
        if name is not None:
            newer = [v for v in live if version_key(v) > version_key(name)]
            if newer:
                return newer[0]
        return live[0] if live else None

    def newest_live(self, api: str, now: float) -> str | None:
        live = self.live(api, now)
        return live[-1] if live else None

    def changed(self, method, node_type, edge, after: str, upto: str) -> bool:
        """Whether a version in (``after``, ``upto``] changed this endpoint."""
        low, high, label = version_key(after), version_key(upto), _label(node_type)
        return any(
            low < version_key(c.version) <= high and c.touches(method, label, edge)
            for c in self._changes
        )

    def dropped(self, version: str | None) -> dict | None:
        """Node type (both spellings) -> (label, fields removed at or before
        ``version``), for :func:`~meta_simulator.fields.dropped_fields`."""
        if version is None or not _VERSION_RE.match(version):
            return None
        key = version_key(version)
        gone: dict[str, set] = {}
        for change in self._changes:
            if change.field and version_key(change.version) <= key:
                gone.setdefault(change.label, set()).add(change.field)
        if not gone:
            return None
        mapping = {label: (label, frozenset(names)) for label, names in gone.items()}
        for node_type, label in NODE_LABELS.items():
            if label in mapping:
                mapping[node_type] = mapping[label]
        return mapping

    # changing ------------------------------------------------------------------

    def _entry(self, name: str) -> ApiVersion:
        if not isinstance(name, str) or not _VERSION_RE.match(name):
            raise ValueError(f"{name!r} is not a Graph API version (vNN.N)")
        entry = self._versions.get(name)
        if entry is None:
            entry = self._versions[name] = ApiVersion(name)
        return entry

    def release(
        self, name, released=None, *, graph_expires=None, marketing_expires=None
    ):
        """Ship ``name``: served from ``released`` (default: now) on."""
        with self._lock:
            entry = self._entry(name)
            when = self.clock.now() if released is None else to_timestamp(released)
            entry.released = entry.served_from = when
            if graph_expires is not None:
                entry.graph_expires = to_timestamp(graph_expires)
            if marketing_expires is not None:
                entry.marketing_expires = to_timestamp(marketing_expires)
            return entry

    def expire(self, name, api: str = GRAPH_API, at=None):
        """``api`` retires ``name`` at ``at`` (default: now); ``None`` again
        with :meth:`unexpire`."""
        if api not in (GRAPH_API, MARKETING_API):
            raise ValueError(f"api must be {GRAPH_API!r} or {MARKETING_API!r}")
        with self._lock:
            entry = self._entry(name)
            when = self.clock.now() if at is None else to_timestamp(at)
            if api == GRAPH_API:
                entry.graph_expires = when
            else:
                entry.marketing_expires = when
            return entry

    def deprecate(self, name, header_text: str | None):
        with self._lock:
            entry = self._entry(name)
            entry.deprecation = header_text or None
            return entry

    def drop_field(self, name, node_type: str, field_name: str):
        if not field_name or field_name == "id":
            raise ValueError("a version cannot remove a node's id")
        with self._lock:
            self._entry(name)
            self._changes.append(VersionChange(name, _label(node_type), field_name))

    def change_endpoint(self, name, node_type, edge=None, method=None):
        with self._lock:
            self._entry(name)
            change = VersionChange(
                name,
                _label(node_type),
                edge=edge,
                method=method.upper() if method else None,
            )
            self._changes.append(change)


def _entry_key(entry: ApiVersion) -> tuple[int, int]:
    return version_key(entry.name)


def graph_json(obj) -> bytes:
    """Encode like Graph does: ASCII only, compact, and ``/`` escaped as ``\\/``."""
    text = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


# --- registry ----------------------------------------------------------------


@dataclass
class Route:
    handler: Callable
    auth: bool = True
    count: bool = True
    bucket: str | None = None
    #: A Marketing API route (§1.2); ``None``: decided by the node type
    #: (:data:`MARKETING_NODES`).
    marketing: bool | None = None


class Routes:
    """Route table: node routes by (method, node type, edge), fixed paths."""

    def __init__(self):
        self.node_routes: dict[tuple[str, str, str | None], Route] = {}
        self.path_routes: dict[tuple[str, tuple[str, ...]], Route] = {}

    def node(self, method: str, node_type: str, edge: str | None = None, **opts):
        """Register ``METHOD /{id-of-node_type}[/edge]``."""

        def decorator(func):
            self.node_routes[(method, node_type, edge)] = Route(func, **opts)
            return func

        return decorator

    def path(self, method: str, *segments: str, **opts):
        """Register a fixed path such as ``debug_token`` (no segments = root)."""

        def decorator(func):
            self.path_routes[(method, tuple(segments))] = Route(func, **opts)
            return func

        return decorator


ROUTES = Routes()


# --- one call ----------------------------------------------------------------


@dataclass
class RecordedRequest:
    """What a client sent and what it got (``sim.requests``)."""

    method: str
    path: str
    version: str | None
    served_version: str | None
    query: dict
    form: dict
    headers: dict
    token: str | None
    status: int = 0
    error_code: int | None = None
    time: float = 0.0
    in_batch: bool = False
    trace_id: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @property
    def params(self) -> dict:
        """Query and body parameters together, as the handler saw them."""
        return {**self.query, **self.form}

    def json_param(self, name: str, default=None):
        """A parameter decoded from its JSON text (``payload``, ``session``,
        ``lookalike_spec`` …): exactly what the client sent; the raw text
        when it is not JSON."""
        value = self.params.get(name, default)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value


@dataclass
class Result:
    status: int
    body: object
    headers: dict = field(default_factory=dict)


_UNSET = object()


class Call:
    """One Graph call being answered: parameters, token, resolved node."""

    def __init__(self, app, method, path, query, form, headers, in_batch):
        self.app = app
        self.sim = app.sim
        self.store = app.sim.store
        self.method = method
        self.path = path
        self.query = query
        self.form = form
        self.params = {**query, **form}
        self.headers = headers
        self.in_batch = in_batch
        self.version: str | None = None
        self.served_version = CURRENT_VERSION
        self.segments: list[str] = []
        self.token_value = _extract_token(self.params, headers)
        self.token = None
        self.node_type: str | None = None
        self.node = None
        self.edge: str | None = None
        self.route: Route | None = None
        self.bucket: tuple[str, str] | None = None
        self.throttle = None
        self.scripted = None
        #: Headers the answer carries whatever it is (version warnings).
        self.answer_headers: dict = {}
        self._selection = _UNSET

    # parameters --------------------------------------------------------------

    def param(self, name: str, default=None):
        return self.params.get(name, default)

    def json_param(self, name: str, default=None):
        """A parameter sent as a JSON string (or already decoded in a JSON body)."""
        value = self.params.get(name)
        if value is None:
            return default
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            raise errors.invalid_param(f"Param {name} must be a valid JSON") from exc

    @property
    def selection(self):
        if self._selection is _UNSET:
            self._selection = parse_fields(self.param("fields"))
        return self._selection

    def render(self, full: dict, default, node_type: str) -> dict:
        """Project ``full`` on the call's ``fields`` (or Meta's defaults)."""
        label = NODE_LABELS.get(node_type, node_type)
        return project(full, self.selection, default, label)

    # permissions -------------------------------------------------------------

    @property
    def scopes(self) -> set[str]:
        return set(self.store.scopes_of(self.token)) if self.token else set()

    def require_scope(self, *any_of: str, code: int = 200) -> None:
        """Permission error unless the token has one of ``any_of`` (§3, §9.1)."""
        if self.token is not None and self.token.type == APP:
            raise errors.missing_scope(any_of[0], code)
        if not self.scopes.intersection(any_of):
            raise errors.missing_scope(any_of[0], code)

    def require_page_token(self) -> None:
        if self.token is None or self.token.type != PAGE:
            raise errors.page_token_required()

    # links -------------------------------------------------------------------

    def url_with(self, **changes) -> str:
        """This call's URL with some query parameters changed (paging links).

        Like Meta's ``paging.next`` it repeats the original query, including an
        ``access_token`` given there — which is why clients should rebuild
        requests from ``after`` rather than follow ``next`` blindly (§9.4).
        """
        params = {k: v for k, v in self.query.items() if isinstance(v, str)}
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        version = self.version or self.served_version
        rest = "/".join(self.segments)
        return f"{self.sim.base_url}/{version}/{rest}?{urlencode(params)}"


def _extract_token(params: dict, headers: dict) -> str | None:
    """``access_token`` param first, else ``Authorization: Bearer|OAuth`` (§1.1)."""
    token = params.get("access_token")
    if isinstance(token, str) and token:
        return token
    auth = headers.get("authorization") or ""
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() in ("bearer", "oauth") and value.strip():
        return value.strip()
    return None


# --- the pipeline ------------------------------------------------------------


class GraphApp:
    """Answers Graph calls for one :class:`~meta_simulator.MetaSimulator`."""

    def __init__(self, sim):
        self.sim = sim

    def execute(
        self,
        method: str,
        path: str,
        query: dict,
        form: dict,
        headers: dict,
        *,
        in_batch: bool = False,
        verified_token: str | None = None,
        fallback_token: str | None = None,
        scripted=None,
    ) -> Result:
        """Answer one call.

        ``verified_token`` skips a proof already checked (batch items);
        ``fallback_token`` is used when the call names no token itself;
        ``scripted`` is the :class:`~.faults.ScriptedFault` failing this call.
        """
        sim = self.sim
        headers = headers if isinstance(headers, Headers) else Headers(headers)
        call = Call(self, method.upper(), path, query, form, headers, in_batch)
        call.scripted = scripted
        call.token_value = call.token_value or fallback_token
        trace_id = sim.ids.trace_id()
        try:
            self._parse_version(call)
            fault = sim.faults.draw_error()
            if fault is not None:
                raise fault
            with sim.store.lock:
                body = self._dispatch(call, verified_token)
            status, extra = 200, {}
        except errors.GraphError as exc:
            body, status, extra = exc.body(trace_id), exc.http_status, exc.headers
        except Exception:  # a simulator bug: answer like Meta, but say so
            _logger.exception("meta_simulator failed on %s %s", method, path)
            error = errors.GraphError(1, "An unknown error occurred", http_status=500)
            body, status, extra = error.body(trace_id), 500, {}
        if call.route is None or call.route.count:
            sim.usage.record(call.bucket)
        answer_headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "facebook-api-version": call.served_version,
            "x-fb-trace-id": trace_id,
            "x-fb-request-id": trace_id,
            **sim.usage.headers(call.bucket, call.throttle, fallback_key=sim.app_id),
            **call.answer_headers,
            **extra,
        }
        error_code = body["error"]["code"] if status != 200 else None
        sim._record(
            RecordedRequest(
                method=call.method,
                path=path,
                version=call.version,
                served_version=call.served_version,
                query=dict(query),
                form=dict(form),
                headers=Headers(headers),
                token=call.token_value,
                status=status,
                error_code=error_code,
                time=sim.clock.now(),
                in_batch=in_batch,
                trace_id=trace_id,
            )
        )
        return Result(status, body, answer_headers)

    # steps -------------------------------------------------------------------

    def _parse_version(self, call: Call) -> None:
        """§1.2: versioned paths; expired → the next live; unversioned →
        the oldest live (the App Dashboard's default is not simulated).

        A well-formed version newer than any known one, a non-existent minor
        or one not released yet (on the simulator's clock) is answered with
        2500 "Unknown path components" — our choice, Meta's exact answer for
        future versions is not documented.
        """
        calendar = self.sim.version_calendar
        now = self.sim.clock.now()
        segments = [part for part in call.path.split("/") if part]
        call.served_version = calendar.next_live(None, GRAPH_API, now)
        if segments and _VERSION_RE.match(segments[0]):
            requested = segments.pop(0)
            call.version = requested
            status = calendar.status(requested, GRAPH_API, now)
            if status == "live":
                call.served_version = requested
            elif status == "expired":
                call.served_version = calendar.next_live(requested, GRAPH_API, now)
            else:
                call.served_version = CURRENT_VERSION
                raise errors.unknown_path("/" + "/".join([requested, *segments]))
        if call.served_version is None:  # every version retired by a test
            call.served_version = CURRENT_VERSION
            raise errors.unknown_path(call.path)
        call.segments = segments

    def _marketing_version(self, call: Call) -> None:
        """§1.2: the Marketing API keeps a version only ~90 days after the
        next one ships. On an expired one Meta auto-upgrades the call to the
        next live version when the endpoint did not change in between
        (``X-Ad-Api-Version-Warning``), else answers 2635. A live version
        that ``deprecate`` marked carries that text in the same header."""
        calendar = self.sim.version_calendar
        now = self.sim.clock.now()
        used = call.served_version
        asked = call.version or used
        if calendar.status(used, MARKETING_API, now) == "live":
            entry = calendar.get(asked) or calendar.get(used)
            if entry is not None and entry.deprecation:
                call.answer_headers[VERSION_WARNING_HEADER] = entry.deprecation
            return
        target = calendar.next_live(used, MARKETING_API, now)
        if (
            target is None
            or version_key(target) <= version_key(used)
            or calendar.changed(call.method, call.node_type, call.edge, used, target)
        ):
            latest = calendar.newest_live(MARKETING_API, now) or CURRENT_VERSION
            raise errors.deprecated_ads_version(latest)
        call.served_version = target
        call.answer_headers[VERSION_WARNING_HEADER] = (
            f"The call has been auto-upgraded to {target} as {asked} has been "
            "deprecated"
        )

    def _run(self, call: Call, route: Route):
        """The handler, with the fields the served version removed."""
        dropped = self.sim.version_calendar.dropped(call.served_version)
        with dropped_fields(dropped):
            return route.handler(call)

    def _dispatch(self, call: Call, verified_token: str | None):
        segments = call.segments
        route = ROUTES.path_routes.get((call.method, tuple(segments)))
        if route is not None:
            call.route = route
            if route.auth:
                self._authenticate(call, verified_token, me=False)
            self._apply_throttle(call)
            return self._run(call, route)
        if not segments:
            raise errors.unknown_path("/")
        if len(segments) > 2:
            raise errors.unknown_path("/" + "/".join(segments[2:]))
        ref = segments[0]
        call.edge = segments[1] if len(segments) > 1 else None
        self._authenticate(call, verified_token, me=ref == "me")
        call.node_type, call.node = self._resolve(call, ref)
        page_id = self.sim.store.page_of(call.node_type, call.node)
        denied = self.sim.store.denied_for(call.node_type, call.node)
        if denied is not None:
            code, subcode = denied
            text = (
                "Application does not have permission for this action"
                if code == 10
                else "Permissions error"
            )
            raise errors.permission(code, text, subcode)
        route = ROUTES.node_routes.get((call.method, call.node_type, call.edge))
        if route is None:
            if call.method == "GET" and call.edge:
                raise errors.nonexisting_field(call.edge, NODE_LABELS[call.node_type])
            raise errors.unknown_object(call.method, ref)
        call.route = route
        marketing = route.marketing
        if marketing is None:
            marketing = call.node_type in MARKETING_NODES
        if marketing:
            self._marketing_version(call)
        if page_id:
            call.bucket = (page_id, route.bucket or _bucket_type(call))
        elif route.bucket:
            # Marketing API buckets are keyed by the ad account (§9.2).
            account = self.sim.store.ad_account_of(call.node_type, call.node)
            if account:
                call.bucket = (account.removeprefix("act_"), route.bucket)
        self._apply_throttle(call)
        return self._run(call, route)

    def _authenticate(self, call: Call, verified_token: str | None, me: bool):
        if not call.token_value:
            raise errors.token_required_me() if me else errors.token_required()
        store = self.sim.store
        call.token = store.check_token(call.token_value, self.sim.clock.now())
        if call.token_value != verified_token:
            self._check_proof(call)

    def _check_proof(self, call: Call) -> None:
        """§2.3: classic or time-stamped proof; required when the app says so.

        App tokens are exempt (they carry the secret themselves).  A proof
        that is present is always verified, even when not required.
        """
        if call.token.type == APP:
            return
        proof = call.param("appsecret_proof")
        if not proof:
            if self.sim.require_appsecret_proof:
                raise errors.proof_missing()
            return
        secret = self.sim.app_secret.encode()
        message = call.token_value
        stamp = call.param("appsecret_time")
        if stamp not in (None, ""):
            try:
                stamp_value = int(stamp)
            except (TypeError, ValueError) as exc:
                raise errors.proof_invalid() from exc
            if abs(self.sim.clock.now() - stamp_value) > PROOF_WINDOW_SECONDS:
                raise errors.proof_time_expired()
            message = f"{call.token_value}|{stamp_value}"
        expected = hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(str(proof), expected):
            raise errors.proof_invalid()

    def _resolve(self, call: Call, ref: str):
        store = self.sim.store
        token = call.token
        if ref == "me":
            if token.type == PAGE:
                return PAGE_NODE, store.pages[token.page_id]
            if token.type == APP or token.user_id not in store.users:
                raise errors.token_required_me()
            return USER_NODE, store.users[token.user_id]
        found = store.lookup(ref)
        if found is None or not store.can_access(token, *found):
            if found is None and not ref.isdigit():
                raise errors.unknown_alias(ref)
            raise errors.unknown_object(call.method, ref)
        return found

    def _apply_throttle(self, call: Call) -> None:
        """Scripted faults, throttle faults, then (when enforced) used-up
        budgets (§9.2). A scripted fault fails the call once it reached its
        object, as Meta's own throttles and token checks do."""
        page_id = call.bucket[0] if call.bucket else None
        scripted = call.scripted
        if scripted is not None:
            if scripted.kind == "throttle":
                code = scripted.code or 4
                call.throttle = Throttle(code, 1, scripted.regain_minutes, page_id)
                raise errors.throttled(code)
            raise scripted.error(call.path)
        if call.route is not None and not call.route.count:
            return
        throttle = self.sim.faults.take_throttle(page_id)
        if throttle is None and self.sim.enforce_usage_limits:
            throttle = self._budget_throttle(call, page_id)
        if throttle is not None:
            call.throttle = throttle
            raise errors.throttled(throttle.code)

    def _budget_throttle(self, call: Call, page_id: str | None):
        spent = self.sim.usage.exhausted(call.bucket)
        if spent is None:
            return None
        kind, seconds = spent
        code = _BUDGET_CODES.get(kind, 613)
        if kind == "pages" and call.token is not None and call.token.type == USER:
            code = 32  # §9.1: Page-level limit seen through a user token
        now = self.sim.clock.now()
        return Throttle(code, None, seconds / 60, page_id, until=now + seconds)


#: Throttle code answered when a budget is used up (§9.1, §9.2).
_BUDGET_CODES = {
    "app": 4,
    "pages": 80001,
    "instagram": 80002,
    "leadgen": 80005,
    "messenger": 80006,
    "custom_audience": 80003,
}


def _bucket_type(call: Call) -> str:
    """The BUC bucket a call counts against (§9.2)."""
    if call.node_type in (FORM_NODE, LEAD_NODE) or call.edge == "leadgen_forms":
        return "leadgen"
    if call.node_type == IG_NODE:
        return "instagram"
    return "pages"
