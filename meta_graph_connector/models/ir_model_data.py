from odoo import api, models

from .. import series


class IrModelData(models.Model):
    _inherit = "ir.model.data"

    @api.model
    def _meta_write_as_series(self, xmlid, values):
        """Write ``values``, in 18.0's field names, to the record of
        ``xmlid`` as the running series names them: how the addon's data
        files set what a later series renamed (a group's category and
        members, an action's groups), written once for every series."""
        record = self.env.ref(xmlid)
        record.write(series.xml_values(record, values))
        return True
