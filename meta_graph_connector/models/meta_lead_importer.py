import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from psycopg2 import IntegrityError

from odoo import api, models
from odoo.tools import mute_logger

from ..graph.errors import InvalidLeadError
from ..graph.leads import NormalizedLead, normalize_lead
from ..graph.times import to_naive_utc

_logger = logging.getLogger(__name__)

#: Leads submitted less than this long ago get the "call now" treatment even
#: when the reconciliation poll (not the webhook) finds them; older ones are
#: history (backfill) and are imported quietly.
FRESH_LEAD_WINDOW = timedelta(hours=24)

#: History (backfill) sets off no tracking, no follower subscriptions, no
#: "contact created" logs, for the leads and the customers alike.
QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nosubscribe": True,
    "mail_create_nolog": True,
    "mail_notrack": True,
}


@dataclass
class MetaLeadImport:
    """One Lead Ads submission on its way through the import: what Meta
    says of it, then what each step makes of it."""

    data: NormalizedLead
    # submitted lately (or told so): the salesperson is told, Meta is told
    fresh: bool
    # (e-mail key, phone key) the customer is matched by
    keys: tuple
    partner: Any = None  # res.partner
    lead: Any = None  # crm.lead
    binding: Any = None  # meta.lead


class MetaLeadImporter(models.AbstractModel):
    """Makes CRM leads of the leads Meta gives for a form, in three steps an
    extension overrides: :meth:`_meta_prepare` (read Meta's leads, skip the
    known ones, find the people), :meth:`_meta_create_leads` (the CRM leads,
    with ``meta.lead.mapper``) and :meth:`_meta_after_import` (the bindings,
    the consents, Meta's first stage, the salesperson's call). Every path
    (webhook, reconciliation, backfill) imports through it; ``meta.lead`` is
    the binding that keeps each Meta lead imported once."""

    _name = "meta.lead.importer"
    _description = "Meta Lead Ads Importer"

    @api.model
    def _meta_import(
        self,
        form,
        graph_leads,
        source="webhook",
        strict=False,
        skipped=None,
    ):
        """Turn Graph leads of ``form`` into CRM leads; skip known ones.

        :param strict: raise :class:`InvalidLeadError` for a malformed lead
            (one webhook event) instead of skipping it (a batch goes on).
        :param list skipped: receives the errors of the leads skipped.
        :return: the bindings created.
        """
        form.ensure_one()
        items = self._meta_prepare(form, graph_leads, strict, skipped)
        if not items:
            return self.env["meta.lead"]
        importer = self
        if not any(item.fresh for item in items):
            importer = self.with_context(**QUIET_CONTEXT)
            form = form.with_context(**QUIET_CONTEXT)
        importer._meta_find_people(form, items)
        importer._meta_create_leads(form, items)
        return importer._meta_after_import(form, items, source)

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
            bindings = self.env["meta.lead"]
            for graph_lead in graph_leads:
                try:
                    with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                        bindings |= self._meta_import(
                            form, [graph_lead], source=source, skipped=skipped
                        )
                except IntegrityError:
                    continue  # imported by the other path: that is the goal
            return bindings

    # ------------------------------------------------------------ prepare

    @api.model
    def _meta_prepare(self, form, graph_leads, strict, skipped):
        """The leads of ``graph_leads`` to import, normalized: the ones
        imported or erased before are left out, a malformed one is skipped
        (or raised, when ``strict``)."""
        known = self._meta_known(str(g.get("id")) for g in graph_leads)
        Mapper = self.env["meta.lead.mapper"]
        items = []
        for graph_lead in graph_leads:
            if str(graph_lead.get("id")) in known:
                continue
            data = self._meta_normalize(form, graph_lead, strict, skipped)
            if data is None:
                continue
            items.append(
                MetaLeadImport(
                    data, self._meta_is_fresh(data), Mapper._meta_match_keys(form, data)
                )
            )
        return items

    @api.model
    def _meta_is_fresh(self, data):
        """Submitted in the last 24 hours (or when, Meta does not say): the
        salesperson is told; an older lead is history, imported quietly."""
        fresh_after = datetime.now(timezone.utc) - FRESH_LEAD_WINDOW
        return not data.created_time or data.created_time >= fresh_after

    @api.model
    def _meta_known(self, leadgen_ids):
        """The Meta lead ids imported already, and the erased ones: the person
        asked, Meta may still keep them."""
        ids = list(leadgen_ids)
        bindings = self.env["meta.lead"].search([("leadgen_id", "in", ids)])
        # sudo: meta.lead.erasure - technical tombstones
        erased = self.env["meta.lead.erasure"].sudo()._meta_erased(ids)
        return set(bindings.mapped("leadgen_id")) | erased

    @api.model
    def _meta_normalize(self, form, graph_lead, strict, skipped):
        """The lead as the core reads it, or None when it is malformed: one
        bad lead never blocks the others; the run reports it."""
        try:
            return normalize_lead(
                graph_lead,
                form.questions,
                default_region=form.company_id.country_id.code or "TR",
                locale=form.locale,
            )
        except InvalidLeadError as error:
            if strict:
                raise
            _logger.warning("Meta lead skipped on form %s: %s", form.id, error)
            if skipped is not None:
                skipped.append(str(error))
            return None

    @api.model
    def _meta_find_people(self, form, items):
        """The customer each lead is from, by their e-mail and phone keys.
        When the form makes customers of new people, the people not found are
        held (``res.partner``'s ``_meta_find_or_create_people``) until this
        transaction ends, in which ``_meta_create_customers`` makes them: the
        same new person submitting twice at once gets one customer."""
        # a test lead's placeholders (test@fb.com) are nobody's: never matched
        keys = {i.data.lead_id: i.keys for i in items if not i.data.is_test}
        company_id = form.company_id.id

        def find(env, lead_ids):
            return env["res.partner"]._meta_find_customers(
                {lead_id: keys[lead_id] for lead_id in lead_ids},
                env["res.company"].browse(company_id),
            )

        if not form.create_partner:
            partners = find(self.env, keys)
        else:
            people = {
                lead_id: [
                    f"{kind}:{key}"
                    for kind, key in zip(("email", "phone"), lead_keys, strict=True)
                    if key
                ]
                for lead_id, lead_keys in keys.items()
            }
            partners = self.env["res.partner"]._meta_find_or_create_people(
                {lead_id: idents for lead_id, idents in people.items() if idents},
                find,
            )
        for item in items:
            item.partner = partners.get(item.data.lead_id)

    # ------------------------------------------------------------ create

    @api.model
    def _meta_create_leads(self, form, items):
        """The CRM leads, made in one batch of the mapper's values, then
        given their salesperson and their new customers."""
        Mapper = self.env["meta.lead.mapper"]
        vals_list = [self._meta_lead_values(form, item) for item in items]
        leads = (
            self.env["crm.lead"]
            .with_context(mail_create_nolog=True, mail_auto_subscribe_no_notify=True)
            .create(vals_list)
        )
        for item, lead in zip(items, leads, strict=True):
            item.lead = lead
        Mapper._meta_assign(leads, form.user_id, form.team_id)
        if form.create_partner:
            leads.filtered(
                lambda lead: not lead.partner_id and not lead.meta_is_test
            )._meta_create_customers()

    @api.model
    def _meta_lead_values(self, form, item):
        """crm.lead values of one lead; history's keep off mass effects."""
        Mapper = self.env["meta.lead.mapper"]
        values = Mapper._meta_lead_values(form, item.data, item.partner)
        if not item.fresh:
            values.update(Mapper._meta_history_values())
        return values

    # ------------------------------------------------------------ after import

    @api.model
    def _meta_after_import(self, form, items, source):
        """What follows the leads: the bindings, the consents as evidence,
        Meta's first stage, then each lead's merge and its salesperson's
        call (fresh) or a quiet answers note (history)."""
        self._meta_bind(form, items, source)
        bindings = self.env["meta.lead"].browse([i.binding.id for i in items])
        # the consent checkboxes ticked (or not) on the form, as evidence
        self.env["meta.lead.form.consent"]._meta_record_consents(form, bindings)
        # the first stage, told to Meta now that the consent is known; a
        # lead of the history reached it long ago (Meta takes 7 days only)
        fresh = [item.binding.id for item in items if item.fresh]
        bindings.browse(fresh).lead_id._meta_queue_stage_events()
        notes = []
        for item in items:
            lead = item.binding.lead_id
            if form.merge_duplicates:
                lead = lead._meta_merge_into_open_lead()
            # a logged note, not a notifying post: the salesperson is told by
            # the activity and the toast; nobody needs an e-mail copy
            notes.append((lead, lead._meta_answers_note(item.binding, form)))
            if item.fresh:
                lead._meta_notify_salesperson(form)
        self._meta_log_notes(notes)
        return bindings

    @api.model
    def _meta_log_notes(self, notes):
        """Log the answer notes (``[(lead, body)]``) in batch inserts; two
        submissions merged into one lead keep a note each."""
        while notes:
            bodies, later = {}, []
            for lead, body in notes:
                if lead.id in bodies:
                    later.append((lead, body))
                else:
                    bodies[lead.id] = body
            self.env["crm.lead"].browse(list(bodies))._message_log_batch(bodies=bodies)
            notes = later

    @api.model
    def _meta_bind(self, form, items, source):
        """A binding per lead, in one batch: the Meta lead id is imported."""
        bindings = self.env["meta.lead"].create(
            [self._meta_binding_values(form, item, source) for item in items]
        )
        for item, binding in zip(items, bindings, strict=True):
            item.binding = binding

    @api.model
    def _meta_binding_values(self, form, item, source):
        data = item.data
        return {
            "leadgen_id": data.lead_id,
            "page_id": form.page_id.id,
            "form_id": form.id,
            "company_id": form.company_id.id,
            "lead_id": item.lead.id,
            "source": source,
            "submitted_at": to_naive_utc(data.created_time) or False,
            "platform": data.platform or False,
            "is_organic": data.is_organic,
            "answers": [answer.to_dict() for answer in data.answers],
            "consents": [consent.to_dict() for consent in data.consents],
            "email_normalized": item.keys[0],
        }
