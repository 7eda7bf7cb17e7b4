from odoo import api, models

from ..graph import app_review


class MetaAppReviewReport(models.AbstractModel):
    _name = "report.meta_graph_connector.report_meta_app_review"
    _description = "Meta App Review Kit"

    @api.model
    def _get_report_values(self, docids, data=None):
        # read for a Meta administrator: the kit shows no secret of the app
        self.env["meta.app"].check_access("read")
        return {
            "docs": self.env["meta.app"].browse(docids),
            "test_user_instructions": app_review.TEST_USER_INSTRUCTIONS,
        }
