"""Meta object ids: how they arrive, and which ones may enter a Graph path.

Webhook deliveries and Graph answers carry ids as strings or as JSON numbers
(https://developers.facebook.com/docs/graph-api/webhooks/getting-started: the
Lead Ads sample sends numbers). An id that ends up in a Graph URL must be a
real Meta object id: a delivery saying ``leadgen_id: "../../me/accounts"``
must never become a request for another object.
"""

import re

from .errors import MalformedPayloadError

#: Ids of the Graph objects the addon addresses: numeric (Pages, Instagram
#: accounts, forms, leads, media), ``<post>_<comment>`` comment ids and
#: ``act_<digits>`` ad accounts
#: (https://developers.facebook.com/docs/marketing-api/reference/ad-account/).
_NODE_ID_RE = re.compile(r"\A(?:act_)?[0-9]{1,32}(?:_[0-9]{1,32}){0,2}\Z")


#: Conversation ids: ``t_<digits>`` on Messenger, an opaque base64url token
#: on Instagram (``aWdfZAG06…``); never a slash, a dot or a query character
#: (https://developers.facebook.com/docs/graph-api/reference/conversation/).
_CONVERSATION_ID_RE = re.compile(r"\A(?:t_[0-9]{1,32}|[A-Za-z0-9_-]{8,256}={0,2})\Z")


class InvalidIdError(MalformedPayloadError):
    """A value that should be a Meta object id is not one."""


def as_id(value):
    """An id as Meta sends it (str or JSON number) → str; '' when absent."""
    if value is None or isinstance(value, bool | dict | list):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def is_node_id(value):
    """True when ``value`` has the shape of a Graph object id."""
    return isinstance(value, str) and bool(_NODE_ID_RE.match(value))


def node_id(value, what="object id"):
    """``value`` as a Graph object id, or :class:`InvalidIdError`.

    The error text shows at most a short, printable prefix of the value: it
    may be attacker-controlled and end up in a log or on a screen.
    """
    text = as_id(value)
    if not is_node_id(text):
        shown = "".join(c if c.isprintable() else "?" for c in text[:40])
        raise InvalidIdError(f"{what} {shown!r} is not a Meta object id")
    return text


def conversation_id(value):
    """``value`` as a conversation id, or :class:`InvalidIdError`."""
    text = as_id(value)
    if not (isinstance(text, str) and _CONVERSATION_ID_RE.match(text)):
        shown = "".join(c if c.isprintable() else "?" for c in text[:40])
        raise InvalidIdError(f"conversation id {shown!r} is not a Meta conversation id")
    return text
