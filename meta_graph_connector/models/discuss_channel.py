import html
import logging
import re
from dataclasses import dataclass
from datetime import UTC

from markupsafe import Markup
from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import mute_logger, plaintext2html

from .. import series
from ..graph import messaging, social
from ..graph.const import CONVERSATION_PLATFORMS
from ..graph.errors import GraphError, TransientError
from ..graph.times import to_naive_utc
from .meta_lead_mapper import MetaLeadOrigin

_logger = logging.getLogger(__name__)

#: What marks our own sends in their echo (the Send API's ``metadata``).
METADATA_PREFIX = "odoo:mail.message:"
#: The fields of a conversation Meta's events own: only the system writes
#: them (the inbox consumer, in sudo), never a user, not even on their own
#: conversation (a salesperson moving the window would message a person
#: Meta does not let the business message).
META_OWNED_FIELDS = (
    "channel_type",
    "meta_asset_id",
    "meta_platform",
    "meta_contact_id",
    "meta_partner_id",
    "meta_last_inbound_at",
    "meta_ad_opened_at",
    "meta_ad_id",
    "meta_standby",
)


@dataclass(frozen=True)
class PostedByHand:
    """Said by Discuss's post route (``controllers/discuss.py``) and only
    there: a person typed this message in the web client, in this
    conversation. Meta takes the ``HUMAN_AGENT`` tag only for such a message;
    a cron, a server action, an automation rule or a script calling
    ``message_post`` is not a person answering, whichever user it runs as. An
    object, not a JSON value, so that no RPC caller can pass it in a context."""

    channel_id: int


#: What the inbox itself files (a customer's message, an echo, history read
#: back from Meta): posted as any author, sent nowhere. An object, not a JSON
#: value, so that no RPC caller can pass it in a context and post in a
#: customer's name.
FROM_META = object()


def posted_by_hand(channel_id):
    """The context of a message a person posts by hand in ``channel_id``."""
    return {"meta_posted_by_hand": PostedByHand(channel_id)}


@series.sql_constraints
class DiscussChannel(models.Model):
    """A Messenger or Instagram conversation, as a Discuss channel of its
    own kind: the customer (their partner) and the agents are its members,
    so unread counters, notifications and real-time push are Discuss's own.

    One conversation per person and Page or Instagram account (unique key):
    agents change, the history stays. The webhook events of conversations
    are received by the inbox (``meta.conversation.inbox``), which files them
    here through the steps below; what an agent writes leaves through the
    outbox, under Meta's window rules (``graph.messaging.send_rule``). The
    answer check (``_meta_check_agent``) is the one shared with comments
    (``meta.answer.mixin``)."""

    _name = "discuss.channel"
    _inherit = ["discuss.channel", "meta.answer.mixin", "meta.outbox.origin"]

    channel_type = fields.Selection(
        selection_add=[("meta", "Messenger / Instagram Conversation")],
        ondelete={"meta": "cascade"},
    )
    meta_asset_id = fields.Many2one(
        "meta.asset",
        string="Page / Account",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
    )
    meta_company_id = fields.Many2one(
        related="meta_asset_id.company_id", store=True, string="Meta Company"
    )
    meta_platform = fields.Selection(
        list(CONVERSATION_PLATFORMS), string="Platform", readonly=True
    )
    meta_contact_id = fields.Many2one(
        "meta.social.contact", readonly=True, ondelete="cascade"
    )
    # a person erased takes their conversations with them (KVKK / GDPR)
    meta_partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        index="btree_not_null",
        ondelete="cascade",
        readonly=True,
    )
    meta_team_id = fields.Many2one("crm.team", "Team", index="btree_not_null")
    meta_agent_id = fields.Many2one(
        "res.users", string="Agent", index="btree_not_null", tracking=False
    )
    meta_last_inbound_at = fields.Datetime(
        string="Customer's Last Message",
        readonly=True,
        help="Meta's messaging window counts from here.",
    )
    meta_ad_opened_at = fields.Datetime(
        string="Opened by an Ad At",
        readonly=True,
        help="A click-to-message ad opens a 7-day window from the customer's "
        "first message.",
    )
    meta_ad_id = fields.Char(string="Ad ID", readonly=True)
    meta_standby = fields.Boolean(
        string="Another App Answers",
        readonly=True,
        help="Under Meta's Conversation Routing another app (Meta Business "
        "Suite, a bot) owns this conversation: Odoo shows it and does not "
        "answer.",
    )
    meta_lead_ids = fields.One2many("crm.lead", "meta_conversation_id", string="Leads")

    _sql_constraints = [
        (
            "meta_conversation_unique",
            "unique(meta_asset_id, meta_contact_id)",
            "A person has one conversation per Page or Instagram account.",
        ),
        (
            "meta_conversation_complete",
            "CHECK(channel_type != 'meta' OR (meta_asset_id IS NOT NULL "
            "AND meta_contact_id IS NOT NULL))",
            "A Messenger or Instagram conversation has its account and its person.",
        ),
    ]

    # ------------------------------------------------------------ the store

    def _to_store(self, store, *args, **kwargs):
        result = super()._to_store(store, *args, **kwargs)
        for channel in self.filtered(lambda c: c.channel_type == "meta"):
            series.store_values(store, channel, channel._meta_composer_values())
        return result

    def _meta_composer_values(self):
        """What Discuss's composer shows of Meta's rule now, in the words of
        the reader's language: why nothing can be sent (the composer is
        then blocked), else whether the answer goes with the Human Agent
        tag (only where Meta allows it: a person, the app's feature)."""
        self.ensure_one()
        refusal = self._meta_send_refusal()
        rule = None if refusal else self._meta_send_rule()
        return {
            "meta_platform": self.meta_platform,
            "meta_send_refusal": refusal or False,
            "meta_window_closes_at": fields.Datetime.to_string(
                to_naive_utc(rule.closes_at)
            )
            if rule
            else False,
            "meta_human_agent_note": self.env._(
                "More than 24 hours after the customer's last message: your "
                "answer goes with Meta's Human Agent tag, for a person "
                "answering by hand."
            )
            if rule and rule.tag == messaging.HUMAN_AGENT
            else False,
        }

    def _meta_push_composer(self):
        """The composer's state changed (the customer wrote, another app
        took or gave back the thread): shown live to each agent in their
        language."""
        for channel in self:
            channel._meta_push_to_agents(
                channel,
                lambda lang, channel=channel: channel.with_context(
                    lang=lang
                )._meta_composer_values(),
            )

    def _meta_push_to_agents(self, record, values_in):
        """Push ``values_in(lang)`` of ``record`` live to the agents of the
        conversation, rendered in each one's language: words computed by a
        worker (a receipt, a customer's message) would else reach everyone
        in the worker's language."""
        self.ensure_one()
        # sudo: discuss.channel.member - who follows the conversation now
        partners = self.sudo().channel_member_ids.partner_id.filtered(
            lambda p: any(not u.share for u in p.user_ids)
        )
        fallback = self.meta_company_id.partner_id.lang or self.env.lang
        for lang in set(partners.mapped("lang")):
            values = values_in(lang or fallback)
            series.bus_send_store(
                partners.filtered(lambda p, lang=lang: p.lang == lang), record, values
            )

    # ------------------------------------------------------------ the window

    def _meta_human_agent_allowed(self):
        # sudo: meta.app - reading one flag of the app's configuration
        return bool(self.env["meta.app"].sudo()._meta_get().human_agent_enabled)

    def _meta_send_rule(self, human=True, now=None):
        """Meta's rule for a message now (``graph.messaging.send_rule``)."""
        self.ensure_one()
        return messaging.send_rule(
            _aware(now or fields.Datetime.now()),
            _aware(self.meta_last_inbound_at),
            ad_opened_at=_aware(self.meta_ad_opened_at),
            human=human,
            human_agent_allowed=self._meta_human_agent_allowed(),
        )

    def _meta_send_refusal(self, human=True, now=None):
        """Why nothing can be sent now, in words, or None."""
        self.ensure_one()
        if self.meta_standby:
            return self.env._(
                "Another app (Meta Business Suite or a bot) answers this "
                "conversation now: answer there, or have it passed to Odoo."
            )
        if self.meta_asset_id.connection_id.state != "connected":
            return self.env._(
                "The Meta connection of this conversation is not working: an "
                "administrator must repair it."
            )
        rule = self._meta_send_rule(human=human, now=now)
        if rule.allowed:
            return None
        return {
            "no_inbound": self.env._(
                "The customer has not written yet: Meta lets a business answer "
                "only after the customer's message."
            ),
            "window_closed": self.env._(
                "The customer's last message is older than 7 days: Meta no longer "
                "lets the business write first. Wait for the customer to write."
            ),
            "bot_outside_window": self.env._(
                "More than 24 hours after the customer's last message only a "
                "person may answer, not an automated message."
            ),
            "human_agent_not_granted": self.env._(
                "More than 24 hours after the customer's last message Meta takes "
                "an answer only with the Human Agent feature, which the Meta app "
                "does not have. Wait for the customer to write."
            ),
        }[rule.refusal]

    # ------------------------------------------------------------ sending

    def message_post(self, **kwargs):
        if (
            self.channel_type != "meta"
            or self.env.context.get("meta_from_meta") is FROM_META
            or kwargs.get("message_type", "notification") != "comment"
        ):
            return super().message_post(**kwargs)
        return self._meta_post_agent_message(**kwargs)

    def _meta_post_agent_message(self, **kwargs):
        """An agent's message: checked against Meta's rules first (nothing
        is posted when Meta would refuse it), then queued, one Send API call
        per text and per attachment, in order for this conversation."""
        self.ensure_one()
        # the user, not the environment: Discuss posts in sudo for everyone
        if not self.env.user._is_internal():
            raise AccessError(self.env._("Only the company's agents answer here."))
        # only a person typing in Discuss may answer with the HUMAN_AGENT tag:
        # a cron runs as its owner, so the user says nothing about who wrote
        human = self._meta_posted_by_hand()
        refusal = self._meta_send_refusal(human=human)
        if refusal:
            raise UserError(refusal)
        rule = self._meta_send_rule(human=human)
        text = _plain_text(kwargs.get("body"))
        attachments = self.env["ir.attachment"].browse(
            kwargs.get("attachment_ids") or []
        )
        if text:
            try:
                text = messaging.check_text(self.meta_platform, text)
            except ValueError:
                raise UserError(
                    self.env._(
                        "This message is longer than Meta takes (Messenger: 2000 "
                        "characters, Instagram: 1000 bytes)."
                    )
                ) from None
        elif not attachments:
            raise UserError(self.env._("Write a message first."))
        for attachment in attachments.sudo():
            # sudo: ir.attachment - the size and type of the agent's own upload
            self._meta_check_attachment(attachment)
        # an agent's message is the agent's: never in the customer's name
        kwargs["author_id"] = self.env.user.partner_id.id
        # what this message sets off (an automation rule posting in turn) is
        # not typed by the person
        message = super(DiscussChannel, self._meta_not_by_hand()).message_post(**kwargs)
        # sudo: mail.message - its delivery state and the outbox items are the
        # system's; the agent's right to post was checked above
        message.sudo()._meta_queue_send(self, rule, text, attachments)
        return message

    def _meta_posted_by_hand(self):
        """Whether a person types this message in Discuss now (the marker of
        :class:`PostedByHand`, for this conversation), and nothing says it is
        automated."""
        marker = self.env.context.get("meta_posted_by_hand")
        return (
            isinstance(marker, PostedByHand)
            and marker.channel_id == self.id
            and not self.env.context.get("meta_automated")
        )

    def _meta_not_by_hand(self):
        return self.with_context(meta_posted_by_hand=None)

    def _meta_check_attachment(self, attachment):
        try:
            return messaging.check_attachment(
                self.meta_platform, attachment.mimetype, attachment.file_size or 0
            )
        except ValueError as error:
            if str(error) == "too_large":
                raise UserError(
                    self.env._(
                        "%(file)s is larger than Meta takes (images 8 MB, other "
                        "files 25 MB).",
                        file=attachment.name,
                    )
                ) from None
            raise UserError(
                self.env._(
                    "%(platform)s does not take files like %(file)s (Instagram: "
                    "PNG or JPEG images, audio and video only).",
                    platform=dict(CONVERSATION_PLATFORMS)[self.meta_platform],
                    file=attachment.name,
                )
            ) from None

    # ------------------------------------------------------------ assignment

    def _meta_assign(self, agent=None):
        """Give the conversation to ``agent`` (else the least busy one of the
        team, chosen by the team), else the whole team): they become members
        and see it in their Discuss; nobody leaves, the history stays."""
        for channel in self:
            team = channel.meta_team_id
            agent = agent or team._meta_get_agent(channel)
            users = agent or team.member_ids or team.user_id
            # sudo: discuss.channel - the system assigns (a salesperson's
            # "Take It" was checked by _meta_check_agent)
            channel.sudo().meta_agent_id = agent
            partners = users.partner_id - channel.channel_member_ids.partner_id
            if partners:
                # sudo: discuss.channel - the system adds the agents
                channel.sudo().add_members(
                    partner_ids=partners.ids, post_joined_message=False
                )

    def action_meta_take(self):
        """The current agent takes the conversation over."""
        for channel in self:
            channel._meta_check_agent()
            channel._meta_assign(self.env.user)
        return True

    def _meta_check_agent(self, refusal=None):
        return super()._meta_check_agent(
            refusal or self.env._("Only salespeople answer conversations.")
        )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(
            vals.get("channel_type") == "meta"
            or any(vals.get(name) for name in META_OWNED_FIELDS[1:])
            for vals in vals_list
        ):
            # a conversation exists because the person wrote (Meta's event):
            # one made by hand would message someone who never did
            raise AccessError(
                self.env._(
                    "Messenger and Instagram conversations open when the "
                    "customer writes; nobody creates them in Odoo."
                )
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su and (
            any(name in vals for name in META_OWNED_FIELDS[1:])
            or (
                "channel_type" in vals
                and (
                    vals["channel_type"] == "meta"
                    or any(c.channel_type == "meta" for c in self)
                )
            )
        ):
            raise AccessError(
                self.env._(
                    "What Meta says of a conversation (its account, customer, "
                    "window, ad and owner app) changes only with Meta's events."
                )
            )
        if vals.get("meta_agent_id") and not self.env.su:
            # reassigning makes someone a member: only a salesperson who sees
            # the conversation does it, and only to an agent of its company
            agent = self.env["res.users"].browse(vals["meta_agent_id"])
            for channel in self.filtered(lambda c: c.channel_type == "meta"):
                channel._meta_check_agent()
                if agent.share or channel.meta_company_id not in agent.company_ids:
                    raise UserError(
                        self.env._(
                            "%(agent)s cannot answer this conversation: not an "
                            "employee of its company.",
                            agent=agent.name,
                        )
                    )
        result = super().write(vals)
        if vals.get("meta_agent_id"):
            # reassigned from the form: the new agent joins, history stays
            agent = self.env["res.users"].browse(vals["meta_agent_id"])
            for channel in self.filtered(lambda c: c.channel_type == "meta"):
                if agent.partner_id not in channel.channel_member_ids.partner_id:
                    # sudo: discuss.channel - the new agent joins; who may
                    # reassign, and to whom, was checked above
                    channel.sudo().add_members(
                        partner_ids=agent.partner_id.ids, post_joined_message=False
                    )
        return result

    # ------------------------------------------------------------ CRM

    def action_meta_create_lead(self):
        """A lead from the conversation: its customer, the transcript, and
        the ad that opened it (attributed as Lead Ads leads are)."""
        self.ensure_one()
        self._meta_check_agent()
        if not self.env["crm.lead"].has_access("create"):
            raise AccessError(self.env._("You cannot create leads."))
        lead = self.env["meta.lead.mapper"]._meta_create_lead(
            self._meta_lead_origin(), {"meta_conversation_id": self.id}
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": lead.id,
            "view_mode": "form",
        }

    def _meta_lead_origin(self):
        """What the conversation says of its lead: the customer, the
        transcript, the ad that opened it and the team. The salesperson
        making the lead owns it: crm shows a salesperson their own leads
        only, another's would vanish from its maker's hands."""
        # sudo: mail.message - the transcript of a conversation the user sees
        messages = (
            self.sudo()
            .message_ids.filtered(lambda m: m.message_type == "comment")
            .sorted("id")[-50:]
        )
        transcript = Markup("").join(
            Markup("<p><b>%s</b> (%s): %s</p>")
            % (
                message.author_id.name or "",
                fields.Datetime.to_string(message.date),
                _plain_text(message.body),
            )
            for message in messages
        )
        return MetaLeadOrigin(
            company=self.meta_company_id,
            # a Messenger conversation is a Facebook Page's
            platform="instagram" if self.meta_platform == "instagram" else "facebook",
            paid=bool(self.meta_ad_id),
            partner=self.meta_partner_id,
            name=self.env._(
                "%(platform)s: %(customer)s",
                platform=dict(CONVERSATION_PLATFORMS)[self.meta_platform],
                customer=self.meta_partner_id.name,
            ),
            description=transcript,
            ad_id=self.meta_ad_id,
            user=self.env.user,
            team=self.meta_team_id,
        )

    def _meta_discuss_action(self):
        """Open the conversation in Discuss."""
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "mail.action_discuss",
            "params": {"active_id": f"discuss.channel_{self.id}"},
        }

    def action_meta_open_discuss(self):
        self.ensure_one()
        self.check_access("read")
        return self._meta_discuss_action()

    def action_meta_open_form(self):
        """The conversation's card (from Discuss)."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "discuss.channel",
            "res_id": self.id,
            "views": [
                [
                    self.env.ref("meta_graph_connector.meta_conversation_view_form").id,
                    "form",
                ]
            ],
        }

    def action_meta_open_partner(self):
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.partner",
            "res_id": self.meta_partner_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------- filing what Meta reports

    @api.model
    def _meta_conversation_for(self, asset, platform, scoped_id, name=""):
        """The conversation of ``scoped_id`` on ``asset``, created (and
        assigned) on first sight; safe against two first messages at once.
        A new one asks Meta the person's name and picture first (the User
        Profile API answers for people who wrote), else is titled in the
        company's language until Meta names them."""
        fallback = self._meta_fallback_title(asset, platform, scoped_id)
        contact = self._meta_conversation_contact(
            asset, platform, scoped_id, name, fallback
        )
        domain = [
            ("meta_asset_id", "=", asset.id),
            ("meta_contact_id", "=", contact.id),
        ]
        # sudo: discuss.channel - the system files the customer's message
        channel = self.sudo().search(domain, limit=1)
        if channel:
            return channel
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                channel = self._meta_open_conversation(
                    asset, platform, contact, fallback
                )
        except IntegrityError:
            # sudo: discuss.channel - the conversation another worker opened
            channel = self.sudo().search(domain, limit=1)
            if not channel:
                raise TransientError(
                    "This conversation was opened by another worker at the same "
                    "moment: retried."
                ) from None
            return channel
        channel._meta_conversation_opened()
        return channel

    @api.model
    def _meta_conversation_contact(self, asset, platform, scoped_id, name, fallback):
        """The person of ``scoped_id`` on ``asset`` (``meta.social.contact``);
        for someone without a conversation yet, named from Meta's profile
        when it answers."""
        contact_platform = "instagram" if platform == "instagram" else "facebook"
        # sudo: discuss.channel - the system files the customer's message
        known = self.sudo().search_count(
            [
                ("meta_asset_id", "=", asset.id),
                ("meta_contact_id.scoped_id", "=", scoped_id),
            ],
            limit=1,
        )
        profile = None
        if not known and not name:
            profile = self._meta_profile_of(asset, contact_platform, scoped_id)
        contact = self.env["meta.social.contact"]._meta_contact_of(
            asset,
            contact_platform,
            scoped_id,
            name=name or (profile or {}).get("name", ""),
            username=(profile or {}).get("username", ""),
            label=name or (profile or {}).get("name", "") or fallback,
        )
        if profile:
            contact._meta_apply_profile(profile)
        return contact

    @api.model
    def _meta_open_conversation(self, asset, platform, contact, fallback):
        """A new conversation with ``contact`` on ``asset``, the person its
        first member, for the account's inbox team."""
        # sudo: discuss.channel - the system files the customer's message
        return (
            self.sudo()
            .with_context(mail_create_nolog=True)
            .create(
                {
                    "name": contact.name
                    or (contact.username and f"@{contact.username}")
                    or fallback,
                    "channel_type": "meta",
                    "meta_asset_id": asset.id,
                    "meta_platform": platform,
                    "meta_contact_id": contact.id,
                    "meta_partner_id": contact.partner_id.id,
                    "meta_team_id": asset._meta_inbox_team().id or False,
                    "channel_member_ids": [
                        fields.Command.create({"partner_id": contact.partner_id.id})
                    ],
                }
            )
        )

    def _meta_conversation_opened(self):
        """A conversation just opened: it is the customer's and the agents'
        (Discuss made the creator, here the worker's user, a member), given
        to an agent, and told on the customer's card."""
        self.channel_member_ids.filtered(
            lambda m: (
                m.partner_id == self.env.user.partner_id
                and m.partner_id != self.meta_partner_id
            )
        ).unlink()
        self._meta_assign()
        self._meta_note_on_partner()

    @api.model
    def _meta_profile_of(self, asset, contact_platform, scoped_id):
        """The person's profile from Meta's User Profile API (``{"name",
        "username", "picture_url"}``), or None. Optional: Meta answers only
        for people who wrote and only to an app granted the inbox's
        permissions; any answer about this one person (error 230, no such
        person) leaves the conversation to open without it."""
        needed = (
            "instagram_manage_messages"
            if contact_platform == "instagram"
            else "pages_messaging"
        )
        connection = asset.connection_id
        if connection.state != "connected" or needed not in (
            connection.granted_scopes or ""
        ).split(","):
            return None
        try:
            return asset._meta_call(
                social.get_profile, scoped_id, platform=contact_platform
            )
        except GraphError as error:
            _logger.info("Meta's profile of a person not read: %s", error)
            return None

    @api.model
    def _meta_fallback_title(self, asset, platform, scoped_id):
        """A conversation's title until Meta names the person, in the
        company's language (the worker filing it has none)."""
        lang = asset.company_id.partner_id.lang or self.env.lang
        return self.with_context(lang=lang).env._(
            "%(platform)s customer …%(end)s",
            platform=dict(CONVERSATION_PLATFORMS)[platform],
            end=str(scoped_id)[-4:],
        )

    def _meta_note_on_partner(self):
        """The customer's card tells that a conversation began, with a link
        to it: their timeline holds their leads, comments and conversations.
        Written in the customer's company's language (the cron writes it)."""
        partner = self.meta_partner_id
        lang = self.meta_company_id.partner_id.lang or self.env.lang
        channel = self.with_context(lang=lang)
        body = Markup(
            '%s <a href="#" data-oe-model="discuss.channel" data-oe-id="%s">%s</a>'
        ) % (
            channel.env._(
                "Began a %(platform)s conversation:",
                platform=dict(CONVERSATION_PLATFORMS)[self.meta_platform],
            ),
            self.id,
            self.name,
        )
        # sudo: res.partner - the note is the system's, on any customer card
        partner.sudo().message_post(
            body=body,
            message_type="notification",
            subtype_xmlid="meta_graph_connector.mt_meta_conversation_partner",
        )

    def _meta_message_by_mid(self, mid):
        if not mid:
            return self.env["mail.message"]
        # sudo: mail.message - the system finds Meta's message by its id
        return (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", "discuss.channel"),
                    ("res_id", "=", self.id),
                    ("meta_mid", "=", mid),
                ],
                limit=1,
            )
        )

    def _meta_inbound_seen(self, moment, ad_id=""):
        """The customer acted at ``moment``: the window counts from here
        (never moved back by an older event arriving late)."""
        vals = {}
        moment = to_naive_utc(moment) or fields.Datetime.now()
        if not self.meta_last_inbound_at or moment > self.meta_last_inbound_at:
            vals["meta_last_inbound_at"] = moment
        if ad_id and not self.meta_ad_opened_at:
            vals.update(meta_ad_opened_at=moment, meta_ad_id=ad_id)
        elif ad_id and ad_id != self.meta_ad_id:
            vals["meta_ad_id"] = ad_id
        if vals:
            # sudo: discuss.channel - the window's times are the system's
            self.sudo().write(vals)
            self._meta_push_composer()

    def _meta_mark_outbound(self, until, state, from_states):
        # sudo: mail.message - receipts move the business's messages' states
        messages = (
            self.env["mail.message"]
            .sudo()
            .search(
                [
                    ("model", "=", "discuss.channel"),
                    ("res_id", "=", self.id),
                    ("meta_delivery_state", "in", from_states),
                    ("date", "<=", until),
                ]
            )
        )
        messages._meta_set_delivery(state)

    def _meta_import_history(self, messages):
        """File messages read back from Meta (oldest first), each once."""
        self.ensure_one()
        channel = self.with_context(meta_from_meta=FROM_META)
        business = self.meta_company_id.partner_id or self.env.company.partner_id
        for message in messages:
            if not message.readable or channel._meta_message_by_mid(message.mid):
                continue
            if not message.outbound:
                channel._meta_inbound_seen(message.created_at)
            posted = channel._meta_post_from_meta(
                business if message.outbound else self.meta_partner_id,
                message.text,
                message.parts,
                mid=message.mid,
                date=message.created_at,
            )
            if message.outbound:
                posted.meta_delivery_state = "sent"

    def _meta_post_from_meta(self, author, text, parts, *, mid, date=None, note=""):
        """Post what Meta reported, as ``author``: plain text, escaped; the
        attachments downloaded (a link when Meta's file cannot be fetched)."""
        body = plaintext2html(text or "") if text else Markup("")
        lines = []
        attachments = self.env["ir.attachment"]
        for part in parts:
            attachment = self._meta_fetch_part(part)
            if attachment:
                attachments |= attachment
            lines.append(self._meta_part_words(part, fetched=bool(attachment)))
        lines = [line for line in lines if line]
        if note:
            lines.append(Markup("<i>%s</i>") % note)
        if lines:
            body += Markup("<br/>").join(Markup("<p>%s</p>") % line for line in lines)
        # sudo: discuss.channel - the system files what Meta reported
        message = (
            self.sudo()
            .with_context(meta_from_meta=FROM_META)
            .message_post(
                author_id=author.id,
                body=body,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
                attachment_ids=attachments.ids,
            )
        )
        vals = {"meta_mid": mid or False}
        if date:
            vals["date"] = to_naive_utc(date)
        message.write(vals)
        return message

    def _meta_part_words(self, part, fetched):
        words = {
            "sticker": self.env._("Sticker"),
            "story_mention": self.env._("Mentioned you in their story"),
            "story_reply": self.env._("Replied to your story"),
            "share": self.env._("Shared a post"),
            "reel": self.env._("Shared a reel"),
            "fallback": self.env._("Shared a link"),
            "unknown": self.env._("Sent something Odoo cannot show"),
        }
        label = words.get(part.kind)
        if fetched and not label:
            return None
        if not label:
            label = self.env._("Sent a file")
        if part.url and not fetched:
            return Markup('%s: <a href="%s" target="_blank" rel="noopener">%s</a>') % (
                label,
                part.url,
                part.title or part.url,
            )
        return label

    def _meta_fetch_part(self, part):
        """The file of ``part`` kept as an attachment of the conversation, or
        None (``ir.attachment._meta_keep_file``)."""
        return self.env["ir.attachment"]._meta_keep_file(part, self)


def _plain_text(body):
    """What an agent typed, from the composer's HTML: line breaks kept,
    markup dropped (Meta takes plain text). Not Odoo's html2plaintext: it
    writes bold as *bold* and adds a numbered list of the links' addresses,
    so a link Discuss made of a pasted address would reach the customer
    twice."""
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", str(body or ""))
    text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _aware(moment):
    """A naive UTC datetime (Odoo's) as an aware one (the core's)."""
    if not moment:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
