from odoo import api, models

from ..graph import app_review

#: The cron running each piece of scheduled work the kit's texts name: the
#: kit says how often it runs as it is set, never a frequency of its own.
SCHEDULE_CRONS = {
    "lead_reconciliation": "meta_graph_connector.ir_cron_meta_reconcile_leads",
    "subscription_check": "meta_graph_connector.ir_cron_meta_check_health",
}


class MetaAppReviewReport(models.AbstractModel):
    _name = "report.meta_graph_connector.report_meta_app_review"
    _description = "Meta App Review Kit"

    @api.model
    def _get_report_values(self, docids, data=None):
        # read for a Meta administrator: the kit shows no secret of the app
        self.env["meta.app"].check_access("read")
        return {
            "docs": self.env["meta.app"].browse(docids),
            "permissions": app_review.permission_texts(self._meta_schedules()),
            "test_user_instructions": app_review.TEST_USER_INSTRUCTIONS,
        }

    @api.model
    def _meta_schedules(self):
        """(number, unit) of each active cron the texts name."""
        schedules = {}
        for name, xmlid in SCHEDULE_CRONS.items():
            # sudo: ir.cron - its interval, read for a Meta administrator
            # who may not be a system user
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            cron = cron and cron.sudo()
            if cron and cron.active:
                schedules[name] = (cron.interval_number, cron.interval_type)
        return schedules
