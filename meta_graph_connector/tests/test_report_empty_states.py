from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import MetaTransactionCase


@tagged("post_install", "-at_install")
class TestSpeedToLeadEmptyState(MetaTransactionCase):
    """A speed chart of leads nobody answered yet drew empty bars and said
    nothing: it opens on the answered leads, and its help says when it
    fills."""

    def test_the_speed_chart_says_when_it_fills(self):
        form = self.env["meta.lead.form"].create(
            {"name": "Kış Kampanyası", "page_id": self.page.id, "meta_form_id": "771"}
        )
        submitted = fields.Datetime.now() - timedelta(hours=1)
        lead = self.env["crm.lead"].create(
            {
                "name": "Meta lead",
                "type": "opportunity",
                "user_id": self.salesman.id,
                "meta_form_id": form.id,
                "meta_page_id": self.page.id,
                "meta_platform": "facebook",
                "meta_submitted_at": submitted,
            }
        )
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.meta_lead_report_action_speed"
        )
        # the chart's rows under the action's default filters
        defaults = {
            key.removeprefix("search_default_")
            for key, value in safe_eval(action["context"]).items()
            if key.startswith("search_default_") and value
        }
        search = etree.fromstring(
            self.env.ref("meta_graph_connector.meta_lead_report_view_search").arch
        )
        domain = [("lead_id", "=", lead.id)]
        for node in search.iter("filter"):
            if node.get("name") in defaults and node.get("domain"):
                domain += safe_eval(node.get("domain"), {"uid": self.env.uid})
        Report = self.env["meta.lead.report"]
        self.assertIn("answered", defaults)
        self.assertFalse(
            Report.search_count(domain),
            "no row: the view shows its help, not empty bars",
        )
        help_text = action["help"]
        self.assertIn("o_view_nocontent", help_text)
        self.assertIn("first response", help_text)
        self.assertIn("Not Contacted Yet", help_text)
        lead.meta_first_response_at = submitted + timedelta(minutes=3)
        self.env.flush_all()
        self.assertEqual(Report.search_count(domain), 1, "answered: on the chart")
