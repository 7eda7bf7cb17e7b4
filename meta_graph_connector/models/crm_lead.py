from markupsafe import Markup

from odoo import api, fields, models
from odoo.models import parse_read_group_spec
from odoo.tools import SQL, parse_contact_from_email

from ..graph.const import PLATFORMS

#: timing column -> the column without which the timing does not exist
_META_TIMING_OF = {
    "meta_speed_to_lead": "meta_submitted_at",
    "meta_response_minutes": "meta_first_response_at",
}


class CrmLead(models.Model):
    _inherit = "crm.lead"

    meta_lead_ids = fields.One2many(
        "meta.lead", "lead_id", string="Meta Submissions", readonly=True
    )
    meta_page_id = fields.Many2one(
        "meta.asset", string="Facebook Page", readonly=True, index="btree_not_null"
    )
    meta_form_id = fields.Many2one(
        "meta.lead.form", string="Lead Form", readonly=True, index="btree_not_null"
    )
    meta_platform = fields.Selection(
        list(PLATFORMS),
        string="Platform",
        readonly=True,
    )
    meta_is_organic = fields.Boolean(string="Organic", readonly=True)
    meta_is_test = fields.Boolean(
        string="Meta Test Lead",
        readonly=True,
        copy=False,
        help="Made by Meta's Lead Ads Testing Tool: no real person behind it.",
    )
    meta_ad_id = fields.Char(string="Ad ID", readonly=True)
    meta_ad_name = fields.Char(string="Ad", readonly=True)
    meta_adset_id = fields.Char(string="Ad Set ID", readonly=True)
    meta_adset_name = fields.Char(string="Ad Set", readonly=True)
    meta_campaign_ref = fields.Char(string="Meta Campaign ID", readonly=True)
    meta_campaign_name = fields.Char(string="Meta Campaign", readonly=True)
    meta_submitted_at = fields.Datetime(
        string="Submitted on Meta", readonly=True, copy=False
    )
    meta_first_response_at = fields.Datetime(
        string="First Response", readonly=True, copy=False
    )
    meta_speed_to_lead = fields.Float(
        string="Seconds to Lead",
        compute="_compute_meta_speed",
        store=True,
        aggregator="avg",
        help="From the submission on Meta to the lead in Odoo.",
    )
    meta_response_minutes = fields.Float(
        string="Minutes to First Response",
        compute="_compute_meta_speed",
        store=True,
        aggregator="avg",
        help="From the submission on Meta to the first activity done or the "
        "first message sent to the customer.",
    )
    meta_answers_html = fields.Html(
        string="Form Answers",
        compute="_compute_meta_answers_html",
        sanitize=False,  # built with Markup escaping below, never from raw input
    )

    @api.depends("meta_submitted_at", "create_date", "meta_first_response_at")
    def _compute_meta_speed(self):
        for lead in self:
            submitted = lead.meta_submitted_at
            created = lead.create_date
            lead.meta_speed_to_lead = (
                max((created - submitted).total_seconds(), 0.0)
                if submitted and created
                else 0.0
            )
            responded = lead.meta_first_response_at
            lead.meta_response_minutes = (
                max((responded - submitted).total_seconds() / 60.0, 0.0)
                if submitted and responded
                else 0.0
            )

    @api.depends("meta_lead_ids")
    def _compute_meta_answers_html(self):
        for lead in self:
            # sudo: meta.lead - the submissions are technical records; this
            # lead's readers (crm's rules already let them see it) see its answers.
            # a merged lead holds several submissions: show every answer
            lead.meta_answers_html = lead._meta_answers_table(
                [
                    answer
                    for binding in lead.sudo().meta_lead_ids
                    for answer in binding.answers or []
                ]
            )

    def _read_group_select(self, aggregate_spec, query):
        """Averages of the timings count only the leads that have one.

        Odoo stores an unset float as 0, so an unanswered lead (or one that
        did not come from Meta) would be averaged in as an instant answer:
        every pivot, graph and dashboard would show a response time too good
        to be true."""
        fname, __, func = parse_read_group_spec(aggregate_spec)
        if func == "avg" and fname in _META_TIMING_OF:
            # super() checks the field and the user's access to it
            super()._read_group_select(aggregate_spec, query)
            value = self._field_to_sql(self._table, fname, query)
            known = self._field_to_sql(self._table, _META_TIMING_OF[fname], query)
            return SQL("AVG(CASE WHEN %s IS NOT NULL THEN %s END)", known, value)
        return super()._read_group_select(aggregate_spec, query)

    # ------------------------------------------------------------ render

    @api.model
    def _meta_answers_table(self, answers):
        """An HTML table of form answers; every value Meta sent is escaped."""
        if not answers:
            return False
        rows = Markup("").join(
            Markup("<tr><th>%s</th><td>%s</td></tr>")
            % (
                answer.get("label") or answer.get("key"),
                ", ".join(answer.get("values") or []),
            )
            for answer in answers
            if isinstance(answer, dict)
        )
        return Markup('<table class="table table-sm o_meta_answers">%s</table>') % rows

    # ------------------------------------------------------- business

    def _meta_reader_lang(self, form):
        """The language of the person who reads what the import writes on
        this lead (the cron has none of its own): the salesperson's, else the
        company's, else the form's when Odoo has that language active."""
        self.ensure_one()
        lang = self.user_id.lang or self.company_id.partner_id.lang
        if not lang and form.locale:
            lang = self.env["res.lang"]._get_code(form.locale)
        return lang or self.env.lang

    def _meta_answers_note(self, binding, form):
        """Chatter body with the answers, as the form submitted them, in the
        language of the lead's reader."""
        self.ensure_one()
        lead = self.with_context(lang=self._meta_reader_lang(form))
        platforms = dict(lead._fields["meta_platform"]._description_selection(lead.env))
        return Markup("<p>%s</p>%s") % (
            lead.env._(
                "New lead from the %(platform)s lead form “%(form)s”.",
                platform=platforms.get(binding.platform, "Meta"),
                form=form.name,
            ),
            self._meta_answers_table(binding.answers) or "",
        )

    def _meta_notify_salesperson(self, form):
        """A call activity due now, and an instant toast in the web client,
        both in the salesperson's language."""
        self.ensure_one()
        if not self.user_id:
            return
        env = self.with_context(lang=self._meta_reader_lang(form)).env
        today = fields.Date.context_today(self.with_user(self.user_id))
        # mail_activity_quick_update: no "activity assigned" e-mail rendered
        # per lead (it costs more than the lead itself); the activity shows
        # at once in the salesperson's systray and the toast below pops up.
        self.with_context(mail_activity_quick_update=True).activity_schedule(
            "mail.mail_activity_data_call",
            date_deadline=today,
            summary=env._("Call the new Meta lead"),
            user_id=self.user_id.id,
        )
        # grouped, clickable and expiring in the web client
        # (static/src/lead_notification): several leads in a row make one
        # toast "3 new Meta leads" that opens them
        self.user_id._bus_send(
            "meta_graph_connector/new_lead",
            {
                "lead_id": self.id,
                "title": env._("New lead from %(form)s", form=form.name),
                # plain text: the web client renders it escaped
                "name": self.contact_name or self.email_from or self.name,
            },
        )

    def _meta_create_customers(self):
        """A new customer per person, as crm makes a lead's customer.

        Several leads of one new person in one batch (a backfill, a
        reconciliation, a redelivered batch) end on one customer, as they do
        when they arrive one by one and the second is matched to the customer
        the first created: by normalized e-mail or sanitized phone.
        """
        first_of, makers, sharing = {}, [], []
        for lead in self:
            keys = [key for key in (lead.email_normalized, lead.phone_sanitized) if key]
            first = next((first_of[key] for key in keys if key in first_of), None)
            if first is None:
                first = lead
                makers.append(lead)
            else:
                sharing.append((lead, first))
            for key in keys:
                first_of.setdefault(key, first)
        makers = self.browse([lead.id for lead in makers])
        for lead, partner in zip(makers, makers._meta_new_customers(), strict=True):
            lead.partner_id = partner
        for lead, first in sharing:
            lead.partner_id = first.partner_id

    def _meta_new_customers(self):
        """The customer of each lead, made as crm's ``_create_customer``
        makes it (the company the lead names, then its contact, each with
        crm's ``_prepare_customer_values``), but with one create per level
        for the whole batch: crm creates them one by one, and a backfill of
        10,000 leads spent most of its time there. One partner per lead, in
        order."""
        Partner = self.env["res.partner"]
        named = self.filtered("partner_name")
        companies = dict(
            zip(
                named,
                Partner.create(
                    [
                        lead._prepare_customer_values(
                            lead.partner_name, is_company=True
                        )
                        for lead in named
                    ]
                ),
                strict=True,
            )
        )
        contacts, plan = [], []
        for lead in self:
            company = companies.get(lead)
            name = lead.contact_name or (
                parse_contact_from_email(lead.email_from)[0]
                if lead.email_from
                else False
            )
            if not name and company:
                plan.append(company)
                continue
            plan.append(len(contacts))
            contacts.append(
                lead._prepare_customer_values(
                    name or lead.name,
                    is_company=False,
                    parent_id=company.id if company else False,
                )
            )
        made = Partner.create(contacts)
        return [made[step] if isinstance(step, int) else step for step in plan]

    def _meta_merge_into_open_lead(self):
        """Merge into the customer's open lead with crm's own merge."""
        self.ensure_one()
        duplicates = (
            self._get_lead_duplicates(partner=self.partner_id, email=self.email_from)
            - self
        )
        if not duplicates:
            return self
        # the customer's open lead stays the lead (its salesperson, stage,
        # id): crm would keep the most probable one, and predictive scoring
        # may rate the new submission higher
        head = duplicates._sort_by_confidence_level(reverse=True)[0]
        return (
            (self | duplicates)
            .with_context(meta_merge_head=head.id)
            ._merge_opportunity(
                user_id=head.user_id.id or self.user_id.id or False,
                auto_unlink=True,
                max_length=0,
            )
        )

    def _sort_by_confidence_level(self, reverse=False):
        result = super()._sort_by_confidence_level(reverse=reverse)
        head = result.filtered(
            lambda lead: lead._origin.id == self.env.context.get("meta_merge_head")
        )
        if head and reverse:
            return head + (result - head)
        return result

    def _merge_dependences(self, opportunities):
        # The submissions follow the merge, so each Meta lead id still points
        # to exactly one CRM lead and is never imported again.
        result = super()._merge_dependences(opportunities)
        # sudo: meta.lead - technical bindings, moved with the merge the user
        # was allowed to do.
        opportunities.sudo().meta_lead_ids.write({"lead_id": self.id})
        return result

    def _meta_mark_first_response(self):
        pending = self.filtered(
            lambda lead: lead.meta_submitted_at and not lead.meta_first_response_at
        )
        if pending:
            pending.sudo().meta_first_response_at = fields.Datetime.now()

    def _message_post_after_hook(self, message, msg_vals):
        # A message to the customer (not a note, not the system) is a response.
        if (
            message.message_type in ("comment", "email")
            and message.subtype_id == self.env.ref("mail.mt_comment")
            and message.author_id.user_ids.filtered(lambda u: not u.share)
            and message.author_id != self.env.ref("base.partner_root")
        ):
            self._meta_mark_first_response()
        return super()._message_post_after_hook(message, msg_vals)

    # ----------------------------------------------- Conversions API (CRM)
    # The stages a Meta lead reaches, told to Meta (Conversion Leads).

    meta_conversion_event_ids = fields.One2many(
        "meta.conversion.event",
        "lead_id",
        string="Conversion Events",
        readonly=True,
    )
    meta_conversion_status = fields.Char(
        string="Told to Meta", compute="_compute_meta_conversion_status"
    )

    @api.depends("meta_conversion_event_ids.state", "meta_lead_ids", "partner_id")
    def _compute_meta_conversion_status(self):
        labels = dict(
            self.env["meta.conversion.event"]
            ._fields["state"]
            ._description_selection(self.env)
        )
        for lead in self:
            events = lead.meta_conversion_event_ids
            if events:
                last = events.sorted(lambda e: (e.event_time, e.id))[-1]
                lead.meta_conversion_status = self.env._(
                    "%(event)s: %(state)s",
                    event=last.event_name,
                    state=labels[last.state],
                )
            # sudo: crm.lead - the Meta submissions and the consent behind
            # the lead are read to say why nothing was sent, not shown
            elif lead.sudo().meta_lead_ids and not lead.meta_is_test:
                lead.meta_conversion_status = (
                    self.env._("Nothing sent yet")
                    if lead.sudo()._meta_measurement_allowed()
                    else self.env._("Not sent: no consent to conversion measurement")
                )
            else:
                lead.meta_conversion_status = False

    def _meta_measurement_allowed(self):
        """May Meta be told about this lead's progress? Only when the
        person consented to conversion measurement (unknown counts as no)
        and is not on the suppression list."""
        self.ensure_one()
        partner = self.partner_id or self.meta_lead_ids[:1].partner_id
        if not partner:
            return False
        state = partner._meta_consent_states()[partner.id]["measurement"]
        if state != "granted":
            return False
        keys = {
            key for _kind, key in self.env["meta.suppression"]._meta_keys_of(partner)
        }
        for kind, value in (("EMAIL", self.email_from), ("PHONE", self.phone)):
            keys |= {
                key
                for _kind, key in self.env["meta.suppression"]._meta_keys_of_values(
                    kind, value, partner.country_id.code
                )
            }
        return not self.env["meta.suppression"]._meta_suppressed_keys(keys)

    # ---------------------------------------------------------- triggers

    # A lead is told to Meta from the moment its Meta submission is bound to
    # it and the consent known (``meta.lead.importer``), not at create.

    def write(self, vals):
        # crm's "Lost" archives the lead, then sets its probability to 0 in
        # a second write (``toggle_active``): the lead is lost once both are
        # done, in whichever order or write they come
        was_lost = (
            {lead.id for lead in self if lead._meta_is_lost()}
            if {"active", "probability"} & vals.keys()
            else None
        )
        result = super().write(vals)
        if "stage_id" in vals:
            self._meta_queue_stage_events()
        if was_lost is not None:
            self.filtered(
                lambda lead: lead.id not in was_lost and lead._meta_is_lost()
            )._meta_queue_lost_events()
        return result

    def _meta_is_lost(self):
        """crm's lost: archived with no chance left (``action_set_lost``)."""
        self.ensure_one()
        return not self.active and self.probability == 0

    def _meta_queue_stage_events(self):
        # sudo: meta.conversion.event - any salesperson moving a lead tells
        # Meta of it; nobody edits the events.
        return (
            self.env["meta.conversion.event"]
            .sudo()
            ._meta_queue_for(self, lambda lead: lead.stage_id.meta_conversion_event)
        )

    def _meta_queue_lost_events(self):
        Event = self.env["meta.conversion.event"].sudo()
        return Event._meta_queue_for(
            self,
            lambda lead: Event._meta_dataset_of(lead.company_id).conversion_lost_event,
        )

    # ------------------------------------------------------------ social

    meta_social_comment_ids = fields.One2many(
        "meta.social.comment", "lead_id", string="Social Comments"
    )
    meta_social_comment_count = fields.Integer(
        string="Social", compute="_compute_meta_social_comment_count"
    )
    meta_last_social_at = fields.Datetime(
        related="partner_id.meta_last_social_at", string="Last Social Interaction"
    )

    def _compute_meta_social_comment_count(self):
        counts = self.env["meta.social.comment"]._meta_customer_counts("lead_id", self)
        for lead in self:
            lead.meta_social_comment_count = counts.get(lead._origin, 0)

    def action_meta_social_comments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.action_meta_social_comment"
        )
        action["domain"] = [
            "|",
            ("lead_id", "=", self.id),
            "&",
            ("partner_id", "=", self.partner_id.id),
            ("partner_id", "!=", False),
        ]
        action["context"] = {"search_default_customers": 1}
        return action

    # ------------------------------------------------------------ inbox

    meta_conversation_id = fields.Many2one(
        "discuss.channel",
        string="Conversation",
        index="btree_not_null",
        ondelete="set null",
        readonly=True,
        domain=[("channel_type", "=", "meta")],
    )

    def action_meta_open_conversation(self):
        self.ensure_one()
        self.meta_conversation_id.check_access("read")
        return self.meta_conversation_id._meta_discuss_action()
