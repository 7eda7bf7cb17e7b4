from odoo import Command, api, fields, models

from .. import series
from ..graph import api as meta_api
from ..graph.errors import quoted


@series.sql_constraints
class MetaLeadForm(models.Model):
    """A Lead Ads form of a connected Page, and how its leads enter the CRM."""

    _name = "meta.lead.form"
    _description = "Meta Lead Form"
    _inherit = [
        "mail.thread",
        "meta.admin.mixin",
        "meta.event.consumer",
        "meta.outbox.origin",
    ]
    _meta_event_kinds = ("leadgen",)
    # a backlog of submissions is read in one Graph batch, made in one create
    _meta_handles_together = True
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
    consent_checkbox_ids = fields.One2many(
        "meta.lead.form.consent", "form_id", string="Consent Checkboxes"
    )
    lead_count = fields.Integer(compute="_compute_lead_count")
    lead_count_week = fields.Integer(
        string="Leads (7 Days)",
        compute="_compute_lead_count",
        help="Leads of this form submitted in the last 7 days (test leads aside).",
    )
    won_rate = fields.Float(
        string="Won Rate (%)",
        compute="_compute_lead_count",
        help="Share of this form's leads that were won (test leads aside).",
    )

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
        Lead = self.env["crm.lead"].with_context(active_test=False)
        of_forms = [("meta_form_id", "in", self.ids)]
        real = [*of_forms, ("meta_is_test", "=", False)]
        since = fields.Datetime.subtract(fields.Datetime.now(), days=7)

        def count(domain):
            return dict(Lead._read_group(domain, ["meta_form_id"], ["__count"]))

        counts = count(of_forms)
        totals = count(real)
        week = count([*real, ("meta_submitted_at", ">=", since)])
        won = count([*real, ("active", "=", True), ("stage_id.is_won", "=", True)])
        for form in self:
            form.lead_count = counts.get(form, 0)
            form.lead_count_week = week.get(form, 0)
            total = totals.get(form, 0)
            form.won_rate = 100.0 * won.get(form, 0) / total if total else 0.0

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

    def action_view_leads_week(self):
        """This form's leads of the last 7 days."""
        action = self.action_view_leads()
        since = fields.Datetime.subtract(fields.Datetime.now(), days=7)
        action["domain"] = [*action["domain"], ("meta_submitted_at", ">=", since)]
        return action

    def action_view_analysis(self):
        """The Lead Ads analysis of this form (won rate by campaign)."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.meta_lead_report_action_sources"
        )
        action.update(
            domain=[("form_id", "=", self.id)],
            context={"pivot_row_groupby": ["campaign_name"]},
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
            origin=self,
        )
        return self.connection_id._meta_notification(
            self.env._(
                "Test lead requested: Meta sends its webhook and the lead "
                "appears in the pipeline within seconds."
            ),
            kind="success",
        )

    def _meta_outbox_gave_up(self, item, error, reason):
        """Tell the person who asked for a test lead why Meta refused it."""
        user = item.requested_by or self.env.user
        form = self.with_context(lang=user.lang or self.env.lang)
        form.message_post(
            body=form.env._(
                "Meta refused the test lead: %(error)s. A form keeps one test "
                "lead: delete it in Meta's Lead Ads Testing Tool "
                "(https://developers.facebook.com/tools/lead-ads-testing) to "
                "create another.",
                error=quoted(reason),
            ),
            partner_ids=user.partner_id.ids,
            subtype_xmlid="mail.mt_note",
        )

    # ------------------------------------------------------- webhooks

    @api.model
    def _meta_handle_event(self, event, inbox_event):
        """A lead form was submitted: fetch the lead, make it a CRM lead."""
        known = self._meta_known_submissions([event])
        if event.leadgen_id in known:
            return known[event.leadgen_id]
        page = inbox_event.asset_id
        graph_lead = page._meta_call(meta_api.get_lead, event.leadgen_id)
        form = self._meta_get_form(
            page, str(graph_lead.get("form_id") or event.form_id)
        )
        if not form.active:
            return self._meta_archived_reason(form)
        return self._meta_import_submissions(form, [(inbox_event, graph_lead)])[
            inbox_event
        ]

    @api.model
    def _meta_handle_events(self, pairs):
        """Several submissions to one Page at once (a backlog, a burst): the
        leads not imported yet are read in one Graph batch and made, per
        form, in one import (one create, one commit for them all). Meta's
        answer about one lead alone (refused, gone) is that event's outcome;
        a failure of the import raises: the inbox then handles each alone."""
        known = self._meta_known_submissions([event for event, _inbox in pairs])
        results = {
            inbox: known[e.leadgen_id] for e, inbox in pairs if e.leadgen_id in known
        }
        todo = [(e, inbox) for e, inbox in pairs if e.leadgen_id not in known]
        if not todo:
            return [results[inbox] for _event, inbox in pairs]
        page = todo[0][1].asset_id
        answers = page._meta_call(meta_api.get_leads, [e.leadgen_id for e, _i in todo])
        per_form = {}
        for (event, inbox), answer in zip(todo, answers, strict=True):
            if not answer.ok:
                results[inbox] = answer.error
                continue
            form = self._meta_get_form(
                page, str(answer.data.get("form_id") or event.form_id)
            )
            if form.active:
                per_form.setdefault(form, []).append((inbox, answer.data))
            else:
                results[inbox] = self._meta_archived_reason(form)
        for form, entries in per_form.items():
            results.update(self._meta_import_submissions(form, entries))
        return [results[inbox] for _event, inbox in pairs]

    @api.model
    def _meta_known_submissions(self, events):
        """Leadgen id -> the outcome of the submissions handled before: the
        lead (a redelivery, a replay, or the reconciliation poll was first),
        or why an erased one is left alone."""
        ids = [event.leadgen_id for event in events]
        known = {
            binding.leadgen_id: binding.lead_id or binding
            for binding in self.env["meta.lead"].search([("leadgen_id", "in", ids)])
        }
        # sudo: meta.lead.erasure - technical tombstones
        for leadgen_id in self.env["meta.lead.erasure"].sudo()._meta_erased(ids):
            known.setdefault(
                leadgen_id,
                self.env._("This lead was erased at the person's request."),
            )
        return known

    @api.model
    def _meta_archived_reason(self, form):
        return self.env._("The lead form %(form)s is archived in Odoo.", form=form.name)

    @api.model
    def _meta_import_submissions(self, form, entries):
        """Import ``entries`` (``[(inbox event, Graph lead)]``) of ``form``;
        inbox event -> its lead."""
        bindings = form.env["meta.lead.importer"]._meta_import(
            form,
            [graph_lead for _inbox, graph_lead in entries],
            source="webhook",
            strict=True,
        )
        lead_of = {
            binding.leadgen_id: binding.lead_id or binding for binding in bindings
        }
        return {
            inbox: lead_of.get(str(graph_lead.get("id")), bindings.browse())
            for inbox, graph_lead in entries
        }

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
        """Every 15 minutes, and at once when a form asks: see
        ``meta.lead.sync``."""
        return self.env["meta.lead.sync"]._meta_reconcile()
