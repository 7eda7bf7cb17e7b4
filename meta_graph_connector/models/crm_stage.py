from odoo import api, fields, models


class CrmStage(models.Model):
    _inherit = "crm.stage"

    meta_conversion_event = fields.Char(
        help="The event Meta's Conversions API receives when a lead from "
        "Meta Lead Ads reaches this stage (Conversion Leads). Not translated: "
        "Meta optimises on this name. Empty: Meta is not told.",
    )

    @api.model
    def _meta_default_conversion_events(self):
        """Each stage's event named after its English name: Meta wants every
        stage, the first one included, under a name that stays the same
        whatever the language of whoever renamed it later."""
        stages = self.with_context(lang="en_US", active_test=False).search(
            [("meta_conversion_event", "=", False)]
        )
        for stage in stages:
            stage.meta_conversion_event = stage.name
