"""Typed errors of the Meta core.

Meta reports failures as ``{"error": {"code": …, "error_subcode": …, …}}``.
We branch on ``code``/``error_subcode`` only, never on ``message`` (its text
changes with locale and over time).  Callers decide what to do from the class:

* :class:`TokenError` – the token is dead: stop using it, ask to reconnect;
* :class:`MissingPermissionError` – a scope/task is missing: configuration, no retry;
* :class:`RateLimitError` – back off at least ``retry_after`` seconds;
* :class:`TransientError` – retry later with backoff;
* :class:`InvalidRequestError` – our request is wrong, retrying cannot help;
* :class:`NotFoundError` – the object does not exist (or is not visible to
  the token): retrying cannot help either;
* :class:`UnknownGraphError` – anything else Meta answered.

Each class also says what the error *concerns* (:attr:`GraphError.scope`),
which decides whom it may stop: an error about one object (a profile Meta
will not give, a deleted comment) fails that object's work and nothing else;
only the token (:data:`TOKEN`) and the app (:data:`APP`) concern a whole
connection. A permission refusal (:data:`PERMISSION`) is a suspicion, not a
verdict: Meta refuses many single objects with codes 10 and 200–299, so only
Meta's own account of the token (``debug_token``) confirms that a
permission is gone.

None of these exception texts ever contains a token: they are built from
Meta's message, which never echoes credentials, and from a scrubbed path.
"""

#: What an error concerns (:attr:`GraphError.scope`).
OBJECT = "object"  # this one object: not found, deleted, not given to us
REQUEST = "request"  # this request: fixing it is needed, the rest goes on
PERMISSION = "permission"  # maybe a permission of a feature: to be confirmed
TOKEN = "token"  # the token: nothing works with it any more
APP = "app"  # the app itself lacks a capability Meta grants apps
THROTTLE = "throttle"  # Meta asks to slow down
TRANSIENT = "transient"  # Meta or the network failed this time
#: The scopes that change a connection's state as soon as they are seen.
CONNECTION_SCOPES = frozenset({TOKEN, APP})


class MetaError(Exception):
    """Base of every error raised by the core."""


class MalformedPayloadError(MetaError, ValueError):
    """Input from Meta (webhook body, lead) does not have the documented shape."""


class InvalidLeadError(MalformedPayloadError):
    """A Graph lead cannot be normalized (no id, field_data not a list, …)."""


class SignatureError(MetaError):
    """A webhook delivery's ``X-Hub-Signature-256`` is missing or wrong."""


class GraphError(MetaError):
    """An error answered by (or on the way to) the Graph API."""

    #: should a caller try the same request again later?
    retryable = False
    #: what the error concerns (see the module's docstring)
    scope = REQUEST

    def __init__(
        self,
        message,
        *,
        code=None,
        subcode=None,
        http_status=None,
        error_type=None,
        fbtrace_id=None,
        is_transient=None,
        user_title=None,
        user_message=None,
        path=None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.error_type = error_type
        self.fbtrace_id = fbtrace_id
        self.is_transient = is_transient
        self.user_title = user_title
        self.user_message = user_message
        self.path = path

    @property
    def words(self):
        """Meta's words about this error for the person who can fix it: its
        ``error_user_title`` and ``error_user_msg``, written for people,
        which name the field and what is wrong ("Server-side API parameter
        error: The parameter $['data'][0]['event_time'] …"), when Meta gave
        them; else its ``message`` ("Invalid parameter")."""
        said = [_clean(part) for part in (self.user_title, self.user_message)]
        said = [part for part in said if part]
        if said:
            return ": ".join(said)
        return _clean(self.message) or type(self).__name__

    def __str__(self):
        parts = [self.words]
        if self.message and _clean(self.message) != parts[0]:
            parts.append(self.message)
        if self.code is not None:
            code = f"code {self.code}"
            if self.subcode:
                code += f"/{self.subcode}"
            parts.append(code)
        if self.http_status:
            parts.append(f"HTTP {self.http_status}")
        if self.fbtrace_id:
            parts.append(f"fbtrace_id {self.fbtrace_id}")
        return " | ".join(parts)


class TokenError(GraphError):
    """Code 190: the access token is invalid, expired or revoked."""

    scope = TOKEN


class AppError(GraphError):
    """Code 3: the app lacks the capability or permission for this call
    (Meta's "API Method" error): no token of any connection can fix it,
    only the app's configuration or App Review can."""

    scope = APP


class MissingPermissionError(GraphError):
    """Codes 10 and 200–299: a permission or Page task may be missing.

    Meta answers these codes for a single object too (a person's profile
    without their consent, a comment the Page may not touch): the
    connection's state changes only once ``debug_token`` confirms that a
    permission its features need is gone."""

    scope = PERMISSION


class RateLimitError(GraphError):
    """Codes 4, 17, 32, 613 and 80000–80099: throttled.

    ``retry_after`` is in seconds, derived from the usage headers'
    ``estimated_time_to_regain_access`` (minutes) when Meta sent one.
    """

    retryable = True
    scope = THROTTLE

    def __init__(self, message, *, retry_after=None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class TransientError(GraphError):
    """Codes 1, 2, ``is_transient``, HTTP 5xx, timeouts, connection failures."""

    retryable = True
    scope = TRANSIENT
    #: True when the request may have reached Meta (read timeout): a
    #: non-idempotent call must then not be sent again blindly.
    maybe_processed = False


class InvalidRequestError(GraphError):
    """Code 100 and other request errors: fixing the request is needed."""


class NotFoundError(InvalidRequestError):
    """Code 803, or 100 with subcode 33: no such object for this token."""

    scope = OBJECT


class UnavailableObjectError(InvalidRequestError):
    """Meta will not give or reach this one object, though the token and
    its permissions are fine: a person's profile they did not consent to
    share (230), a person who cannot be messaged (551), a conversation
    whose window is closed or that another app controls (10/2018278,
    10/2534022, 10/2018300)."""

    scope = OBJECT


class UnknownGraphError(GraphError):
    """Any other answer in Meta's error shape, or an unexpected body."""


def _clean(text):
    """One line, without the closing full stop Meta ends its messages with."""
    return " ".join(str(text or "").split()).rstrip(" .")


def words(error):
    """Meta's words about ``error`` (:attr:`GraphError.words`); any other
    exception's own text."""
    if isinstance(error, GraphError):
        return error.words
    return _clean(error)


def quoted(error):
    """Meta's own words about ``error``, to sit inside a sentence of ours.

    Meta answers in English and ends its messages with a full stop; glued
    into a (translated) sentence that gave "…reasons. | code 190/460).".
    Quoted, without the closing stop and the technical suffix (code, HTTP
    status and trace id stay in ``str(error)`` for the logs), it reads as
    a quotation in any language."""
    text = words(error)
    return f"“{text}”" if text else ""
