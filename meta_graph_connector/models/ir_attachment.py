import logging

from odoo import api, models

_logger = logging.getLogger(__name__)

#: The kinds of message parts that are files to keep (``graph.messaging``).
FILE_KINDS = ("image", "video", "audio", "file", "sticker")


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

    @api.model
    def _meta_keep_file(self, part, record):
        """The file of a message part Meta reported (``graph.messaging.Part``)
        downloaded and kept as an attachment of ``record``; None when the
        part is no file or its file cannot be fetched (Meta's links expire:
        the file is kept, within Meta's own limits)."""
        if part.kind not in FILE_KINDS or not part.url:
            return None
        try:
            data, mimetype, name = self.env["meta.connection"]._meta_download(part.url)
        except (OSError, ValueError) as error:
            _logger.info("Meta attachment not fetched: %s", error)
            return None
        # sudo: ir.attachment - the system keeps the customer's file
        return self.sudo().create(
            {
                "name": part.title or name or part.kind,
                "raw": data,
                "mimetype": mimetype,
                "res_model": record._name,
                "res_id": record.id,
            }
        )
