from odoo import api, fields, models


class UtmCampaign(models.Model):
    _inherit = "utm.campaign"

    meta_campaign_id = fields.Char(
        string="Meta Campaign ID",
        index="btree_not_null",
        copy=False,
        help="The Meta ad campaign this UTM campaign stands for. Matching on "
        "the id rather than the name survives renames in Ads Manager.",
    )

    @api.model
    def _meta_find_or_create(self, meta_campaign_id, name):
        """UTM campaign of a Meta campaign: by Meta id, else by name (core's
        case-insensitive find-or-create), remembering the id for next time."""
        if not meta_campaign_id and not name:
            return self.browse()
        campaign = self.browse()
        if meta_campaign_id:
            campaign = self.with_context(active_test=False).search(
                [("meta_campaign_id", "=", meta_campaign_id)], limit=1
            )
        if not campaign:
            campaign = self.env["utm.mixin"]._find_or_create_record(
                "utm.campaign", name or meta_campaign_id
            )
            if meta_campaign_id and not campaign.meta_campaign_id:
                campaign.meta_campaign_id = meta_campaign_id
        return campaign
