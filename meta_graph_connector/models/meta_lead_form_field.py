from odoo import api, fields, models

from .. import series
from ..graph.leads import STANDARD_FIELDS

#: Canonical lead field (core) → default crm.lead target.
DEFAULT_TARGETS = {
    "full_name": "contact_name",
    "first_name": "contact_name",
    "last_name": "contact_name",
    "email": "email_from",
    "phone": "phone",
    "company": "partner_name",
    "job_title": "function",
    "street": "street",
    "city": "city",
    "zip": "zip",
    "state": "state_id",
    "country": "country_id",
}


@series.sql_constraints
class MetaLeadFormField(models.Model):
    """One question of a Meta lead form and where its answer goes in a lead."""

    _name = "meta.lead.form.field"
    _description = "Meta Lead Form Question Mapping"
    _order = "form_id, sequence, id"

    form_id = fields.Many2one(
        "meta.lead.form", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="form_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    question_key = fields.Char(required=True, readonly=True)
    label = fields.Char(readonly=True)
    question_type = fields.Char(readonly=True)
    canonical_field = fields.Char(
        compute="_compute_canonical_field",
        store=True,
        help="What the question is, whatever its key: name, e-mail, phone, …",
    )
    target_field = fields.Selection(
        [
            ("contact_name", "Contact Name"),
            ("email_from", "Email"),
            ("phone", "Phone"),
            ("partner_name", "Company Name"),
            ("function", "Job Position"),
            ("website", "Website"),
            ("street", "Street"),
            ("street2", "Street 2"),
            ("city", "City"),
            ("zip", "Zip"),
            ("state_id", "State/Province"),
            ("country_id", "Country"),
            ("description", "Notes"),
        ],
        string="Lead Field",
        help="Empty: the answer is only kept in the lead's Meta tab.",
    )

    _sql_constraints = [
        (
            "question_unique",
            "unique(form_id, question_key)",
            "A question is mapped once per form.",
        ),
    ]

    @api.depends("question_key", "question_type")
    def _compute_canonical_field(self):
        for line in self:
            line.canonical_field = STANDARD_FIELDS.get(
                (line.question_key or "").lower()
            ) or STANDARD_FIELDS.get((line.question_type or "").upper())

    @api.model
    def _meta_default_target(self, canonical_field):
        return DEFAULT_TARGETS.get(canonical_field or "", False)
