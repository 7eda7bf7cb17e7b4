"""Messenger and Instagram Direct: Meta's messaging window, the Send API's
payload, and what an inbound message carries (docs/meta-facts.md §6).

The window, per conversation, from the customer's last *inbound* message
(an echo never reopens it):

* under 24 hours: a ``RESPONSE``;
* a conversation opened by a click-to-message ad: a ``RESPONSE`` for 7 days
  from that first message;
* from 24 hours to 7 days: only a human agent, with the ``HUMAN_AGENT`` tag,
  when the app was granted that feature; never a bot or an automated message;
* after that: nothing is sent, and the reason is said.

The other message tags were removed (error 100 since 2026-04-27): none is
ever sent. Boundaries are exclusive: at exactly 24 hours the standard window
is closed **[U]** (Meta says "within 24 hours").
"""

from dataclasses import dataclass
from datetime import timedelta

from . import fetch, ids
from .errors import UnknownGraphError
from .ids import as_id, node_id
from .social import read_page
from .times import parse_time

MESSENGER = "messenger"
INSTAGRAM = "instagram"
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
AD_WINDOW = timedelta(days=7)
HUMAN_AGENT = "HUMAN_AGENT"

#: Text limits: Messenger 2000 characters, Instagram 1000 bytes (§6.2).
MESSENGER_MAX_CHARS = 2000
INSTAGRAM_MAX_BYTES = 1000
MB = 1024 * 1024
#: Largest attachment per kind (§13): Messenger 25 MB (8 MB for an image
#: sent by URL); Instagram images 8 MB, audio and video 25 MB, no files.
ATTACHMENT_LIMITS = {
    MESSENGER: {"image": 8 * MB, "video": 25 * MB, "audio": 25 * MB, "file": 25 * MB},
    INSTAGRAM: {"image": 8 * MB, "video": 25 * MB, "audio": 25 * MB},
}
#: Kinds Instagram takes by MIME type (§13: png/jpeg; aac/m4a/wav/mp4 audio;
#: mp4/ogg/avi/mov/webm video).
INSTAGRAM_MIME = {
    "image": ("image/png", "image/jpeg"),
    "audio": ("audio/aac", "audio/mp4", "audio/x-m4a", "audio/m4a", "audio/wav",
              "audio/x-wav", "audio/vnd.wave"),
    "video": ("video/mp4", "video/ogg", "video/x-msvideo", "video/avi",
              "video/quicktime", "video/webm"),
}  # fmt: skip


@dataclass(frozen=True)
class SendRule:
    """How (or why not) a message can be sent now: ``messaging_type`` and
    ``tag`` to send with, or ``refusal`` (``no_inbound``, ``window_closed``,
    ``bot_outside_window``, ``human_agent_not_granted``) and ``closes_at``."""

    messaging_type: str | None = None
    tag: str | None = None
    refusal: str | None = None
    closes_at: object = None

    @property
    def allowed(self):
        return self.refusal is None


def send_rule(
    now, last_inbound_at, *, ad_opened_at=None, human=True, human_agent_allowed=False
):
    """The :class:`SendRule` of a conversation at ``now`` (aware datetimes).

    :param last_inbound_at: the customer's last message, reaction or
        postback (never an echo).
    :param ad_opened_at: the first message after a click-to-message ad,
        when the conversation began that way.
    :param human: an agent typing, not a bot or an automated message.
    :param human_agent_allowed: the app has the reviewed Human Agent feature.
    """
    if last_inbound_at is None:
        return SendRule(refusal="no_inbound")
    standard_end = last_inbound_at + STANDARD_WINDOW
    if ad_opened_at is not None:
        standard_end = max(standard_end, ad_opened_at + AD_WINDOW)
    if now < standard_end:
        return SendRule(messaging_type="RESPONSE", closes_at=standard_end)
    human_end = last_inbound_at + HUMAN_AGENT_WINDOW
    if now < human_end:
        if not human:
            return SendRule(refusal="bot_outside_window", closes_at=human_end)
        if not human_agent_allowed:
            return SendRule(refusal="human_agent_not_granted", closes_at=human_end)
        return SendRule(
            messaging_type="MESSAGE_TAG", tag=HUMAN_AGENT, closes_at=human_end
        )
    return SendRule(refusal="window_closed", closes_at=human_end)


def check_text(channel, text):
    """The text to send, trimmed; ValueError ``empty`` or ``too_long``."""
    text = (text or "").strip()
    if not text:
        raise ValueError("empty")
    if channel == INSTAGRAM:
        if len(text.encode("utf-8")) > INSTAGRAM_MAX_BYTES:
            raise ValueError("too_long")
    elif len(text) > MESSENGER_MAX_CHARS:
        raise ValueError("too_long")
    return text


def attachment_kind(mimetype):
    """``image``, ``video``, ``audio`` or ``file`` for a MIME type."""
    major = (mimetype or "").split("/", 1)[0].lower()
    return major if major in ("image", "video", "audio") else "file"


def check_attachment(channel, mimetype, size):
    """The kind an attachment is sent as, or ValueError ``type_refused`` /
    ``too_large`` (Meta's limits, §13)."""
    kind = attachment_kind(mimetype)
    limits = ATTACHMENT_LIMITS[channel]
    if kind not in limits:
        raise ValueError("type_refused")
    if channel == INSTAGRAM and (mimetype or "").lower() not in INSTAGRAM_MIME[kind]:
        raise ValueError("type_refused")
    if size > limits[kind]:
        raise ValueError("too_large")
    return kind


def message_body(recipient_id, rule, *, text=None, attachment=None, metadata=None):
    """The Send API body (§6.2): a text, or an attachment ``(kind, url)``;
    ``metadata`` comes back in the echo, which is how our own sends are
    recognised. Refuses a rule that does not allow sending."""
    if not rule.allowed:
        raise ValueError(rule.refusal)
    if (text is None) == (attachment is None):
        raise ValueError("one of text or attachment")
    if text is not None:
        message = {"text": text}
    else:
        kind, url = attachment
        message = {
            "attachment": {"type": kind, "payload": {"url": url, "is_reusable": True}}
        }
    if metadata:
        message["metadata"] = str(metadata)[:1000]
    body = {
        "recipient": {"id": str(recipient_id)},
        "messaging_type": rule.messaging_type,
        "message": message,
    }
    if rule.tag:
        body["tag"] = rule.tag
    return body


def send_message(client, page_id, body):
    """``POST /{page-id}/messages`` (a JSON body); ``{"message_id",
    "recipient_id"}``. Not idempotent: never sent twice blindly."""
    answer = client.post(f"{node_id(page_id, 'page id')}/messages", json_body=body)
    if not isinstance(answer, dict) or not answer.get("message_id"):
        raise UnknownGraphError("Meta answered a message without its id")
    return {
        "message_id": str(answer["message_id"]),
        "recipient_id": as_id(answer.get("recipient_id")),
    }


def send_in_conversation(
    client,
    page_id,
    recipient_id,
    *,
    messaging_type,
    tag=None,
    metadata=None,
    text=None,
    attachment=None,
):
    """One message of a conversation, as decided when the agent wrote it
    (``messaging_type`` and ``tag`` of its :class:`SendRule`): a text, or an
    attachment ``(kind, url)``. Meta has the last word: a window closed
    meanwhile is its refusal (10/2018278, 10/2534022)."""
    rule = SendRule(messaging_type=messaging_type, tag=tag)
    body = message_body(
        recipient_id,
        rule,
        text=text,
        attachment=tuple(attachment) if attachment else None,
        metadata=metadata,
    )
    return send_message(client, page_id, body)


#: Largest file downloaded from Meta's CDN: Meta's own largest attachment.
MAX_DOWNLOAD_BYTES = 25 * MB


def download(
    url,
    *,
    max_bytes=MAX_DOWNLOAD_BYTES,
    allow_http=False,
    allow=(),
    timeout=fetch.TIMEOUT,
    deadline=fetch.DEADLINE,
):
    """The bytes of an attachment Meta links to (its links expire): (data,
    MIME type, file name).

    Only ``https://`` links (``allow_http``: the sandbox) to addresses on the
    public Internet, redirects included; ``allow``: the (address, port) of
    the sandbox, reachable though it is not public
    (:func:`fetch.sandbox_addresses`). The whole download ends by
    ``deadline`` seconds. ValueError (:class:`fetch.DownloadRefused`) for a
    link not fetched or above ``max_bytes``, OSError when the fetch fails."""
    data, mimetype = fetch.fetch(
        url,
        max_bytes=max_bytes,
        allow_http=allow_http,
        allow=allow,
        timeout=timeout,
        deadline=deadline,
    )
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1][:120]
    return data, mimetype or "application/octet-stream", name


# --------------------------------------------------------------- inbound


@dataclass(frozen=True)
class Part:
    """One piece of an inbound message: ``kind`` is ``image``, ``video``,
    ``audio``, ``file``, ``sticker``, ``story_mention``, ``story_reply``,
    ``share``, ``reel``, ``fallback`` (a link) or ``unknown``; ``url`` where
    Meta gives one (it expires), ``sticker_id`` for stickers, ``title``."""

    kind: str
    url: str = ""
    sticker_id: str = ""
    title: str = ""


_KINDS = {
    "image": "image",
    "video": "video",
    "audio": "audio",
    "file": "file",
    "sticker": "sticker",
    "story_mention": "story_mention",
    "share": "share",
    "ig_reel": "reel",
    "reel": "reel",
    "fallback": "fallback",
    "template": "share",
}


def parts_of(event):
    """The attachments of a message event (and its story reply) as
    :class:`Part`\\ s, in order; an unknown kind is kept as ``unknown``."""
    parts = []
    reply_to = getattr(event, "reply_to", None) or {}
    story = reply_to.get("story") if isinstance(reply_to, dict) else None
    if isinstance(story, dict):
        parts.append(Part("story_reply", url=_link(story.get("url"))))
    for attachment in getattr(event, "attachments", ()) or ():
        payload = attachment.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        kind = _KINDS.get(str(attachment.get("type") or ""), "unknown")
        # since 2026-06-01 a sticker is its own type with sticker_id; before,
        # an image whose payload carried sticker_id (§13)
        if kind == "image" and payload.get("sticker_id"):
            kind = "sticker"
        parts.append(
            Part(
                kind,
                url=_link(payload.get("url")),
                sticker_id=as_id(payload.get("sticker_id")),
                title=str(attachment.get("title") or payload.get("title") or ""),
            )
        )
    return parts


def referral_ad_id(item):
    """The ad a conversation came from (a click-to-message ad): the
    ``referral`` of a message, a postback or a referral event."""
    if not isinstance(item, dict):
        return ""
    for holder in (item, item.get("message"), item.get("postback")):
        if isinstance(holder, dict) and isinstance(holder.get("referral"), dict):
            referral = holder["referral"]
            if referral.get("source") in (None, "ADS", "ads") or referral.get("ad_id"):
                return as_id(referral.get("ad_id"))
    return ""


def _link(value):
    """A web link Meta gave, never another scheme (``javascript:``…); plain
    ``http`` is kept for the sandbox, a download insists on ``https``."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value
    return ""


# --------------------------------------------------------------- history

#: The Conversations API (§6.1): a Page's (or its Instagram account's)
#: conversations, then each one's latest messages (Meta keeps about 20
#: readable). Throttled by Meta to about 2 requests/s per Page or account.
CONVERSATION_FIELDS = "id,updated_time,participants"
HISTORY_MESSAGE_FIELDS = "id,created_time,from,to,message,attachments,sticker"


@dataclass(frozen=True)
class HistoryMessage:
    """A message read back from the Conversations API."""

    mid: str
    created_at: object
    from_id: str
    from_name: str
    text: str
    parts: tuple
    outbound: bool

    @property
    def readable(self):
        """Meta gives only the id of a message beyond its ~20 latest."""
        return self.created_at is not None


def conversations_page(client, page_id, channel, *, after=None, limit=25):
    """One page of the conversations of ``page_id`` on ``channel``
    (``messenger`` or ``instagram``), most recently updated first:
    (nodes, next cursor or None)."""
    params = {"platform": channel, "fields": CONVERSATION_FIELDS, "limit": limit}
    return read_page(
        client, f"{node_id(page_id, 'page id')}/conversations", params, after
    )


def conversation_messages_page(client, conversation_id, *, after=None, limit=20):
    """One page of a conversation's messages, newest first."""
    params = {"fields": HISTORY_MESSAGE_FIELDS, "limit": limit}
    path = f"{ids.conversation_id(conversation_id)}/messages"
    return read_page(client, path, params, after)


def conversation_customer(account_id, node):
    """(scoped id, name or username) of the person in a conversation node:
    the participant who is not the Page or Instagram account."""
    participants = node.get("participants") if isinstance(node, dict) else None
    people = participants.get("data") if isinstance(participants, dict) else None
    for person in people if isinstance(people, list) else ():
        if not isinstance(person, dict):
            continue
        person_id = as_id(person.get("id"))
        if person_id and person_id != str(account_id):
            return person_id, _str(person.get("name") or person.get("username"))
    return "", ""


def history_message(account_id, node):
    """A :class:`HistoryMessage` of a message node; ``outbound`` when the
    Page or account wrote it."""
    if not isinstance(node, dict) or not as_id(node.get("id")):
        raise UnknownGraphError("Meta answered a message without its id")
    sender = node.get("from") if isinstance(node.get("from"), dict) else {}
    from_id = as_id(sender.get("id"))
    parts = []
    attachments = node.get("attachments")
    data = attachments.get("data") if isinstance(attachments, dict) else None
    for item in data if isinstance(data, list) else ():
        if not isinstance(item, dict):
            continue
        kind, url = attachment_kind(item.get("mime_type")), _link(item.get("file_url"))
        for holder, holder_kind in (("image_data", "image"), ("video_data", "video")):
            if isinstance(item.get(holder), dict):
                kind, url = holder_kind, _link(item[holder].get("url")) or url
        parts.append(Part(kind, url=url, title=_str(item.get("name"))))
    if _link(node.get("sticker")):
        parts.append(Part("sticker", url=node["sticker"]))
    return HistoryMessage(
        mid=as_id(node["id"]),
        created_at=parse_time(node.get("created_time")),
        from_id=from_id,
        from_name=_str(sender.get("name") or sender.get("username")),
        text=_str(node.get("message")),
        parts=tuple(parts),
        outbound=bool(from_id) and from_id == str(account_id),
    )


def _str(value):
    return value if isinstance(value, str) else ""
