from odoo import models


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        # the merged contacts are deleted, the person is not: no suppression
        partners = self.env["res.partner"].browse(partner_ids).exists()
        last_social = max(
            (p.meta_last_social_at for p in partners if p.meta_last_social_at),
            default=False,
        )
        result = super(
            MergePartnerAutomatic, self.with_context(meta_partner_merge=True)
        )._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        # Odoo moves every link (Meta contacts, comments) to the partner
        # kept; their last social interaction is the latest of them all
        kept = (dst_partner or partners).exists()[:1]
        if last_social and kept:
            kept._meta_touch_social(last_social)
        return result
