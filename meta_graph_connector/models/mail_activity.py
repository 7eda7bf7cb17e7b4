from odoo import models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        # Speed-to-lead: the first activity done on a Meta lead is its first
        # response. Read before super(), which deletes the activities.
        leads = self.env["crm.lead"].browse(
            [a.res_id for a in self if a.res_model == "crm.lead"]
        )
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        leads.exists()._meta_mark_first_response()
        return result
