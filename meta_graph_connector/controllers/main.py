import functools
import hashlib
import logging
import time

from werkzeug.wsgi import get_input_stream

from odoo import SUPERUSER_ID, api, http
from odoo.http import request
from odoo.modules.registry import Registry

from ..graph import const
from ..graph.errors import MalformedPayloadError, SignatureError
from ..graph.redact import install_filter
from ..graph.signed_request import SignedRequestError, parse_signed_request
from ..graph.webhook import (
    SIGNATURE_HEADER,
    parse_delivery,
    verify_handshake,
    verify_signature,
)

_logger = logging.getLogger(__name__)


class _RateLimitedLog:
    """At most one warning per ``interval`` seconds for rejected deliveries.

    A public route must not let a forger flood the logs .
    """

    def __init__(self, interval=60):
        self.interval = interval
        self.last = 0.0
        self.suppressed = 0

    def warning(self, message, *args):
        now = time.monotonic()
        if now - self.last < self.interval:
            self.suppressed += 1
            return
        if self.suppressed:
            message += " (%d similar rejections not logged)"
            args = (*args, self.suppressed)
        self.last, self.suppressed = now, 0
        _logger.warning(message, *args)


_rejections = _RateLimitedLog()

# Meta's handshake carries the verify token in its query string, which the
# web server's access log ("werkzeug" logger) writes in full: scrub it there.
# A reverse proxy keeps its own access log; see the README.
install_filter("werkzeug")

#: Bytes read from the request at a time while enforcing the body cap.
_READ_CHUNK = 64 * 1024


def _process_arrived(dbname, ids):
    """What a webhook request does once its answer is sent (werkzeug calls
    it as it closes the response): process the events it stored, in a
    transaction of its own. Should that fail, the lanes take them."""
    registry = Registry(dbname)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["meta.webhook.event"]._meta_process_arrived(ids)
    except Exception:
        _logger.exception("Processing Meta events on arrival failed; the lanes will")
        with registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["meta.webhook.event"]._meta_trigger()


class MetaWebhookController(http.Controller):
    """``/meta/webhook``: verify, store, answer; then process what it stored.

    No Graph call, no lead, no chatter before the answer: Odoo may run a
    request again after a serialization failure, and Meta wants its 200
    fast. Once the answer is sent, the request's worker processes the
    events it stored, through the same queue as the cron lanes
    (``meta.webhook.event._meta_receive``).
    """

    _webhook_url = "/meta/webhook"

    @http.route(
        _webhook_url,
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,  # the HMAC signature authenticates Meta instead
        save_session=False,
        # enforced by werkzeug >= 2.3 itself; older ones: _meta_read_body
        max_content_length=const.MAX_WEBHOOK_BODY_BYTES,
    )
    def meta_webhook(self, **kwargs):
        if request.httprequest.method == "GET":
            return self._meta_handshake()
        return self._meta_receive()

    def _meta_handshake(self):
        config = request.env["meta.app"]._meta_config()
        challenge = verify_handshake(request.httprequest.args, config["verify_token"])
        if challenge is None:
            _rejections.warning("Refused a Meta webhook handshake")
            return self._plain("Forbidden", 403)
        return self._plain(challenge, 200)

    def _meta_receive(self):
        httprequest = request.httprequest
        cap = const.MAX_WEBHOOK_BODY_BYTES
        body = self._meta_read_body(cap)
        if body is None:
            _rejections.warning("Refused a Meta delivery over %d bytes", cap)
            return self._plain("Payload Too Large", 413)
        config = request.env["meta.app"]._meta_config()
        try:
            verify_signature(
                body,
                httprequest.headers.get(SIGNATURE_HEADER),
                (config["app_secret"], config["app_secret_previous"]),
            )
        except SignatureError as error:
            _rejections.warning(
                "Refused a Meta delivery from %s: %s", httprequest.remote_addr, error
            )
            return self._plain("Forbidden", 403)
        try:
            events = parse_delivery(body)
        except MalformedPayloadError as error:
            _rejections.warning("Refused a malformed Meta delivery: %s", error)
            return self._plain("Bad Request", 400)
        # sudo: meta.webhook.event - the public route stores the verified
        # delivery; the inbox is a technical model no public user can read.
        arrived = (
            request.env["meta.webhook.event"]
            .sudo()
            ._meta_receive(events, body_sha256=hashlib.sha256(body).hexdigest())
        )
        response = self._plain("EVENT_RECEIVED", 200)
        if arrived:
            response.call_on_close(
                functools.partial(_process_arrived, request.env.cr.dbname, arrived)
            )
        return response

    # ----------------------------------------------------- app callbacks

    @http.route(
        "/meta/deauthorize",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,  # Meta's signed_request authenticates the call
        save_session=False,
    )
    def meta_deauthorize(self, **kwargs):
        """Meta: a person removed the app."""
        verified = self._meta_verify_signed_request()
        if verified is None:
            return self._plain("Forbidden", 403)
        # sudo: meta.deletion.request - a public route acting on a verified
        # request of Meta's; the model limits what it touches.
        request.env["meta.deletion.request"].sudo()._meta_receive(
            "deauthorize", verified
        )
        return self._plain("OK", 200)

    @http.route(
        "/meta/data_deletion",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,  # Meta's signed_request authenticates the call
        save_session=False,
    )
    def meta_data_deletion(self, **kwargs):
        """Meta: a person asks for their data to be deleted. Meta expects the
        status page URL and a confirmation code in return."""
        verified = self._meta_verify_signed_request()
        if verified is None:
            return self._plain("Forbidden", 403)
        # sudo: meta.deletion.request - see meta_deauthorize
        deletion = (
            request.env["meta.deletion.request"]
            .sudo()
            ._meta_receive("data_deletion", verified)
        )
        return request.make_json_response(
            {
                "url": deletion._meta_status_url(),
                "confirmation_code": deletion.confirmation_code,
            }
        )

    @http.route(
        "/meta/data_deletion/<string:code>",
        type="http",
        auth="public",
        methods=["GET"],
        save_session=False,
    )
    def meta_data_deletion_status(self, code, **kwargs):
        """The status of a deletion request, by its code, and nothing else."""
        # sudo: meta.deletion.request - the code is the only key; the page
        # says the state and the date, never who or what.
        deletion = (
            request.env["meta.deletion.request"]
            .sudo()
            .search([("confirmation_code", "=", code[:64])], limit=1)
        )
        if not deletion:
            return self._plain(request.env._("Unknown confirmation code."), 404)
        when = deletion.done_at or deletion.received_at
        return self._plain(
            request.env._(
                "Data deletion request %(code)s: %(state)s on %(date)s UTC.",
                code=deletion.confirmation_code,
                state=dict(
                    deletion._fields["state"]._description_selection(request.env)
                )[deletion.state],
                date=when.strftime("%Y-%m-%d %H:%M"),
            ),
            200,
        )

    def _meta_verify_signed_request(self):
        """The verified signed_request of the posted form, or None.

        The parser refuses a request issued more than a day ago or dated
        ahead of the clock (graph.signed_request.MAX_AGE_SECONDS,
        FUTURE_SKEW_SECONDS): an old request, replayed, must not disconnect
        a connection made again since."""
        config = request.env["meta.app"]._meta_config()
        value = request.httprequest.form.get("signed_request")
        try:
            return parse_signed_request(
                value, (config["app_secret"], config["app_secret_previous"])
            )
        except SignedRequestError as error:
            _rejections.warning("Refused a Meta app callback: %s", error)
            return None

    @staticmethod
    def _meta_read_body(cap):
        """The raw body, or None when it is longer than ``cap`` bytes.

        Reads at most ``cap + 1`` bytes, so a chunked POST (no
        Content-Length) of any size costs no more than the cap; werkzeug's
        ``get_data`` would read all of it (up to Odoo's 128 MiB) first.
        """
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > cap:
            return None
        # Odoo's request wrapper exposes no stream; its own http.py reaches
        # the WSGI environ the same way.
        environ = getattr(httprequest, "_HTTPRequest__environ", None)
        if environ is None:
            body = httprequest.get_data()
            return body if len(body) <= cap else None
        stream = get_input_stream(environ)
        chunks, size = [], 0
        while size <= cap:
            chunk = stream.read(min(_READ_CHUNK, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks) if size <= cap else None

    @staticmethod
    def _plain(text, status):
        # A constant or digits-only body: nothing from the request is reflected.
        return request.make_response(
            text, headers=[("Content-Type", "text/plain; charset=utf-8")], status=status
        )
