"""The Graph request pipeline and the route registry.

Every Graph call — a top-level HTTP request or one item of a batch — goes
through :meth:`GraphApp.execute`, in the order Meta applies its checks:

1. version (first path segment, docs/meta-facts.md §1.2);
2. transient fault draw (``faults.error_rate``, §9.1);
3. token presence and validity (2500/104, 190 + subcode, §2.1, §9.1);
4. ``appsecret_proof`` (§2.3);
5. object resolution and access (100/33, 803), ``deny_object`` (10/200);
6. throttle faults (4/17/32/613/800xx with usage headers at 100 %, §9.2);
7. the route handler, which checks scopes and ``fields``.

Routes register themselves with the :data:`ROUTES` decorators; adding an
endpoint is one decorated function in ``routes/<domain>.py``::

    @ROUTES.node("GET", PAGE_NODE, "conversations")
    def page_conversations(call): ...

    @ROUTES.path("GET", "debug_token")
    def debug_token(call): ...
"""

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from . import errors
from .faults import Throttle
from .fields import parse_fields, project
from .models import APP, PAGE, USER
from .server import Headers
from .store import (
    FORM_NODE,
    IG_NODE,
    LEAD_NODE,
    NODE_LABELS,
    PAGE_NODE,
    USER_NODE,
)

_logger = logging.getLogger("meta_simulator")

#: Live Graph versions (§1.2; v27.0 only listed by the Marketing API page,
#: accepted here so the client can be tested against the next version).
VERSIONS = ("v21.0", "v22.0", "v23.0", "v24.0", "v25.0", "v26.0", "v27.0")
CURRENT_VERSION = "v26.0"
_VERSION_RE = re.compile(r"^v(\d+)\.(\d+)$")

#: The time-stamped appsecret_proof is valid for 5 minutes (§2.3).
PROOF_WINDOW_SECONDS = 300


def version_key(version: str) -> tuple[int, int]:
    match = _VERSION_RE.match(version)
    return (int(match.group(1)), int(match.group(2)))


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
        """§1.2: versioned paths; expired → oldest live; unversioned → oldest live.

        A well-formed version newer than any live one (or a non-existent minor)
        is answered with 2500 "Unknown path components" — our choice, Meta's
        exact answer for future versions is not documented.
        """
        segments = [part for part in call.path.split("/") if part]
        call.served_version = VERSIONS[0]
        if segments and _VERSION_RE.match(segments[0]):
            requested = segments.pop(0)
            call.version = requested
            if requested in VERSIONS:
                call.served_version = requested
            elif version_key(requested) > version_key(VERSIONS[0]):
                call.served_version = CURRENT_VERSION
                raise errors.unknown_path("/" + "/".join([requested, *segments]))
        call.segments = segments

    def _dispatch(self, call: Call, verified_token: str | None):
        segments = call.segments
        route = ROUTES.path_routes.get((call.method, tuple(segments)))
        if route is not None:
            call.route = route
            if route.auth:
                self._authenticate(call, verified_token, me=False)
            self._apply_throttle(call)
            return route.handler(call)
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
        if page_id:
            call.bucket = (page_id, route.bucket or _bucket_type(call))
        elif route.bucket:
            # Marketing API buckets are keyed by the ad account (§9.2).
            account = self.sim.store.ad_account_of(call.node_type, call.node)
            if account:
                call.bucket = (account.removeprefix("act_"), route.bucket)
        self._apply_throttle(call)
        return route.handler(call)

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
