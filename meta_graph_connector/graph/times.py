"""Meta's times: one parser for every spelling Meta uses.

* Webhook entries carry Unix **seconds** (``changes``) or **milliseconds**
  (``messaging``), sometimes in one delivery
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started);
* Graph objects carry ISO-8601 with a ``+0000`` offset
  (``2026-10-01T12:00:00+0000``,
  https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving/);
* ``debug_token`` carries Unix seconds where ``0`` means "never"
  (https://developers.facebook.com/docs/graph-api/reference/debug_token/).

Everything becomes an aware UTC :class:`~datetime.datetime`, or None when the
value is absent or unparseable; :func:`to_naive_utc` gives what Odoo stores.
"""

import re
from datetime import datetime, timezone

#: Numbers above this are milliseconds, not seconds (10^11 s is year 5138).
MS_THRESHOLD = 10**11

_NUMBER_RE = re.compile(r"\d{1,16}(?:\.\d+)?")


def parse_time(value):
    """Unix seconds or milliseconds (int, float or digit string), or
    ISO-8601 (``+0000``, ``Z``, ``+03:00``; naive means UTC) → aware UTC."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()[:64]
        if not _NUMBER_RE.fullmatch(text):
            return _parse_iso(text)
        value = float(text)
    if not isinstance(value, int | float):
        return None
    try:
        if value > MS_THRESHOLD:
            value = value / 1000
        return datetime.fromtimestamp(value, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def parse_expiry(value):
    """An expiry in Unix seconds where 0 (or nothing) means "never" → None."""
    when = parse_time(value)
    return when if when and when.timestamp() > 0 else None


def to_naive_utc(value):
    """Aware (or naive UTC) datetime → naive UTC, as Odoo stores; else None."""
    if not isinstance(value, datetime):
        return None
    if value.tzinfo:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def _parse_iso(text):
    # Python 3.10's fromisoformat (Odoo 18 still supports 3.10) rejects
    # Meta's "+0000", "Z" and fractions other than 3/6 digits: rewrite them.
    text = re.sub(r"(?:[Zz]|([+-]\d\d):?(\d\d))$", _iso_offset, text)
    text = re.sub(
        r"(:\d\d)\.(\d{1,6})\d*", lambda m: f"{m[1]}.{m[2]:0<6}", text, count=1
    )
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    try:
        return parsed.astimezone(timezone.utc)
    except OverflowError:  # "0001-01-01T00:00:00+01:00"
        return None


def _iso_offset(match):
    hours, minutes = match.groups()
    return f"{hours}:{minutes}" if hours else "+00:00"
