"""The Send API and the Conversations API of Messenger and Instagram Direct
(docs/meta-facts.md §6, §13).

``POST {page}/messages`` (Page token, ``pages_messaging``) sends a private
reply (``recipient.comment_id``) or a message in a conversation
(``recipient.id``, a PSID or an IGSID; Instagram also needs
``instagram_manage_messages``). ``GET {page}/conversations``,
``GET {conversation}``, ``GET {conversation}/messages`` and
``GET {message}`` read conversations: Page token, Messenger
``pages_messaging`` + ``pages_read_engagement`` + ``pages_manage_metadata``,
Instagram ``instagram_basic`` + ``instagram_manage_messages`` +
``pages_manage_metadata``; 2 calls per second per Page or Instagram account
when ``enforce_usage_limits`` is on (then 613 with the usage headers).
"""

from urllib.parse import urlencode

from .. import errors, inbox
from ..comments import FACEBOOK, private_reply_refusal
from ..faults import Throttle
from ..fields import FieldSel, project
from ..graph import ROUTES
from ..paging import encode_cursor, paginate, parse_limit
from ..store import PAGE_NODE, PAGE_PERSON_NODE

CONVERSATION_DEFAULT_FIELDS = ("updated_time", "id")
MESSAGE_DEFAULT_FIELDS = ("id", "created_time")
PLATFORMS = (inbox.MESSENGER, inbox.INSTAGRAM)
_SCOPES = {
    inbox.MESSENGER: (
        "pages_messaging",
        "pages_read_engagement",
        "pages_manage_metadata",
    ),
    inbox.INSTAGRAM: (
        "instagram_basic",
        "instagram_manage_messages",
        "pages_manage_metadata",
    ),
}


# --- the Send API -------------------------------------------------------------


@ROUTES.node("POST", PAGE_NODE, "messages")
def page_messages(call):
    """The Send API: a private reply (``recipient.comment_id``) or a message
    in a conversation (``recipient.id``, a PSID or an IGSID)."""
    call.require_page_token()
    call.require_scope("pages_messaging")
    recipient = call.json_param("recipient")
    message = call.json_param("message")
    if not isinstance(recipient, dict) or not recipient:
        raise errors.invalid_param("param recipient must be non-empty.")
    if not isinstance(message, dict) or not message:
        raise errors.invalid_param("param message must be non-empty.")
    comment_id = recipient.get("comment_id")
    if not comment_id:
        return _send_to_person(call, recipient, message)
    if not str(message.get("text") or "").strip():
        raise errors.invalid_param("param message must be non-empty.")
    comment = call.sim.social_comments.get(str(comment_id))
    if comment is None or comment.deleted or comment.page_id != call.node.id:
        raise errors.unknown_object("POST", str(comment_id))
    if comment.platform != FACEBOOK:
        call.require_scope("instagram_manage_comments")
    refusal = private_reply_refusal(comment, call.sim)
    if refusal is not None:
        raise refusal
    sent = call.sim._social_private_reply(comment, str(message["text"]))
    return {"recipient_id": comment.author_id, "message_id": sent["message_id"]}


def _send_to_person(call, recipient, message):
    """A message to a person: the thread is ours, the window is open, the
    content is text or one attachment (§6.2, §13)."""
    sim = call.sim
    user_id = str(recipient.get("id") or "")
    conversation = sim.dm_conversations.get((call.node.id, user_id))
    if conversation is None:
        raise errors.GraphError(
            100,
            errors.numbered(100, "No matching user found"),
            subcode=2018001,
        )
    if conversation.channel == inbox.INSTAGRAM:
        call.require_scope("instagram_manage_messages")
    refusal = inbox.check_owner(conversation, sim.app_id) or inbox.check_send(
        conversation,
        sim.clock.now(),
        call.param("messaging_type"),
        call.param("tag"),
        sim.human_agent_enabled,
    )
    if refusal is not None:
        raise refusal
    content = inbox.check_message(sim, conversation, message)
    metadata = message.get("metadata")
    sent = sim._dm_sent(
        conversation,
        text=content.text,
        attachments=content.attachments,
        files=content.files,
        sent_attachment=message.get("attachment"),
        tag=call.param("tag"),
        metadata=str(metadata) if metadata is not None else None,
    )
    # The call holds the store's lock and the receiver may call back: the
    # echo goes in the background.
    sim._dm_deliver(conversation, "echo", sim._dm_echo(sent), background=True)
    answer = {"recipient_id": user_id, "message_id": sent.id}
    if content.attachment_id:
        answer["attachment_id"] = content.attachment_id
    return answer


# --- the Conversations API ----------------------------------------------------


def _allow(call, channel, account_id):
    """Page token, the channel's permissions, and 2 calls per second per
    Page or Instagram account (§13; 613 [U])."""
    call.require_page_token()
    for scope in _SCOPES[channel]:
        call.require_scope(scope)
    sim = call.sim
    if not sim.enforce_usage_limits:
        return
    now = sim.clock.now()
    lifts = sim.dm_reads.take(f"{channel}:{account_id}", now)
    if lifts is not None:
        page_id = call.bucket[0] if call.bucket else None
        call.throttle = Throttle(613, None, 1 / 60, page_id, until=lifts)
        raise errors.throttled(613)


@ROUTES.node("GET", PAGE_NODE, "conversations", bucket="messenger")
def page_conversations(call):
    """The Page's (``platform=messenger``, the default) or its Instagram
    account's (``platform=instagram``) conversations, last updated first;
    ``user_id`` picks one person's."""
    platform = call.param("platform") or inbox.MESSENGER
    if platform not in PLATFORMS:
        raise errors.invalid_param(
            f'Param platform must be one of {{messenger, instagram}} - got "{platform}"'
        )
    page = call.node
    account_id = page.ig_account_id if platform == inbox.INSTAGRAM else page.id
    if not account_id:
        raise errors.invalid_param("This Page has no Instagram account")
    _allow(call, platform, account_id)
    user_id = call.param("user_id")
    found = sorted(
        (
            c
            for c in call.sim.dm_conversations.values()
            if c.page_id == page.id
            and c.channel == platform
            and c.listed()
            and (not user_id or c.user_id == str(user_id))
        ),
        key=lambda c: (-c.updated, -c.touched),
    )
    keys = [(-int(c.updated * 1000), -c.touched) for c in found]
    return paginate(call, keys, found, lambda c: _conversation(call, c))


@ROUTES.node("GET", inbox.CONVERSATION_NODE, bucket="messenger")
def conversation_node(call):
    conversation = call.node
    _allow(call, conversation.channel, conversation.account_id)
    return _conversation(call, conversation)


@ROUTES.node("GET", inbox.CONVERSATION_NODE, "messages", bucket="messenger")
def conversation_messages(call):
    """Every message id, newest first; the content of the 20 latest."""
    conversation = call.node
    _allow(call, conversation.channel, conversation.account_id)
    listed = conversation.listed()
    readable = conversation.readable()
    keys = [(-int(m.time * 1000), -m.seq) for m in listed]
    selection = call.selection
    return paginate(
        call,
        keys,
        listed,
        lambda m: _message(call.sim, m, selection, m.id in readable),
    )


@ROUTES.node("GET", inbox.MESSAGE_NODE, bucket="messenger")
def message_node(call):
    message = call.node
    conversation = message.conversation
    _allow(call, conversation.channel, conversation.account_id)
    if message.deleted or message.id not in conversation.readable():
        raise inbox.message_deleted()
    return _message(call.sim, message, call.selection, True)


def _message(sim, message, selection, readable):
    if not readable:
        # Beyond the 20 latest only the id is given (§6.1 [R]).
        return project({"id": message.id}, selection, ("id",), "Message", strict=False)
    full, selection = _edges(inbox.message_full(sim, message), selection)
    return project(full, selection, MESSAGE_DEFAULT_FIELDS, "Message")


def _edges(full, selection):
    """Sub-fields of a list field (``participants``, ``to``,
    ``attachments``, ``shares``: ``{"data": [...]}``) pick the fields of its
    items, as on any Graph edge."""
    if not selection:
        return full, selection
    full, picked = dict(full), {}
    for name, sel in selection.items():
        value = full.get(name)
        if sel.sub is not None and isinstance(value, dict) and "data" in value:
            items = [
                project(item, sel.sub, (), name, strict=False) for item in value["data"]
            ]
            full[name] = {**value, "data": items}
            sel = FieldSel(name, None, sel.modifiers)
        picked[name] = sel
    return full, picked


def _conversation(call, conversation):
    """A conversation with its fields; ``messages.limit(n){…}`` is a paged
    connection of its own, newest first."""
    full, selection = _edges(
        inbox.conversation_full(call.sim, conversation), call.selection
    )
    if not selection or "messages" not in selection:
        return project(full, selection, CONVERSATION_DEFAULT_FIELDS, "Conversation")
    rest = {k: v for k, v in selection.items() if k != "messages"}
    out = project(full, rest or {"id": FieldSel("id")}, (), "Conversation")
    messages = _nested_messages(call, conversation, selection["messages"])
    ordered = {}
    for name in selection:
        if name == "messages":
            ordered[name] = messages
        elif name in out:
            ordered[name] = out[name]
    for name, value in out.items():
        ordered.setdefault(name, value)
    return ordered


def _nested_messages(call, conversation, sel):
    listed = conversation.listed()
    readable = conversation.readable()
    limit = parse_limit(sel.modifiers.get("limit"))
    picked = listed[:limit]
    body = {"data": [_message(call.sim, m, sel.sub, m.id in readable) for m in picked]}
    if not picked:
        return body
    keys = [(-int(m.time * 1000), -m.seq) for m in picked]
    cursors = {"before": encode_cursor(keys[0]), "after": encode_cursor(keys[-1])}
    paging = {"cursors": cursors}
    if len(listed) > limit:
        params = {"limit": limit, "after": cursors["after"]}
        if sel.sub:
            params["fields"] = _fields_text(sel.sub)
        token = call.query.get("access_token")
        if isinstance(token, str):
            params["access_token"] = token
        version = call.version or call.served_version
        paging["next"] = (
            f"{call.sim.base_url}/{version}/{conversation.id}/messages?"
            f"{urlencode(params)}"
        )
    body["paging"] = paging
    return body


def _fields_text(selection) -> str:
    parts = []
    for sel in selection.values():
        text = sel.name
        for name, args in sel.modifiers.items():
            text += f".{name}({args})"
        if sel.sub:
            text += "{" + _fields_text(sel.sub) + "}"
        parts.append(text)
    return ",".join(parts)


# --- Messenger's User Profile API ------------------------------------------


@ROUTES.node("GET", PAGE_PERSON_NODE)
def page_person(call):
    """``GET {psid}``: the name and picture of someone who wrote to the
    Page (Page token, ``pages_messaging``; §6.1)."""
    call.require_page_token()
    call.require_scope("pages_messaging")
    person = call.node
    return call.render(person.profile(), inbox.PROFILE_DEFAULT_FIELDS, PAGE_PERSON_NODE)
