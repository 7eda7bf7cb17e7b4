from odoo import api, fields, models


class MetaConnection(models.Model):
    """When a connection last got a token, for Meta's app callbacks.

    A Deauthorize or Data Deletion request is about the connection as it was
    when the person acted: one issued before the token stored since (the
    person, or System User, connected again) must not undo the new
    connection. Every way in (the token wizard, Connect with Facebook) stores
    the token with ``write``/``create``, so the date is kept here rather than
    by each of them.
    """

    _inherit = "meta.connection"

    connected_at = fields.Datetime(
        string="Connected On",
        readonly=True,
        copy=False,
        help="When a token was last stored on this connection (connected or "
        "reconnected). Meta's app-removal and deletion requests issued "
        "before it are about an earlier connection and leave it alone.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("access_token"):
                vals.setdefault("connected_at", fields.Datetime.now())
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("access_token") and "connected_at" not in vals:
            vals = {**vals, "connected_at": fields.Datetime.now()}
        return super().write(vals)

    def _meta_connected_since(self):
        """When the current token was stored; the creation for connections
        made before this date was kept."""
        self.ensure_one()
        return self.connected_at or self.create_date
