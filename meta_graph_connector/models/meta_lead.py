from odoo import api, fields, models

from .. import series
from ..graph.const import PLATFORMS


@series.sql_constraints
class MetaLead(models.Model):
    """One Lead Ads submission, bound to the CRM lead it became.

    The binding (OCA connector's idea) is the idempotence key: a Meta lead id
    is imported once, whichever path sees it first (webhook, reconciliation,
    backfill), and stays imported when its CRM lead is merged into another
    (the binding follows the merge) or deleted by a salesperson (the binding
    stays, so the lead is not re-created behind their back).
    ``meta.lead.importer`` makes the leads and their bindings.
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


@series.sql_constraints
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
