"""Page and Instagram comments: one shape for what Meta sends and reads of a
comment on either platform, the rules of their order, and the calls that
answer them (docs/meta-facts.md §4.5, §6.3).

* A webhook tells a change of a comment (added, edited, removed, hidden,
  unhidden); a read (history, a mention) tells its state. Both become a
  :class:`CommentChange`, so the Odoo layer applies one kind of thing.
* Webhooks arrive in any order (§4.4): a change applies only when it is not
  older than the last one applied to that comment (:func:`supersedes`); a
  removal stays a removal.
* Facebook answers a comment on ``/{comment-id}/comments``, Instagram on
  ``/{ig-comment-id}/replies`` (only top-level, not hidden ones); a private
  reply is a message to ``recipient.comment_id``, once per comment, within
  seven days.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .errors import UnknownGraphError
from .ids import as_id, node_id
from .times import parse_time
from .webhook import InstagramCommentEvent, InstagramMentionEvent, PageCommentEvent

FACEBOOK = "facebook"
INSTAGRAM = "instagram"

#: Verbs of a Page ``feed`` comment change (§4.5), and ``mention`` for an
#: Instagram @mention. Their rank breaks ties of changes of the same second:
#: an edit follows the comment, a removal ends it.
VERB_RANK = {"add": 0, "mention": 0, "edited": 1, "hide": 2, "unhide": 2, "remove": 3}

#: Other spellings of the verbs met in the wild (Meta documents the ones of
#: VERB_RANK): read as theirs rather than as a new comment.
VERB_SPELLINGS = {"edit": "edited", "delete": "remove", "removed": "remove",
                  "hidden": "hide", "unhidden": "unhide"}  # fmt: skip
#: A private reply is possible this long after the comment (§6.3).
PRIVATE_REPLY_WINDOW = timedelta(days=7)
#: Text limits: a Messenger message 2000 characters, an Instagram one 1000
#: bytes (§6.2); a comment is kept within Instagram's 2200 characters, the
#: tighter of the two platforms.
COMMENT_MAX_CHARS = 2200
MESSENGER_MAX_CHARS = 2000
INSTAGRAM_MAX_BYTES = 1000

FACEBOOK_COMMENT_FIELDS = (
    "id,message,created_time,from{id,name},parent{id},is_hidden,permalink_url"
)
INSTAGRAM_COMMENT_FIELDS = (
    "id,text,timestamp,username,from{id,username},hidden,parent_id,media{id}"
)
FACEBOOK_POST_FIELDS = "id,message,created_time,permalink_url"
INSTAGRAM_MEDIA_FIELDS = "id,caption,timestamp,permalink,media_product_type"


@dataclass(frozen=True, kw_only=True)
class CommentChange:
    """What is known of a comment after one event or read.

    ``account_id`` is the Page or Instagram account it belongs to;
    ``object_id`` the post or media; ``parent_id`` the comment it answers
    (empty for a top-level comment); ``event_at`` when this change happened
    (ordering); ``from_account``: written by the Page / account itself.
    """

    platform: str
    account_id: str
    comment_id: str
    verb: str = "add"
    object_id: str = ""
    parent_id: str = ""
    author_id: str = ""
    author_name: str = ""
    author_username: str = ""
    text: str | None = None
    created_at: datetime | None = None
    event_at: datetime | None = None
    ad_id: str = ""
    permalink: str = ""
    hidden: bool | None = None
    mention: bool = False
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def from_account(self):
        return bool(self.author_id) and self.author_id == self.account_id

    @property
    def author_label(self):
        """How the person is called: their name, else @username."""
        if self.author_name:
            return self.author_name
        return f"@{self.author_username}" if self.author_username else ""


def change_from_event(event):
    """The :class:`CommentChange` of a parsed webhook event, or None for an
    event that is not about one comment (a caption mention: see
    :func:`mention_target`)."""
    if isinstance(event, PageCommentEvent):
        verb = VERB_SPELLINGS.get(event.verb.lower(), event.verb.lower())
        verb = verb if verb in VERB_RANK else "add"
        return CommentChange(
            platform=FACEBOOK,
            account_id=event.account_id,
            comment_id=event.comment_id,
            verb=verb,
            object_id=event.post_id,
            parent_id=event.parent_id if event.is_reply else "",
            author_id=event.from_id,
            author_name=event.from_name,
            text=event.message if verb in ("add", "edited") else None,
            created_at=event.created_time if verb == "add" else None,
            event_at=event.created_time or event.entry_time,
            ad_id=as_id((event.item.get("value") or {}).get("ad_id")),
        )
    if isinstance(event, InstagramCommentEvent):
        return CommentChange(
            platform=INSTAGRAM,
            account_id=event.account_id,
            comment_id=event.comment_id,
            object_id=event.media_id,
            parent_id=event.parent_id,
            author_id=event.from_id,
            author_username=event.from_username,
            text=event.text,
            created_at=event.entry_time,
            event_at=event.entry_time,
            ad_id=event.ad_id,
        )
    return None


def mention_target(event):
    """(media id, comment id) an Instagram mention points at ("" when the
    mention is in the caption), or None for another event."""
    if isinstance(event, InstagramMentionEvent):
        return event.media_id, event.comment_id
    return None


def supersedes(event_at, verb, last_at, last_verb):
    """Does a change (``event_at``, ``verb``) win over the last one applied
    (``last_at``, ``last_verb``)? Newer wins; a change of the same second
    wins when its verb ranks at least as high; a removal is final."""
    if last_verb == "remove":
        return False
    if last_at is None or event_at is None:
        return True
    if event_at != last_at:
        return event_at > last_at
    return VERB_RANK.get(verb, 0) >= VERB_RANK.get(last_verb, 0)


def change_from_read(platform, account_id, node, object_id="", *, mention=False):
    """A comment read from Graph (history import, a mentioned comment) as a
    :class:`CommentChange` dated at its creation."""
    if not isinstance(node, dict) or not as_id(node.get("id")):
        raise UnknownGraphError("Meta answered a comment without its id")
    author = node.get("from") if isinstance(node.get("from"), dict) else {}
    if platform == FACEBOOK:
        parent = node.get("parent") if isinstance(node.get("parent"), dict) else {}
        created = parse_time(node.get("created_time"))
        return CommentChange(
            platform=FACEBOOK,
            account_id=account_id,
            comment_id=as_id(node["id"]),
            object_id=object_id,
            parent_id=as_id(parent.get("id")),
            author_id=as_id(author.get("id")),
            author_name=_text(author.get("name")),
            text=_text(node.get("message")),
            created_at=created,
            event_at=created,
            permalink=_text(node.get("permalink_url")),
            hidden=bool(node.get("is_hidden")),
            mention=mention,
        )
    media = node.get("media") if isinstance(node.get("media"), dict) else {}
    created = parse_time(node.get("timestamp"))
    return CommentChange(
        platform=INSTAGRAM,
        account_id=account_id,
        comment_id=as_id(node["id"]),
        verb="mention" if mention else "add",
        object_id=object_id or as_id(media.get("id")),
        parent_id=as_id(node.get("parent_id")),
        author_id=as_id(author.get("id")),
        author_username=_text(author.get("username") or node.get("username")),
        text=_text(node.get("text")),
        created_at=created,
        event_at=created,
        permalink=_text(media.get("permalink")) if mention else "",
        hidden=bool(node.get("hidden")),
        mention=mention,
    )


#: What a person wrote in a comment's webhook (§4.5): its words and the
#: photo or video attached to it.
WORDS_KEYS = ("message", "text", "photo", "video")


def without_words(record):
    """A stored comment event (:meth:`WebhookEvent.to_record`) without what
    the person wrote: still the same change of the same comment (its ids,
    verb and times order it), so that replaying it ends in the same state."""
    item = record.get("item") if isinstance(record, dict) else None
    value = item.get("value") if isinstance(item, dict) else None
    if not isinstance(value, dict):
        return record
    value = {key: kept for key, kept in value.items() if key not in WORDS_KEYS}
    return {**record, "item": {**item, "value": value}}


def post_url(platform, object_id, permalink=""):
    """Where a person opens the post or media: Meta's permalink when known,
    else the Facebook post URL built from its ``{page}_{post}`` id."""
    if permalink and permalink.startswith("https://"):
        return permalink
    if platform == FACEBOOK and "_" in (object_id or ""):
        page, post = object_id.split("_", 1)
        return f"https://www.facebook.com/{page}/posts/{post}"
    return ""


def comment_url(platform, object_id, comment_id, permalink=""):
    """A link to the comment itself (Facebook: the post with the comment
    open), or to its post."""
    if permalink and permalink.startswith("https://"):
        return permalink
    url = post_url(platform, object_id)
    if url and platform == FACEBOOK and comment_id:
        return f"{url}?comment_id={comment_id.split('_')[-1]}"
    return url


def clean_reply(text, *, private=False, platform=FACEBOOK):
    """The text of a reply, trimmed, or ValueError: empty, or longer than
    Meta takes (a private reply is a message: 2000 characters on Messenger,
    1000 bytes on Instagram)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("empty")
    if private and platform == INSTAGRAM:
        if len(text.encode("utf-8")) > INSTAGRAM_MAX_BYTES:
            raise ValueError("too_long")
    elif len(text) > (MESSENGER_MAX_CHARS if private else COMMENT_MAX_CHARS):
        raise ValueError("too_long")
    return text


def private_reply_refusal(created_at, now, *, already, from_account=False):
    """Why a private reply to a comment cannot be sent (``already``,
    ``too_old``, ``own_comment``), or None."""
    if from_account:
        return "own_comment"
    if already:
        return "already"
    if created_at and now - created_at > PRIVATE_REPLY_WINDOW:
        return "too_old"
    return None


# ------------------------------------------------------------------ calls


def reply_to_comment(client, platform, comment_id, message):
    """Answer a comment publicly, as the Page / account: Facebook
    ``POST /{comment-id}/comments``, Instagram ``POST /{id}/replies``.
    Returns ``{"id": the reply's id}``."""
    edge = "comments" if platform == FACEBOOK else "replies"
    answer = client.post(
        f"{node_id(comment_id, 'comment id')}/{edge}", data={"message": message}
    )
    if not isinstance(answer, dict) or not as_id(answer.get("id")):
        raise UnknownGraphError("Meta answered a reply without its id")
    return {"id": as_id(answer["id"])}


def private_reply(client, page_id, comment_id, message):
    """A private reply: a message to the commenter, anchored on the comment
    (``recipient.comment_id``; Instagram through the linked Page)."""
    answer = client.post(
        f"{node_id(page_id, 'page id')}/messages",
        json_body={
            "recipient": {"comment_id": node_id(comment_id, "comment id")},
            "message": {"text": message},
        },
    )
    if not isinstance(answer, dict) or not answer.get("message_id"):
        raise UnknownGraphError("Meta answered a private reply without its id")
    return {
        "message_id": str(answer["message_id"]),
        "recipient_id": as_id(answer.get("recipient_id")),
    }


def set_comment_hidden(client, platform, comment_id, hidden):
    """Hide or show a comment (Facebook ``is_hidden``, Instagram ``hide``)."""
    name = "is_hidden" if platform == FACEBOOK else "hide"
    answer = client.post(
        node_id(comment_id, "comment id"),
        data={name: "true" if hidden else "false"},
        idempotent=True,
    )
    return {"success": bool(isinstance(answer, dict) and answer.get("success"))}


def delete_comment(client, platform, comment_id):
    """Delete a comment (our own reply) at Meta."""
    answer = client.delete(node_id(comment_id, "comment id"))
    return {"success": bool(isinstance(answer, dict) and answer.get("success"))}


def get_post(client, platform, post_id):
    """A post (Facebook) or media (Instagram) read by its id: (id, text,
    created, permalink), as :func:`post_of_read`."""
    fields = FACEBOOK_POST_FIELDS if platform == FACEBOOK else INSTAGRAM_MEDIA_FIELDS
    return post_of_read(
        platform, client.get(node_id(post_id, "post id"), {"fields": fields})
    )


def posts_page(client, platform, account_id, *, since=None, after=None, limit=25):
    """One page of an account's posts (Facebook ``/feed``) or media
    (Instagram ``/media``), newest first: (posts, next cursor or None). A
    page at a time, so an import stores where it stopped."""
    if platform == FACEBOOK:
        path, fields = f"{node_id(account_id, 'page id')}/feed", FACEBOOK_POST_FIELDS
    else:
        path = f"{node_id(account_id, 'instagram account id')}/media"
        fields = INSTAGRAM_MEDIA_FIELDS
    params = {"fields": fields, "limit": limit}
    if since:
        params["since"] = int(since.timestamp())
    return read_page(client, path, params, after)


def comments_page(client, platform, object_id, *, after=None, limit=50):
    """One page of the comments of a post or media: (nodes, next cursor).
    Facebook's ``filter=stream`` lists replies too; Instagram lists
    top-level comments, their replies come from :func:`replies_page`."""
    params = {"limit": limit}
    if platform == FACEBOOK:
        params.update(
            fields=FACEBOOK_COMMENT_FIELDS, filter="stream", order="chronological"
        )
    else:
        params["fields"] = INSTAGRAM_COMMENT_FIELDS
    return read_page(client, f"{node_id(object_id, 'post id')}/comments", params, after)


def replies_page(client, comment_id, *, after=None, limit=50):
    """One page of the replies of an Instagram comment."""
    params = {"fields": INSTAGRAM_COMMENT_FIELDS, "limit": limit}
    return read_page(
        client, f"{node_id(comment_id, 'comment id')}/replies", params, after
    )


def mentioned(client, ig_id, media_id, comment_id=""):
    """What an Instagram @mention points at, read through the mentioned
    account (§4.5): the comment (``mentioned_comment``) or, for a caption,
    the media (``mentioned_media``), as a :class:`CommentChange` whose
    ``comment_id`` is the media's for a caption. Meta gives the author's
    username there, not their id."""
    ig_id = node_id(ig_id, "instagram account id")
    if comment_id:
        fields = (
            f"mentioned_comment.comment_id({node_id(comment_id, 'comment id')})"
            "{id,text,timestamp,username,media{id,permalink}}"
        )
        answer = client.get(ig_id, {"fields": fields})
        node = answer.get("mentioned_comment") if isinstance(answer, dict) else None
        return change_from_read(INSTAGRAM, ig_id, node, media_id, mention=True)
    fields = (
        f"mentioned_media.media_id({node_id(media_id, 'media id')})"
        "{id,caption,timestamp,username,permalink}"
    )
    answer = client.get(ig_id, {"fields": fields})
    node = answer.get("mentioned_media") if isinstance(answer, dict) else None
    if not isinstance(node, dict) or not as_id(node.get("id")):
        raise UnknownGraphError("Meta answered a mention without its media")
    created = parse_time(node.get("timestamp"))
    return CommentChange(
        platform=INSTAGRAM,
        account_id=ig_id,
        comment_id=as_id(node["id"]),
        verb="mention",
        object_id=as_id(node["id"]),
        author_username=_text(node.get("username")),
        text=_text(node.get("caption")),
        created_at=created,
        event_at=created,
        permalink=_text(node.get("permalink")),
        mention=True,
    )


#: Fields of the Instagram User Profile API (§6.3): readable only once the
#: person has messaged the account, error 230 before ("User consent is
#: required to access user profile"): never required.
PROFILE_FIELDS = "name,username,profile_pic"
#: Fields of Messenger's User Profile API (a Page-scoped id, §6.1): the
#: person's first and last name and picture, once they wrote to the Page.
MESSENGER_PROFILE_FIELDS = "first_name,last_name,profile_pic"


def get_profile(client, scoped_id, platform=INSTAGRAM):
    """A person's profile by their Instagram-scoped (or, ``platform``
    ``facebook``, Page-scoped) id: ``{"name", "username", "picture_url"}``
    (empty strings when unset)."""
    fields = PROFILE_FIELDS if platform == INSTAGRAM else MESSENGER_PROFILE_FIELDS
    answer = client.get(node_id(scoped_id, "scoped id"), {"fields": fields})
    if not isinstance(answer, dict):
        raise UnknownGraphError("Meta answered a profile without fields")
    picture = _text(answer.get("profile_pic"))
    full_name = " ".join(
        part
        for part in (_text(answer.get("first_name")), _text(answer.get("last_name")))
        if part
    )
    return {
        "name": _text(answer.get("name")) or full_name,
        "username": _text(answer.get("username")),
        "picture_url": picture if picture.startswith("https://") else "",
    }


def post_of_read(platform, node):
    """(id, text, created, permalink) of a post or media read from Graph."""
    if not isinstance(node, dict) or not as_id(node.get("id")):
        raise UnknownGraphError("Meta answered a post without its id")
    if platform == FACEBOOK:
        return (
            as_id(node["id"]),
            _text(node.get("message")),
            parse_time(node.get("created_time")),
            _text(node.get("permalink_url")),
        )
    return (
        as_id(node["id"]),
        _text(node.get("caption")),
        parse_time(node.get("timestamp")),
        _text(node.get("permalink")),
    )


def read_page(client, path, params, after):
    params = dict(params)
    if after:
        params["after"] = after
    answer = client.get(path, params)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, list):
        raise UnknownGraphError("Paginated answer without a data list", path=path)
    paging = answer.get("paging") if isinstance(answer.get("paging"), dict) else {}
    cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
    following = cursors.get("after") if paging.get("next") else None
    if following and following == after:
        raise UnknownGraphError(
            "Graph pagination returned the same cursor twice", path=path
        )
    return data, following or None


def _text(value):
    return value if isinstance(value, str) else ""
