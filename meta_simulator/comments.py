"""Posts, media and their comments: the rules shared by the Graph routes and
the simulator facade (docs/meta-facts.md §4.5, §6.3).

* A Facebook Page post is ``{page_id}_{n}``; its comments ``{n}_{m}``, their
  replies too (one level of threads, as on Facebook). An Instagram media and
  its comments have 17-digit ids; Instagram replies answer top-level
  comments only.
* A private reply is one message per comment, within 7 days of it, never to
  the account's own comment (errors 10900 and 10903, [U] in §6.3).
* Every change Meta reports is delivered as a webhook: Facebook ``feed``
  (verbs ``add``, ``edited``, ``remove``, ``hide``, ``unhide``); Instagram
  ``comments`` on creation only, and ``mentions`` when another account's
  caption or comment @mentions the account. A post with an ``ad_id``
  (boosted, an ad) makes every comment webhook come twice, the second with
  the ad (§13).
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from . import errors, payloads
from .store import COMMENT_NODE, IG_COMMENT_NODE, MEDIA_NODE, POST_NODE

FACEBOOK = "facebook"
INSTAGRAM = "instagram"
#: A private reply is possible this long after the comment (§6.3).
PRIVATE_REPLY_SECONDS = 7 * 86400
#: ``filter`` and ``order`` of a ``/comments`` edge (Comments reference, §6.3).
COMMENT_FILTERS = ("toplevel", "stream")
COMMENT_ORDERS = ("chronological", "reverse_chronological")
#: An Instagram @mention: letters, digits, periods and underscores.
_MENTION_RE = re.compile(r"(?<![\w.])@([A-Za-z0-9._]{1,30})")


@dataclass
class Post:
    """A Page post or an Instagram media."""

    id: str
    platform: str
    account_id: str  # the Page or the Instagram account
    page_id: str  # the Page (access and tokens)
    message: str
    created_time: int
    permalink: str
    ad_id: str | None = None
    media_product_type: str = "FEED"
    comment_ids: list = field(default_factory=list)
    #: the author of another account's media (an @mention in its caption)
    author_username: str = ""

    @property
    def node_type(self):
        return POST_NODE if self.platform == FACEBOOK else MEDIA_NODE


@dataclass
class IgPerson:
    """Someone as an Instagram account knows them (their IGSID). Their
    profile is readable only once they have messaged the account (§6.3)."""

    id: str
    page_id: str
    username: str
    name: str = ""
    messaged: bool = False

    def profile(self) -> dict:
        return {
            "id": self.id,
            "name": self.name or None,
            "username": self.username,
            "profile_pic": f"https://scontent.example/ig/people/{self.id}.jpg",
        }


@dataclass
class Comment:
    id: str
    platform: str
    account_id: str
    page_id: str
    post_id: str
    parent_id: str  # "" for a top-level comment
    author_id: str
    author_name: str
    username: str
    text: str
    created_time: int
    hidden: bool = False
    deleted: bool = False
    replies: list = field(default_factory=list)
    private_replies: list = field(default_factory=list)

    @property
    def node_type(self):
        return COMMENT_NODE if self.platform == FACEBOOK else IG_COMMENT_NODE

    @property
    def from_account(self):
        return self.author_id == self.account_id


def iso(timestamp) -> str:
    """Graph's ISO 8601 spelling: ``2026-12-01T10:00:00+0000``."""
    moment = dt.datetime.fromtimestamp(int(timestamp), dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


def mentioned_usernames(text: str) -> list[str]:
    """The usernames ``text`` @mentions, lower-cased, in order, once each."""
    found = []
    for name in _MENTION_RE.findall(text or ""):
        name = name.rstrip(".").lower()
        if name and name not in found:
            found.append(name)
    return found


def post_full(post: Post) -> dict:
    if post.platform == FACEBOOK:
        return {
            "id": post.id,
            "message": post.message,
            "created_time": iso(post.created_time),
            "permalink_url": post.permalink,
        }
    return {
        "id": post.id,
        "caption": post.message,
        "timestamp": iso(post.created_time),
        "permalink": post.permalink,
        "media_product_type": post.media_product_type,
        "media_type": "IMAGE",
    }


def comment_full(comment: Comment, sim) -> dict:
    if comment.platform == FACEBOOK:
        data = {
            "id": comment.id,
            "message": comment.text,
            "created_time": iso(comment.created_time),
            "from": {"id": comment.author_id, "name": comment.author_name},
            "is_hidden": comment.hidden,
            "comment_count": len(_alive(sim, comment.replies)),
            "can_reply_privately": private_reply_refusal(comment, sim) is None,
            "permalink_url": comment_permalink(sim, comment),
            # Meta leaves out an empty field: a top-level comment has none
            "parent": {"id": comment.parent_id} if comment.parent_id else None,
        }
        return data
    data = {
        "id": comment.id,
        "text": comment.text,
        "timestamp": iso(comment.created_time),
        "username": comment.username,
        "from": {"id": comment.author_id, "username": comment.username},
        "hidden": comment.hidden,
        "like_count": 0,
        "media": {"id": comment.post_id},
        "parent_id": comment.parent_id or None,
    }
    return data


def comment_permalink(sim, comment: Comment) -> str:
    post = sim.social_posts.get(comment.post_id)
    if post is None or comment.platform != FACEBOOK:
        return ""
    return f"{post.permalink}?comment_id={comment.id.split('_')[-1]}"


def _alive(sim, ids):
    return [
        i
        for i in ids
        if i in sim.social_comments and not sim.social_comments[i].deleted
    ]


def private_reply_refusal(comment: Comment, sim):
    """The Graph error a private reply to ``comment`` gets, or None."""
    if comment.from_account:
        return errors.GraphError(
            10903, errors.numbered(10903, "This activity can't be replied to")
        )
    if comment.private_replies:
        return errors.GraphError(
            10900, errors.numbered(10900, "Activity already replied to")
        )
    if sim.clock.now() - comment.created_time > PRIVATE_REPLY_SECONDS:
        return errors.GraphError(
            10903, errors.numbered(10903, "This activity can't be replied to")
        )
    return None


# --- webhooks -----------------------------------------------------------------


def feed_change(sim, comment: Comment, verb: str, when: int, ad_id=None) -> dict:
    """The Page ``feed`` delivery of a change of ``comment``."""
    delivery = payloads.feed_comment(
        comment.account_id,
        verb=verb,
        comment_id=comment.id,
        post_id=comment.post_id,
        parent_id=comment.parent_id or None,
        from_id=comment.author_id,
        from_name=comment.author_name,
        message=comment.text,
        created_time=when,
    )
    if ad_id:
        value = delivery["entry"][0]["changes"][0]["value"]
        value["ad_id"] = str(ad_id)
        if "post" in value:
            value["post"]["promotion_status"] = "active"
    return delivery


def instagram_change(sim, comment: Comment, ad_id=None) -> dict:
    return payloads.instagram_comment(
        comment.account_id,
        comment.id,
        comment.text,
        comment.author_id,
        comment.username,
        comment.post_id,
        parent_id=comment.parent_id or None,
        ad_id=ad_id,
        original_media_id=comment.post_id if ad_id else None,
        ad_title="Kampanya" if ad_id else None,
        time=int(comment.created_time),
    )


def deliveries_for(sim, comment: Comment, verb: str, when: int) -> list:
    """The webhooks Meta sends for a change: Instagram only tells of new
    comments; a boosted post or an ad doubles them (§13)."""
    post = sim.social_posts.get(comment.post_id)
    ad_id = post.ad_id if post else None
    if comment.platform == FACEBOOK:
        found = [feed_change(sim, comment, verb, when)]
        if ad_id:
            found.append(feed_change(sim, comment, verb, when, ad_id=ad_id))
        return found
    if verb != "add":
        return []
    found = [instagram_change(sim, comment)]
    if ad_id:
        found.append(instagram_change(sim, comment, ad_id=ad_id))
    return found


# --- mentions -------------------------------------------------------------------


def mention_fields(call, ig) -> dict:
    """``mentioned_comment.comment_id(X){…}`` and
    ``mentioned_media.media_id(X){…}`` of an Instagram account: what another
    account wrote about it, read through the mentioned account (§4.5)."""
    sim = call.sim

    def target(sel, name, pool):
        found_id = (sel.modifiers if sel else {}).get(name, "").strip("'\" ")
        if not found_id:
            raise errors.invalid_param(f"The {name} modifier is required")
        found = pool.get(found_id)
        if found is None or found_id not in sim.social_mentions.get(ig.id, ()):
            raise errors.unknown_object("GET", found_id)
        call.require_scope("instagram_manage_comments")
        return found

    def mentioned_comment(sel):
        comment = target(sel, "comment_id", sim.social_comments)
        post = sim.social_posts[comment.post_id]
        return {
            "id": comment.id,
            "text": comment.text,
            "timestamp": iso(comment.created_time),
            "username": comment.username,
            "like_count": 0,
            "media": {"id": post.id, "permalink": post.permalink},
        }

    def mentioned_media(sel):
        post = target(sel, "media_id", sim.social_posts)
        return {
            "id": post.id,
            "caption": post.message,
            "timestamp": iso(post.created_time),
            "username": post.author_username,
            "permalink": post.permalink,
            "media_type": "IMAGE",
        }

    return {"mentioned_comment": mentioned_comment, "mentioned_media": mentioned_media}
