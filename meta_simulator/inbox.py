"""Messenger and Instagram Direct conversations: the Send API's rules, the
webhooks a person's actions cause, Conversation Routing, the Conversations
API and a small CDN (docs/meta-facts.md §6, §13).

* A conversation is a Page (or its Instagram account) and a person (PSID or
  IGSID). It remembers the person's last action (a message, a postback, a
  referral, a reaction) and the last ad that opened it.
* The Send API answers ``RESPONSE`` (or no ``messaging_type``, as Instagram
  examples do) within 24 hours of the person's last action, or 7 days after
  an ad opened the conversation; ``MESSAGE_TAG`` + ``HUMAN_AGENT`` within
  7 days when the app has the Human Agent feature; otherwise error 10 with
  subcode 2018278 (Messenger) or 2534022 (Instagram, HTTP 403). The removed
  tags answer error 100. A message is text or one attachment (``image``,
  ``video``, ``audio``, ``file``; Instagram takes no ``file``) by URL or by
  the ``attachment_id`` an ``is_reusable`` send returned; anything else 100.
* Conversation Routing: while another app (or Meta's inbox) owns a thread,
  our app gets its events under ``entry[].standby[]`` and its sends are
  refused with 10/2018300.
* Every message the Page sends is echoed (``is_echo``, the sending app's id,
  the metadata passed); Meta's own inboxes echo with their app id and no
  metadata.
* Conversations API: ``/{page}/conversations``, ``/{conversation}/messages``
  and ``/{message}``; only the 20 latest messages of a conversation have
  their content readable; 2 calls per second per Page or Instagram account.
* Attachments people send without a URL get one on the simulator's own CDN
  (``{base_url}/cdn/{token}/{name}``).
"""

import hashlib
import mimetypes
import struct
import threading
import zlib
from collections import defaultdict, deque
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from . import errors, store
from .comments import iso

MESSENGER = "messenger"
INSTAGRAM = "instagram"
CHANNELS = (MESSENGER, INSTAGRAM)
STANDARD_SECONDS = 24 * 3600
SEVEN_DAYS = 7 * 86400
REMOVED_TAGS = frozenset(
    {"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"}
)
MESSENGER_MAX_CHARS = 2000
INSTAGRAM_MAX_BYTES = 1000
METADATA_MAX_CHARS = 1000

#: The app ids of Meta's own inboxes (Handover Protocol reference, §6).
PAGE_INBOX_APP_ID = "263902037430900"
INSTAGRAM_INBOX_APP_ID = "1217981644879628"

#: Attachment types the Send API takes (templates are not simulated).
SEND_TYPES = ("image", "video", "audio", "file")
#: Meta's "thumbs up" sticker.
DEFAULT_STICKER_ID = 369239263222822

#: Only this many latest messages of a conversation are readable (§6.1).
READABLE_MESSAGES = 20
#: Conversations API calls per second per Page or Instagram account (§13).
CONVERSATIONS_PER_SECOND = 2

CONVERSATION_NODE = store.CONVERSATION_NODE
MESSAGE_NODE = store.MESSAGE_NODE
PAGE_PERSON_NODE = store.PAGE_PERSON_NODE
#: What Messenger's User Profile API answers without ``fields`` (§6.1).
PROFILE_DEFAULT_FIELDS = ("first_name", "last_name", "profile_pic", "id")

#: The webhook field of each event, on a Page and on Instagram (None: Meta
#: sends none); while another app owns the thread every one is ``standby``.
_FIELDS = {
    "message": ("messages", "messages"),
    "echo": ("message_echoes", "messages"),
    "delivery": ("message_deliveries", None),
    "read": ("message_reads", "messaging_seen"),
    "reaction": ("message_reactions", "message_reactions"),
    "postback": ("messaging_postbacks", "messaging_postbacks"),
    "referral": ("messaging_referrals", "messaging_referral"),
}

#: Reaction names by emoji: Messenger's, then Instagram's.
_REACTIONS = {
    "❤": ("love", "love"),
    "❤️": ("love", "love"),
    "😆": ("smile", "laugh"),
    "😮": ("wow", "wow"),
    "😢": ("sad", "sad"),
    "😠": ("angry", "angry"),
    "👍": ("like", "like"),
    "👎": ("dislike", "other"),
}


@dataclass
class MessengerPerson:
    """Someone who wrote to a Page, by their Page-scoped id: Messenger's User
    Profile API answers their name and picture (writing to the Page is the
    consent, §6.1)."""

    id: str
    page_id: str
    name: str

    def profile(self) -> dict:
        first, _, last = self.name.partition(" ")
        return {
            "id": self.id,
            "first_name": first,
            "last_name": last,
            "profile_pic": f"https://scontent.example/messenger/people/{self.id}.jpg",
        }


def messenger_person(sim, conversation) -> None:
    """The person of a Messenger conversation wrote: their profile becomes
    readable (the store lock is held)."""
    found = sim.store.lookup(conversation.user_id)
    if found is None:
        sim.store.register(
            PAGE_PERSON_NODE,
            MessengerPerson(
                id=conversation.user_id,
                page_id=conversation.page_id,
                name=conversation.name,
            ),
        )
    elif found[0] == PAGE_PERSON_NODE:
        found[1].name = conversation.name


@dataclass
class Conversation:
    channel: str
    account_id: str  # the Page, or the Instagram account
    page_id: str
    user_id: str  # PSID / IGSID
    last_inbound: float | None = None
    ad_opened_at: float | None = None
    ad_id: str | None = None
    messages: list = field(default_factory=list)
    id: str = ""
    #: the person's name (Messenger) and username (Instagram)
    name: str = ""
    username: str = ""
    #: Conversation Routing: the app owning the thread (None: idle)
    thread_owner: str | None = None
    updated: float = 0.0
    #: the simulator-wide order of its last message (ties of ``updated``)
    touched: int = 0
    #: mids of the Page's messages already reported delivered
    delivered: set = field(default_factory=set)

    @property
    def object(self) -> str:
        """The webhook ``object`` of the conversation's events."""
        return INSTAGRAM if self.channel == INSTAGRAM else "page"

    def listed(self) -> list:
        """Its messages as the Conversations API lists them, newest first."""
        alive = [m for m in self.messages if not m.deleted]
        return sorted(alive, key=lambda m: (-m.time, -m.seq))

    def readable(self) -> set:
        return {m.id for m in self.listed()[:READABLE_MESSAGES]}

    def page_messages(self) -> list:
        return [m for m in self.messages if m.from_page and not m.deleted]


@dataclass(eq=False)
class Message:
    """One message of a conversation (a node: ``GET /{message-id}``)."""

    id: str
    page_id: str
    conversation: Conversation = field(repr=False)
    sender: str
    recipient: str
    time: float
    text: str | None = None
    #: as webhooks carry them: ``[{"type", "payload": {...}}]``
    attachments: list = field(default_factory=list)
    #: per attachment: ``{"mime_type", "name", "size"}`` or None
    files: list = field(default_factory=list)
    #: Instagram stories: ``{"mention"|"reply_to": {"link", "id"}}``
    story: dict | None = None
    reply_to: dict | None = None
    unsupported: bool = False
    kind: str = "message"  # or "postback"
    tag: str | None = None
    metadata: str | None = None
    app_id: str | None = None
    #: the attachment as the Send API call gave it
    sent_attachment: dict | None = None
    #: its place in the conversation (ties of ``time``)
    seq: int = 0
    deleted: bool = False
    reactions: dict = field(default_factory=dict)

    @property
    def from_page(self) -> bool:
        return self.sender == self.conversation.account_id

    def as_dict(self) -> dict:
        return {
            "mid": self.id,
            "from": self.sender,
            "to": self.recipient,
            "kind": self.kind,
            "text": self.text,
            "attachments": [dict(a) for a in self.attachments],
            "attachment": self.sent_attachment,
            "story": self.story,
            "tag": self.tag,
            "metadata": self.metadata,
            "app_id": self.app_id,
            "time": self.time,
            "deleted": self.deleted,
            "reactions": dict(self.reactions),
        }


def conversation_id(ids, channel, account_id, user_id) -> str:
    """Messenger thread ids look like ``t_…``; Instagram ones are opaque."""
    if channel == MESSENGER:
        return "t_" + ids.digits("thread", 16, "1")
    digest = hashlib.sha256(f"{account_id}:{user_id}".encode()).hexdigest()
    return "aWdfZAG06" + digest[:40]


def webhook_field(channel: str, kind: str) -> str | None:
    messenger, instagram = _FIELDS[kind]
    return instagram if channel == INSTAGRAM else messenger


def standing_by(conversation: Conversation, app_id: str) -> bool:
    """Another app (or Meta's inbox) owns the thread: our app only listens."""
    owner = conversation.thread_owner
    return owner is not None and owner != str(app_id)


def reaction_name(channel: str, emoji: str) -> str:
    messenger, instagram = _REACTIONS.get(emoji, ("other", "other"))
    return instagram if channel == INSTAGRAM else messenger


def inbox_app_id(channel: str) -> str:
    return INSTAGRAM_INBOX_APP_ID if channel == INSTAGRAM else PAGE_INBOX_APP_ID


# --- the Send API ---------------------------------------------------------------


def outside_window(conversation: Conversation) -> errors.GraphError:
    if conversation.channel == INSTAGRAM:
        return errors.GraphError(
            10,
            "(#10) This message is sent outside of allowed window.",
            subcode=2534022,
            http_status=403,
        )
    return errors.GraphError(
        10,
        errors.numbered(10, "This message is sent outside of allowed window."),
        subcode=2018278,
    )


def not_thread_owner() -> errors.GraphError:
    """Another app controls the thread (Handover Protocol / Conversation
    Routing, §6): HTTP 400, 10/2018300."""
    return errors.GraphError(
        10,
        errors.numbered(
            10,
            "Message failed to send because another app is controlling this "
            "thread now.",
        ),
        subcode=2018300,
    )


def check_owner(conversation: Conversation, app_id: str):
    return not_thread_owner() if standing_by(conversation, app_id) else None


def check_send(conversation, now, messaging_type, tag, human_agent_enabled):
    """Meta's refusal of a send now, or None (§6.2, §13)."""
    if tag in REMOVED_TAGS:
        return errors.invalid_param(f"Tag {tag} is no longer supported")
    if tag and tag != "HUMAN_AGENT":
        return errors.invalid_param(f"Invalid tag {tag}")
    if conversation is None or conversation.last_inbound is None:
        return outside_window(Conversation(MESSENGER, "", "", ""))
    age = now - conversation.last_inbound
    standard = age < STANDARD_SECONDS or (
        conversation.ad_opened_at is not None
        and now - conversation.ad_opened_at < SEVEN_DAYS
    )
    if messaging_type == "MESSAGE_TAG" or tag:
        if tag != "HUMAN_AGENT":
            return errors.invalid_param("A MESSAGE_TAG needs a tag")
        if not human_agent_enabled:
            return errors.permission(
                200, "The Human Agent feature is not enabled for this app"
            )
        if age >= SEVEN_DAYS:
            return outside_window(conversation)
        return None
    if not standard:
        return outside_window(conversation)
    return None


def check_text(channel, text):
    if channel == INSTAGRAM and len(text.encode("utf-8")) > INSTAGRAM_MAX_BYTES:
        return errors.invalid_param("Message text is too long")
    if channel == MESSENGER and len(text) > MESSENGER_MAX_CHARS:
        return errors.invalid_param(
            "param message[text] must be at most 2000 characters"
        )
    return None


@dataclass
class Outgoing:
    """What a valid Send API ``message`` sends."""

    text: str | None = None
    attachments: list = field(default_factory=list)
    files: list = field(default_factory=list)
    #: a new reusable attachment's id, answered to the caller
    attachment_id: str | None = None


def check_message(sim, conversation: Conversation, message: dict) -> Outgoing:
    """The content of a Send API ``message`` (text or one attachment), or
    Meta's error 100 (§6.2, §13)."""
    text, attachment = message.get("text"), message.get("attachment")
    metadata = message.get("metadata")
    if metadata is not None and len(str(metadata)) > METADATA_MAX_CHARS:
        raise errors.invalid_param("param message[metadata] is too long")
    has_text = isinstance(text, str) and text.strip() != ""
    if has_text and attachment is not None:
        raise errors.invalid_param(
            "Only one of message[text] and message[attachment] can be specified"
        )
    if has_text:
        too_long = check_text(conversation.channel, text)
        if too_long is not None:
            raise too_long
        return Outgoing(text=text)
    if attachment is None:
        raise errors.invalid_param("param message must be non-empty.")
    return _check_attachment(sim, conversation, attachment)


def _check_attachment(sim, conversation, attachment) -> Outgoing:
    if not isinstance(attachment, dict):
        raise errors.invalid_param("param message[attachment] must be an object")
    kind = attachment.get("type")
    allowed = SEND_TYPES if conversation.channel == MESSENGER else SEND_TYPES[:3]
    if kind not in allowed:
        choices = ", ".join(allowed)
        raise errors.invalid_param(
            f"param message[attachment][type] must be one of {{{choices}}}"
        )
    payload = attachment.get("payload")
    if not isinstance(payload, dict):
        raise errors.invalid_param("param message[attachment][payload] is required")
    out = Outgoing()
    reused = payload.get("attachment_id")
    if reused is not None:
        known = sim.dm_reusable.get(str(reused))
        if known is None or known["page_id"] != conversation.page_id:
            raise errors.invalid_param("Invalid attachment_id")
        url = known["url"]
    else:
        url = payload.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise errors.invalid_param(
                "param message[attachment][payload][url] must be a valid URL"
            )
        if payload.get("is_reusable") in (True, "true", "1", 1):
            out.attachment_id = sim.ids.digits("attachment", 16, "1")
            sim.dm_reusable[out.attachment_id] = {
                "page_id": conversation.page_id,
                "type": kind,
                "url": url,
            }
    out.attachments = [{"type": kind, "payload": {"url": url}}]
    out.files = [_file_of_url(kind, url)]
    return out


# --- what people send -------------------------------------------------------------


@dataclass
class Inbound:
    attachments: list = field(default_factory=list)
    files: list = field(default_factory=list)
    story: dict | None = None
    unsupported: bool = False


def inbound_attachments(sim, channel: str, items) -> Inbound:
    """A person's attachments as the webhook carries them.

    Each item is a type (``"image"``, ``"video"``, ``"audio"``, ``"file"``,
    ``"sticker"``, ``"share"``, ``"story_mention"``, ``"reel"``) or a dict
    ``{"type", "payload"?, "data"?, "content_type"?, "name"?}``; media
    without a ``payload.url`` get a URL on the simulator's CDN serving
    ``data`` (or a small file of the type). Other types (``ig_reel``,
    ``post``, ``template`` …) pass as given, with their ``payload``.
    ``share`` is ``fallback`` on Messenger; Instagram does not carry
    stickers (the message says ``is_unsupported``) and only Instagram has
    story mentions.
    """
    found = Inbound()
    for item in items or []:
        spec = {"type": item} if isinstance(item, str) else dict(item)
        kind = spec.get("type")
        if kind == "share" and channel == MESSENGER:
            kind = "fallback"
        if kind == "sticker" and channel == INSTAGRAM:
            found.unsupported = True
            continue
        if kind == "story_mention" and channel != INSTAGRAM:
            raise ValueError("only Instagram messages mention stories")
        payload = dict(spec.get("payload") or {})
        info = None
        if kind not in _DEFAULT_FILES and kind != "fallback":
            if not payload:
                raise ValueError(f"give the payload of a {kind!r} attachment")
        elif kind == "fallback":
            payload.setdefault("url", "https://www.example.com/urun/1")
            payload.setdefault("title", "Ürün sayfası")
        elif payload.get("url"):
            info = _file_of_url(kind, payload["url"])
        else:
            data, content_type, name = default_file(kind)
            if spec.get("data") is not None:
                data = bytes(spec["data"])
                name = spec.get("name") or name
                content_type = spec.get("content_type") or _guess_type(name)
            payload["url"] = sim.add_cdn_file(data, content_type, name)
            info = {"mime_type": content_type, "name": name, "size": len(data)}
        if kind == "sticker":
            payload.setdefault("sticker_id", DEFAULT_STICKER_ID)
        if kind == "story_mention":
            story_id = str(spec.get("id") or sim.ids.digits("story", 17, "179"))
            found.story = {"mention": {"link": payload["url"], "id": story_id}}
        found.attachments.append({"type": kind, "payload": payload})
        found.files.append(info)
    return found


def story_reply(sim, channel: str, story) -> tuple[dict, dict]:
    """``message.reply_to`` and the Conversations API ``story`` of a reply
    to one of the account's stories (``story``: True or ``{"url", "id"}``)."""
    if channel != INSTAGRAM:
        raise ValueError("only Instagram messages reply to stories")
    story = story if isinstance(story, dict) else {}
    url = story.get("url")
    if not url:
        data, content_type, name = default_file("image")
        url = sim.add_cdn_file(data, content_type, name)
    story_id = str(story.get("id") or sim.ids.digits("story", 17, "179"))
    return (
        {"story": {"url": url, "id": story_id}},
        {"reply_to": {"link": url, "id": story_id}},
    )


def _png_pixel() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xe8\x4a\x27")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


_PNG = _png_pixel()
#: Small files of each kind (their first bytes are the real format's).
_DEFAULT_FILES = {
    "image": (_PNG, "image/png", "image.png"),
    "sticker": (_PNG, "image/png", "sticker.png"),
    "story_mention": (_PNG, "image/png", "story.png"),
    "share": (_PNG, "image/png", "share.png"),
    "video": (
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
        "video/mp4",
        "video.mp4",
    ),
    "reel": (
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
        "video/mp4",
        "reel.mp4",
    ),
    "audio": (
        b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00M4A isom",
        "audio/mp4",
        "audio.m4a",
    ),
    "file": (b"%PDF-1.4\n%%EOF\n", "application/pdf", "belge.pdf"),
}
_DEFAULT_TYPES = {
    "image": "image/jpeg",
    "sticker": "image/png",
    "story_mention": "image/jpeg",
    "share": "image/jpeg",
    "video": "video/mp4",
    "reel": "video/mp4",
    "audio": "audio/mpeg",
    "file": "application/octet-stream",
}


def default_file(kind: str) -> tuple[bytes, str, str]:
    return _DEFAULT_FILES[kind]


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _file_of_url(kind: str, url: str) -> dict:
    name = urlsplit(url).path.rsplit("/", 1)[-1] or kind
    guessed = mimetypes.guess_type(name)[0]
    mime_type = guessed or _DEFAULT_TYPES.get(kind, "application/octet-stream")
    return {"mime_type": mime_type, "name": name, "size": None}


# --- the CDN ------------------------------------------------------------------------

CDN_PREFIX = "/cdn/"


@dataclass
class CdnFile:
    data: bytes
    content_type: str
    name: str


def cdn_path(token: str, name: str) -> str:
    return f"{CDN_PREFIX}{token}/{quote(name)}"


def serve_cdn(sim, method: str, path: str):
    """``GET /cdn/{token}/{name}``: the file's bytes (404 when unknown)."""
    token = path[len(CDN_PREFIX) :].split("/", 1)[0]
    found = sim.cdn_files.get(token)
    if method.upper() != "GET":
        return 405, {"Content-Type": "text/plain", "Allow": "GET"}, b""
    if found is None:
        return 404, {"Content-Type": "text/plain"}, b"Not Found"
    headers = {
        "Content-Type": found.content_type,
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(found.name)}",
        "Cache-Control": "max-age=1209600, no-transform",
    }
    return 200, headers, found.data


# --- the Conversations API -------------------------------------------------------


class RateWindow:
    """Calls per second per key (a Page or an Instagram account); refused
    calls count too, as Meta's limits do."""

    def __init__(self, per_second: int = CONVERSATIONS_PER_SECOND):
        self.per_second = per_second
        self._calls: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float | None:
        """Count a call; None when allowed, else when the limit lifts."""
        with self._lock:
            calls = self._calls[key]
            while calls and calls[0] <= now - 1:
                calls.popleft()
            calls.append(now)
            if len(calls) <= self.per_second:
                return None
            return calls[-self.per_second - 1] + 1


def person_ref(conversation: Conversation) -> dict:
    if conversation.channel == INSTAGRAM:
        return {"username": conversation.username, "id": conversation.user_id}
    return {
        "name": conversation.name,
        "email": f"{conversation.user_id}@facebook.com",
        "id": conversation.user_id,
    }


def account_ref(sim, conversation: Conversation) -> dict:
    if conversation.channel == INSTAGRAM:
        ig = sim.store.ig_accounts[conversation.account_id]
        return {"username": ig.username, "id": ig.id}
    page = sim.store.pages[conversation.page_id]
    return {"name": page.name, "email": f"{page.id}@facebook.com", "id": page.id}


def conversation_full(sim, conversation: Conversation) -> dict:
    return {
        "id": conversation.id,
        "updated_time": iso(conversation.updated),
        "participants": {
            "data": [person_ref(conversation), account_ref(sim, conversation)]
        },
        "message_count": len(conversation.listed()),
    }


def message_full(sim, message: Message) -> dict:
    """A message as ``GET /{message-id}`` shows it."""
    conversation = message.conversation
    person, account = person_ref(conversation), account_ref(sim, conversation)
    sender, recipient = (account, person) if message.from_page else (person, account)
    media, shares, sticker = [], [], None
    for index, attachment in enumerate(message.attachments):
        kind, payload = attachment["type"], attachment.get("payload") or {}
        info = message.files[index] if index < len(message.files) else None
        url = payload.get("url")
        if kind in ("fallback", "share"):
            shares.append({"link": url, "name": payload.get("title")})
            continue
        if kind == "story_mention":
            continue
        if kind == "sticker":
            sticker = url
        media.append(_attachment_data(message, index, kind, url, info))
    return {
        "id": message.id,
        "created_time": iso(message.time),
        "from": sender,
        "to": {"data": [recipient]},
        "message": message.text or "",
        "attachments": {"data": media} if media else None,
        "shares": {"data": shares} if shares else None,
        "sticker": sticker if conversation.channel == MESSENGER else None,
        "story": message.story,
        "is_unsupported": True if message.unsupported else None,
    }


def _attachment_data(message, index, kind, url, info) -> dict:
    info = info or _file_of_url(kind, url or "")
    digest = hashlib.sha256(f"{message.id}:{index}".encode()).hexdigest()
    data = {
        "id": str(int(digest[:12], 16)),
        "mime_type": info["mime_type"],
        "name": info["name"],
    }
    if info.get("size") is not None:
        data["size"] = info["size"]
    if kind in ("image", "sticker"):
        data["image_data"] = {"url": url, "preview_url": url, "width": 1, "height": 1}
    elif kind in ("video", "reel"):
        data["video_data"] = {"url": url, "preview_url": url, "width": 1, "height": 1}
    else:
        data["file_url"] = url
    return data


def message_deleted() -> errors.GraphError:
    """A message deleted, or older than the 20 latest (§6.1) [U]."""
    return errors.invalid_param("This message has been deleted")


def referral(ad_id, ref: str | None = None) -> dict:
    """The ``referral`` of a click-to-message ad (§4.5)."""
    found = {"source": "ADS", "type": "OPEN_THREAD", "ad_id": str(ad_id)}
    if ref:
        found = {"ref": ref, **found}
    return found
