from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError

from .. import series

DELIVERY_STATES = [
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("failed", "Failed"),
]
#: A receipt never moves a message back (a late "delivered" after "read").
_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
#: What Meta's answers and events set on a message, never a user.
META_OWNED_FIELDS = (
    "meta_mid",
    "meta_delivery_state",
    "meta_delivery_error",
    "meta_parts_sent",
    "meta_erased",
)


#: Meta's code and subcode refusing a message because Conversation Routing
#: gave the thread to another app
HANDED_OVER = (10, 2018300)


class MailMessage(models.Model):
    """A message of a Messenger or Instagram conversation knows its Meta id
    (``meta_mid``: duplicates, echoes and receipts find it) and, when the
    business sent it, how far it went: queued, sent, delivered, read, or
    failed with Meta's reason in words."""

    _name = "mail.message"
    _inherit = ["mail.message", "meta.outbox.origin"]

    meta_mid = fields.Char(string="Meta Message ID", readonly=True, copy=False)
    meta_delivery_state = fields.Selection(
        DELIVERY_STATES, string="Meta Delivery", readonly=True, copy=False
    )
    meta_delivery_error = fields.Char(string="Meta's Answer", readonly=True, copy=False)
    meta_parts_sent = fields.Char(
        readonly=True,
        copy=False,
        help="The parts of this message (its text, each file) Meta took, by "
        "index: a part is never sent twice, even when Meta's answer was lost.",
    )
    meta_erased = fields.Boolean(
        string="Content Erased",
        readonly=True,
        copy=False,
        help="What the message said was erased (deleted by the customer, or "
        "the retention period); who wrote when stays.",
    )

    def init(self):
        result = super().init()
        # one message per Meta id: a redelivered or echoed message is found,
        # never filed twice (partial: most messages have none)
        self.env.cr.execute(
            "CREATE UNIQUE INDEX IF NOT EXISTS mail_message_meta_mid_unique "
            "ON mail_message (meta_mid) WHERE meta_mid IS NOT NULL"
        )
        return result

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(
            vals.get(name) for vals in vals_list for name in META_OWNED_FIELDS
        ):
            raise AccessError(self._meta_owned_refusal())
        return super().create(vals_list)

    def write(self, vals):
        # Meta's id and how far the message went are what Meta answered: an
        # author editing their message never sets them
        if not self.env.su and any(name in vals for name in META_OWNED_FIELDS):
            raise AccessError(self._meta_owned_refusal())
        return super().write(vals)

    def _meta_owned_refusal(self):
        return self.env._(
            "Meta's id and delivery state of a message change only with Meta's answers."
        )

    def _to_store(self, store, *args, **kwargs):
        result = super()._to_store(store, *args, **kwargs)
        for message in self.filtered("meta_delivery_state"):
            series.store_values(store, message, message._meta_delivery_values())
        return result

    def _meta_delivery_values(self):
        return {
            "meta_delivery_state": self.meta_delivery_state,
            "meta_delivery_label": dict(
                self._fields["meta_delivery_state"]._description_selection(self.env)
            ).get(self.meta_delivery_state, ""),
            "meta_delivery_error": self.meta_delivery_error or False,
        }

    # ------------------------------------------------------------ sending

    def _meta_queue_send(self, channel, rule, text, attachments):
        """Queue this agent message: a Send API call for the text and one
        per attachment, in order in the conversation (one ordering key),
        each with the messaging type (and tag) of ``rule``, Meta's window
        rule when the agent wrote."""
        self.ensure_one()
        self.meta_delivery_state = "queued"
        recipient = channel.meta_contact_id.scoped_id
        parts = []
        if text:
            parts.append({"text": text})
        for attachment in attachments:
            kind = channel._meta_check_attachment(attachment)
            attachment.generate_access_token()
            parts.append({"attachment": [kind, attachment._meta_public_url()]})
        for index, part in enumerate(parts):
            self.env["meta.outbox"]._meta_enqueue(
                channel.meta_asset_id,
                "message_send",
                {
                    "page_id": channel.meta_asset_id._meta_token_holder().external_id,
                    "recipient_id": recipient,
                    "metadata": f"odoo:mail.message:{self.id}:{index}",
                    "messaging_type": rule.messaging_type,
                    "tag": rule.tag,
                    **part,
                },
                origin=self,
            )

    def _meta_outbox_ordering_key(self, operation):
        # its parts, in order in its conversation with the others
        return (
            self.env["discuss.channel"]
            .browse(self.res_id)
            ._meta_outbox_ordering_key(operation)
        )

    def _meta_outbox_done(self, item, result):
        self._meta_sent((result or {}).get("message_id"), _part_of(item))

    def _meta_outbox_already_done(self, item):
        """Meta already took this part (its echo came, the answer was lost):
        sending it again would show the customer the message twice."""
        return _part_of(item) in (self.meta_parts_sent or "").split(",")

    def _meta_outbox_gave_up(self, item, error, reason):
        if (item.error_code, item.error_subcode) == HANDED_OVER:
            # Conversation Routing gave the thread to another app meanwhile
            # sudo: discuss.channel - the system records who owns the thread
            self.env["discuss.channel"].browse(self.res_id).sudo().meta_standby = True
        self.write(
            {
                "meta_delivery_state": "failed",
                "meta_delivery_error": self._meta_error_words(item, reason),
            }
        )
        self._meta_push_delivery()

    def _meta_sent(self, mid, part=None):
        """Meta took the message or one of its parts (the Send API's answer
        or its echo, whichever comes first): its id is kept, its state moves
        to sent."""
        vals = {}
        sent = [p for p in (self.meta_parts_sent or "").split(",") if p]
        if part is not None and part not in sent:
            vals["meta_parts_sent"] = ",".join([*sent, part])
        if mid and not self.meta_mid:
            vals["meta_mid"] = mid
        if _RANK.get(self.meta_delivery_state, 0) < _RANK["sent"]:
            vals["meta_delivery_state"] = "sent"
        if vals:
            self.write(vals)
            self._meta_push_delivery()

    def _meta_set_delivery(self, state):
        moving = self.filtered(
            lambda m: (
                _RANK.get(m.meta_delivery_state, -1) < _RANK[state]
                and m.meta_delivery_state != "failed"
            )
        )
        if moving:
            moving.write({"meta_delivery_state": state})
            moving._meta_push_delivery()

    def _meta_push_delivery(self):
        """Show the new state live to the conversation's agents, each in
        their own language (a receipt is applied by a worker, whose language
        is nobody's)."""
        for message in self:
            channel = self.env["discuss.channel"].browse(message.res_id)
            channel._meta_push_to_agents(
                message,
                lambda lang, message=message: message.with_context(
                    lang=lang
                )._meta_delivery_values(),
            )

    def _meta_error_words(self, item, reason):
        """Meta's refusal said so that an agent can act on it (§6.2), from
        the item's typed error (code, subcode), Meta's text after it."""
        reason = str(reason or "")
        window = self.env._(
            "Meta refused it: the conversation's window closed before it left."
        )
        known = {
            (10, 2018278): window,
            (10, 2534022): window,
            HANDED_OVER: self.env._(
                "Meta refused it: another app (Meta Business Suite or a bot) "
                "controls this conversation now."
            ),
            (551, None): self.env._("This person cannot receive messages now."),
            (100, None): self.env._("Meta refused this message as it was written."),
        }
        code, subcode = item.error_code, item.error_subcode
        text = known.get((code, subcode)) or known.get((code, None))
        return f"{text} ({reason})" if text and code else reason

    def _meta_erase_content(self, words):
        """Keep the message's metadata, drop what it said (a deletion by the
        customer, or the retention period)."""
        # sudo: ir.attachment, mail.message - the system erases: the files of
        # an erased message go with it, its author and date stay
        self.sudo().attachment_ids.unlink()
        self.sudo().write(
            {"body": Markup("<p><i>%s</i></p>") % words, "meta_erased": True}
        )


def _part_of(item):
    """The index of the part an outbox item sends (the end of its metadata,
    ``odoo:mail.message:<id>:<index>``)."""
    return str((item.params or {}).get("metadata") or "").rsplit(":", 1)[-1]
