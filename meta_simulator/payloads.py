"""Webhook payload builders (docs/meta-facts.md §4.5), pure functions.

Every event builder returns a complete one-event delivery body
``{"object": …, "entry": [one entry]}`` that can be POSTed as is;
:func:`delivery` merges several into one body, like Meta batching up to
1000 updates per POST (§4.4).

Conventions imitated from Meta:

* ``entry.time`` is **seconds** for ``changes`` payloads and
  **milliseconds** for ``messaging``/``standby`` payloads (§4.4 [R]);
* ids are strings, or JSON numbers with ``numeric_ids=True`` (Meta's own
  leadgen sample uses numbers, §4.4);
* organic and test leads carry no ``ad_id``/``adgroup_id`` (§4.5);
* echoes swap sender and recipient and carry ``is_echo``/``app_id``.
"""

import calendar
import copy
import datetime as dt
import time as _time


def _now() -> int:
    return int(_time.time())


def _now_ms() -> int:
    return int(_time.time() * 1000)


def unix_seconds(value) -> int:
    """Seconds from an int/float, a datetime or Meta's ISO ``+0000`` string."""
    if value is None:
        return _now()
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return int(calendar.timegm(value.timetuple()))
        return int(value.timestamp())
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        parsed = dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
        return int(parsed.timestamp())
    return int(value)


def _num(value, numeric: bool):
    """An id as Meta may send it: a string, or a JSON number when numeric."""
    if value is None:
        return None
    if numeric and str(value).isdigit():
        return int(value)
    return str(value)


def _get(obj, name, default=None):
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _changes(obj: str, entry_id, field: str, value: dict, when: int, numeric):
    entry = {"id": _num(entry_id, numeric), "time": int(when)}
    entry["changes"] = [{"field": field, "value": value}]
    return {"object": obj, "entry": [entry]}


def _messaging(obj: str, entry_id, event: dict, when_ms: int, key="messaging"):
    entry = {"id": str(entry_id), "time": int(when_ms), key: [event]}
    return {"object": obj, "entry": [entry]}


def delivery(object: str, entries) -> dict:  # noqa: A002 - Meta's key name
    """One POST body for ``object`` holding ``entries``.

    ``entries`` may mix entry dicts and whole payloads from the builders
    (their entries are taken over).
    """
    flat = []
    for item in entries:
        if isinstance(item, dict) and "entry" in item and "object" in item:
            flat.extend(copy.deepcopy(item["entry"]))
        else:
            flat.append(copy.deepcopy(item))
    return {"object": object, "entry": flat}


# --- Page: leadgen and feed --------------------------------------------------


def leadgen_change(lead, page_id=None, *, time=None, numeric_ids=False) -> dict:
    """The ``leadgen`` change for a lead (dict from ``add_lead`` or a record).

    Carries ids only; the receiver fetches the lead afterwards (§4.5).
    """
    page_id = page_id if page_id is not None else _get(lead, "page_id")
    created = unix_seconds(_get(lead, "created_time"))
    ad_id = _get(lead, "ad_id")
    value = {}
    if ad_id and not _get(lead, "is_organic", False):
        value["ad_id"] = _num(ad_id, numeric_ids)
    value["form_id"] = _num(_get(lead, "form_id"), numeric_ids)
    value["leadgen_id"] = _num(_get(lead, "id"), numeric_ids)
    value["created_time"] = created
    value["page_id"] = _num(page_id, numeric_ids)
    if "ad_id" in value:
        # Meta repeats the ad id as adgroup_id (legacy name of an ad).
        value["adgroup_id"] = value["ad_id"]
    return _changes("page", page_id, "leadgen", value, time or created, numeric_ids)


def feed_comment(
    page_id,
    verb: str = "add",
    comment_id=None,
    post_id=None,
    parent_id=None,
    from_id=None,
    from_name=None,
    message=None,
    created_time=None,
    *,
    item: str = "comment",
    numeric_ids: bool = False,
) -> dict:
    """A Page ``feed`` change about a comment (verbs add/edited/remove/hide)."""
    created = unix_seconds(created_time)
    post_id = post_id or f"{page_id}_100000000000001"
    comment_id = comment_id or f"{post_id.split('_')[-1]}_{created}"
    value = {
        "from": {
            "id": str(from_id or "1000000000000001"),
            "name": from_name or "Ayşe Yılmaz",
        },
    }
    if verb in ("add", "edited"):
        permalink = post_id.replace("_", "/posts/")
        value["post"] = {
            "id": post_id,
            "status_type": "added_photos",
            "is_published": True,
            "type": "photo",
            "promotion_status": "inactive",
            "permalink_url": f"https://www.facebook.com/{permalink}",
        }
        value["message"] = message if message is not None else "Fiyat nedir?"
    value.update(
        {
            "post_id": post_id,
            "comment_id": comment_id,
            "created_time": created,
            "item": item,
            # Top-level comments point at the post, replies at the comment.
            "parent_id": parent_id or post_id,
            "verb": verb,
        }
    )
    return _changes("page", page_id, "feed", value, created, numeric_ids)


# --- Messenger (entry.messaging[], ms timestamps) ----------------------------


def messenger_message(
    page_id,
    psid,
    mid,
    text=None,
    attachments=None,
    timestamp_ms=None,
    *,
    object: str = "page",  # noqa: A002
    reply_to=None,
    quick_reply=None,
) -> dict:
    """An inbound message from a person (PSID, or IGSID with object=instagram)."""
    when = timestamp_ms or _now_ms()
    message = {"mid": mid}
    if text is not None:
        message["text"] = text
    if attachments:
        message["attachments"] = attachments
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    if reply_to:
        message["reply_to"] = reply_to
    event = {
        "sender": {"id": str(psid)},
        "recipient": {"id": str(page_id)},
        "timestamp": when,
        "message": message,
    }
    return _messaging(object, page_id, event, when)


def messenger_echo(
    page_id,
    psid,
    mid,
    text=None,
    app_id=None,
    metadata=None,
    timestamp_ms=None,
    attachments=None,
    *,
    object: str = "page",  # noqa: A002
) -> dict:
    """A message *sent by the Page*: sender/recipient swapped, ``is_echo``.

    ``app_id`` (a JSON number, as Meta sends it) tells which app sent it;
    ``metadata`` echoes what the Send API call passed (§4.5).
    """
    when = timestamp_ms or _now_ms()
    message = {"mid": mid, "is_echo": True}
    if app_id is not None:
        message["app_id"] = int(app_id)
    if metadata is not None:
        message["metadata"] = metadata
    if text is not None:
        message["text"] = text
    if attachments:
        message["attachments"] = attachments
    event = {
        "sender": {"id": str(page_id)},
        "recipient": {"id": str(psid)},
        "timestamp": when,
        "message": message,
    }
    return _messaging(object, page_id, event, when)


def _person_event(page_id, psid, when, key, body, obj):
    event = {
        "sender": {"id": str(psid)},
        "recipient": {"id": str(page_id)},
        "timestamp": when,
        key: body,
    }
    return _messaging(obj, page_id, event, when)


def messaging_event(
    object,  # noqa: A002 - Meta's key name
    account_id,
    sender_id,
    recipient_id,
    key: str,
    body: dict,
    timestamp_ms=None,
) -> dict:
    """Any ``messaging[]`` event ``{"sender", "recipient", "timestamp", key:
    body}`` of the Page or Instagram account ``account_id`` (§4.5)."""
    when = timestamp_ms or _now_ms()
    event = {
        "sender": {"id": str(sender_id)},
        "recipient": {"id": str(recipient_id)},
        "timestamp": when,
        key: copy.deepcopy(body),
    }
    return _messaging(object, account_id, event, when)


def messaging_referral(
    page_id,
    psid,
    ad_id,
    *,
    ref=None,
    timestamp_ms=None,
    object: str = "page",  # noqa: A002
) -> dict:
    """A person back from a click-to-message ad: Page field
    ``messaging_referrals``, Instagram ``messaging_referral`` (§13)."""
    when = timestamp_ms or _now_ms()
    body = {"source": "ADS", "type": "OPEN_THREAD", "ad_id": str(ad_id)}
    if ref:
        body = {"ref": ref, **body}
    return _person_event(page_id, psid, when, "referral", body, object)


def messenger_read(page_id, psid, watermark, timestamp_ms=None) -> dict:
    """Messenger read receipt: a watermark (everything before it was read)."""
    when = timestamp_ms or _now_ms()
    return _person_event(page_id, psid, when, "read", {"watermark": watermark}, "page")


def messenger_delivery(page_id, psid, mids, watermark, timestamp_ms=None) -> dict:
    when = timestamp_ms or _now_ms()
    body = {"mids": list(mids), "watermark": watermark}
    return _person_event(page_id, psid, when, "delivery", body, "page")


def messenger_postback(
    page_id,
    psid,
    title,
    payload,
    mid=None,
    timestamp_ms=None,
    *,
    object: str = "page",  # noqa: A002
    referral=None,
) -> dict:
    """A button tapped; ``referral`` (``{"source": "ADS", "type":
    "OPEN_THREAD", "ad_id"}``) when it came from an ad."""
    when = timestamp_ms or _now_ms()
    body = {"title": title, "payload": payload}
    if mid:
        body = {"mid": mid, **body}
    if referral:
        body["referral"] = dict(referral)
    return _person_event(page_id, psid, when, "postback", body, object)


def messenger_reaction(
    page_id,
    psid,
    mid,
    reaction="love",
    emoji="❤",
    action="react",
    timestamp_ms=None,
    *,
    object: str = "page",  # noqa: A002
) -> dict:
    when = timestamp_ms or _now_ms()
    body = {"mid": mid, "action": action}
    if action == "react":
        body.update({"reaction": reaction, "emoji": emoji})
    return _person_event(page_id, psid, when, "reaction", body, object)


def standby(payload: dict) -> dict:
    """The same events as seen while another app owns the thread (§4.5)."""
    result = copy.deepcopy(payload)
    for entry in result["entry"]:
        if "messaging" in entry:
            entry["standby"] = entry.pop("messaging")
    return result


# --- Instagram ---------------------------------------------------------------


def instagram_comment(
    ig_id,
    comment_id,
    text,
    from_id,
    username,
    media_id,
    use_comment_id_key=False,
    *,
    parent_id=None,
    media_product_type="FEED",
    ad_id=None,
    ad_title=None,
    original_media_id=None,
    time=None,
    numeric_ids=False,
) -> dict:
    """An IG ``comments`` change; the comment id is ``id`` (docs) or
    ``comment_id`` (one Facebook-Login example) — receivers accept both."""
    media = {"id": str(media_id), "media_product_type": media_product_type}
    if ad_id:
        # Comments on ads carry the ad and the organic post it came from.
        media.update(
            {
                "ad_id": str(ad_id),
                "ad_title": ad_title or "",
                "original_media_id": str(original_media_id or media_id),
            }
        )
    value = {"from": {"id": str(from_id), "username": username}, "media": media}
    value["comment_id" if use_comment_id_key else "id"] = str(comment_id)
    if parent_id:
        value["parent_id"] = str(parent_id)
    value["text"] = text
    return _changes("instagram", ig_id, "comments", value, time or _now(), numeric_ids)


def instagram_mention(ig_id, media_id, comment_id=None, *, time=None) -> dict:
    """An IG ``mentions`` change: caption mention, or in a comment (§4.5)."""
    value = {"media_id": str(media_id)}
    if comment_id is not None:
        value = {"comment_id": str(comment_id), **value}
    return _changes("instagram", ig_id, "mentions", value, time or _now(), False)


def instagram_message(
    ig_id,
    igsid,
    mid,
    text=None,
    is_deleted=False,
    story_reply=False,
    *,
    attachments=None,
    timestamp_ms=None,
    story_url="https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1",
    story_id="17900000000000099",
) -> dict:
    """An IG DM (``object: instagram``, sender is an IGSID).

    A deletion keeps the ``mid`` and says ``is_deleted``; a story reply
    carries ``reply_to.story`` (§4.5).
    """
    when = timestamp_ms or _now_ms()
    if is_deleted:
        message = {"mid": mid, "is_deleted": True}
    else:
        message = {"mid": mid}
        if text is not None:
            message["text"] = text
        if attachments:
            message["attachments"] = attachments
        if story_reply:
            message["reply_to"] = {"story": {"url": story_url, "id": story_id}}
    event = {
        "sender": {"id": str(igsid)},
        "recipient": {"id": str(ig_id)},
        "timestamp": when,
        "message": message,
    }
    return _messaging("instagram", ig_id, event, when)


def instagram_read(ig_id, igsid, mid, timestamp_ms=None) -> dict:
    """IG read receipts name the message (``read.mid``), not a watermark."""
    when = timestamp_ms or _now_ms()
    return _person_event(ig_id, igsid, when, "read", {"mid": mid}, "instagram")
