from odoo import fields, models

from ..models.meta_consent import CONSENT_PURPOSES


class MetaConsentWizard(models.TransientModel):
    """Record a person's consent decision by hand (phone call, signed form)."""

    _name = "meta.consent.wizard"
    _description = "Record a Meta Consent Decision"
    _inherit = ["meta.admin.mixin"]

    partner_id = fields.Many2one("res.partner", required=True)
    purpose = fields.Selection(CONSENT_PURPOSES, required=True, default="audiences")
    decision = fields.Selection(
        [("granted", "Granted"), ("withdrawn", "Withdrawn")],
        required=True,
        default="granted",
    )
    objection = fields.Boolean(
        help="The person objects to any processing for Meta: they are also put "
        "on the suppression list and never sent to Meta again."
    )
    notice_version = fields.Char(help="The version of the privacy notice shown.")
    evidence = fields.Text(help="How the decision was given (call, signed form…).")

    def action_record(self):
        self.ensure_one()
        self._meta_check_admin()
        self.partner_id.check_access("read")  # a person of the user's companies
        self.partner_id._meta_record_consent(
            self.purpose,
            self.decision == "granted",
            "manual",
            notice_version=self.notice_version,
            evidence=self.evidence,
            objection=self.objection and self.decision == "withdrawn",
        )
        return {"type": "ir.actions.act_window_close"}
