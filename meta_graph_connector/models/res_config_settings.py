from markupsafe import Markup

from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Not a config parameter and no secret: the health of the connections,
    # computed for the system administrators who open Settings.
    meta_health_html = fields.Html(
        string="Meta Connections Health",
        compute="_compute_meta_health_html",
        sanitize=False,  # built with Markup escaping below
    )

    meta_inbox_retention_days = fields.Integer(
        related="company_id.meta_inbox_retention_days", readonly=False
    )

    @api.depends("company_id")
    def _compute_meta_health_html(self):
        if not self.env.user.has_group("meta_graph_connector.group_meta_user"):
            self.meta_health_html = False
            return
        connections = self.env["meta.connection"].search(
            [("state", "!=", "disconnected")]
        )
        levels = {"ok": "success", "warning": "warning", "danger": "danger"}
        labels = dict(
            connections._fields["health_level"]._description_selection(self.env)
        )
        rows = Markup("").join(
            Markup(
                "<div class='mb-2'><span class='badge text-bg-%s me-2'>%s</span>"
                "<strong>%s</strong>%s</div>"
            )
            % (
                levels[connection.health_level],
                labels[connection.health_level],
                connection.name,
                connection.health_html or "",
            )
            for connection in connections
        )
        for settings in self:
            settings.meta_health_html = rows or Markup("<p>%s</p>") % self.env._(
                "No Meta connection yet."
            )
