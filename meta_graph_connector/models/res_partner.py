from odoo import models


class ResPartner(models.Model):
    # The same two lines as core's sms module: they give partners the stored,
    # indexed ``phone_sanitized`` (E.164) that crm.lead already has, so a Meta
    # lead is matched to its customer by phone whatever spelling either side
    # was typed in. Harmless when sms is installed too.
    _name = "res.partner"
    _inherit = ["mail.thread.phone", "res.partner"]
