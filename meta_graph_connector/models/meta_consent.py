from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

#: What a person may consent to, for Meta.
CONSENT_PURPOSES = [
    ("audiences", "Meta advertising audiences"),
    ("measurement", "Meta conversion measurement"),
]


class MetaConsent(models.Model):
    """One consent decision of a person for one purpose: evidence.

    Decisions are appended, never changed nor deleted (KVKK Art. 5 and GDPR
    Art. 7(1): the controller must be able to show the consent it relies
    on): the person's current state is the latest decision; with none, the
    state is unknown, which counts as no.
    """

    _name = "meta.consent"
    _description = "Meta Consent Decision"
    _order = "decided_at desc, id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        default=lambda self: self.env.company,
    )
    purpose = fields.Selection(CONSENT_PURPOSES, required=True, readonly=True)
    state = fields.Selection(
        [("granted", "Granted"), ("withdrawn", "Withdrawn")],
        required=True,
        readonly=True,
    )
    decided_at = fields.Datetime(
        string="Date", required=True, readonly=True, default=fields.Datetime.now
    )
    source = fields.Selection(
        [
            ("lead_form", "Lead form checkbox"),
            ("manual", "Recorded by a user"),
            ("import", "Import"),
            ("portal", "Portal"),
        ],
        required=True,
        readonly=True,
    )
    notice_version = fields.Char(
        readonly=True, help="The version of the privacy notice the person saw."
    )
    evidence = fields.Text(
        readonly=True,
        help="What the person saw and answered (the checkbox text, the lead).",
    )
    recorded_by_id = fields.Many2one(
        "res.users",
        required=True,
        readonly=True,
        default=lambda self: self.env.user,
    )

    def init(self):
        # the latest decision of a person for a purpose, found for every
        # partner of a segment at once (:meth:`_meta_granted_partners`)
        tools.create_index(
            self.env.cr,
            "meta_consent_partner_purpose_decided_idx",
            self._table,
            ["partner_id", "purpose", "decided_at", "id"],
        )

    @api.model
    def _meta_granted_partners(self, purpose):
        """SQL selecting the partners whose latest decision for ``purpose``
        grants it (the ORM's ``decided_at, id`` order decides ties), for a
        domain: ``("id", "in", ...)``. A segment of a hundred thousand
        partners is filtered in the database, never read to be filtered."""
        return SQL(
            """(SELECT decision.partner_id FROM meta_consent decision
                 WHERE decision.purpose = %(purpose)s
                   AND decision.state = 'granted'
                   AND NOT EXISTS (
                       SELECT 1 FROM meta_consent later
                        WHERE later.partner_id = decision.partner_id
                          AND later.purpose = decision.purpose
                          AND (later.decided_at, later.id)
                              > (decision.decided_at, decision.id)))""",
            purpose=purpose,
        )

    def write(self, vals):
        if self:
            raise UserError(
                self.env._(
                    "A consent decision is evidence: it cannot be changed. "
                    "Record a new decision instead."
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(
            self.env._(
                "A consent decision is evidence: it cannot be deleted. It goes "
                "with the person when the person is erased."
            )
        )
