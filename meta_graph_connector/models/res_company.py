from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    meta_inbox_retention_days = fields.Integer(
        string="Keep Conversation Content (Days)",
        default=0,
        help="What Messenger and Instagram messages said (texts and files) is "
        "erased this many days after they were written; who wrote when stays. "
        "KVKK and GDPR storage limitation. 0 keeps everything.",
    )
