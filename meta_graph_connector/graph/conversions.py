"""Conversions API for CRM, "Conversion Leads" (docs/meta-facts.md §8).

A lead that came from Meta Lead Ads tells Meta how far it went in the CRM:
one event per stage it reached, named after the stage, with the Meta lead
id. Meta optimises the ads that found it on the leads that convert.

One bad event makes Meta discard every event of its request, so each event
is checked here before it is sent (:func:`problems`), requests stay small,
and a refused request says which event was wrong (:func:`refused_index`).

https://developers.facebook.com/documentation/ads-commerce/conversions-api/conversion-leads-integration/payload-specification
"""

import json
import re
from dataclasses import dataclass, field

from . import audience
from .errors import GraphError, RateLimitError, UnknownGraphError
from .ids import node_id

#: Meta's cap on the events of one ``/events`` request.
MAX_EVENTS_PER_REQUEST = 1000
#: Ours: one bad event discards its whole request, keep the harm small.
EVENTS_PER_REQUEST = 100
#: Meta discards an event older than this (subcode 2804003).
MAX_AGE_SECONDS = 7 * 24 * 3600
#: A clock a little ahead is tolerated; beyond, the event is refused.
MAX_AHEAD_SECONDS = 60
ACTION_SOURCE = "system_generated"
EVENT_SOURCE = "crm"
#: ``custom_data.lead_event_source``: the name of the CRM.
LEAD_EVENT_SOURCE = "Odoo"
#: user_data keys sent hashed (lowercase, unlike customer files).
HASHED_KEYS = ("em", "ph", "fn", "ln", "ct", "st", "zp", "country", "db", "ge")

_LEAD_ID_RE = re.compile(r"^\d{15,17}$")
_INDEX_RE = re.compile(r"\$\['data'\]\[(\d+)\]")


def event_key(leadgen_id, event_name):
    """The ``event_id`` of a lead's stage: the same lead reaching the same
    stage again is the same event, and Meta keeps it once."""
    name = " ".join(str(event_name).split()).casefold()
    return f"{leadgen_id}-{audience.sha256_hex(name)[:16]}"


def lead_event(
    *,
    leadgen_id,
    event_name,
    event_time,
    email=None,
    phone=None,
    country=None,
    lead_event_source=LEAD_EVENT_SOURCE,
):
    """One Conversion Leads event (a dict ready for ``data``).

    ``event_time`` is Unix seconds; ``email``/``phone`` are raw values,
    normalised and hashed here as Meta matches them (``country``, an ISO
    code, reads national phone numbers)."""
    user_data = {"lead_id": _lead_id_value(leadgen_id)}
    for key, schema_key, value in (("em", "EMAIL", email), ("ph", "PHONE", phone)):
        hashed = audience.hash_value(
            schema_key, audience.normalize(schema_key, value or "", country=country)
        )
        if hashed:
            user_data[key] = [hashed]
    return {
        "event_name": " ".join(str(event_name or "").split()),
        "event_time": int(event_time),
        "action_source": ACTION_SOURCE,
        "event_id": event_key(leadgen_id, event_name),
        "user_data": user_data,
        "custom_data": {
            "event_source": EVENT_SOURCE,
            "lead_event_source": lead_event_source,
        },
    }


def _lead_id_value(leadgen_id):
    text = str(leadgen_id or "").strip()
    return int(text) if text.isdigit() else text


def problems(event, now):
    """What would make Meta refuse ``event`` at ``now`` (Unix seconds), as
    words: ``event_name_missing``, ``event_time_invalid``,
    ``event_time_too_old``, ``event_time_ahead``, ``action_source_invalid``,
    ``event_source_invalid``, ``lead_event_source_missing``,
    ``lead_id_invalid``, ``no_identifier``, ``not_hashed``. Empty: send it."""
    found = []
    if not isinstance(event, dict):
        return ["event_name_missing"]
    if not str(event.get("event_name") or "").strip():
        found.append("event_name_missing")
    event_time = event.get("event_time")
    if isinstance(event_time, bool) or not isinstance(event_time, int):
        found.append("event_time_invalid")
    elif event_time > 10**11:
        found.append("event_time_invalid")  # milliseconds, not seconds
    elif event_time < now - MAX_AGE_SECONDS:
        found.append("event_time_too_old")
    elif event_time > now + MAX_AHEAD_SECONDS:
        found.append("event_time_ahead")
    if event.get("action_source") != ACTION_SOURCE:
        found.append("action_source_invalid")
    custom = event.get("custom_data") or {}
    if custom.get("event_source") != EVENT_SOURCE:
        found.append("event_source_invalid")
    if not str(custom.get("lead_event_source") or "").strip():
        found.append("lead_event_source_missing")
    user_data = event.get("user_data") or {}
    lead_id = user_data.get("lead_id")
    if lead_id is not None and (
        isinstance(lead_id, bool) or not _LEAD_ID_RE.match(str(lead_id))
    ):
        found.append("lead_id_invalid")
    identifiers = [k for k in ("lead_id", *HASHED_KEYS) if user_data.get(k)]
    if not identifiers:
        found.append("no_identifier")
    for key in HASHED_KEYS:
        values = user_data.get(key)
        if values is None:
            continue
        values = values if isinstance(values, list) else [values]
        if not all(isinstance(v, str) and audience.is_sha256(v) for v in values):
            found.append("not_hashed")
            break
    return found


@dataclass(frozen=True)
class EventsResult:
    received: int = 0
    messages: list = field(default_factory=list, compare=False)
    fbtrace_id: str = ""


def send_events(client, dataset_id, events, test_event_code=None):
    """``POST /{dataset}/events``: Meta's count of the events received.

    Safe to repeat: Meta keeps an ``(event_name, event_id)`` once."""
    events = list(events)
    if not events:
        return EventsResult()
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise ValueError(f"At most {MAX_EVENTS_PER_REQUEST} events per request")
    data = {"data": json.dumps(events, separators=(",", ":"))}
    if test_event_code:
        data["test_event_code"] = str(test_event_code)
    answer = client.post(
        f"{node_id(dataset_id, 'dataset id')}/events", data=data, idempotent=True
    )
    if not isinstance(answer, dict) or "events_received" not in answer:
        raise UnknownGraphError("Meta answered events without a count")
    try:
        received = int(answer.get("events_received") or 0)
    except (TypeError, ValueError):
        received = 0
    messages = answer.get("messages")
    return EventsResult(
        received=received,
        messages=messages if isinstance(messages, list) else [],
        fbtrace_id=str(answer.get("fbtrace_id") or ""),
    )


def refused_index(error):
    """The index of the event Meta named when it refused a request
    (``$['data'][3]…`` in its message), else None."""
    if not isinstance(error, GraphError):
        return None
    for text in (error.user_message, error.message):
        match = _INDEX_RE.search(text or "")
        if match:
            return int(match.group(1))
    return None


def explain(error):
    """A word for what went wrong with an ``/events`` call:
    ``event_too_old`` (older than 7 days: Meta will never take it),
    ``invalid_event`` (Meta refused an event's content), ``rate_limited``,
    else ``other``."""
    if isinstance(error, RateLimitError):
        return "rate_limited"
    if not isinstance(error, GraphError):
        return "other"
    if error.code == 100 and error.subcode == 2804003:
        return "event_too_old"
    if error.code == 100 and (
        refused_index(error) is not None or error.subcode == 2804019
    ):
        return "invalid_event"
    return "other"
