"""The one door to the Graph API.

Every outbound call of the addon goes through :class:`GraphClient`, which

* builds ``{base_url}/{version}/{path}`` with the version pinned per connection
  (docs/meta-facts.md §1.2) and the base URL as a parameter (the local simulator in
  tests and sandbox mode);
* sends the token in the ``Authorization`` header, never in the URL, and adds
  ``appsecret_proof`` when the app secret is known (§2.3);
* applies connect/read timeouts, parses the usage headers (§9.2), maps Meta's
  error JSON to typed errors by code and subcode (§9.1);
* retries transient failures with bounded exponential backoff and full jitter,
  and never retries token, permission, rate-limit or request errors (the
  caller reschedules rate limits: calling while throttled prolongs it);
* walks cursor pagination as a generator and packs batch requests by 50 (§9.3).

Nothing here logs or raises a text containing a token: URLs are scrubbed and
``requests`` exceptions (whose text includes the URL) are not chained.
"""

import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests

from . import const
from .errors import (
    AppError,
    GraphError,
    InvalidRequestError,
    MissingPermissionError,
    NotFoundError,
    RateLimitError,
    TokenError,
    TransientError,
    UnavailableObjectError,
    UnknownGraphError,
)
from .redact import SECRET_PARAMS, install_filter, scrub_url
from .usage import Usage
from .versions import deprecation_warning

__all__ = ["SECRET_PARAMS", "BatchResult", "GraphClient", "scrub_url"]

_logger = logging.getLogger(__name__)

#: When Meta throttles without telling how long, wait this long (seconds).
DEFAULT_RATE_LIMIT_WAIT = 60

# urllib3 logs every request line, query string included, at DEBUG level:
# ``debug_token`` carries the inspected token there (``input_token``).
install_filter("urllib3.connectionpool")


def appsecret_proof(app_secret, access_token, timestamp=None):
    """Return Meta's ``appsecret_proof`` (docs/meta-facts.md §2.3).

    Classic form: HMAC-SHA256(app_secret, token). With ``timestamp`` the
    time-stamped form HMAC-SHA256(app_secret, "token|timestamp") is returned;
    it must be sent together with ``appsecret_time``.
    """
    message = access_token if timestamp is None else f"{access_token}|{int(timestamp)}"
    return hmac.new(app_secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def error_from_body(body, *, http_status=None, headers=None, path=None):
    """Map a Graph error answer to the matching :class:`GraphError` subclass.

    ``body`` is the decoded JSON (or anything else when Meta answered garbage).
    Classification is by ``code``/``error_subcode``/``is_transient`` and HTTP
    status only; the message is kept for humans, never parsed.
    """
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        message = f"Unexpected Graph answer (HTTP {http_status})"
        cls = (
            TransientError if http_status and http_status >= 500 else UnknownGraphError
        )
        return cls(message, http_status=http_status, path=path)
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    kwargs = {
        "code": code,
        "subcode": subcode,
        "http_status": http_status,
        "error_type": error.get("type"),
        "fbtrace_id": error.get("fbtrace_id"),
        "is_transient": bool(error.get("is_transient")),
        "user_title": error.get("error_user_title"),
        "user_message": error.get("error_user_msg"),
        "path": path,
    }
    message = str(error.get("message") or "Graph API error")
    if code in const.TOKEN_ERROR_CODES:
        return TokenError(message, **kwargs)
    if (
        code,
        subcode,
    ) in const.MESSAGE_REFUSED_SUBCODES or code in const.OBJECT_ERROR_CODES:
        return UnavailableObjectError(message, **kwargs)
    if code in const.APP_ERROR_CODES:
        return AppError(message, **kwargs)
    if code in const.PERMISSION_ERROR_CODES:
        return MissingPermissionError(message, **kwargs)
    if code in const.RATE_LIMIT_CODES:
        usage = Usage.from_headers(headers or {})
        retry_after = usage.regain_seconds() or DEFAULT_RATE_LIMIT_WAIT
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if (
        kwargs["is_transient"]
        or code in const.TRANSIENT_CODES
        or (http_status or 0) >= 500
    ):
        return TransientError(message, **kwargs)
    if code in const.NOT_FOUND_CODES or (code, subcode) in const.NOT_FOUND_SUBCODES:
        return NotFoundError(message, **kwargs)
    if code is not None and (http_status or 400) < 500:
        return InvalidRequestError(message, **kwargs)
    return UnknownGraphError(message, **kwargs)


def _as_int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class BatchResult:
    """One item of a batch answer: ``data`` on success, ``error`` otherwise."""

    status: int | None
    data: object = None
    error: GraphError | None = None

    @property
    def ok(self):
        return self.error is None


class GraphClient:
    """Talk to one Graph API version with one access token.

    :param access_token: Page, user, system-user or app token (``id|secret``).
    :param app_secret: enables ``appsecret_proof`` on every call.
    :param api_version: e.g. ``"v26.0"``; pinned per connection.
    :param base_url: ``https://graph.facebook.com`` or the simulator's URL.
    :param timeout: ``(connect, read)`` seconds.
    :param max_retries: retries after the first attempt for transient errors.
    :param proof_mode: ``"classic"`` or ``"timestamped"`` (§2.3).
    :param sleep, clock, rng: injectable for deterministic tests.
    """

    def __init__(
        self,
        access_token,
        *,
        app_secret=None,
        api_version=const.DEFAULT_API_VERSION,
        base_url=const.DEFAULT_BASE_URL,
        timeout=const.DEFAULT_TIMEOUT,
        max_retries=3,
        backoff_base=0.5,
        backoff_max=8.0,
        proof_mode="classic",
        session=None,
        sleep=time.sleep,
        clock=time.time,
        rng=None,
    ):
        if not access_token:
            raise ValueError("An access token is required")
        if not api_version or not str(api_version).startswith("v"):
            raise ValueError("api_version must look like 'v26.0'")
        self._access_token = access_token
        self._app_secret = app_secret or None
        self.api_version = api_version
        self.base_url = (base_url or const.DEFAULT_BASE_URL).rstrip("/")
        self.timeout = timeout
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.proof_mode = proof_mode
        self.session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        #: Usage reported by the latest response (empty before the first call).
        self.last_usage = Usage()
        #: What Meta last said about this version being on its way out.
        self.last_version_warning = ""
        #: Attempts made by the latest logical call (1 = no retry).
        self.last_attempts = 0

    def __repr__(self):
        # Never show the token, even in debuggers and tracebacks.
        return f"<GraphClient {self.base_url}/{self.api_version}>"

    @classmethod
    def for_app(cls, app_id, app_secret, **kwargs):
        """A client authenticated with the app token ``app_id|app_secret``."""
        return cls(f"{app_id}|{app_secret}", app_secret=app_secret, **kwargs)

    # ------------------------------------------------------------------ calls

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def post(self, path, data=None, json_body=None, *, idempotent=False):
        return self.request(
            "POST", path, data=data, json_body=json_body, idempotent=idempotent
        )

    def delete(self, path, params=None, data=None, json_body=None):
        """``DELETE``; ``data`` or ``json_body`` goes in the body (a customer
        file's removals are megabytes, too long for a URL)."""
        return self.request(
            "DELETE", path, params=params, data=data, json_body=json_body
        )

    def request(
        self, method, path, *, params=None, data=None, json_body=None, idempotent=None
    ):
        """Send one Graph call and return its decoded JSON.

        :param idempotent: whether a call that may have reached Meta can be sent
            again. Defaults to True for GET/DELETE. A non-idempotent call (a
            POST that sends a message, say) is retried only when it surely was
            not processed: connection refused, or Meta answered a transient
            error. A read timeout on it is raised, not retried.
        :raises GraphError: a typed subclass, after retries were exhausted.
        """
        if idempotent is None:
            idempotent = method.upper() in ("GET", "DELETE", "HEAD")
        url = self._url(path)
        params = self._with_proof(dict(params or {}))
        attempt = 0
        while True:
            attempt += 1
            self.last_attempts = attempt
            try:
                return self._send_once(method, url, params, data, json_body)
            except GraphError as error:
                if not self._should_retry(error, attempt, idempotent):
                    raise
                delay = self._backoff(attempt)
                _logger.info(
                    "Graph %s %s failed (%s); retry %d/%d in %.2fs",
                    method,
                    scrub_url(url),
                    error.__class__.__name__,
                    attempt,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)

    def paginate(self, path, params=None, *, max_pages=None):
        """Yield every item of a cursor-paginated edge (§9.4).

        Follows ``paging.cursors.after`` while ``paging.next`` is present (a
        short or even empty page may still have a next one), rebuilding the
        request rather than following ``next`` so the token stays out of URLs.
        """
        params = dict(params or {})
        seen_cursors = set()
        pages = 0
        while True:
            answer = self.get(path, params)
            pages += 1
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, list):
                raise UnknownGraphError(
                    "Paginated answer without a data list", path=path
                )
            yield from data
            after = _next_cursor(answer)
            if not after or (max_pages and pages >= max_pages):
                return
            if after in seen_cursors:
                raise UnknownGraphError(
                    "Graph pagination returned the same cursor twice", path=path
                )
            seen_cursors.add(after)
            params["after"] = after

    def batch(self, items):
        """Run many calls through batch requests of at most 50 items (§9.3).

        ``items``: dicts with ``method`` and ``relative_url`` (the version is
        prefixed when missing), optional ``body`` (dict or encoded string) and
        ``name``. Returns one :class:`BatchResult` per item, in order; an item's
        failure does not raise, a failure of the whole batch call does.
        """
        results = []
        items = list(items)
        for start in range(0, len(items), const.MAX_BATCH_SIZE):
            chunk = items[start : start + const.MAX_BATCH_SIZE]
            payload = [self._batch_item(item) for item in chunk]
            answer = self.post(
                "",
                data={"batch": json.dumps(payload), "include_headers": "false"},
                idempotent=all(i["method"] in ("GET", "DELETE") for i in payload),
            )
            if not isinstance(answer, list) or len(answer) != len(chunk):
                raise UnknownGraphError("Batch answer does not match the request")
            results.extend(self._batch_result(entry) for entry in answer)
        return results

    # --------------------------------------------------------------- helpers

    def _url(self, path):
        path = str(path or "").strip("/")
        if path.startswith(f"{self.api_version}/"):
            path = path[len(self.api_version) + 1 :]
        root = f"{self.base_url}/{self.api_version}"
        return f"{root}/{_encode_path(path)}" if path else f"{root}/"

    def _with_proof(self, params):
        if not self._app_secret:
            return params
        if self.proof_mode == "timestamped":
            now = int(self._clock())
            params["appsecret_time"] = str(now)
            params["appsecret_proof"] = appsecret_proof(
                self._app_secret, self._access_token, now
            )
        else:
            params["appsecret_proof"] = appsecret_proof(
                self._app_secret, self._access_token
            )
        return params

    def _send_once(self, method, url, params, data, json_body):
        started = time.monotonic()
        response = self._http_request(method, url, params, data, json_body)
        self._note_response(method, url, response, started)
        return self._decoded_body(url, response)

    def _http_request(self, method, url, params, data, json_body):
        """The HTTP exchange; network failures become :class:`TransientError`."""
        headers = {"Authorization": f"Bearer {self._access_token}"}
        try:
            return self.session.request(
                method,
                url,
                params=params,
                data=data,
                json=json_body,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.exceptions.ConnectTimeout:
            raise TransientError(
                "Graph API connection timed out", path=scrub_url(url)
            ) from None
        except requests.exceptions.Timeout:
            error = TransientError("Graph API read timed out", path=scrub_url(url))
            error.maybe_processed = True
            raise error from None
        except requests.exceptions.RequestException as exc:
            # The original text contains the full URL: keep only the class name.
            raise TransientError(
                f"Graph API unreachable ({exc.__class__.__name__})",
                path=scrub_url(url),
            ) from None

    def _note_response(self, method, url, response, started):
        """Keep the answer's rate-limit usage and version warning; log the call."""
        elapsed_ms = (time.monotonic() - started) * 1000
        self.last_usage = Usage.from_headers(response.headers)
        _logger.debug(
            "Graph %s %s -> %s in %.0f ms",
            method,
            scrub_url(url),
            response.status_code,
            elapsed_ms,
        )
        warning = deprecation_warning(response.headers)
        if warning:
            # kept for the caller, who tells the administrators once
            self.last_version_warning = warning
            _logger.warning("Meta API version warning: %s", warning)

    def _decoded_body(self, url, response):
        """The answer's JSON, or the typed :class:`GraphError` it stands for."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 400 or (
            isinstance(body, dict) and isinstance(body.get("error"), dict)
        ):
            raise error_from_body(
                body,
                http_status=response.status_code,
                headers=response.headers,
                path=scrub_url(url),
            )
        if body is None:
            raise UnknownGraphError(
                "Graph API answered a body that is not JSON",
                http_status=response.status_code,
                path=scrub_url(url),
            )
        return body

    def _should_retry(self, error, attempt, idempotent):
        if not isinstance(error, TransientError) or attempt > self.max_retries:
            return False
        if not idempotent and getattr(error, "maybe_processed", False):
            return False
        return True

    def _backoff(self, attempt):
        """Exponential backoff with full jitter, bounded by ``backoff_max``."""
        ceiling = min(self.backoff_max, self.backoff_base * (2 ** (attempt - 1)))
        return self._rng.uniform(0, ceiling)

    def _batch_item(self, item):
        method = str(item.get("method", "GET")).upper()
        path, mark, query = str(item["relative_url"]).strip("/").partition("?")
        relative_url = _encode_path(path) + mark + query
        if not relative_url.startswith("v"):
            relative_url = f"{self.api_version}/{relative_url}"
        entry = {"method": method, "relative_url": relative_url}
        body = item.get("body")
        if isinstance(body, dict):
            body = urlencode(body)
        if body:
            entry["body"] = body
        if item.get("name"):
            entry["name"] = item["name"]
        return entry

    def _batch_result(self, entry):
        if entry is None:
            # Meta leaves an item null when it did not run it (timeout, dependency).
            return BatchResult(None, error=TransientError("Batch item not executed"))
        status = _as_int(entry.get("code"))
        try:
            body = json.loads(entry.get("body") or "null")
        except (TypeError, ValueError):
            body = None
        if status and status < 400 and not (isinstance(body, dict) and "error" in body):
            return BatchResult(status, data=body)
        headers = {
            h.get("name"): h.get("value")
            for h in entry.get("headers") or []
            if isinstance(h, dict)
        }
        return BatchResult(
            status, error=error_from_body(body, http_status=status, headers=headers)
        )


def _encode_path(path):
    """A Graph path with every segment percent-encoded.

    Callers build paths from validated ids (:func:`.ids.node_id`); this is the
    second guard: a segment can neither climb (``..``, which HTTP clients
    resolve before sending) nor smuggle a query (``?``) or another segment.
    """
    segments = path.split("/")
    if any(segment in ("", ".", "..") for segment in segments):
        raise InvalidRequestError("Refused a Graph path with empty or dot segments")
    return "/".join(quote(segment, safe="") for segment in segments)


def _next_cursor(answer):
    paging = answer.get("paging") if isinstance(answer, dict) else None
    if not isinstance(paging, dict) or not paging.get("next"):
        return None
    cursors = paging.get("cursors")
    if isinstance(cursors, dict) and cursors.get("after"):
        return cursors["after"]
    # Some edges give only ``next``: take its ``after`` parameter.
    values = parse_qs(urlsplit(paging["next"]).query).get("after")
    return values[0] if values else None
