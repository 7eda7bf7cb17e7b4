"""Meta webhooks: handshake, signature and parsing (docs/meta-facts.md §4).

Three steps, in the order a receiver must apply them:

1. :func:`verify_handshake` answers the subscription GET (§4.2);
2. :func:`verify_signature` checks ``X-Hub-Signature-256`` over the *raw* body
   bytes, before anything is parsed (§4.3);
3. :func:`parse_delivery` turns one delivery into typed events, one per
   ``changes[]``/``messaging[]``/``standby[]`` item, each with a stable
   idempotency key scoped by object and account .

An envelope that is not a Meta delivery raises :class:`MalformedPayloadError`;
a single bad item inside a good envelope becomes a :class:`MalformedEvent` so
it cannot sink its 999 neighbours. That holds for values JSON itself cannot
carry too (``NaN``, ``Infinity``, numbers of thousands of digits, a value
nested too deeply): the body is parsed strictly and only the entry or item
holding one is refused. Events can be rebuilt from their stored
form with :func:`event_from_record`, so a queue can keep the raw item and
parse it again when it processes it.
"""

import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from .errors import MalformedPayloadError, SignatureError
from .ids import as_id, is_node_id
from .times import parse_time

SIGNATURE_HEADER = "X-Hub-Signature-256"
_SIGNATURE_PREFIX = "sha256="


# --------------------------------------------------------------- security


def sign(body, secret):
    """Return the ``X-Hub-Signature-256`` value Meta sends for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return _SIGNATURE_PREFIX + digest


def verify_signature(body, header, secrets):
    """Check a delivery's signature against the current and previous secrets.

    :param bytes body: the raw request body, exactly as received.
    :param str header: the ``X-Hub-Signature-256`` header value (or None).
    :param secrets: app secrets to accept (current first, then the previous
        one during a rotation); empty values are ignored.
    :raises SignatureError: with a reason that never contains a secret.

    Meta sends lowercase hex; a header in another case is not what Meta sends
    and is refused, as is the legacy SHA-1 ``X-Hub-Signature`` alone.
    """
    if not isinstance(body, bytes | bytearray):
        raise SignatureError("the body must be raw bytes")
    secrets = [s for s in secrets if s]
    if not secrets:
        raise SignatureError("no app secret is configured")
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    if not header.startswith(_SIGNATURE_PREFIX):
        raise SignatureError("signature is not sha256=<hex>")
    received = header[len(_SIGNATURE_PREFIX) :]
    if not received.isascii():
        raise SignatureError("signature is not sha256=<hex>")
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), bytes(body), hashlib.sha256).hexdigest()
        # compare every secret (no early exit) so timing says nothing about which
        matched |= hmac.compare_digest(expected.encode(), received.encode())
    if not matched:
        raise SignatureError("signature does not match")


def verify_handshake(params, verify_token):
    """Answer Meta's subscription handshake (§4.2).

    :param params: the query parameters (``hub.mode``, ``hub.verify_token``,
        ``hub.challenge``).
    :return: the challenge to echo as ``text/plain``, or None to refuse (403).
        Only a digits-only challenge is echoed: this is a public route, and
        reflecting arbitrary input would be an XSS vector.
    """
    if not verify_token:
        return None
    mode = params.get("hub.mode")
    token = params.get("hub.verify_token") or ""
    challenge = params.get("hub.challenge") or ""
    if mode != "subscribe":
        return None
    if not hmac.compare_digest(token.encode(), str(verify_token).encode()):
        return None
    if not challenge.isascii() or not challenge.isdigit() or len(challenge) > 64:
        return None
    return challenge


# ------------------------------------------------------------------- events


def _digest(value):
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


@dataclass(frozen=True, kw_only=True)
class WebhookEvent:
    """One update of a delivery.

    ``object`` is ``page`` or ``instagram``; ``account_id`` is the entry id
    (Page id or Instagram account id) that routes the event to a connection;
    ``item`` is the raw ``changes[]``/``messaging[]`` element, kept verbatim.
    """

    kind: ClassVar[str] = "event"

    object: str
    account_id: str
    entry_time: datetime | None = None
    item_type: str = "changes"
    item: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def occurred_at(self):
        return self.entry_time

    @property
    def key(self):
        """Idempotency key, unique per event across redeliveries and batches."""
        return f"{self.kind}:{self.object}:{self.account_id}:{self._key_suffix()}"

    def _key_suffix(self):
        return _digest(self.item)

    def redacted_record(self):
        """What is kept of an update nothing handles: where it came from and
        what it was, not what the person wrote (no personal data)."""
        shape = (
            {"field": self.item.get("field")}
            if self.item_type == "changes"
            else {"keys": sorted(k for k in self.item if isinstance(k, str))}
        )
        return {**self.to_record(), "item": shape, "redacted": True}

    def to_record(self):
        """The JSON-able form to store; :func:`event_from_record` reverses it."""
        return {
            "object": self.object,
            "account_id": self.account_id,
            "entry_time": self.entry_time.timestamp() if self.entry_time else None,
            "item_type": self.item_type,
            "item": self.item,
        }


@dataclass(frozen=True, kw_only=True)
class LeadgenEvent(WebhookEvent):
    """A Lead Ads form submission (§4.5): ids only, the lead is fetched later."""

    kind: ClassVar[str] = "leadgen"

    leadgen_id: str
    page_id: str
    form_id: str = ""
    ad_id: str = ""
    adgroup_id: str = ""
    created_time: datetime | None = None

    @property
    def occurred_at(self):
        return self.created_time or self.entry_time

    def _key_suffix(self):
        return self.leadgen_id


@dataclass(frozen=True, kw_only=True)
class PageCommentEvent(WebhookEvent):
    """A comment on a Page post was added, edited, removed, hidden or unhidden."""

    kind: ClassVar[str] = "page_comment"

    verb: str
    comment_id: str
    post_id: str = ""
    parent_id: str = ""
    from_id: str = ""
    from_name: str = ""
    message: str = ""
    created_time: datetime | None = None

    @property
    def occurred_at(self):
        return self.created_time or self.entry_time

    @property
    def is_reply(self):
        return bool(self.parent_id) and self.parent_id != self.post_id

    def _key_suffix(self):
        stamp = int(self.created_time.timestamp()) if self.created_time else ""
        suffix = f"{self.comment_id}:{self.verb}:{stamp}"
        if self.verb == "edited":
            # several edits of one comment are distinct events
            suffix += f":{_digest(self.message)}"
        return suffix


@dataclass(frozen=True, kw_only=True)
class MessagingEvent(WebhookEvent):
    """Base of Messenger / Instagram Direct events (``messaging[]``)."""

    action: ClassVar[str] = "event"

    sender_id: str
    recipient_id: str
    timestamp: datetime | None = None
    standby: bool = False

    @property
    def channel(self):
        return "instagram" if self.object == "instagram" else "messenger"

    @property
    def kind(self):
        """``messenger_message``, ``instagram_echo``…: the channel and the action."""
        return f"{self.channel}_{self.action}"

    @property
    def occurred_at(self):
        return self.timestamp or self.entry_time

    @property
    def key(self):
        return f"{self.kind}:{self.account_id}:{self._key_suffix()}"

    @property
    def customer_id(self):
        """PSID/IGSID of the person, whichever direction the event goes."""
        return (
            self.recipient_id if self.sender_id == self.account_id else self.sender_id
        )


@dataclass(frozen=True, kw_only=True)
class MessageEvent(MessagingEvent):
    """An inbound message (or, with ``is_deleted``, its deletion)."""

    action: ClassVar[str] = "message"

    mid: str
    text: str = ""
    attachments: tuple = ()
    is_deleted: bool = False
    reply_to: dict | None = field(default=None, compare=False)
    quick_reply_payload: str = ""

    def _key_suffix(self):
        return f"{self.mid}:deleted" if self.is_deleted else self.mid


@dataclass(frozen=True, kw_only=True)
class MessageEchoEvent(MessageEvent):
    """A message the Page sent (from Odoo, the Page inbox or another tool)."""

    action: ClassVar[str] = "echo"

    app_id: str = ""
    metadata: str = ""


@dataclass(frozen=True, kw_only=True)
class PostbackEvent(MessagingEvent):
    action: ClassVar[str] = "postback"

    mid: str = ""
    title: str = ""
    payload: str = ""

    def _key_suffix(self):
        if self.mid:
            return self.mid
        stamp = int(self.timestamp.timestamp() * 1000) if self.timestamp else ""
        return f"{self.sender_id}:{stamp}:{_digest(self.payload)}"


@dataclass(frozen=True, kw_only=True)
class ReadEvent(MessagingEvent):
    """Read receipt: a watermark (Messenger) or a message id (Instagram)."""

    action: ClassVar[str] = "read"

    watermark: datetime | None = None
    mid: str = ""

    def _key_suffix(self):
        mark = int(self.watermark.timestamp() * 1000) if self.watermark else self.mid
        return f"{self.sender_id}:{mark}"


@dataclass(frozen=True, kw_only=True)
class DeliveryEvent(MessagingEvent):
    action: ClassVar[str] = "delivery"

    watermark: datetime | None = None
    mids: tuple = ()

    def _key_suffix(self):
        mark = int(self.watermark.timestamp() * 1000) if self.watermark else ""
        return f"{self.sender_id}:{mark}:{_digest(list(self.mids))}"


@dataclass(frozen=True, kw_only=True)
class ReactionEvent(MessagingEvent):
    action: ClassVar[str] = "reaction"

    mid: str = ""
    reaction: str = ""
    emoji: str = ""
    reaction_action: str = ""

    def _key_suffix(self):
        stamp = int(self.timestamp.timestamp() * 1000) if self.timestamp else ""
        return f"{self.mid}:{self.sender_id}:{self.reaction_action}:{stamp}"


@dataclass(frozen=True, kw_only=True)
class ReferralEvent(MessagingEvent):
    """A person already in a conversation came back through an ad, a link or
    a QR code (``messaging_referrals``): ``ad_id`` when an ad brought them."""

    action: ClassVar[str] = "referral"

    ad_id: str = ""
    source: str = ""
    ref: str = ""

    def _key_suffix(self):
        stamp = int(self.timestamp.timestamp() * 1000) if self.timestamp else ""
        return f"{self.sender_id}:{stamp}:{self.ad_id or _digest(self.ref)}"


@dataclass(frozen=True, kw_only=True)
class InstagramCommentEvent(WebhookEvent):
    """A comment on an Instagram media (§4.5; id under ``id`` or ``comment_id``)."""

    kind: ClassVar[str] = "instagram_comment"

    comment_id: str
    text: str = ""
    parent_id: str = ""
    from_id: str = ""
    from_username: str = ""
    media_id: str = ""
    media_product_type: str = ""
    ad_id: str = ""

    def _key_suffix(self):
        return self.comment_id


@dataclass(frozen=True, kw_only=True)
class InstagramMentionEvent(WebhookEvent):
    """The Instagram account was @mentioned in a caption or a comment."""

    kind: ClassVar[str] = "instagram_mention"

    media_id: str
    comment_id: str = ""

    def _key_suffix(self):
        return f"{self.media_id}:{self.comment_id}"


@dataclass(frozen=True, kw_only=True)
class UnhandledEvent(WebhookEvent):
    """A well-formed update of a kind the addon does not process (yet)."""

    kind: ClassVar[str] = "unhandled"

    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class MalformedEvent(WebhookEvent):
    """An update inside a valid delivery that lacks what its kind requires."""

    kind: ClassVar[str] = "malformed"

    reason: str = ""

    def to_record(self):
        # The stored item may have been repaired to be storable (characters
        # replaced): keep the verdict, so reading it back is malformed again.
        return {**super().to_record(), "malformed": self.reason}


# ------------------------------------------------------------------ parsing

#: Longest idempotency key stored: far below PostgreSQL's limit on a btree
#: index entry (about 2700 bytes); real keys are under 200 characters.
MAX_KEY_LENGTH = 512
#: Webhook objects are lower-case words: page, instagram, permissions, …
_OBJECT_RE = re.compile(r"\A[a-z_]{1,64}\Z")
#: What PostgreSQL cannot store in text or jsonb.
_UNSTORABLE_RE = re.compile("[\x00\ud800-\udfff]")

#: Largest nesting we accept; Meta's deepest shape is ~6 levels. A hostile
#: body nested 10,000 levels deep must be refused without a RecursionError.
MAX_DEPTH = 32
#: Longest number literal taken: Meta's ids and times are about 20 digits.
#: Python refuses to read an int of more than 4300 digits, with a ValueError
#: that would sink the whole delivery.
MAX_NUMBER_CHARS = 64
#: What a value nested deeper than MAX_DEPTH is replaced by before parsing: a
#: string holding NUL, which no update of Meta's carries.
_TOO_DEEP = "\x00nested too deeply"
#: A JSON string, or one bracket outside strings.
_STRUCTURE_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
#: Where the items of an entry are.
_ITEM_TYPES = ("changes", "messaging", "standby")


class _Refused:
    """A value strict JSON does not hold (``NaN``, ``Infinity``, a number too
    long or beyond a float): the update holding it is refused, alone."""

    __slots__ = ("reason", "shown")

    def __init__(self, reason, literal):
        self.reason = reason
        self.shown = literal if len(literal) <= 24 else f"{literal[:20]}…"


def _strict_constant(literal):
    return _Refused("a value is not a number (NaN or Infinity)", literal)


def _strict_int(literal):
    if len(literal) > MAX_NUMBER_CHARS:
        return _Refused(f"a number has more than {MAX_NUMBER_CHARS} digits", literal)
    return int(literal)


def _strict_float(literal):
    if len(literal) > MAX_NUMBER_CHARS:
        return _Refused(f"a number has more than {MAX_NUMBER_CHARS} digits", literal)
    value = float(literal)
    if not math.isfinite(value):
        return _Refused("a value is not a number (beyond a float)", literal)
    return value


def parse_delivery(body):
    """Parse one webhook delivery into a list of events.

    :param body: raw bytes/str, or an already decoded dict.
    :raises MalformedPayloadError: when the envelope is not a Meta delivery.
    """
    payload = _decode(body) if isinstance(body, bytes | bytearray | str) else body
    if not isinstance(payload, dict):
        raise MalformedPayloadError("a delivery must be a JSON object")
    obj = payload.get("object")
    if not isinstance(obj, str) or not _OBJECT_RE.match(obj):
        raise MalformedPayloadError("a delivery needs an 'object' such as 'page'")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise MalformedPayloadError("a delivery needs an 'entry' list")
    events = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedPayloadError("every entry must be a JSON object")
        head = {
            key: value
            for key, value in entry.items()
            if not (key in _ITEM_TYPES and isinstance(value, list))
        }
        if _refusal(head):
            # its id or time cannot be read: none of its items can be routed
            events.append(_checked(_malformed_entry(obj, entry)))
            continue
        account_id = as_id(entry.get("id"))
        entry_time = parse_time(entry.get("time"))
        found = False
        for item_type in _ITEM_TYPES:
            items = entry.get(item_type)
            if items is None:
                continue
            if not isinstance(items, list):
                raise MalformedPayloadError(f"entry '{item_type}' must be a list")
            found = True
            events.extend(
                parse_item(obj, account_id, entry_time, item_type, item)
                for item in items
            )
        if not found:
            events.append(
                _checked(
                    UnhandledEvent(
                        object=obj,
                        account_id=account_id,
                        entry_time=entry_time,
                        item_type="entry",
                        item=entry,
                        reason="entry without changes or messaging",
                    )
                )
            )
    return events


def _malformed_entry(obj, entry):
    return MalformedEvent(
        object=obj,
        account_id="",
        item_type="entry",
        item=entry,
        reason="the entry holds a value JSON cannot carry",
    )


def _decode(body):
    """The JSON of ``body``, strictly: a value strict JSON does not hold
    becomes a :class:`_Refused` (or the ``_TOO_DEEP`` marker) where it
    stood, so only the update holding it is refused."""
    if isinstance(body, bytes | bytearray):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPayloadError("the body is not UTF-8") from None
    if len(body) > 2 * MAX_DEPTH:
        body = _cut_too_deep(body)
    try:
        return json.loads(
            body,
            parse_constant=_strict_constant,
            parse_int=_strict_int,
            parse_float=_strict_float,
        )
    except (ValueError, RecursionError):
        raise MalformedPayloadError("the body is not valid JSON") from None


def _cut_too_deep(text):
    """``text`` with each value nested deeper than MAX_DEPTH replaced by the
    ``_TOO_DEEP`` marker (strings skipped), so parsing never recurses deeper
    and the rest of the delivery is kept."""
    depth, start, kept, pieces = 0, None, 0, []
    for match in _STRUCTURE_RE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth == MAX_DEPTH + 1:
                start = match.start()
        elif token in "]}":
            depth -= 1
            if depth == MAX_DEPTH and start is not None:
                pieces += [text[kept:start], json.dumps(_TOO_DEEP)]
                kept, start = match.end(), None
    if start is not None:  # never closed: the JSON is broken anyway
        pieces += [text[kept:start], json.dumps(_TOO_DEEP)]
        kept = len(text)
    if not pieces:
        return text
    return "".join(pieces) + text[kept:]


def parse_item(obj, account_id, entry_time, item_type, item):
    """Build the typed event of one ``changes[]``/``messaging[]`` element."""
    base = {
        "object": obj,
        "account_id": account_id,
        "entry_time": entry_time,
        "item_type": item_type,
        "item": item if isinstance(item, dict) else {"value": item},
    }
    if not isinstance(item, dict):
        event = MalformedEvent(**base, reason=f"{item_type} item is not an object")
    elif _refusal(item):
        event = MalformedEvent(**base, reason="")  # _checked says why
    else:
        try:
            if item_type == "changes":
                event = _parse_change(base, obj, item)
            else:
                event = _parse_messaging(base, item, standby=item_type == "standby")
        except _Invalid as exc:
            event = MalformedEvent(**base, reason=str(exc))
    return _checked(event)


def _checked(event):
    """``event``, or a :class:`MalformedEvent` when it cannot be stored safely.

    One such update must not sink the 999 others of its delivery: PostgreSQL
    refuses NUL characters and unpaired surrogates in text and JSON, and an
    index entry of more than about 2700 bytes; an entry id that is not a Meta
    object id must not route anything. The malformed event keeps a readable
    copy of the update (those characters replaced) and a bounded key.
    """
    reason = getattr(event, "reason", "") if isinstance(event, MalformedEvent) else ""
    refused = _refusal(event.item)
    unstorable = bool(refused) or _has_unstorable(event.item)
    bad_account = bool(event.account_id) and not is_node_id(event.account_id)
    if refused:
        reason = refused
    elif unstorable:
        reason = "the update contains a NUL character or an unpaired surrogate"
    elif bad_account:
        reason = "the entry id is not a Meta object id"
    elif len(event.key) > MAX_KEY_LENGTH:
        reason = "the update's ids are too long to be Meta ids"
    elif not isinstance(event, MalformedEvent):
        return event
    return MalformedEvent(
        object=event.object,
        account_id="" if bad_account else event.account_id,
        entry_time=event.entry_time,
        item_type=event.item_type,
        item=_scrub(event.item) if unstorable else event.item,
        reason=reason,
    )


def _has_unstorable(value):
    """True when a str anywhere in ``value`` (keys too) holds NUL or a lone
    surrogate. Iterative: the parser already bounded the depth of a body, but
    not of a record read back from storage."""
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE_RE.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return False


def _refusal(value):
    """Why ``value`` holds something strict JSON does not (see
    :func:`_decode`), or ''."""
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, _Refused):
            return value.reason
        if value == _TOO_DEEP:
            return f"a value is nested too deeply (more than {MAX_DEPTH} levels)"
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return ""


def _scrub(value):
    """``value`` made storable: text PostgreSQL refuses replaced, a refused
    value kept as the text it was."""
    if isinstance(value, _Refused):
        return value.shown
    if isinstance(value, str):
        return _UNSTORABLE_RE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def event_from_record(record):
    """Rebuild an event from :meth:`WebhookEvent.to_record` output."""
    if not isinstance(record, dict):
        raise MalformedPayloadError("a stored event must be a JSON object")
    kept = {
        "object": str(record.get("object") or ""),
        "account_id": as_id(record.get("account_id")),
        "entry_time": parse_time(record.get("entry_time")),
        "item_type": str(record.get("item_type") or "changes"),
        "item": _dict(record.get("item")),
    }
    if record.get("redacted"):
        return UnhandledEvent(
            **kept,
            reason="only the kind was kept: nothing handled it when it arrived",
        )
    if record.get("malformed"):
        return MalformedEvent(**kept, reason=str(record["malformed"]))
    return parse_item(
        str(record.get("object") or ""),
        as_id(record.get("account_id")),
        parse_time(record.get("entry_time")),
        str(record.get("item_type") or "changes"),
        record.get("item"),
    )


class _Invalid(Exception):
    """Internal: an item lacks a required attribute."""


def _require(mapping, key, what):
    value = as_id(mapping.get(key))
    if not value:
        raise _Invalid(f"{what} without '{key}'")
    return value


def _node(mapping, key, what, required=False):
    """The Meta object id under ``key`` ('' when absent and optional).

    These ids end up in Graph paths and in unique keys: anything that is not
    the shape of a Meta id makes the update malformed.
    """
    value = as_id(mapping.get(key))
    if not value:
        if required:
            raise _Invalid(f"{what} without '{key}'")
        return ""
    if not is_node_id(value):
        raise _Invalid(f"{what} '{key}' is not a Meta object id")
    return value


def _text(value):
    return value if isinstance(value, str) else ""


def _dict(value):
    return value if isinstance(value, dict) else {}


def _parse_change(base, obj, item):
    field_name = item.get("field")
    value = item.get("value")
    if not isinstance(field_name, str) or not isinstance(value, dict):
        raise _Invalid("change without 'field' and object 'value'")
    if obj == "page" and field_name == "leadgen":
        return LeadgenEvent(
            **base,
            leadgen_id=_node(value, "leadgen_id", "leadgen change", required=True),
            page_id=_node(value, "page_id", "leadgen change") or base["account_id"],
            form_id=_node(value, "form_id", "leadgen change"),
            ad_id=_node(value, "ad_id", "leadgen change"),
            adgroup_id=_node(value, "adgroup_id", "leadgen change"),
            created_time=parse_time(value.get("created_time")),
        )
    if obj == "page" and field_name == "feed":
        if value.get("item") != "comment":
            return UnhandledEvent(
                **base, reason=f"feed item '{_text(value.get('item'))}'"
            )
        sender = _dict(value.get("from"))
        return PageCommentEvent(
            **base,
            verb=_text(value.get("verb")) or "add",
            comment_id=_node(value, "comment_id", "feed comment", required=True),
            post_id=_node(value, "post_id", "feed comment"),
            parent_id=_node(value, "parent_id", "feed comment"),
            from_id=as_id(sender.get("id")),
            from_name=_text(sender.get("name")),
            message=_text(value.get("message")),
            created_time=parse_time(value.get("created_time")),
        )
    if obj == "instagram" and field_name in ("comments", "live_comments"):
        media = _dict(value.get("media"))
        sender = _dict(value.get("from"))
        # Docs name the comment id ``id``; one Facebook-Login example uses
        # ``comment_id`` (§4.5, [U]): accept both.
        key = "id" if as_id(value.get("id")) else "comment_id"
        comment_id = _node(value, key, "instagram comment", required=True)
        return InstagramCommentEvent(
            **base,
            comment_id=comment_id,
            text=_text(value.get("text")),
            parent_id=_node(value, "parent_id", "instagram comment"),
            from_id=as_id(sender.get("id")),
            from_username=_text(sender.get("username")),
            media_id=_node(media, "id", "instagram comment media"),
            media_product_type=_text(media.get("media_product_type")),
            ad_id=as_id(media.get("ad_id")),
        )
    if obj == "instagram" and field_name == "mentions":
        return InstagramMentionEvent(
            **base,
            media_id=_node(value, "media_id", "instagram mention", required=True),
            comment_id=_node(value, "comment_id", "instagram mention"),
        )
    return UnhandledEvent(**base, reason=f"{obj} field '{field_name}'")


def _parse_messaging(base, item, standby):
    common = {
        **base,
        # PSIDs/IGSIDs never enter a Graph path (the Send API takes them in
        # its body); the key length check bounds them.
        "sender_id": _require(_dict(item.get("sender")), "id", "messaging sender"),
        "recipient_id": as_id(_dict(item.get("recipient")).get("id")),
        "timestamp": parse_time(item.get("timestamp")),
        "standby": standby,
    }
    for key, build in _MESSAGING_PARSERS:
        if isinstance(item.get(key), dict):
            return build(common, item[key])
    keys = sorted(k for k in item if k not in ("sender", "recipient", "timestamp"))
    return UnhandledEvent(**base, reason=f"messaging '{','.join(keys)}'")


def _message_event(common, message):
    values = {
        "mid": _require(message, "mid", "message"),
        "text": _text(message.get("text")),
        "attachments": tuple(
            a for a in message.get("attachments") or () if isinstance(a, dict)
        ),
        "is_deleted": bool(message.get("is_deleted")),
        "reply_to": message.get("reply_to")
        if isinstance(message.get("reply_to"), dict)
        else None,
        "quick_reply_payload": _text(_dict(message.get("quick_reply")).get("payload")),
    }
    if message.get("is_echo"):
        return MessageEchoEvent(
            **common,
            **values,
            app_id=as_id(message.get("app_id")),
            metadata=_text(message.get("metadata")),
        )
    return MessageEvent(**common, **values)


def _postback_event(common, postback):
    return PostbackEvent(
        **common,
        mid=as_id(postback.get("mid")),
        title=_text(postback.get("title")),
        payload=_text(postback.get("payload")),
    )


def _read_event(common, read):
    return ReadEvent(
        **common,
        watermark=parse_time(read.get("watermark")),
        mid=as_id(read.get("mid")),
    )


def _delivery_event(common, delivery):
    return DeliveryEvent(
        **common,
        watermark=parse_time(delivery.get("watermark")),
        mids=tuple(as_id(m) for m in delivery.get("mids") or () if as_id(m)),
    )


def _reaction_event(common, reaction):
    return ReactionEvent(
        **common,
        mid=as_id(reaction.get("mid")),
        reaction=_text(reaction.get("reaction")),
        emoji=_text(reaction.get("emoji")),
        reaction_action=_text(reaction.get("action")),
    )


def _referral_event(common, referral):
    return ReferralEvent(
        **common,
        ad_id=as_id(referral.get("ad_id")),
        source=_text(referral.get("source")),
        ref=_text(referral.get("ref")),
    )


#: ``messaging[]`` item key → its event builder, in the order they are tried
#: (an item carrying several, which Meta does not send, is the first one's).
_MESSAGING_PARSERS = (
    ("message", _message_event),
    ("postback", _postback_event),
    ("read", _read_event),
    ("delivery", _delivery_event),
    ("reaction", _reaction_event),
    ("referral", _referral_event),
)


#: The event kinds: one word per kind of update, used by the parser (an
#: event's ``kind``), the stored event, the handlers that own a kind and the
#: webhook fields that carry it. Labels are for humans.
KINDS = {
    "leadgen": "Lead Ads submission",
    "page_comment": "Facebook comment",
    "messenger_message": "Messenger message",
    "messenger_echo": "Messenger message sent by the Page",
    "messenger_postback": "Messenger button press",
    "messenger_read": "Messenger read receipt",
    "messenger_delivery": "Messenger delivery receipt",
    "messenger_reaction": "Messenger reaction",
    "messenger_referral": "Messenger ad or link referral",
    "instagram_message": "Instagram message",
    "instagram_echo": "Instagram message sent by the account",
    "instagram_postback": "Instagram button press",
    "instagram_read": "Instagram read receipt",
    "instagram_delivery": "Instagram delivery receipt",
    "instagram_reaction": "Instagram reaction",
    "instagram_referral": "Instagram ad or link referral",
    "instagram_comment": "Instagram comment",
    "instagram_mention": "Instagram mention",
    "unhandled": "Not processed by the addon",
    "malformed": "Malformed update",
}

#: Which webhook field of which object carries which kinds
#: (https://developers.facebook.com/docs/graph-api/webhooks/reference/page/,
#: https://developers.facebook.com/docs/messenger-platform/webhooks,
#: https://developers.facebook.com/docs/instagram-platform/webhooks).
FIELD_KINDS = {
    ("page", "leadgen"): ("leadgen",),
    ("page", "feed"): ("page_comment",),
    ("page", "messages"): ("messenger_message",),
    ("page", "message_echoes"): ("messenger_echo",),
    ("page", "messaging_postbacks"): ("messenger_postback",),
    ("page", "message_reads"): ("messenger_read",),
    ("page", "message_deliveries"): ("messenger_delivery",),
    ("page", "message_reactions"): ("messenger_reaction",),
    ("page", "messaging_referrals"): ("messenger_referral",),
    ("instagram", "comments"): ("instagram_comment",),
    ("instagram", "mentions"): ("instagram_mention",),
    ("instagram", "messages"): ("instagram_message", "instagram_echo"),
    ("instagram", "messaging_postbacks"): ("instagram_postback",),
    ("instagram", "messaging_seen"): ("instagram_read",),
    ("instagram", "message_reactions"): ("instagram_reaction",),
    ("instagram", "messaging_referral"): ("instagram_referral",),
}


def fields_for_kinds(obj, kinds):
    """The webhook fields of ``obj`` that carry any of ``kinds``, in a stable order."""
    kinds = set(kinds)
    return tuple(
        field
        for (field_obj, field), field_kinds in FIELD_KINDS.items()
        if field_obj == obj and kinds.intersection(field_kinds)
    )
