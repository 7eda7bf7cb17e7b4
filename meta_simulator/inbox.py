"""Messenger and Instagram Direct conversations and the Send API's rules
(docs/meta-facts.md §6, §13).

* A conversation is a Page (or its Instagram account) and a person (PSID or
  IGSID); it remembers the person's last inbound message and whether it
  began with a click-to-message ad.
* The Send API answers ``RESPONSE`` (or no ``messaging_type``, as Instagram
  examples do) within 24 hours of the last inbound message, or 7 days after
  an ad opened the conversation; ``MESSAGE_TAG`` + ``HUMAN_AGENT`` within
  7 days when the app has the Human Agent feature; otherwise error 10 with
  subcode 2018278 (Messenger) or 2534022 (Instagram, HTTP 403). The removed
  tags answer error 100.
* Every message the Page sends is echoed (``is_echo``, the app id, the
  metadata passed).
"""

from dataclasses import dataclass, field

from . import errors

MESSENGER = "messenger"
INSTAGRAM = "instagram"
STANDARD_SECONDS = 24 * 3600
SEVEN_DAYS = 7 * 86400
REMOVED_TAGS = frozenset(
    {"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"}
)
MESSENGER_MAX_CHARS = 2000
INSTAGRAM_MAX_BYTES = 1000


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
