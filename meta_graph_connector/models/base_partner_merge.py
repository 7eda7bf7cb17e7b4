from odoo import models


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        # the merged contacts are deleted, the person is not: no suppression
        return super(
            MergePartnerAutomatic, self.with_context(meta_partner_merge=True)
        )._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
