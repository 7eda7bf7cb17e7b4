"""Conversions API events of a dataset: Meta's checks, one event at a time
(docs/meta-facts.md §8).

One invalid event makes Meta refuse the whole request: :func:`check_event`
raises the error naming the event (``$['data'][i]``) and the caller keeps
nothing of the request.
"""

import re

from . import errors

#: Events one ``/events`` request may carry.
MAX_EVENTS = 1000
#: Meta discards an event older than 7 days (subcode 2804003).
MAX_AGE = 7 * 24 * 3600
#: Meta refuses an event time in the future [U: the tolerance is not
#: documented; a minute of clock skew is accepted here].
MAX_AHEAD = 60
#: Meta deduplicates an (event_name, event_id) seen within 48 hours.
DEDUP_WINDOW = 48 * 3600
ACTION_SOURCES = (
    "email",
    "website",
    "app",
    "phone_call",
    "chat",
    "physical_store",
    "system_generated",
    "business_messaging",
    "other",
)
HASHED_KEYS = ("em", "ph", "fn", "ln", "ct", "st", "zp", "country", "db", "ge")
IDENTIFIER_KEYS = (*HASHED_KEYS, "lead_id", "external_id", "fbc", "fbp")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_LEAD_ID = re.compile(r"^\d{15,17}$")

#: A required parameter is missing (seen in Meta's answers).
SUBCODE_REQUIRED = 2804019
#: "Event Timestamp Too Old" (seen in Meta's answers).
SUBCODE_TOO_OLD = 2804003
#: [U] the subcodes below are not documented; they stand for "invalid value".
SUBCODE_IN_FUTURE = 2804004
SUBCODE_INVALID = 2804050


def param_error(text: str, subcode: int) -> errors.GraphError:
    """Meta's "Server-side API parameter error" shape."""
    return errors.GraphError(
        100,
        "Invalid parameter",
        subcode=subcode,
        user_title="Server-side API parameter error",
        user_msg=text,
    )


def _path(index: int, *keys: str) -> str:
    return f"$['data'][{index}]" + "".join(f"['{k}']" for k in keys)


def required(index: int, *keys: str) -> errors.GraphError:
    return param_error(
        f"The parameter {_path(index, *keys)} is required.", SUBCODE_REQUIRED
    )


def invalid(index: int, text: str, *keys: str) -> errors.GraphError:
    return param_error(f"The parameter {_path(index, *keys)} {text}", SUBCODE_INVALID)


def check_event(index: int, event, now: float) -> None:
    """Raise Meta's error for the first thing wrong with ``event``."""
    if not isinstance(event, dict):
        raise invalid(index, "must be an object.")
    name = event.get("event_name")
    if not isinstance(name, str) or not name.strip():
        raise required(index, "event_name")
    event_time = event.get("event_time")
    if event_time is None:
        raise required(index, "event_time")
    if isinstance(event_time, bool) or not isinstance(event_time, int):
        if not (isinstance(event_time, str) and event_time.isdigit()):
            raise invalid(index, "must be a Unix timestamp in seconds.", "event_time")
        event_time = int(event_time)
    if event_time > 10**11:
        raise invalid(
            index, "must be a Unix timestamp in seconds, not ms.", "event_time"
        )
    if event_time < now - MAX_AGE:
        raise param_error(
            f"Event Timestamp Too Old: the timestamp for {_path(index)} is more "
            "than 7 days in the past; event_time must be within the last 7 days.",
            SUBCODE_TOO_OLD,
        )
    if event_time > now + MAX_AHEAD:
        raise param_error(
            f"Event Timestamp In Future: the timestamp for {_path(index)} is in "
            "the future.",
            SUBCODE_IN_FUTURE,
        )
    source = event.get("action_source")
    if source is None:
        raise required(index, "action_source")
    if source not in ACTION_SOURCES:
        raise invalid(
            index, f"must be one of {', '.join(ACTION_SOURCES)}.", "action_source"
        )
    user_data = event.get("user_data")
    if not isinstance(user_data, dict):
        raise required(index, "user_data")
    _check_user_data(index, user_data)
    custom = event.get("custom_data")
    if custom is not None and not isinstance(custom, dict):
        raise invalid(index, "must be an object.", "custom_data")
    if (custom or {}).get("event_source") == "crm":
        lead_source = custom.get("lead_event_source")
        if not isinstance(lead_source, str) or not lead_source.strip():
            raise required(index, "custom_data", "lead_event_source")


def _check_user_data(index: int, user_data: dict) -> None:
    if not any(user_data.get(key) for key in IDENTIFIER_KEYS):
        raise param_error(
            f"The parameter {_path(index, 'user_data')} must contain at least "
            "one customer information parameter.",
            SUBCODE_REQUIRED,
        )
    lead_id = user_data.get("lead_id")
    if lead_id is not None and (
        isinstance(lead_id, bool) or not _LEAD_ID.match(str(lead_id))
    ):
        raise invalid(index, "must be a valid lead ID.", "user_data", "lead_id")
    for key in HASHED_KEYS:
        values = user_data.get(key)
        if values is None:
            continue
        values = values if isinstance(values, list) else [values]
        for value in values:
            if not isinstance(value, str) or not _SHA256.match(value):
                raise invalid(index, "must be hashed with SHA-256.", "user_data", key)


def receive(dataset, events, now: float, test_event_code=None) -> int:
    """Keep the accepted events of a request (all of them were checked):
    an ``(event_name, event_id)`` seen within 48 hours is kept once."""
    kept = dataset.test_events if test_event_code else dataset.events
    for event in events:
        event_id = event.get("event_id")
        if event_id is not None and not test_event_code:
            key = (event["event_name"], str(event_id))
            first = dataset.seen.get(key)
            if first is not None and now - first < DEDUP_WINDOW:
                continue
            dataset.seen[key] = now
        kept.append(event)
    dataset.last_fired_time = int(now)
    return len(events)
