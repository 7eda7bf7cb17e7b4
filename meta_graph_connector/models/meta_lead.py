import logging
from datetime import datetime, timedelta, timezone

from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.tools import mute_logger

from ..graph.const import PLATFORMS
from ..graph.errors import InvalidLeadError
from ..graph.leads import normalize_lead
from ..graph.times import to_naive_utc

_logger = logging.getLogger(__name__)

#: Leads submitted less than this long ago get the "call now" treatment even
#: when the reconciliation poll (not the webhook) finds them; older ones are
#: history (backfill) and are imported quietly.
FRESH_LEAD_WINDOW = timedelta(hours=24)


class MetaLead(models.Model):
    """One Lead Ads submission, bound to the CRM lead it became.

    The binding (OCA connector's idea) is the idempotence key: a Meta lead id
    is imported once, whichever path sees it first (webhook, reconciliation,
    backfill), and stays imported when its CRM lead is merged into another
    (the binding follows the merge) or deleted by a salesperson (the binding
    stays, so the lead is not re-created behind their back).
    """

    _name = "meta.lead"
    _description = "Meta Lead Ads Submission"
    _order = "submitted_at desc, id desc"
    _rec_name = "leadgen_id"

    leadgen_id = fields.Char(string="Meta Lead ID", required=True, readonly=True)
    page_id = fields.Many2one(
        "meta.asset", string="Facebook Page", readonly=True, ondelete="set null"
    )
    form_id = fields.Many2one(
        "meta.lead.form", readonly=True, index=True, ondelete="set null"
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    lead_id = fields.Many2one(
        "crm.lead", string="CRM Lead", readonly=True, index=True, ondelete="set null"
    )
    source = fields.Selection(
        [
            ("webhook", "Webhook"),
            ("reconciliation", "Reconciliation"),
            ("backfill", "Backfill"),
        ],
        readonly=True,
        help="Which path imported it: a lead found by reconciliation is one "
        "whose webhook Meta never delivered.",
    )
    submitted_at = fields.Datetime(readonly=True)
    platform = fields.Selection(list(PLATFORMS), readonly=True)
    is_organic = fields.Boolean(readonly=True)
    answers = fields.Json(readonly=True)
    consents = fields.Json(readonly=True)
    # Found by Odoo's privacy lookup (Settings > Privacy Lookup), which
    # searches stored e-mail columns and references to the person's partner.
    email_normalized = fields.Char(readonly=True, index="btree_not_null")
    partner_id = fields.Many2one(
        related="lead_id.partner_id", store=True, string="Customer", index=True
    )

    _sql_constraints = [
        (
            "leadgen_unique",
            "unique(leadgen_id)",
            "A Meta lead is imported only once.",
        ),
    ]

    def unlink(self):
        """Erasing a submission (privacy lookup, an administrator) leaves only
        its Meta lead id behind, so the reconciliation never imports the
        person's answers again while Meta still keeps them."""
        # sudo: meta.lead.erasure - the tombstone of what the user may erase
        self.env["meta.lead.erasure"].sudo()._meta_remember(self.mapped("leadgen_id"))
        return super().unlink()

    # ------------------------------------------------------ import

    @api.model
    def _meta_import(
        self,
        form,
        graph_leads,
        source="webhook",
        notify=None,
        strict=False,
        skipped=None,
    ):
        """Turn Graph leads of ``form`` into CRM leads; skip known ones.

        :param notify: None = notify leads submitted in the last 24 h only.
        :param strict: raise :class:`InvalidLeadError` for a malformed lead
            (one webhook event) instead of skipping it (a batch goes on).
        :param list skipped: receives the errors of the leads skipped.
        :return: the bindings created.
        """
        form.ensure_one()
        ids = [str(g.get("id")) for g in graph_leads]
        # erased ones too: the person asked, Meta may still keep them
        known = set(
            self.search([("leadgen_id", "in", ids)]).mapped("leadgen_id")
        ) | self.env["meta.lead.erasure"].sudo()._meta_erased(ids)
        normalized = []
        for graph_lead in graph_leads:
            if str(graph_lead.get("id")) in known:
                continue
            try:
                normalized.append(
                    normalize_lead(
                        graph_lead,
                        form.questions,
                        default_region=form.company_id.country_id.code or "TR",
                        locale=form.locale,
                    )
                )
            except InvalidLeadError as error:
                if strict:
                    raise
                # One bad lead never blocks the others; the run reports it.
                _logger.warning("Meta lead skipped on form %s: %s", form.id, error)
                if skipped is not None:
                    skipped.append(str(error))
        if not normalized:
            return self.browse()
        fresh_after = datetime.now(timezone.utc) - FRESH_LEAD_WINDOW
        fresh = [
            notify
            if notify is not None
            else not n.created_time or n.created_time >= fresh_after
            for n in normalized
        ]
        Binding = self
        if not any(fresh):
            # History (backfill): no tracking, no follower subscriptions, no
            # "contact created" logs, for the leads and the customers alike.
            quiet = {
                "tracking_disable": True,
                "mail_create_nosubscribe": True,
                "mail_create_nolog": True,
                "mail_notrack": True,
            }
            Binding = self.with_context(**quiet)
            form = form.with_context(**quiet)
        Mapper = Binding.env["meta.lead.mapper"]
        test_ids = {n.lead_id for n in normalized if n.is_test}
        keys = {n.lead_id: Mapper._meta_match_keys(form, n) for n in normalized}
        # a test lead's placeholders (test@fb.com) are nobody's: never matched
        partners = Binding._meta_find_people(
            form, {i: k for i, k in keys.items() if i not in test_ids}
        )
        vals_list = [
            Mapper._meta_lead_values(form, n, partners.get(n.lead_id))
            for n in normalized
        ]
        history = Mapper._meta_history_values()
        for values, is_fresh in zip(vals_list, fresh, strict=True):
            if not is_fresh:
                values.update(history)
        leads = (
            Binding.env["crm.lead"]
            .with_context(mail_create_nolog=True, mail_auto_subscribe_no_notify=True)
            .create(vals_list)
        )
        Mapper._meta_assign(leads, form.user_id, form.team_id)
        if form.create_partner:
            leads.filtered(
                lambda lead: not lead.partner_id and not lead.meta_is_test
            )._meta_create_customers()
        bindings = Binding.create(
            [
                Binding._meta_prepare_values(form, n, lead, source, keys[n.lead_id])
                for n, lead in zip(normalized, leads, strict=True)
            ]
        )
        # the consent checkboxes ticked (or not) on the form, as evidence
        Binding.env["meta.lead.form.consent"]._meta_record_consents(form, bindings)
        # the first stage, told to Meta now that the consent is known; a
        # lead of the history reached it long ago (Meta takes 7 days only)
        fresh_ids = {n.lead_id for n, f in zip(normalized, fresh, strict=True) if f}
        bindings.filtered(
            lambda b: b.leadgen_id in fresh_ids
        ).lead_id._meta_queue_stage_events()
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

    @api.model
    def _meta_find_people(self, form, keys):
        """The customers the leads are from (Meta lead id -> partner), by
        their e-mail and phone keys. When the form makes customers of new
        people, the people not found are held (``res.partner``'s
        ``_meta_find_or_create_people``) until this transaction ends, in
        which ``_meta_create_customers`` makes them: the same new person
        submitting twice at once gets one customer."""
        company_id = form.company_id.id

        def find(env, lead_ids):
            return env["res.partner"]._meta_find_customers(
                {lead_id: keys[lead_id] for lead_id in lead_ids},
                env["res.company"].browse(company_id),
            )

        Partner = self.env["res.partner"]
        if not form.create_partner:
            return find(self.env, keys)
        people = {
            lead_id: [
                f"{kind}:{key}"
                for kind, key in zip(("email", "phone"), lead_keys, strict=True)
                if key
            ]
            for lead_id, lead_keys in keys.items()
        }
        return Partner._meta_find_or_create_people(
            {lead_id: idents for lead_id, idents in people.items() if idents}, find
        )

    @api.model
    def _meta_import_batch(self, form, graph_leads, source, skipped=None):
        """Import a batch; if another worker imported one of its leads at the
        same moment (the webhook), redo that batch lead by lead."""
        # a unique-key conflict is an expected outcome here, not a bad query
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return self._meta_import(
                    form, graph_leads, source=source, skipped=skipped
                )
        except IntegrityError:
            bindings = self.browse()
            for graph_lead in graph_leads:
                try:
                    with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                        bindings |= self._meta_import(
                            form, [graph_lead], source=source, skipped=skipped
                        )
                except IntegrityError:
                    continue  # imported by the other path: that is the goal
            return bindings

    @api.model
    def _meta_prepare_values(self, form, lead_data, lead, source, keys):
        return {
            "leadgen_id": lead_data.lead_id,
            "page_id": form.page_id.id,
            "form_id": form.id,
            "company_id": form.company_id.id,
            "lead_id": lead.id,
            "source": source,
            "submitted_at": to_naive_utc(lead_data.created_time) or False,
            "platform": lead_data.platform or False,
            "is_organic": lead_data.is_organic,
            "answers": [answer.to_dict() for answer in lead_data.answers],
            "consents": [consent.to_dict() for consent in lead_data.consents],
            "email_normalized": keys[0],
        }


class MetaLeadErasure(models.Model):
    """The Meta lead id of an erased submission, and when: nothing else."""

    _name = "meta.lead.erasure"
    _description = "Erased Meta Lead"
    _rec_name = "leadgen_id"

    leadgen_id = fields.Char(string="Meta Lead ID", required=True, readonly=True)
    erased_at = fields.Datetime(readonly=True, default=fields.Datetime.now)

    _sql_constraints = [
        ("leadgen_unique", "unique(leadgen_id)", "A Meta lead is erased once."),
    ]

    @api.model
    def _meta_remember(self, leadgen_ids):
        known = set(
            self.search([("leadgen_id", "in", leadgen_ids)]).mapped("leadgen_id")
        )
        self.create([{"leadgen_id": i} for i in set(leadgen_ids) - known])

    @api.model
    def _meta_erased(self, leadgen_ids):
        return set(
            self.search([("leadgen_id", "in", list(leadgen_ids))]).mapped("leadgen_id")
        )
