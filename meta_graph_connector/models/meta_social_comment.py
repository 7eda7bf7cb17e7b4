import logging

from markupsafe import Markup
from psycopg2 import IntegrityError

from odoo import Command, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext, mute_logger, plaintext2html

from .. import series
from ..graph import social
from ..graph.const import PLATFORMS
from ..graph.errors import TransientError
from ..graph.times import to_naive_utc
from .meta_lead_mapper import MetaLeadOrigin

_logger = logging.getLogger(__name__)

#: Scopes each action needs, per platform (docs/meta-facts.md §6.3, §13).
ACTION_SCOPES = {
    ("reply", "facebook"): ("pages_manage_engagement",),
    ("reply", "instagram"): ("instagram_manage_comments",),
    ("moderate", "facebook"): ("pages_manage_engagement",),
    ("moderate", "instagram"): ("instagram_manage_comments",),
    ("private", "facebook"): ("pages_messaging",),
    ("private", "instagram"): ("instagram_manage_comments", "pages_messaging"),
}
DELIVERY_STATES = [
    ("queued", "On its way"),
    ("sent", "Done at Meta"),
    ("failed", "Failed"),
]


@series.sql_constraints
class MetaSocialComment(models.Model):
    """A comment, reply or mention on a Page post or an Instagram media:
    on the card of the person who wrote it and on their open lead.

    Webhooks (``page_comment``, ``instagram_comment``, ``instagram_mention``)
    and the history import apply :class:`graph.social.CommentChange`\\ s;
    each comment remembers the time and verb of the last change applied, so
    changes arriving in any order end in the same state. Everything said to
    Meta from here (a reply, a private reply, hiding, deleting our reply)
    leaves through the outbox and shows its delivery on the comment."""

    _name = "meta.social.comment"
    _description = "Meta Comment"
    _inherit = ["meta.event.consumer", "meta.answer.mixin", "meta.outbox.origin"]
    _order = "posted_at desc, id desc"
    _rec_name = "summary"
    _meta_event_kinds = ("page_comment", "instagram_comment", "instagram_mention")

    asset_id = fields.Many2one(
        "meta.asset",
        string="Page / Account",
        required=True,
        index=True,
        ondelete="cascade",
        readonly=True,
    )
    company_id = fields.Many2one(related="asset_id.company_id", store=True)
    platform = fields.Selection(
        list(PLATFORMS),
        required=True,
        readonly=True,
    )
    comment_ref = fields.Char(string="Meta Comment ID", readonly=True, index=True)
    kind = fields.Selection(
        [("comment", "Comment"), ("reply", "Reply"), ("mention", "Mention")],
        default="comment",
        required=True,
        readonly=True,
    )
    post_id = fields.Many2one("meta.social.post", readonly=True)
    post_url = fields.Char(related="post_id.url", string="Post Link")
    url = fields.Char(string="Link", readonly=True)
    parent_id = fields.Many2one(
        "meta.social.comment", string="In Reply To", readonly=True, index=True
    )
    parent_ref = fields.Char(readonly=True)
    child_ids = fields.One2many("meta.social.comment", "parent_id", string="Replies")
    contact_id = fields.Many2one(
        "meta.social.contact", string="Meta Contact", readonly=True, index=True
    )
    # a person erased takes their comments with them (KVKK / GDPR erasure)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, index=True, ondelete="cascade"
    )
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", ondelete="set null")
    author = fields.Char(readonly=True)
    text = fields.Text(readonly=True)
    summary = fields.Char(compute="_compute_summary")
    posted_at = fields.Datetime(string="Date", readonly=True, index=True)
    state = fields.Selection(
        [("visible", "Visible"), ("hidden", "Hidden"), ("removed", "Removed")],
        default="visible",
        required=True,
        readonly=True,
    )
    edited = fields.Boolean(readonly=True)
    from_account = fields.Boolean(
        string="Written by the Page",
        readonly=True,
        help="Written by the Page or Instagram account itself (our replies).",
    )
    ad_id = fields.Char(string="Ad ID", readonly=True)
    last_event_at = fields.Datetime(readonly=True)
    last_verb = fields.Char(readonly=True)
    meta_state = fields.Selection(DELIVERY_STATES, string="Delivery", readonly=True)
    meta_error = fields.Char(string="Meta's Answer", readonly=True)
    private_reply_state = fields.Selection(
        DELIVERY_STATES, string="Private Reply", readonly=True
    )
    private_reply_text = fields.Text(readonly=True)
    private_reply_error = fields.Char(readonly=True)
    # the notes it left on the card and the lead: what its author takes back
    # when removing it is erased from them too
    note_ids = fields.Many2many(
        "mail.message",
        "meta_social_comment_note_rel",
        "comment_id",
        "message_id",
        string="Notes",
        readonly=True,
        copy=False,
    )

    _sql_constraints = [
        (
            "comment_unique",
            "unique(asset_id, comment_ref)",
            "A Meta comment is recorded once.",
        ),
    ]

    @api.depends("text", "author", "kind")
    def _compute_summary(self):
        for comment in self:
            text = " ".join((comment.text or "").split())
            text = (text[:80] + "…") if len(text) > 80 else text
            comment.summary = (
                f"{comment.author}: {text}" if comment.author else text
            ) or comment.comment_ref

    # ------------------------------------------------------------ events in

    @api.model
    def _meta_handle_event(self, event, inbox_event):
        asset = inbox_event.asset_id
        if not asset:
            return self.env._("No Page or Instagram account of Odoo has this id.")
        change = social.change_from_event(event)
        if change is None:
            target = social.mention_target(event)
            if target is None:
                return self.env._("Not a comment.")
            change = asset._meta_call(social.mentioned, asset.external_id, *target)
        comment = self._meta_apply(asset, change)
        if comment.partner_id and not inbox_event.partner_id:
            inbox_event.partner_id = comment.partner_id
        if comment.state == "removed":
            # whatever the order its events came in: their words go too
            comment._meta_forget_events(inbox_event)
        return comment

    @api.model
    def _meta_apply(self, asset, change):
        """Apply one change of a comment, idempotently: the comment is
        created on first sight (whatever its verb), then a change applies
        only when newer than the last one applied."""
        comment = self._meta_find(asset, change.comment_id)
        if not comment:
            try:
                # a lost race is expected and handled below: not a database error
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                    comment = self._meta_create(asset, change)
            except IntegrityError:
                # the same comment arrived twice at once: the other one won
                comment = self._meta_find(asset, change.comment_id)
                if not comment:
                    # committed after this transaction's snapshot: retried
                    raise TransientError(
                        "This comment was recorded by another worker at the "
                        "same moment: retried."
                    ) from None
                return comment._meta_update(change)
            if not self.env.context.get("meta_social_import"):
                comment._meta_announce()
            return comment
        return comment._meta_update(change)

    @api.model
    def _meta_customer_counts(self, link, records):
        """How many comments of customers (the account's own replies aside)
        each of ``records`` has, through ``link``, the comment's field to
        them: {record: count}, records without any left out."""
        return dict(
            self._read_group(
                [(link, "in", records.ids), ("from_account", "=", False)],
                [link],
                ["__count"],
            )
        )

    @api.model
    def _meta_find(self, asset, comment_ref):
        return self.search(
            [("asset_id", "=", asset.id), ("comment_ref", "=", comment_ref)], limit=1
        )

    @api.model
    def _meta_create(self, asset, change):
        contact = self.env["meta.social.contact"]
        if not change.from_account:
            contact = contact._meta_contact_for(asset, change)
        mention = change.verb == "mention"
        post = self.env["meta.social.post"]._meta_post_for(
            asset,
            change.platform,
            change.object_id,
            url=change.permalink if mention else "",
            # a webhook names the post only: what it says is read once (a
            # mention's media is another account's: not ours to read)
            read=not mention,
        )
        parent = self._meta_find(asset, change.parent_id) if change.parent_id else self
        partner = contact.partner_id
        removed = change.verb == "remove"
        vals = {
            "asset_id": asset.id,
            "platform": change.platform,
            "comment_ref": change.comment_id,
            "kind": "mention"
            if change.mention
            else ("reply" if change.parent_id else "comment"),
            "post_id": post.id,
            "url": social.comment_url(
                change.platform, change.object_id, change.comment_id, change.permalink
            )
            or False,
            "parent_id": parent.id,
            "parent_ref": change.parent_id or False,
            "contact_id": contact.id,
            "partner_id": partner.id,
            "lead_id": self._meta_open_lead(partner, asset.company_id).id,
            "author": change.author_label or False,
            "text": False if removed else change.text,
            "posted_at": to_naive_utc(change.created_at or change.event_at),
            "state": self._meta_state_after(change, "visible"),
            "edited": change.verb == "edited",
            "from_account": change.from_account,
            "ad_id": change.ad_id or False,
            "last_event_at": to_naive_utc(change.event_at),
            "last_verb": change.verb,
        }
        comment = self.create(vals)
        # its replies that arrived first (webhooks come in any order)
        self.search(
            [
                ("asset_id", "=", asset.id),
                ("parent_ref", "=", change.comment_id),
                ("parent_id", "=", False),
            ]
        ).write({"parent_id": comment.id})
        if contact and not removed:
            moment = vals["posted_at"] or fields.Datetime.now()
            if not contact.last_interaction_at or contact.last_interaction_at < moment:
                contact.last_interaction_at = moment
            partner._meta_touch_social(moment)
        return comment

    def _meta_update(self, change):
        self.ensure_one()
        vals = {}
        # what an out-of-order event still tells: the birth, the text of a
        # comment first seen by its hiding, the ad of a boosted post
        if change.created_at and not self.posted_at:
            vals["posted_at"] = to_naive_utc(change.created_at)
        if change.ad_id and not self.ad_id:
            vals["ad_id"] = change.ad_id
        if (
            change.text
            and not self.text
            and self.state != "removed"
            and change.verb in ("add", "mention")
        ):
            vals["text"] = change.text
        event_at = to_naive_utc(change.event_at)
        words = False
        if social.supersedes(event_at, change.verb, self.last_event_at, self.last_verb):
            vals.update(last_event_at=event_at, last_verb=change.verb)
            vals["state"] = self._meta_state_after(change, self.state)
            if change.verb == "edited" and change.text is not None:
                vals.update(text=change.text, edited=True)
            if change.verb == "remove":
                # the person took it back: its words are not kept
                words, vals["text"] = self.text or "", False
            if change.hidden is not None and change.verb in ("add", "mention"):
                vals["state"] = "hidden" if change.hidden else "visible"
        if vals:
            self.write(vals)
        if words is not False:
            self._meta_erase_copies(words)
        return self

    def _meta_erase_copies(self, words):
        """The author removed the comment: its words leave the notes it left
        on the card and the lead, and a lead made of it (its title and
        description, as long as nobody rewrote them)."""
        self.ensure_one()
        for note in self.note_ids.filtered(lambda message: not message.meta_erased):
            record = self.env[note.model].browse(note.res_id)
            note._meta_erase_content(
                self.with_context(lang=self._meta_reader_lang(record)).env._(
                    "The author removed this %(platform)s comment.",
                    platform=self._meta_platform_label(),
                )
            )
        lead = self.lead_id
        if not (lead and words.strip()):
            return
        vals = {}
        if lead.description and _same_words(html2plaintext(lead.description), words):
            vals["description"] = False
        excerpt = self._meta_excerpt(words)
        if excerpt and excerpt in (lead.name or ""):
            vals["name"] = lead.name.replace(
                excerpt,
                self.with_context(lang=self._meta_reader_lang(lead)).env._(
                    "removed by its author"
                ),
            )
        if vals:
            # sudo: crm.lead - the system erases the words it copied there,
            # whoever owns the lead
            lead.sudo().write(vals)

    def _meta_forget_events(self, events):
        """The webhook events of this removed comment (``events`` and those
        already done) keep what ordered them, not what its author wrote."""
        self.ensure_one()
        # sudo: meta.webhook.event - the system's inbox, erased by the system
        Event = self.env["meta.webhook.event"].sudo()
        done = Event.search([("res_model", "=", self._name), ("res_id", "=", self.id)])
        for event in done | events.sudo():
            kept = social.without_words(event.payload)
            if kept != event.payload:
                event.payload = kept

    @api.model
    def _meta_state_after(self, change, state):
        if change.verb == "remove":
            return "removed"
        if change.verb == "hide" or change.hidden:
            return "hidden"
        if change.verb == "unhide":
            return "visible"
        return state

    @api.model
    def _meta_open_lead(self, partner, company):
        """The lead a comment of ``partner`` belongs on: their latest open
        (not won, active) lead or opportunity of the company."""
        if not partner:
            return self.env["crm.lead"]
        # sudo: crm.lead - the cron links the comment whoever owns the lead
        return (
            self.env["crm.lead"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", partner.id),
                    ("company_id", "in", [company.id, False]),
                    ("stage_id.is_won", "=", False),
                ],
                order="create_date desc, id desc",
                limit=1,
            )
        )

    def _meta_announce(self):
        """A note on the person's card and lead, in its own subtype so that
        people follow or mute comments; Meta's words are text, escaped."""
        self.ensure_one()
        if self.from_account or self.state == "removed" or not self.partner_id:
            return
        notes = self.env["mail.message"]
        for record, subtype in (
            (self.partner_id, "meta_graph_connector.mt_meta_social_partner"),
            (self.lead_id, "meta_graph_connector.mt_meta_social_lead"),
        ):
            if not record:
                continue
            # the cron has no language of its own: each note speaks its
            # reader's
            body = self.with_context(
                lang=self._meta_reader_lang(record)
            )._meta_note_body()
            notes |= record.message_post(
                body=body, subtype_xmlid=subtype, message_type="comment"
            )
        self.note_ids = [Command.link(note.id) for note in notes]

    def _meta_reader_lang(self, record):
        """The language of who reads this comment's note on ``record`` (the
        card or the lead): its salesperson's, else the salesperson of the
        person's lead, else the company's."""
        return (
            record.user_id.lang
            or self.lead_id.user_id.lang
            or self.company_id.partner_id.lang
            or self.env.lang
        )

    def _meta_platform_label(self):
        return dict(self._fields["platform"]._description_selection(self.env))[
            self.platform
        ]

    def _meta_excerpt(self, text, size=50):
        text = " ".join((text or "").split())
        return (text[:size] + "…") if len(text) > size else text

    def _meta_note_body(self):
        platform = self._meta_platform_label()
        kind = dict(self._fields["kind"]._description_selection(self.env))[self.kind]
        title = Markup("<p><strong>%s · %s</strong></p>") % (platform, kind)
        if self.url:
            title = Markup(
                '<p><strong>%s · %s</strong> · <a href="%s" target="_blank" '
                'rel="noopener noreferrer">%s</a></p>'
            ) % (platform, kind, self.url, self.env._("Open"))
        post = (
            Markup("<p><em>%s</em></p>") % self.post_id.label
            if self.post_id.text
            else ""
        )
        return title + post + plaintext2html(self.text or "")

    # ------------------------------------------------------------ actions

    def _meta_check_can(self, action):
        """Who may act, and whether Meta lets the connection do it: the
        user must see this comment (crm's rules: their own leads) and sell,
        moderation is for Meta administrators, and the connection
        needs the permission (refused here, before calling Meta)."""
        self._meta_check_agent(self.env._("Only salespeople answer comments."))
        if action == "moderate" and not (
            self.env.su
            or self.env.user.has_group("meta_graph_connector.group_meta_admin")
        ):
            raise AccessError(
                self.env._("Only Meta administrators can hide or delete comments.")
            )
        granted = set((self.asset_id.connection_id.granted_scopes or "").split(","))
        missing = [
            scope
            for scope in ACTION_SCOPES[(action, self.platform)]
            if scope not in granted
        ]
        if missing:
            raise UserError(
                self.env._(
                    "The Meta connection %(connection)s lacks the permission "
                    "%(scopes)s: reconnect it and grant it to do this.",
                    connection=self.asset_id.connection_id.name,
                    scopes=", ".join(missing),
                )
            )

    def action_open_reply(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply"),
            "res_model": "meta.social.reply",
            "view_mode": "form",
            "target": "new",
            "context": {"default_comment_id": self.id},
        }

    def _meta_reply(self, text):
        """Answer publicly, as the Page: a reply record on its way."""
        self._meta_check_can("reply")
        if self.state == "removed" or not self.comment_ref:
            raise UserError(self.env._("This comment is not at Meta."))
        if self.kind == "mention":
            raise UserError(
                self.env._(
                    "Answer a mention on Instagram: it is on another account's post."
                )
            )
        if self.platform == "instagram" and (self.parent_ref or self.kind == "reply"):
            raise UserError(
                self.env._("Instagram takes replies to top-level comments only.")
            )
        if self.platform == "instagram" and self.state == "hidden":
            raise UserError(self.env._("Instagram takes no reply to a hidden comment."))
        text = self._meta_clean(text)
        # sudo: meta.social.comment - the Page's reply is recorded by the
        # system; the user's right to answer was checked above
        reply = (
            self.sudo()
            .create(
                {
                    "asset_id": self.asset_id.id,
                    "platform": self.platform,
                    "kind": "reply",
                    "post_id": self.post_id.id,
                    "parent_id": self.id,
                    "parent_ref": self.comment_ref,
                    "partner_id": self.partner_id.id,
                    "lead_id": self.lead_id.id,
                    "author": self.asset_id.name,
                    "text": text,
                    "posted_at": fields.Datetime.now(),
                    "from_account": True,
                    "meta_state": "queued",
                }
            )
            .with_env(self.env)
        )
        self.env["meta.outbox"]._meta_enqueue(
            self.asset_id,
            "comment_reply",
            {
                "platform": self.platform,
                "comment_id": self.comment_ref,
                "message": text,
            },
            origin=reply,
        )
        return reply

    def _meta_private_reply(self, text):
        """A private message to the commenter, once per comment, within
        seven days; refused before calling Meta otherwise."""
        self._meta_check_can("private")
        refusal = social.private_reply_refusal(
            self.posted_at and self.posted_at.replace(tzinfo=None),
            fields.Datetime.now(),
            already=self.private_reply_state in ("queued", "sent"),
            from_account=self.from_account,
        )
        if self.kind == "mention" and self.comment_ref == self.post_id.post_ref:
            refusal = "own_comment"  # a caption mention: no comment to anchor on
        if refusal:
            raise UserError(
                {
                    "already": self.env._(
                        "A private reply was already sent for this comment: "
                        "Meta allows one."
                    ),
                    "too_old": self.env._(
                        "Meta allows a private reply within 7 days of the comment."
                    ),
                    "own_comment": self.env._(
                        "This comment cannot be answered privately."
                    ),
                }[refusal]
            )
        text = self._meta_clean(text, private=True)
        page = self.asset_id._meta_token_holder()
        # sudo: meta.social.comment - delivery fields, the user's right was
        # checked above
        self.sudo().write(
            {
                "private_reply_state": "queued",
                "private_reply_text": text,
                "private_reply_error": False,
            }
        )
        self.env["meta.outbox"]._meta_enqueue(
            self.asset_id,
            "comment_private_reply",
            {
                "page_id": page.external_id,
                "comment_id": self.comment_ref,
                "message": text,
            },
            origin=self,
        )
        return True

    def action_hide(self):
        return self._meta_moderate(True)

    def action_unhide(self):
        return self._meta_moderate(False)

    def _meta_moderate(self, hidden):
        for comment in self:
            comment._meta_check_can("moderate")
            comment._meta_send_action("comment_hide", hidden=hidden)
        return True

    def action_delete_at_meta(self):
        """Delete our own reply at Meta (a customer's comment is hidden,
        not deleted)."""
        for comment in self:
            comment._meta_check_can("moderate")
            if not comment.from_account:
                raise UserError(
                    self.env._("Only the Page's own replies are deleted from Odoo.")
                )
            comment._meta_send_action("comment_delete")
        return True

    def _meta_send_action(self, operation, **params):
        """Queue a moderation of this comment at Meta; its delivery shows on
        the comment (the caller checked the user's rights)."""
        self.ensure_one()
        if self.state == "removed" or not self.comment_ref:
            raise UserError(self.env._("This comment is not at Meta."))
        # sudo: meta.social.comment - the delivery fields of a checked action
        self.sudo().write({"meta_state": "queued", "meta_error": False})
        self.env["meta.outbox"]._meta_enqueue(
            self.asset_id,
            operation,
            {"platform": self.platform, "comment_id": self.comment_ref, **params},
            origin=self,
        )

    def action_create_lead(self):
        """A lead from the comment, for its author, linked to it."""
        self.ensure_one()
        self.check_access("read")
        if self.lead_id:
            raise UserError(self.env._("This comment is already on a lead."))
        lead = self.env["meta.lead.mapper"]._meta_create_lead(self._meta_lead_origin())
        # sudo: meta.social.comment - the link to the lead just made
        self.sudo().lead_id = lead
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": lead.id,
            "view_mode": "form",
        }

    def _meta_lead_origin(self):
        """What the comment says of its lead: its author, its words, the ad
        it was written under. The salesperson making the lead owns it (crm
        shows a salesperson their own leads only); a comment has no team of
        its own: crm gives the salesperson's."""
        return MetaLeadOrigin(
            company=self.company_id,
            platform=self.platform,
            paid=bool(self.ad_id),
            partner=self.partner_id,
            name=self.env._(
                "%(platform)s comment: %(text)s",
                platform=self._meta_platform_label(),
                text=self._meta_excerpt(self.text),
            ),
            description=plaintext2html(self.text or ""),
            ad_id=self.ad_id,
            user=self.env.user,
        )

    def _meta_clean(self, text, private=False):
        try:
            return social.clean_reply(
                html2plaintext(text) if "<" in (text or "") else text,
                private=private,
                platform=self.platform,
            )
        except ValueError as error:
            raise UserError(
                self.env._("Write a reply first.")
                if str(error) == "empty"
                else self.env._("This reply is longer than Meta takes.")
            ) from None

    # ------------------------------------------------------- outbox answers

    def _meta_outbox_ordering_key(self, operation):
        # a reply queues behind what is sent about the comment it answers
        comment = self.parent_id if operation == "comment_reply" else self
        return super(MetaSocialComment, comment)._meta_outbox_ordering_key(operation)

    def _meta_outbox_done(self, item, result):
        if item.operation == "comment_reply":
            ref = (result or {}).get("id")
            # the webhook of our reply may have been first: one record
            echo = self._meta_find(self.asset_id, ref) if ref else self
            if echo and echo != self:
                echo.unlink()
            self.write({"comment_ref": ref, "meta_state": "sent", "meta_error": False})
        elif item.operation == "comment_private_reply":
            self.write({"private_reply_state": "sent", "private_reply_error": False})
        elif item.operation == "comment_hide":
            hidden = (item.params or {}).get("hidden")
            self.write(
                {
                    "state": "hidden" if hidden else "visible",
                    "meta_state": "sent",
                    "meta_error": False,
                }
            )
        elif item.operation == "comment_delete":
            self.write({"state": "removed", "meta_state": "sent", "meta_error": False})

    def _meta_outbox_gave_up(self, item, error, reason):
        words = self._meta_error_words(item, reason)
        if item.operation == "comment_private_reply":
            self.write({"private_reply_state": "failed", "private_reply_error": words})
        else:
            self.write({"meta_state": "failed", "meta_error": words})

    def _meta_error_words(self, item, reason):
        """Meta's refusal said so that a salesperson can act on it, from the
        item's typed error (code, subcode), Meta's own text after it
        (docs/meta-facts.md §6.3)."""
        reason = str(reason or "")
        known = {
            (10900, None): self.env._(
                "Meta allows one private reply per comment and one was already "
                "sent (perhaps from Meta Business Suite)."
            ),
            (10903, None): self.env._(
                "Meta no longer takes a private reply to this comment (older "
                "than 7 days, or written by the Page)."
            ),
            (100, 33): self.env._(
                "The comment is no longer at Meta (deleted by its author or the Page)."
            ),
        }
        code, subcode = item.error_code, item.error_subcode
        text = known.get((code, subcode)) or known.get((code, None))
        return f"{text} ({reason})" if text and code else reason


def _same_words(one, other):
    return " ".join(one.split()) == " ".join(other.split())
