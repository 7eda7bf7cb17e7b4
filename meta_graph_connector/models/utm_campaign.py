from psycopg2.errors import UniqueViolation

from odoo import api, fields, models

from .meta_queue_mixin import MetaContention, quiet_sql_errors


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
        case-insensitive find-or-create), remembering the id for next time.

        Two lanes importing the first leads of a new campaign at once both
        find nothing and both create it: the unique name lets one in, the
        other looks again (:meth:`_meta_find`)."""
        if not meta_campaign_id and not name:
            return self.browse()
        campaign = self._meta_find(meta_campaign_id)
        if not campaign:
            try:
                # the other lane's campaign is an expected outcome here
                with quiet_sql_errors(UniqueViolation), self.env.cr.savepoint():
                    campaign = self.env["utm.mixin"]._find_or_create_record(
                        "utm.campaign", name or meta_campaign_id
                    )
            except UniqueViolation:
                campaign = self._meta_find(meta_campaign_id, name or meta_campaign_id)
                if not campaign:
                    # committed after this transaction's snapshot: invisible
                    # here, found when the lead is imported again
                    raise MetaContention(
                        "This campaign was recorded by another worker at the "
                        "same moment: retried."
                    ) from None
            if meta_campaign_id and not campaign.meta_campaign_id:
                campaign.meta_campaign_id = meta_campaign_id
        return campaign

    @api.model
    def _meta_find(self, meta_campaign_id, name=None):
        """The campaign of a Meta campaign id, else (``name`` given) of that
        name, archived ones included."""
        Campaign = self.with_context(active_test=False)
        campaign = self.browse()
        if meta_campaign_id:
            campaign = Campaign.search(
                [("meta_campaign_id", "=", meta_campaign_id)], limit=1
            )
        if not campaign and name:
            # as core's find-or-create looks names up
            campaign = Campaign.search([("name", "=ilike", name.strip())], limit=1)
        return campaign.with_env(self.env)
