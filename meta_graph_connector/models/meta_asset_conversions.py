from odoo import api, fields, models
from odoo.exceptions import ValidationError


class MetaAsset(models.Model):
    """A dataset (pixel) as the receiver of the CRM's conversion events."""

    _inherit = "meta.asset"

    conversion_enabled = fields.Boolean(
        string="Send CRM Stages (Conversion Leads)",
        help="Tell Meta which stages the leads from Lead Ads reach, for the "
        "Conversion Leads optimisation; only for people who consented to "
        "conversion measurement. Map stages in CRM > Configuration > Stages.",
    )
    conversion_lost_event = fields.Char(
        string="Lost Lead Event",
        default="Lost",
        help="The event sent when a Meta lead is marked lost. Empty: none.",
    )
    conversion_test_code = fields.Char(
        string="Test Event Code",
        help="From Events Manager's Test Events tab: while set, the events go "
        "to that tab only, not to the dataset.",
    )
    conversion_event_count = fields.Integer(
        string="Conversion Events", compute="_compute_conversion_event_count"
    )

    def _compute_conversion_event_count(self):
        counts = dict(
            self.env["meta.conversion.event"]._read_group(
                [("dataset_id", "in", self.ids)], ["dataset_id"], ["__count"]
            )
        )
        for asset in self:
            asset.conversion_event_count = counts.get(asset, 0)

    @api.constrains("conversion_enabled", "asset_type", "company_id")
    def _check_one_conversion_dataset(self):
        for asset in self.filtered("conversion_enabled"):
            if asset.asset_type != "dataset":
                raise ValidationError(
                    self.env._("Only a dataset receives conversion events.")
                )
            if self.search_count(
                [
                    ("id", "!=", asset.id),
                    ("asset_type", "=", "dataset"),
                    ("conversion_enabled", "=", True),
                    ("company_id", "=", asset.company_id.id),
                ]
            ):
                raise ValidationError(
                    self.env._(
                        "Another dataset of %(company)s already receives the "
                        "CRM's conversion events.",
                        company=asset.company_id.name,
                    )
                )

    def action_open_conversion_events(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.action_meta_conversion_event"
        )
        action["domain"] = [("dataset_id", "=", self.id)]
        return action
