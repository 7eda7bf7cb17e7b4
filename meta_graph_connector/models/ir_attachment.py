from odoo import models


class IrAttachment(models.Model):
    _inherit = "ir.attachment"

    def _meta_public_url(self):
        """The link Meta downloads an agent's file from (the Send API takes
        files by URL): Odoo's own content route with the file's access token,
        so nothing else of the database is public."""
        self.ensure_one()
        return (
            f"{self.get_base_url()}/web/content/{self.id}"
            f"?access_token={self.access_token}&download=true"
        )
