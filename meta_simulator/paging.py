"""Cursor paging as Meta does it (docs/meta-facts.md §9.4, §11 item 4).

Cursors are opaque base64 strings encoding a *position key*, not an
offset, so new rows arriving between calls neither repeat nor skip items.
``paging.next`` is omitted on the last page; with ``faults.short_pages`` a
page may be shorter than ``limit`` (even empty) and still carry ``next``.
"""

import base64
import binascii
import bisect
import json

from . import errors

DEFAULT_LIMIT = 25
#: Meta caps ``limit`` on most edges; we cap silently at 100 (documented
#: deviation: some real edges accept more, none is guaranteed to).
MAX_LIMIT = 100


def encode_cursor(key) -> str:
    raw = json.dumps({"k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str):
    """The position key inside a cursor; ``None`` means "before the start"."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        key = json.loads(raw)["k"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise errors.invalid_param("The after/before cursor is invalid") from exc
    return tuple(key) if isinstance(key, list) else key


def parse_limit(value, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    if value in (None, ""):
        return default
    try:
        limit = int(value)
    except (TypeError, ValueError) as exc:
        raise errors.invalid_param("Param limit must be a number") from exc
    if limit <= 0:
        return default
    return min(limit, maximum)


def paginate(call, keys, items, render, *, accept=None, max_limit=MAX_LIMIT):
    """One page of ``items`` (sorted by ``keys``, ascending and unique).

    ``render(item)`` builds the JSON of one row, ``accept(item)`` filters
    (time filters, expiry).  Returns Meta's ``{"data", "paging"}`` shape.
    """
    accept = accept or (lambda _item: True)
    limit = parse_limit(call.param("limit"), maximum=max_limit)
    before = call.param("before")
    if before:
        picked, has_next, has_prev = _page_before(
            keys, items, accept, limit, decode_cursor(before)
        )
        start_cursor = None
    else:
        after = call.param("after")
        start_key = decode_cursor(after) if after else None
        picked, has_next, has_prev = _page_after(keys, items, accept, limit, start_key)
        take = call.sim.faults.short_page_length(len(picked))
        if take is not None:
            # §9.4: short or even empty pages may still carry `next`.
            has_next = has_next or take < len(picked)
            picked = picked[:take]
        start_cursor = after or encode_cursor(None)
    body = {"data": [render(items[i]) for i in picked]}
    if not picked and not has_next and not has_prev:
        return body
    if picked:
        cursors = {
            "before": encode_cursor(keys[picked[0]]),
            "after": encode_cursor(keys[picked[-1]]),
        }
    else:
        cursors = {"before": start_cursor, "after": start_cursor}
    paging = {"cursors": cursors}
    if has_next:
        paging["next"] = call.url_with(after=cursors["after"], before=None)
    if has_prev:
        paging["previous"] = call.url_with(before=cursors["before"], after=None)
    body["paging"] = paging
    return body


def _page_after(keys, items, accept, limit, start_key):
    start = 0 if start_key is None else bisect.bisect_right(keys, start_key)
    picked, index = [], start
    while index < len(items) and len(picked) <= limit:
        if accept(items[index]):
            picked.append(index)
        index += 1
    has_next = len(picked) > limit
    return picked[:limit], has_next, start > 0


def _page_before(keys, items, accept, limit, end_key):
    end = 0 if end_key is None else bisect.bisect_left(keys, end_key)
    picked, index = [], end - 1
    while index >= 0 and len(picked) <= limit:
        if accept(items[index]):
            picked.append(index)
        index -= 1
    has_prev = len(picked) > limit
    picked = picked[:limit]
    picked.reverse()
    return picked, end < len(items), has_prev
