import logging
import time
from ast import literal_eval
from datetime import datetime, timedelta, timezone

from markupsafe import Markup
from psycopg2 import IntegrityError

from odoo import Command, api, fields, models, modules
from odoo.tools import email_normalize, mute_logger, split_every

from ..graph import api as meta_api
from ..graph.errors import (
    GraphError,
    InvalidLeadError,
    MissingPermissionError,
    RateLimitError,
    TokenError,
)
from ..graph.leads import normalize_lead
from ..graph.text import strip_export_prefix
from ..graph.times import parse_time, to_naive_utc

_logger = logging.getLogger(__name__)

#: Leads submitted less than this long ago get the "call now" treatment even
#: when the reconciliation poll (not the webhook) finds them; older ones are
#: history (backfill) and are imported quietly.
FRESH_LEAD_WINDOW = timedelta(hours=24)
#: The poll re-reads this much before its watermark: Meta's clock, indexing
#: delays and equal timestamps must not make it skip a lead.
WATERMARK_OVERLAP = timedelta(hours=1)
#: A reconciliation run starts no new batch after this many seconds; it
#: reports the forms left and the scheduler runs it again at once (see the
#: event processing's RUN_TIME_BUDGET for why runs stay short).
SYNC_TIME_BUDGET = 10
IMPORT_BATCH = 200
#: Leads asked per Graph page (Meta serves 25 unless told, up to 100).
LEADS_PAGE_SIZE = 100


class MetaLeadForm(models.Model):
    """A Lead Ads form of a connected Page, and how its leads enter the CRM."""

    _name = "meta.lead.form"
    _description = "Meta Lead Form"
    _inherit = ["mail.thread", "meta.admin.mixin", "meta.event.consumer"]
    _meta_event_kinds = ("leadgen",)
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(
        default=True,
        tracking=True,
        help="Archived forms do not create leads; their webhooks are ignored.",
    )
    page_id = fields.Many2one(
        "meta.asset",
        string="Facebook Page",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
        domain=[("asset_type", "=", "page")],
    )
    connection_id = fields.Many2one(
        related="page_id.connection_id", store=True, index=True, readonly=True
    )
    company_id = fields.Many2one(
        related="page_id.company_id", store=True, index=True, readonly=True
    )
    meta_form_id = fields.Char(string="Meta Form ID", required=True, readonly=True)
    status = fields.Selection(
        [
            ("ACTIVE", "Active"),
            ("ARCHIVED", "Archived"),
            ("DELETED", "Deleted"),
            ("DRAFT", "Draft"),
        ],
        string="Status on Meta",
        readonly=True,
    )
    locale = fields.Char(readonly=True)
    questions = fields.Json(readonly=True)
    field_ids = fields.One2many(
        "meta.lead.form.field", "form_id", string="Question Mapping"
    )
    # --- what a lead of this form becomes
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        default=lambda self: self._default_lead_type(),
        required=True,
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        help="Leads go to this team; without a salesperson below, the team "
        "member with the most free capacity gets each lead.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        check_company=True,
        domain="[('share', '=', False)]",
        help="Every lead of this form goes to this salesperson.",
    )
    tag_ids = fields.Many2many("crm.tag", string="Tags")
    create_partner = fields.Boolean(
        string="Create Customer",
        default=True,
        help="Create a contact when no existing customer has the lead's "
        "e-mail or phone.",
    )
    merge_duplicates = fields.Boolean(
        string="Merge into Open Lead",
        help="When the customer already has an open lead or opportunity, merge "
        "the new one into it (CRM's own merge) instead of adding another.",
    )
    # --- synchronisation
    sync_watermark = fields.Datetime(
        readonly=True,
        help="Every lead created before this time has been read from Meta; "
        "the next synchronisation reads from an hour before it.",
    )
    sync_resume_at = fields.Datetime(
        string="Resume At",
        readonly=True,
        copy=False,
        help="A synchronisation was interrupted: leads created after this time "
        "were imported, the next run reads the older ones it did not reach.",
    )
    sync_run_newest = fields.Datetime(
        readonly=True,
        copy=False,
        help="Creation time of the newest lead an interrupted synchronisation "
        "read: the watermark once the run is completed.",
    )
    last_sync_at = fields.Datetime(readonly=True)
    last_sync_error = fields.Text(readonly=True)
    sync_requested = fields.Boolean(readonly=True)
    backfill_state = fields.Selection(
        [
            ("todo", "To Do"),
            ("running", "Running"),
            ("interrupted", "Interrupted"),
            ("done", "Done"),
        ],
        default="todo",
        readonly=True,
        copy=False,
        help="Interrupted: the last run stopped on an error (shown below); the "
        "next run resumes where it stopped.",
    )
    backfill_seen = fields.Integer(string="Leads Read", readonly=True)
    backfill_imported = fields.Integer(string="Leads Imported", readonly=True)
    missed_webhook_count = fields.Integer(
        string="Recovered Leads",
        readonly=True,
        help="Leads the reconciliation found whose webhook never arrived.",
    )
    lead_count = fields.Integer(compute="_compute_lead_count")

    _sql_constraints = [
        (
            "form_unique",
            "unique(page_id, meta_form_id)",
            "This lead form is already known for this connection.",
        ),
    ]

    def _default_lead_type(self):
        return (
            "lead" if self.env.user.has_group("crm.group_use_lead") else "opportunity"
        )

    def _compute_lead_count(self):
        counts = dict(
            self.env["crm.lead"]
            .with_context(active_test=False)
            ._read_group(
                [("meta_form_id", "in", self.ids)], ["meta_form_id"], ["__count"]
            )
        )
        for form in self:
            form.lead_count = counts.get(form, 0)

    # ------------------------------------------------------------ CRUD

    def write(self, vals):
        result = super().write(vals)
        if vals.get("active"):
            # (Re)activated: start the initial backfill in the background.
            self.filtered(lambda f: f.backfill_state != "done")._meta_request_sync()
        return result

    # ---------------------------------------------------------- actions

    def action_sync_now(self):
        self._meta_check_admin()
        self._meta_request_sync()
        return self.connection_id._meta_notification(
            self.env._("Synchronisation started; leads appear as they are read.")
        )

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action.update(
            domain=[("meta_form_id", "=", self.id)],
            context={"active_test": False, "create": False},
        )
        return action

    def action_send_test_lead(self):
        """Ask Meta for a test lead; Meta then sends its webhook and the lead
        arrives like any other. Queued in the outbox (nothing is sent to Meta
        inside a user's request); a refusal is posted on the form for the
        person who asked.

        Against real Meta this needs the Advertiser role on the Page; Meta's
        own Lead Ads Testing Tool does the same from the browser.
        """
        self.ensure_one()
        self._meta_check_admin()
        self.env["meta.outbox"]._meta_enqueue(
            self.page_id,
            "create_test_lead",
            {"form_id": self.meta_form_id},
            ordering_key=f"lead_form:{self.id}",
            origin=self,
        )
        return self.connection_id._meta_notification(
            self.env._(
                "Test lead requested: Meta sends its webhook and the lead "
                "appears in the pipeline within seconds."
            ),
            kind="success",
        )

    def _meta_outbox_failed(self, item, reason):
        """Tell the person who asked for a test lead why Meta refused it."""
        user = item.requested_by or self.env.user
        form = self.with_context(lang=user.lang or self.env.lang)
        form.message_post(
            body=form.env._(
                "Meta refused the test lead: %(error)s. A form keeps one test "
                "lead: delete it in Meta's Lead Ads Testing Tool "
                "(https://developers.facebook.com/tools/lead-ads-testing) to "
                "create another.",
                error=reason,
            ),
            partner_ids=user.partner_id.ids,
            subtype_xmlid="mail.mt_note",
        )

    # ------------------------------------------------------- webhooks

    @api.model
    def _meta_handle_event(self, event, inbox_event):
        """A lead form was submitted: fetch the lead, make it a CRM lead."""
        Binding = self.env["meta.lead"]
        binding = Binding.search([("leadgen_id", "=", event.leadgen_id)], limit=1)
        if binding:
            # Redelivery, replay, or the reconciliation poll was first.
            return binding.lead_id or binding
        # sudo: meta.lead.erasure - technical tombstones
        if self.env["meta.lead.erasure"].sudo()._meta_erased([event.leadgen_id]):
            return self.env._("This lead was erased at the person's request.")
        page = inbox_event.asset_id
        graph_lead = page._meta_call(meta_api.get_lead, event.leadgen_id)
        form = self._meta_get_form(
            page, str(graph_lead.get("form_id") or event.form_id)
        )
        if not form.active:
            return self.env._(
                "The lead form %(form)s is archived in Odoo.", form=form.name
            )
        bindings = form._meta_import_graph_leads(
            [graph_lead], source="webhook", strict=True
        )
        return bindings.lead_id or bindings

    # ------------------------------------------------------- form sync

    @api.model
    def _meta_sync_forms(self, page):
        """Create or update the forms of a Page from Meta."""
        graph_forms = page._meta_call(meta_api.list_lead_forms, page.external_id)
        return self._meta_upsert_forms(page, graph_forms)

    @api.model
    def _meta_get_form(self, page, meta_form_id):
        """The form of a lead; read from Meta the first time it is seen."""
        form = self.with_context(active_test=False).search(
            [("page_id", "=", page.id), ("meta_form_id", "=", meta_form_id)],
            limit=1,
        )
        if form:
            return form
        graph_form = page._meta_call(meta_api.get_lead_form, meta_form_id)
        return self._meta_upsert_forms(page, [graph_form])

    @api.model
    def _meta_upsert_forms(self, page, graph_forms):
        existing = {
            form.meta_form_id: form
            for form in self.with_context(active_test=False).search(
                [("page_id", "=", page.id)]
            )
        }
        forms = self.browse()
        for graph_form in graph_forms:
            meta_form_id = str(graph_form.get("id") or "")
            if not meta_form_id:
                continue
            values = {
                "name": graph_form.get("name") or meta_form_id,
                "status": graph_form.get("status") or False,
                "locale": graph_form.get("locale") or False,
                "questions": graph_form.get("questions") or [],
            }
            form = existing.get(meta_form_id)
            if form:
                # the poll re-reads every form each run: write what changed only
                changed = {k: v for k, v in values.items() if form[k] != v}
                if changed:
                    form.write(changed)
            else:
                form = self.create(
                    {**values, "page_id": page.id, "meta_form_id": meta_form_id}
                )
                form._meta_request_sync()
            form._meta_update_mapping()
            forms |= form
        return forms

    def _meta_update_mapping(self):
        """One mapping line per question, with defaults for standard ones."""
        Field = self.env["meta.lead.form.field"]
        for form in self:
            lines = {line.question_key: line for line in form.field_ids}
            commands = []
            for sequence, question in enumerate(form.questions or []):
                key = question.get("key") if isinstance(question, dict) else None
                if not key:
                    continue
                values = {
                    "sequence": sequence,
                    "label": question.get("label") or key,
                    "question_type": question.get("type") or False,
                }
                line = lines.get(key)
                if line:
                    changed = {k: v for k, v in values.items() if line[k] != v}
                    if changed:
                        commands.append(Command.update(line.id, changed))
                else:
                    line = Field.new({**values, "question_key": key})
                    commands.append(
                        Command.create(
                            {
                                **values,
                                "question_key": key,
                                "target_field": Field._meta_default_target(
                                    line.canonical_field
                                ),
                            }
                        )
                    )
            if commands:
                form.field_ids = commands

    # ------------------------------------------------------ lead import

    def _meta_import_graph_leads(
        self, graph_leads, source="webhook", notify=None, strict=False, skipped=None
    ):
        """Turn Graph leads of this form into CRM leads; skip known ones.

        :param notify: None = notify leads submitted in the last 24 h only.
        :param strict: raise :class:`InvalidLeadError` for a malformed lead
            (one webhook event) instead of skipping it (a batch goes on).
        :param list skipped: receives the errors of the leads skipped.
        :return: the ``meta.lead`` bindings created.
        """
        self.ensure_one()
        Binding = self.env["meta.lead"]
        ids = [str(g.get("id")) for g in graph_leads]
        # erased ones too: the person asked, Meta may still keep them
        known = set(
            Binding.search([("leadgen_id", "in", ids)]).mapped("leadgen_id")
        ) | self.env["meta.lead.erasure"].sudo()._meta_erased(ids)
        normalized = []
        for graph_lead in graph_leads:
            if str(graph_lead.get("id")) in known:
                continue
            try:
                normalized.append(
                    normalize_lead(
                        graph_lead,
                        self.questions,
                        default_region=self.company_id.country_id.code or "TR",
                        locale=self.locale,
                    )
                )
            except InvalidLeadError as error:
                if strict:
                    raise
                # One bad lead never blocks the others; the run reports it.
                _logger.warning("Meta lead skipped on form %s: %s", self.id, error)
                if skipped is not None:
                    skipped.append(str(error))
        if not normalized:
            return Binding
        fresh_after = datetime.now(timezone.utc) - FRESH_LEAD_WINDOW
        fresh = [
            notify
            if notify is not None
            else not n.created_time or n.created_time >= fresh_after
            for n in normalized
        ]
        form = self
        if not any(fresh):
            # History (backfill): no tracking, no follower subscriptions, no
            # "contact created" logs, for the leads and the customers alike.
            form = self.with_context(
                tracking_disable=True,
                mail_create_nosubscribe=True,
                mail_create_nolog=True,
                mail_notrack=True,
            )
        partners = form._meta_match_partners(normalized)
        vals_list = [
            form._meta_prepare_lead_values(n, partners.get(n.lead_id))
            for n in normalized
        ]
        history = form._meta_history_lead_values()
        for values, is_fresh in zip(vals_list, fresh, strict=True):
            if not is_fresh:
                values.update(history)
        leads = (
            form.env["crm.lead"]
            .with_context(mail_create_nolog=True, mail_auto_subscribe_no_notify=True)
            .create(vals_list)
        )
        form._meta_assign(leads)
        if form.create_partner:
            form._meta_create_customers(
                leads.filtered(lambda lead: not lead.partner_id)
            )
        bindings = Binding.create(
            [
                form._meta_prepare_binding_values(n, lead, source)
                for n, lead in zip(normalized, leads, strict=True)
            ]
        )
        quiet_logs = {}
        for binding, is_fresh in zip(bindings, fresh, strict=True):
            lead = binding.lead_id
            if form.merge_duplicates:
                lead = lead._meta_merge_into_open_lead()
            if is_fresh:
                lead._meta_post_answers(binding, form)
                lead._meta_notify_salesperson(form)
            else:
                quiet_logs[lead.id] = lead._meta_answers_note(binding, form)
        if quiet_logs:
            # one batch insert for the history's answer notes
            self.env["crm.lead"].browse(list(quiet_logs))._message_log_batch(
                bodies=quiet_logs
            )
        return bindings

    def _meta_create_customers(self, leads):
        """A new customer per person, with crm's own partner creation.

        Several leads of one new person in one batch (a backfill, a
        reconciliation, a redelivered batch) end on one customer, as they do
        when they arrive one by one and the second is matched to the customer
        the first created: by normalized e-mail or sanitized phone.
        """
        created = {}
        for lead in leads:
            keys = [key for key in (lead.email_normalized, lead.phone_sanitized) if key]
            partner = next((created[key] for key in keys if key in created), None)
            if partner:
                lead._handle_partner_assignment(force_partner_id=partner.id)
            else:
                lead._handle_partner_assignment(create_missing=True)
                partner = lead.partner_id
            for key in keys:
                created.setdefault(key, partner)

    def _meta_history_lead_values(self):
        """Extra values of leads imported as history (backfill, old leads
        found by the reconciliation). A hook.

        History must not set off mass side effects the administrator did not
        choose for it: crm's lead enrichment (crm_iap_enrich, "auto" by
        default) would send every imported e-mail address to a third party
        and spend credits, thousands at a time after a backfill. New leads
        keep whatever enrichment the company chose.
        """
        if "iap_enrich_done" in self.env["crm.lead"]._fields:
            return {"iap_enrich_done": True}
        return {}

    def _meta_match_partners(self, normalized):
        """Existing customers by e-mail, then by phone.

        The keys come from :meth:`_meta_match_keys`, built by the functions
        that build the partner columns they are compared with, stored and
        indexed, so one query each serves a whole batch.
        """
        Partner = self.env["res.partner"]
        company_domain = [("company_id", "in", [False, self.company_id.id])]
        keys = {n.lead_id: self._meta_match_keys(n) for n in normalized}
        emails = {email for email, _phone in keys.values() if email}
        phones = {phone for _email, phone in keys.values() if phone}
        by_email, by_phone = {}, {}
        if emails:
            for partner in Partner.search(
                [("email_normalized", "in", list(emails)), *company_domain], order="id"
            ):
                by_email.setdefault(partner.email_normalized, partner)
        if phones:
            for partner in Partner.search(
                [("phone_sanitized", "in", list(phones)), *company_domain], order="id"
            ):
                by_phone.setdefault(partner.phone_sanitized, partner)
        matches = {}
        for lead_id, (email, phone) in keys.items():
            partner = by_email.get(email) or by_phone.get(phone)
            if partner:
                matches[lead_id] = partner
        return matches

    def _meta_match_keys(self, lead_data):
        """(e-mail key, phone key) of a lead, made by Odoo's own functions:
        ``email_normalize`` makes ``email_normalized`` (a non-ASCII local part
        keeps its case there, so a Turkish-aware lowering would never match),
        and ``_phone_format`` in E.164 makes ``phone_sanitized``. The core's
        normalization only helps them read the spellings people type
        ("0090 532…", "p:+90…"); the key itself is Odoo's."""
        self.ensure_one()
        typed = lead_data.email_raw if lead_data.email else None
        email = email_normalize(strip_export_prefix(typed or "").strip()) or False
        number = lead_data.phone or lead_data.phone_raw
        phone = False
        if number:
            country = self._meta_country(lead_data) or self.company_id.country_id
            phone = self.env["res.partner"]._phone_format(
                number=number, country=country, force_format="E164"
            )
        return email, phone

    def _meta_country(self, lead_data):
        if not lead_data.country_code:
            return self.env["res.country"]
        return self.env["res.country"].search(
            [("code", "=", lead_data.country_code)], limit=1
        )

    def _meta_prepare_lead_values(self, lead_data, partner=None):
        """crm.lead values of one normalized lead. A hook for extensions."""
        self.ensure_one()
        values = {
            "type": self.lead_type,
            "company_id": self.company_id.id,
            # Explicit: never let the importing (cron) user own the lead.
            "user_id": self.user_id.id or False,
            "team_id": self.team_id.id or False,
            "tag_ids": [Command.set(self.tag_ids.ids)],
            "partner_id": partner.id if partner else False,
            "meta_form_id": self.id,
            "meta_page_id": self.page_id.id,
            "meta_platform": lead_data.platform or False,
            "meta_is_organic": lead_data.is_organic,
            "meta_ad_id": lead_data.ad_id or False,
            "meta_ad_name": lead_data.ad_name or False,
            "meta_adset_id": lead_data.adset_id or False,
            "meta_adset_name": lead_data.adset_name or False,
            "meta_campaign_ref": lead_data.campaign_id or False,
            "meta_campaign_name": lead_data.campaign_name or False,
            "meta_submitted_at": to_naive_utc(lead_data.created_time) or False,
            **self._meta_utm_values(lead_data),
        }
        values.update(self._meta_mapped_values(lead_data))
        who = values.get("contact_name") or lead_data.email or lead_data.phone
        values["name"] = self.env._(
            "%(who)s - %(form)s", who=who or lead_data.lead_id, form=self.name
        )
        return values

    def _meta_mapped_values(self, lead_data):
        """Values of the questions the mapping places in lead fields."""
        values = {}
        notes = []
        for line in self.field_ids.filtered("target_field"):
            answer = next(
                (a for a in lead_data.answers if a.key == line.question_key), None
            )
            if answer is None:
                continue
            value = self._meta_answer_value(line, answer, lead_data)
            if not value:
                continue
            if line.target_field == "description":
                notes.append(f"{answer.label}: {value}")
            elif line.target_field == "country_id":
                country = self.env["res.country"].search(
                    [("code", "=", lead_data.country_code or "")], limit=1
                )
                values["country_id"] = country.id or False
            elif line.target_field == "state_id":
                values["state_id"] = self._meta_find_state(value, lead_data)
            else:
                values.setdefault(line.target_field, value)
        if notes:
            # description is HTML: a plain str would be taken as markup and
            # only sanitized (a remote <img> survives: a tracking pixel when
            # the salesperson opens the lead). Answers are text: escape them.
            values["description"] = Markup("<p>%s</p>") % Markup("<br/>").join(notes)
        return values

    def _meta_answer_value(self, line, answer, lead_data):
        """Normalized value for standard questions, the raw answer otherwise."""
        normalized = {
            "full_name": lead_data.full_name,
            "first_name": lead_data.full_name,
            "last_name": lead_data.full_name,
            "email": lead_data.email or lead_data.email_raw,
            # an unparsable number is still worth showing to the salesperson
            "phone": lead_data.phone or lead_data.phone_raw,
            "company": lead_data.company,
            "job_title": lead_data.job_title,
            "street": lead_data.street,
            "city": lead_data.city,
            "zip": lead_data.zip,
            "state": lead_data.state,
            "country": lead_data.country_code,
        }
        if line.canonical_field in normalized:
            return normalized[line.canonical_field]
        return answer.value

    def _meta_find_state(self, name, lead_data):
        country = self.env["res.country"].search(
            [("code", "=", lead_data.country_code or "")], limit=1
        )
        if not country:
            return False
        state = self.env["res.country.state"].search(
            [("country_id", "=", country.id), ("name", "=ilike", name)], limit=1
        )
        return state.id or False

    def _meta_utm_values(self, lead_data):
        """Source by platform, medium paid/organic, campaign from Meta's."""
        source = (
            self.env.ref("meta_graph_connector.utm_source_instagram")
            if lead_data.platform == "instagram"
            else self.env.ref("utm.utm_source_facebook")
        )
        medium = self.env.ref(
            "meta_graph_connector.utm_medium_organic_social"
            if lead_data.is_organic
            else "meta_graph_connector.utm_medium_paid_social"
        )
        campaign = self.env["utm.campaign"]._meta_find_or_create(
            lead_data.campaign_id, lead_data.campaign_name
        )
        return {
            "source_id": source.id,
            "medium_id": medium.id,
            "campaign_id": campaign.id or False,
        }

    def _meta_assign(self, leads):
        """The form's salesperson, else a member of its team chosen as crm's
        own lead assignment chooses, else nobody: crm's rule-based
        assignment may then take the lead, as for any unassigned lead."""
        self.ensure_one()
        if self.user_id or not self.team_id:
            return
        members = self.team_id.crm_team_member_ids.filtered(
            lambda m: not m.assignment_optout and m.user_id.active
        )
        for lead in leads:
            member = self._meta_pick_team_member(lead, members)
            lead._handle_salesmen_assignment(
                user_ids=member.user_id.ids or False, team_id=self.team_id.id
            )

    def _meta_pick_team_member(self, lead, members):
        """The member crm would give ``lead`` to
        (``CrmTeam._assign_and_convert_leads``): among members with daily
        quota left (``CrmTeamMember._get_assignment_quota``: capacity per 30
        days against leads received in the last 24 h), the one with the most,
        in the team's member order, whose assignment domain accepts the lead.
        Quotas shrink as leads are given, which makes crm's round robin."""
        # computed from crm.lead without being stored: leads assigned a
        # moment ago in this transaction must count
        members.invalidate_recordset(["lead_day_count", "lead_month_count"])
        quotas = {member: member._get_assignment_quota() for member in members}
        for member in sorted(members, key=lambda m: quotas[m], reverse=True):
            if quotas[member] <= 0:
                break
            if lead.filtered_domain(literal_eval(member.assignment_domain or "[]")):
                return member
        return members.browse()

    def _meta_prepare_binding_values(self, lead_data, lead, source):
        return {
            "leadgen_id": lead_data.lead_id,
            "page_id": self.page_id.id,
            "form_id": self.id,
            "company_id": self.company_id.id,
            "lead_id": lead.id,
            "source": source,
            "submitted_at": to_naive_utc(lead_data.created_time) or False,
            "platform": lead_data.platform or False,
            "is_organic": lead_data.is_organic,
            "answers": [answer.to_dict() for answer in lead_data.answers],
            "consents": [consent.to_dict() for consent in lead_data.consents],
            "email_normalized": self._meta_match_keys(lead_data)[0],
        }

    # -------------------------------------------------- reconciliation

    def _meta_request_sync(self):
        self.write({"sync_requested": True})
        cron = self.env.ref(
            "meta_graph_connector.ir_cron_meta_reconcile_leads",
            raise_if_not_found=False,
        )
        if cron:
            cron._trigger()

    @api.model
    def _cron_reconcile_leads(self):
        """Pull every active form's leads since its watermark (every 15 min).

        Webhooks are at-least-once at best and sometimes never arrive; this
        poll creates only the missing leads, so a lead Meta never delivered
        still reaches the pipeline. Each connection and each form is on its
        own: one failing never stops the others.
        """
        auto_commit = not modules.module.current_test
        pages = self.env["meta.asset"].search(
            [("asset_type", "=", "page"), ("connection_id.state", "=", "connected")]
        )
        for page in pages:
            try:
                with self.env.cr.savepoint():
                    self._meta_sync_forms(page.with_company(page.company_id))
            except GraphError as error:
                _logger.info("Meta form sync of Page %s failed: %s", page.id, error)
            except Exception:  # noqa: BLE001 - the other Pages go on
                _logger.exception("Meta form sync of Page %s failed", page.id)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        forms = self.search(
            [("connection_id.state", "=", "connected")],
            order="sync_requested desc, sync_resume_at asc nulls last,"
            " last_sync_at asc nulls first",
        )
        # Only this cron synchronises forms and it never runs twice at once:
        # a form marked running that it will not run now (archived, its
        # connection broken) was interrupted, by a killed worker or a time
        # limit; the others resume below from what their last batch committed.
        stalled = self.with_context(active_test=False).search(
            [("backfill_state", "=", "running"), ("id", "not in", forms.ids)]
        )
        stalled.write({"backfill_state": "interrupted"})
        deadline = time.monotonic() + SYNC_TIME_BUDGET if auto_commit else None
        done = 0
        for form in forms:
            if deadline and time.monotonic() > deadline:
                break
            form.with_company(form.company_id)._meta_sync_leads(
                auto_commit=auto_commit, deadline=deadline
            )
            done += 1
        # the forms not reached, and one paused midway, are picked up by the
        # next run, which the scheduler starts at once
        paused = forms.filtered(lambda f: f.sync_resume_at and not f.last_sync_error)
        self.env["ir.cron"]._notify_progress(
            done=done, remaining=len(forms) - done + len(paused)
        )
        return True

    def _meta_import_batch(self, graph_leads, source, skipped=None):
        """Import a batch; if another worker imported one of its leads at the
        same moment (the webhook), redo that batch lead by lead."""
        # a unique-key conflict is an expected outcome here, not a bad query
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return self._meta_import_graph_leads(
                    graph_leads, source=source, skipped=skipped
                )
        except IntegrityError:
            bindings = self.env["meta.lead"]
            for graph_lead in graph_leads:
                try:
                    with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                        bindings |= self._meta_import_graph_leads(
                            [graph_lead], source=source, skipped=skipped
                        )
                except IntegrityError:
                    continue  # imported by the other path: that is the goal
            return bindings

    def _meta_sync_leads(self, auto_commit=False, deadline=None):
        """Read this form's leads since the watermark and import the missing.

        The first run has no watermark: it is the initial backfill, as far
        back as Meta keeps leads (about 90 days), and reports its progress
        per batch.

        Meta lists a form's leads newest first
        (https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving/),
        so the watermark moves only when a run has read everything down to
        it: a run interrupted on a later page (5xx, throttling, timeout,
        token, a killed worker) leaves the watermark where it was and records
        how far down it got (``sync_resume_at``): the next run reads only the
        older leads it did not reach, and the binding's unique lead id makes
        re-reading the boundary second harmless. Every lead is imported once.

        :param deadline: ``time.monotonic()`` after which no new batch is
            started: the run pauses as an interrupted one would, without an
            error, and the next run goes on.
        :return: True when the run completed, None when it paused.
        """
        self.ensure_one()
        started_at = fields.Datetime.now()
        since = self.sync_watermark - WATERMARK_OVERLAP if self.sync_watermark else None
        until = self.sync_resume_at or None
        backfill = self.backfill_state != "done"
        values = {"sync_requested": False}
        if backfill:
            values["backfill_state"] = "running"
            if not until:  # a fresh backfill, not the resumption of one
                values.update(backfill_seen=0, backfill_imported=0)
        self.write(values)
        if auto_commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
        run = _SyncRun(self.sync_run_newest, until)
        skipped = []
        try:
            client = self.connection_id._meta_open_client(self.page_id)
            leads = meta_api.iter_form_leads(
                client,
                self.meta_form_id,
                since=since,
                until=until,
                limit=LEADS_PAGE_SIZE,
            )
            source = "backfill" if backfill else "reconciliation"
            for batch in split_every(IMPORT_BATCH, leads, list):
                with self.env.cr.savepoint():
                    bindings = self._meta_import_batch(batch, source, skipped)
                    run.observe(parse_time(g.get("created_time")) for g in batch)
                    self.write(
                        self._meta_progress_values(run, backfill, len(batch), bindings)
                    )
                if auto_commit:
                    # per batch: progress is visible and work is not redone
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                if deadline and time.monotonic() > deadline and run.advanced:
                    return None
        except Exception as error:  # noqa: BLE001 - one form never stops the others
            self._meta_sync_failed(error, backfill)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
            return False
        self.connection_id._meta_observe_usage(client.last_usage)
        # A complete run has read every lead created before it began; a
        # resumed one only those below where the interrupted run stopped.
        reached = (self.sync_watermark, run.newest, None if until else started_at)
        self.write(
            {
                "sync_watermark": max(filter(None, reached), default=False),
                "sync_resume_at": False,
                "sync_run_newest": False,
                "last_sync_at": fields.Datetime.now(),
                "last_sync_error": self._meta_skipped_summary(skipped),
                "backfill_state": "done",
            }
        )
        return True

    def _meta_progress_values(self, run, backfill, read, bindings):
        values = {"sync_run_newest": run.newest, "sync_resume_at": run.resume_at}
        if backfill:
            values.update(
                backfill_seen=self.backfill_seen + read,
                backfill_imported=self.backfill_imported + len(bindings),
            )
        else:
            values["missed_webhook_count"] = self.missed_webhook_count + len(bindings)
        return values

    def _meta_sync_failed(self, error, backfill):
        """Keep the error visible until a run succeeds; the run resumes."""
        if isinstance(error, GraphError):
            _logger.info("Meta lead sync of form %s stopped: %s", self.id, error)
        else:
            _logger.exception("Meta lead sync of form %s failed", self.id)
        if isinstance(error, TokenError):
            self.connection_id._meta_flag_token_error(error)
        elif isinstance(error, MissingPermissionError):
            self.connection_id._meta_flag_permission_error(error)
        elif isinstance(error, RateLimitError):
            self.connection_id._meta_throttle(error.retry_after, str(error))
        values = {"last_sync_error": str(error) or error.__class__.__name__}
        if backfill:
            values["backfill_state"] = "interrupted"
        self.write(values)

    def _meta_skipped_summary(self, skipped):
        if not skipped:
            return False
        return self.env._(
            "%(count)s leads could not be read and were skipped. First: %(error)s",
            count=len(skipped),
            error=skipped[0],
        )


class _SyncRun:
    """How far a synchronisation got, in the creation times Meta pages by.

    ``resume_at`` is the creation time of the oldest lead read when every
    lead so far came newest first, as Meta lists them; when they did not,
    the position is unknown and a resumed run re-reads from the window the
    run started with (``until``, or everything).
    """

    def __init__(self, newest, until):
        self.newest = newest or None
        self.resume_at = self._until = until or None
        self._oldest = None
        self._ordered = True

    @property
    def advanced(self):
        """Whether a run paused now would resume further down than it began."""
        return self.resume_at is not None and self.resume_at != self._until

    def observe(self, times):
        for when in times:
            when = to_naive_utc(when)
            if when is None or (self._oldest is not None and when > self._oldest):
                self._ordered = False
            else:
                self._oldest = when
            if when and (self.newest is None or when > self.newest):
                self.newest = when
        if self._ordered and self._oldest is not None:
            self.resume_at = self._oldest
