from odoo import models

from .. import series

#: Where the addon keeps the web client code of one series: ``<series>/``
#: below it, beside the code every series shares.
SERIES_ASSETS = "/meta_graph_connector/static/src/series/"
SERIES_TESTS = "/meta_graph_connector/static/tests/series/"


class IrAsset(models.Model):
    _inherit = "ir.asset"

    def _get_asset_paths(self, bundle, assets_params):
        """The manifest's globs take every series' web client code; keep
        only the running series' (Discuss's models and the tour helpers
        moved between 18.0 and 19.0)."""
        own = (f"{SERIES_ASSETS}{series.SERIES}/", f"{SERIES_TESTS}{series.SERIES}/")
        return [
            asset
            for asset in super()._get_asset_paths(bundle, assets_params)
            if not asset[0].startswith((SERIES_ASSETS, SERIES_TESTS))
            or asset[0].startswith(own)
        ]
