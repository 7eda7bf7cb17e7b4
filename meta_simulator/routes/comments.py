"""Page posts, Instagram media, their comments, replies and moderation
(docs/meta-facts.md §6.3); private replies go through the Send API
(:mod:`.inbox`).

Reads need ``pages_read_engagement`` (Facebook) or ``instagram_basic``
(Instagram); replying, hiding and deleting ``pages_manage_engagement`` or
``instagram_manage_comments``; a private reply ``pages_messaging``. Page
calls take the Page token, as Meta asks for them.
"""

import datetime as dt

from .. import errors
from ..comments import (
    COMMENT_FILTERS,
    COMMENT_ORDERS,
    FACEBOOK,
    comment_full,
    post_full,
)
from ..graph import ROUTES
from ..paging import paginate
from ..store import (
    COMMENT_NODE,
    IG_COMMENT_NODE,
    IG_NODE,
    IG_PERSON_NODE,
    MEDIA_NODE,
    PAGE_NODE,
    POST_NODE,
)

POST_DEFAULT_FIELDS = ("created_time", "message", "id")
MEDIA_DEFAULT_FIELDS = ("id",)
COMMENT_DEFAULT_FIELDS = ("created_time", "from", "message", "id")
IG_COMMENT_DEFAULT_FIELDS = ("timestamp", "text", "id")


def _read_scope(call, platform):
    if platform == FACEBOOK:
        call.require_scope("pages_read_engagement")
    else:
        call.require_scope("instagram_basic")
        call.require_scope("instagram_manage_comments")


def _manage_scope(call, platform):
    call.require_page_token()
    if platform == FACEBOOK:
        call.require_scope("pages_manage_engagement")
    else:
        call.require_scope("instagram_manage_comments")


def _time(call, name):
    """``since`` / ``until``: unix seconds (Graph also takes its ISO
    spelling); None when absent."""
    value = call.param(name)
    if value in (None, ""):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        pass
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise errors.invalid_param(
            f"Param {name} must be a unix timestamp or a date"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return int(moment.timestamp())


def _posts(call, account_id, platform, default_fields, node_type):
    """An account's posts or media, newest first, ``since`` / ``until``
    bounding ``created_time`` (both included, §6.3)."""
    _read_scope(call, platform)
    sim = call.sim
    since, until = _time(call, "since"), _time(call, "until")
    posts = sorted(
        (
            p
            for p in sim.social_posts.values()
            if p.account_id == account_id and p.platform == platform
        ),
        key=lambda p: (-p.created_time, p.id),
    )
    return paginate(
        call,
        [(-p.created_time, p.id) for p in posts],
        posts,
        lambda p: call.render(post_full(p), default_fields, node_type),
        accept=lambda p: (
            (since is None or p.created_time >= since)
            and (until is None or p.created_time <= until)
        ),
    )


@ROUTES.node("GET", PAGE_NODE, "feed")
def page_feed(call):
    call.require_page_token()
    return _posts(call, call.node.id, FACEBOOK, POST_DEFAULT_FIELDS, POST_NODE)


@ROUTES.node("GET", IG_NODE, "media")
def ig_media(call):
    return _posts(call, call.node.id, "instagram", MEDIA_DEFAULT_FIELDS, MEDIA_NODE)


@ROUTES.node("GET", POST_NODE)
@ROUTES.node("GET", MEDIA_NODE)
def post_node(call):
    """One post or media, with the fields its listing offers."""
    post = call.node
    _read_scope(call, post.platform)
    default, node_type = (
        (POST_DEFAULT_FIELDS, POST_NODE)
        if post.platform == FACEBOOK
        else (MEDIA_DEFAULT_FIELDS, MEDIA_NODE)
    )
    return call.render(post_full(post), default, node_type)


def _enum(call, name, allowed):
    """An enum parameter, refused as Meta does when it is not one of
    ``allowed`` (error 100)."""
    value = call.param(name) or allowed[0]
    if value not in allowed:
        choices = ", ".join(allowed)
        raise errors.invalid_param(
            f'Param {name} must be one of {{{choices}}} - got "{value}"'
        )
    return value


def _comments(call, comments, platform):
    """One page of ``comments``, oldest first unless
    ``order=reverse_chronological``."""
    order = _enum(call, "order", COMMENT_ORDERS)
    reverse = order == "reverse_chronological"
    comments = sorted(comments, key=lambda c: (c.created_time, c.id), reverse=reverse)
    keys = [
        (-c.created_time, _neg(c.id)) if reverse else (c.created_time, c.id)
        for c in comments
    ]
    default, node_type = (
        (COMMENT_DEFAULT_FIELDS, COMMENT_NODE)
        if platform == FACEBOOK
        else (IG_COMMENT_DEFAULT_FIELDS, IG_COMMENT_NODE)
    )
    return paginate(
        call,
        keys,
        comments,
        lambda c: call.render(comment_full(c, call.sim), default, node_type),
    )


def _neg(text):
    return "".join(chr(0x10FFFF - ord(char)) for char in text)


def _visible(call, ids):
    found = (call.sim.social_comments.get(i) for i in ids)
    return [c for c in found if c is not None and not c.deleted]


@ROUTES.node("GET", POST_NODE, "comments")
def post_comments(call):
    """``filter=toplevel`` (default) or ``stream`` (replies too)."""
    _read_scope(call, FACEBOOK)
    top = _visible(call, call.node.comment_ids)
    if _enum(call, "filter", COMMENT_FILTERS) == "stream":
        every = []
        for comment in top:
            every.append(comment)
            every.extend(_visible(call, comment.replies))
        top = every
    return _comments(call, top, FACEBOOK)


@ROUTES.node("GET", MEDIA_NODE, "comments")
def media_comments(call):
    _read_scope(call, "instagram")
    return _comments(call, _visible(call, call.node.comment_ids), "instagram")


@ROUTES.node("GET", COMMENT_NODE, "comments")
def comment_replies_facebook(call):
    _read_scope(call, FACEBOOK)
    return _comments(call, _visible(call, call.node.replies), FACEBOOK)


@ROUTES.node("GET", IG_COMMENT_NODE, "replies")
def comment_replies_instagram(call):
    _read_scope(call, "instagram")
    return _comments(call, _visible(call, call.node.replies), "instagram")


def _alive(call):
    if call.node.deleted:
        raise errors.unknown_object(call.method, call.node.id)
    return call.node


@ROUTES.node("GET", COMMENT_NODE)
@ROUTES.node("GET", IG_COMMENT_NODE)
def comment_node(call):
    comment = _alive(call)
    _read_scope(call, comment.platform)
    default, node_type = (
        (COMMENT_DEFAULT_FIELDS, COMMENT_NODE)
        if comment.platform == FACEBOOK
        else (IG_COMMENT_DEFAULT_FIELDS, IG_COMMENT_NODE)
    )
    return call.render(comment_full(comment, call.sim), default, node_type)


def _message(call):
    message = call.param("message")
    if not isinstance(message, str) or not message.strip():
        raise errors.invalid_param(
            "Param message must be non-empty UTF-8 encoded string"
        )
    return message


@ROUTES.node("POST", COMMENT_NODE, "comments")
def reply_facebook(call):
    """A Page answers a comment: a reply on the thread of its top comment."""
    comment = _alive(call)
    _manage_scope(call, FACEBOOK)
    reply = call.sim._social_reply(comment, _message(call))
    return {"id": reply.id}


@ROUTES.node("POST", IG_COMMENT_NODE, "replies")
def reply_instagram(call):
    """Instagram answers top-level, visible comments only (§6.3)."""
    comment = _alive(call)
    _manage_scope(call, "instagram")
    if comment.parent_id:
        raise errors.invalid_param("Replies to a reply are not supported")
    if comment.hidden:
        raise errors.invalid_param("Cannot reply to a hidden comment")
    reply = call.sim._social_reply(comment, _message(call))
    return {"id": reply.id}


def _flag(value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise errors.invalid_param("Param must be a boolean")


@ROUTES.node("POST", COMMENT_NODE)
@ROUTES.node("POST", IG_COMMENT_NODE)
def moderate(call):
    """Hide or show (Facebook ``is_hidden``, Instagram ``hide``)."""
    comment = _alive(call)
    _manage_scope(call, comment.platform)
    name = "is_hidden" if comment.platform == FACEBOOK else "hide"
    value = call.param(name)
    if value is None:
        raise errors.invalid_param(f"The parameter {name} is required")
    call.sim._social_set_hidden(comment, _flag(value))
    return {"success": True}


@ROUTES.node("DELETE", COMMENT_NODE)
@ROUTES.node("DELETE", IG_COMMENT_NODE)
def delete(call):
    comment = _alive(call)
    _manage_scope(call, comment.platform)
    call.sim._social_remove(comment)
    return {"success": True}


@ROUTES.node("GET", IG_PERSON_NODE)
def ig_person(call):
    """The Instagram User Profile API: only for people who messaged the
    account; a commenter alone gets error 230 (§6.3)."""
    call.require_page_token()
    call.require_scope("instagram_basic")
    call.require_scope("instagram_manage_messages")
    person = call.node
    if not person.messaged:
        raise errors.GraphError(
            230, errors.numbered(230, "User consent is required to access user profile")
        )
    return call.render(person.profile(), ("name", "id"), IG_PERSON_NODE)
