from odoo import api, models

from ..graph import messaging
from ..graph.times import to_naive_utc
from .discuss_channel import FROM_META, METADATA_PREFIX

#: The kinds of Meta webhook events a conversation receives.
CONVERSATION_KINDS = tuple(
    f"{channel}_{action}"
    for channel in ("messenger", "instagram")
    for action in (
        "message",
        "echo",
        "postback",
        "read",
        "delivery",
        "reaction",
        "referral",
    )
)
#: Meta's reaction words, for a reaction without its emoji.
REACTION_EMOJIS = {
    "love": "❤️",
    "like": "👍",
    "smile": "😆",
    "wow": "😮",
    "sad": "😢",
    "angry": "😠",
    "dislike": "👎",
}


class MetaConversationInbox(models.AbstractModel):
    """The Messenger and Instagram inbox: receives the webhook events of
    conversations (messages, echoes, postbacks, receipts, reactions,
    referrals) and files each in its conversation, a ``discuss.channel`` of
    type ``meta``, through the channel's own steps (find or open it, file a
    message from Meta, move the window, mark the business's messages).
    Handlers are idempotent: Meta redelivers, and the history import may
    have filed a message first."""

    _name = "meta.conversation.inbox"
    _inherit = ["meta.event.consumer"]
    _description = "Meta Conversation Inbox"
    _meta_event_kinds = CONVERSATION_KINDS

    @api.model
    def _meta_handle_event(self, event, inbox_event):
        asset = inbox_event.asset_id
        if not asset or asset.asset_type not in ("page", "instagram"):
            return self.env._("No Page or Instagram account of Odoo has this id.")
        if not event.customer_id or event.customer_id == asset.external_id:
            return self.env._("No customer in this event.")
        channel = (
            self.env["discuss.channel"]
            ._meta_conversation_for(asset, event.channel, event.customer_id)
            .with_context(meta_from_meta=FROM_META)
        )
        if channel.meta_partner_id and not inbox_event.partner_id:
            inbox_event.partner_id = channel.meta_partner_id
        if channel.meta_standby != event.standby and event.action in (
            "message",
            "postback",
        ):
            channel.meta_standby = event.standby
            channel._meta_push_composer()
        handler = getattr(self, f"_meta_on_{event.action}")
        return handler(channel, event) or channel

    @api.model
    def _meta_on_message(self, channel, event):
        existing = channel._meta_message_by_mid(event.mid)
        if event.is_deleted:
            if not existing:
                # Meta may tell the deletion before the message: its trace is
                # kept under its id (a tombstone), so that the message, when
                # it comes, is filed erased (and the history import too)
                existing = channel._meta_post_from_meta(
                    channel.meta_partner_id,
                    "",
                    (),
                    mid=event.mid,
                    date=event.timestamp,
                )
            existing._meta_erase_content(
                self.env._("The customer deleted this message.")
            )
            return existing
        channel._meta_inbound_seen(
            event.timestamp, messaging.referral_ad_id(event.item)
        )
        if existing:
            if existing.meta_erased and event.timestamp:
                # a tombstone: the message takes its own place in time
                # sudo: mail.message - the date of the customer's message
                existing.sudo().date = to_naive_utc(event.timestamp)
            return existing  # a redelivery, or the history import was first
        return channel._meta_post_from_meta(
            channel.meta_partner_id,
            event.text,
            messaging.parts_of(event),
            mid=event.mid,
            date=event.timestamp,
        )

    @api.model
    def _meta_on_echo(self, channel, event):
        """A message the Page sent: ours (recognised by its metadata or its
        message id) gets its id and state; one sent from Meta Business Suite
        or another app is mirrored once, as the business's."""
        existing = channel._meta_message_by_mid(event.mid)
        if existing:
            return existing
        ours = self._meta_echoed_message(channel, event)
        if ours:
            ours._meta_sent(event.mid, event.metadata.rsplit(":", 1)[-1])
            return ours
        author = channel.meta_company_id.partner_id or self.env.company.partner_id
        message = channel._meta_post_from_meta(
            author,
            event.text,
            messaging.parts_of(event),
            mid=event.mid,
            date=event.timestamp,
            note=self.env._("Sent from Meta's inbox or another app."),
        )
        message.meta_delivery_state = "sent"
        return message

    @api.model
    def _meta_echoed_message(self, channel, event):
        """Our own message of ``channel`` an echo names in its metadata."""
        if not event.metadata.startswith(METADATA_PREFIX):
            return self.env["mail.message"]
        message_id = event.metadata[len(METADATA_PREFIX) :].split(":", 1)[0]
        if not message_id.isdigit():
            return self.env["mail.message"]
        # sudo: mail.message - our own message, named by its echo
        return (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("id", "=", int(message_id)),
                    ("model", "=", "discuss.channel"),
                    ("res_id", "=", channel.id),
                ]
            )
        )

    @api.model
    def _meta_on_postback(self, channel, event):
        channel._meta_inbound_seen(
            event.timestamp, messaging.referral_ad_id(event.item)
        )
        if channel._meta_message_by_mid(event.mid):
            return None
        return channel._meta_post_from_meta(
            channel.meta_partner_id,
            self.env._("Pressed “%(button)s”", button=event.title or event.payload),
            (),
            mid=event.mid or False,
            date=event.timestamp,
        )

    @api.model
    def _meta_on_referral(self, channel, event):
        channel._meta_inbound_seen(event.timestamp, event.ad_id)
        if not event.ad_id:
            return self.env._("Came back through a link.")
        # sudo: discuss.channel - the system's note in the conversation
        channel.sudo().message_post(
            body=self.env._(
                "The customer came back through the ad %(ad)s.", ad=event.ad_id
            ),
            message_type="notification",
            subtype_xmlid="mail.mt_note",
        )
        return None

    @api.model
    def _meta_on_read(self, channel, event):
        """Messenger says up to when (a watermark), Instagram which message:
        that one and everything we sent before it was read."""
        limit = to_naive_utc(event.watermark)
        if not limit and event.mid:
            read = channel._meta_message_by_mid(event.mid)
            limit = read.date if read else None
        if not limit:
            return self.env._("A read receipt for a message Odoo does not have.")
        channel._meta_mark_outbound(limit, "read", ("sent", "delivered"))
        return None

    @api.model
    def _meta_on_delivery(self, channel, event):
        limit = to_naive_utc(event.watermark)
        if limit:
            channel._meta_mark_outbound(limit, "delivered", ("sent",))
        for mid in event.mids:
            message = channel._meta_message_by_mid(mid)
            if message.meta_delivery_state == "sent":
                message._meta_set_delivery("delivered")
        return None

    @api.model
    def _meta_on_reaction(self, channel, event):
        if event.reaction_action != "unreact":
            # Meta counts a reaction among the actions that open the standard
            # window (docs/meta-facts.md §6); taking one back is not reacting
            channel._meta_inbound_seen(event.timestamp)
        message = channel._meta_message_by_mid(event.mid)
        if not message:
            return self.env._("A reaction to a message Odoo does not have.")
        customer = channel.meta_partner_id
        no_guest = self.env["mail.guest"]
        # one reaction per person and message at Meta: a new one replaces
        # theirs, "unreact" (which may not say which) removes it
        # sudo: mail.message.reaction - the customer's own reactions
        for previous in message.sudo().reaction_ids.filtered(
            lambda r: r.partner_id == customer
        ):
            message._message_reaction(previous.content, "remove", customer, no_guest)
        if event.reaction_action != "unreact":
            emoji = event.emoji or REACTION_EMOJIS.get(event.reaction, "❤️")
            message._message_reaction(emoji, "add", customer, no_guest)
        return message
