"""Keep credentials out of URLs that are logged or shown.

Two kinds of log lines can carry a credential in a query string:

* a Graph call logged by ``urllib3`` at DEBUG level (``debug_token`` sends
  the inspected token as ``input_token``, every call its ``appsecret_proof``);
* Meta's webhook handshake, ``GET <callback>?hub.verify_token=…``, logged by
  the web server's access log
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests).

:func:`scrub_url` and :func:`scrub_text` replace those values with ``***``;
:class:`RedactingFilter` does it for every record of a logger, whatever its
level, so no handler ever sees the value.
"""

import logging
import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

#: Query/body parameters whose values are credentials.
SECRET_PARAMS = frozenset(
    {
        "access_token",
        "input_token",
        "appsecret_proof",
        "client_secret",
        "fb_exchange_token",
        "code",
        "hub.verify_token",
    }
)

_SECRET_IN_TEXT_RE = re.compile(
    r"(?P<key>(?:^|(?<=[?&\s\"'])|(?<=%3F)|(?<=%26))(?:"
    + "|".join(re.escape(name) for name in sorted(SECRET_PARAMS))
    + r"))=(?P<value>[^&\s\"']*)",
    re.IGNORECASE,
)


def scrub_url(url):
    """Return ``url`` with every credential parameter replaced by ``***``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = parse_qs(parts.query, keep_blank_values=True)
    cleaned = [
        (key, "***" if key in SECRET_PARAMS else value)
        for key, values in query.items()
        for value in values
    ]
    return urlunsplit(parts._replace(query=urlencode(cleaned, safe="*,{}()[]")))


def scrub_text(text):
    """Replace ``name=value`` of every credential parameter inside free text."""
    if "=" not in text:
        return text
    return _SECRET_IN_TEXT_RE.sub(lambda m: f"{m.group('key')}=***", text)


class RedactingFilter(logging.Filter):
    """Rewrite a record whose message carries a credential parameter.

    The message is formatted once, scrubbed, and stored without arguments, so
    every handler (file, syslog, a test's capture) gets the scrubbed text.
    """

    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is not ours to fix
            return True
        scrubbed = scrub_text(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, ()
        return True


def install_filter(logger_name):
    """Attach one :class:`RedactingFilter` to ``logger_name`` (idempotent)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
