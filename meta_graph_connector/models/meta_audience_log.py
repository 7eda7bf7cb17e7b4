from odoo import api, fields, models
from odoo.exceptions import UserError


class MetaAudienceLog(models.Model):
    """The audit log of audiences: one row per call to Meta, append-only.

    When, who (or the cron), which audience, which operation, how many rows,
    which batch of which session, and Meta's counts; never a person's data.
    """

    _name = "meta.audience.log"
    _description = "Meta Audience Audit Log"
    _order = "id desc"

    audience_id = fields.Many2one("meta.audience", readonly=True, ondelete="set null")
    audience_name = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    user_id = fields.Many2one("res.users", string="By", readonly=True)
    operation = fields.Char(readonly=True)
    rows = fields.Integer(readonly=True)
    session_id = fields.Char(readonly=True)
    batch_seq = fields.Integer(string="Batch", readonly=True)
    received = fields.Integer(readonly=True)
    invalid = fields.Integer(readonly=True)
    error = fields.Text(readonly=True)

    def write(self, vals):
        if self:
            raise UserError(self.env._("The audit log cannot be changed."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("The audit log cannot be deleted."))

    @api.model
    def _meta_log(self, audience, operation, rows, **details):
        result = details.get("result") or {}
        # sudo: meta.audience.log - written by the sync (cron and outbox),
        # read by Meta administrators
        return self.sudo().create(
            {
                "audience_id": audience.id,
                "audience_name": audience.name,
                "company_id": audience.company_id.id,
                "user_id": self.env.user.id,
                "operation": operation,
                "rows": rows,
                "session_id": str(details.get("session_id") or ""),
                "batch_seq": details.get("batch_seq") or 0,
                "received": result.get("received") or 0,
                "invalid": result.get("invalid") or 0,
                "error": str(details.get("error") or "") or False,
            }
        )
