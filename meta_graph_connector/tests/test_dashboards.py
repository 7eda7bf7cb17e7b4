from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import MetaTransactionCase


@tagged("post_install", "-at_install")
class TestLeadAdsDashboards(MetaTransactionCase):
    """Speed to lead and conversion as crm's graph and pivot views read them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_seller = new_test_user(
            cls.env,
            login="meta_dash_other",
            groups="sales_team.group_sale_salesman",
            name="Other Seller",
        )
        cls.won_stage = cls.env["crm.stage"].search([("is_won", "=", True)], limit=1)

    def setUp(self):
        super().setUp()
        self.form = self.env["meta.lead.form"].create(
            {
                "name": "Kış Kampanyası",
                "page_id": self.page.id,
                "meta_form_id": "771",
            }
        )
        self.Report = self.env["meta.lead.report"]
        self.now = fields.Datetime.now()

    def lead(self, minutes=None, user=None, **values):
        submitted = values.pop("submitted", self.now - timedelta(hours=1))
        return self.env["crm.lead"].create(
            {
                "name": "Meta lead",
                "type": "opportunity",
                "user_id": (user or self.salesman).id,
                "meta_form_id": self.form.id,
                "meta_page_id": self.page.id,
                "meta_platform": "facebook",
                "meta_submitted_at": submitted,
                "meta_first_response_at": (
                    submitted + timedelta(minutes=minutes)
                    if minutes is not None
                    else False
                ),
                **values,
            }
        )

    def read_report(self, groupby, aggregates, domain=()):
        return self.Report._read_group(
            [("form_id", "=", self.form.id), *domain], groupby, aggregates
        )

    def test_median_and_p90_of_response_leave_unanswered_leads_out(self):
        for minutes in range(1, 11):
            self.lead(minutes)
        self.lead(None)  # nobody answered: no response time, not 0 minutes
        [(user, median, p90, within_5, count)] = self.read_report(
            ["user_id"],
            [
                "response_median:avg",
                "response_p90:avg",
                "answered_5min_rate:avg",
                "__count",
            ],
        )
        self.assertEqual(user, self.salesman)
        self.assertAlmostEqual(median, 5.5)  # of 1..10, not of 0..10
        self.assertAlmostEqual(p90, 9.1)
        # the unanswered lead was not answered within 5 minutes
        self.assertAlmostEqual(within_5, 100.0 * 5 / 11)
        self.assertEqual(count, 11)

    def test_speed_is_grouped_by_team_salesperson_form_and_week(self):
        self.lead(2)
        self.lead(30, user=self.other_seller)
        self.lead(4, submitted=self.now - timedelta(days=8))
        by_user = dict(self.read_report(["user_id"], ["response_median:avg"]))
        self.assertEqual(by_user, {self.salesman: 3.0, self.other_seller: 30.0})
        by_week = self.read_report(["submitted_at:week"], ["__count"])
        self.assertEqual(sorted(count for _week, count in by_week), [1, 2])
        [(form, platform, _median)] = self.read_report(
            ["form_id", "platform"], ["response_median:avg"]
        )
        self.assertEqual((form, platform), (self.form, "facebook"))

    def test_test_leads_are_not_in_the_figures(self):
        self.lead(3)
        self.lead(None, meta_is_test=True)
        self.env["crm.lead"].create({"name": "Telefonla gelen"})
        self.assertEqual(self.Report.search_count([]), 1)

    def test_won_rate_by_form_and_campaign(self):
        self.lead(1, meta_campaign_name="Kış", stage_id=self.won_stage.id)
        self.lead(1, meta_campaign_name="Kış").action_set_lost()
        self.lead(1, meta_campaign_name="Yaz")
        self.lead(None, meta_campaign_name="Yaz")
        Report = self.Report.with_context(active_test=False)
        rates = dict(
            Report._read_group(
                [("form_id", "=", self.form.id)], ["campaign_name"], ["won_rate:avg"]
            )
        )
        self.assertEqual(rates, {"Kış": 50.0, "Yaz": 0.0})
        self.form.invalidate_recordset()
        self.assertAlmostEqual(self.form.won_rate, 25.0)
        self.assertEqual(self.form.lead_count_week, 4)

    def test_form_smart_buttons_count_the_last_7_days(self):
        self.lead(1)
        self.lead(1, submitted=self.now - timedelta(days=9))
        self.lead(1, meta_is_test=True)
        self.assertEqual(self.form.lead_count, 3)
        self.assertEqual(self.form.lead_count_week, 1)
        action = self.form.action_view_analysis()
        self.assertEqual(action["res_model"], "meta.lead.report")
        self.assertEqual(action["domain"], [("form_id", "=", self.form.id)])

    def test_a_salesperson_sees_only_the_figures_of_their_leads(self):
        mine = self.lead(2)
        self.lead(3, user=self.other_seller)
        rows = self.Report.with_user(self.salesman).search([])
        self.assertEqual(rows.lead_id, mine)
        [(count,)] = self.Report.with_user(self.salesman)._read_group(
            [], [], ["__count"]
        )
        self.assertEqual(count, 1)
        # the analysis opens for them from CRM > Reporting
        self.env.ref("meta_graph_connector.meta_lead_report_menu_speed").with_user(
            self.salesman
        ).check_access("read")
        self.Report.with_user(self.salesman).get_views(
            [(False, "graph"), (False, "pivot"), (False, "list"), (False, "search")]
        )


@tagged("post_install", "-at_install")
class TestPipelineOfMetaLeads(MetaTransactionCase):
    def setUp(self):
        super().setUp()
        self.form = self.env["meta.lead.form"].create(
            {"name": "Showroom", "page_id": self.page.id, "meta_form_id": "772"}
        )
        now = fields.Datetime.now()
        Lead = self.env["crm.lead"]
        self.facebook, self.instagram, self.answered = (
            Lead.create(
                {
                    "name": name,
                    "meta_form_id": self.form.id,
                    "meta_platform": platform,
                    "meta_submitted_at": now,
                    "meta_first_response_at": now if answered else False,
                }
            )
            for name, platform, answered in (
                ("fb", "facebook", False),
                ("ig", "instagram", False),
                ("done", "facebook", True),
            )
        )
        self.other = Lead.create({"name": "Web sitesinden"})

    def filter_domain(self, name):
        arch = self.env["crm.lead"].get_views([(False, "search")])["views"]["search"][
            "arch"
        ]
        [node] = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")
        return safe_eval(node.get("domain"))

    def test_filters_from_facebook_from_instagram_and_not_contacted_yet(self):
        def found(name):
            ids = (self.facebook | self.instagram | self.answered | self.other).ids
            return self.env["crm.lead"].search(
                [("id", "in", ids), *self.filter_domain(name)]
            )

        self.assertEqual(found("meta_from_facebook"), self.facebook | self.answered)
        self.assertEqual(found("meta_from_instagram"), self.instagram)
        self.assertEqual(found("meta_not_contacted"), self.facebook | self.instagram)

    def test_kanban_cards_carry_the_platform_badge_and_list_columns(self):
        views = self.env["crm.lead"].get_views([(False, "kanban"), (False, "list")])[
            "views"
        ]
        kanban = etree.fromstring(views["kanban"]["arch"])
        [badge] = kanban.xpath("//div[hasclass('o_meta_platform_badge')]")
        self.assertTrue(badge.xpath(".//field[@name='meta_platform']"))
        listed = etree.fromstring(views["list"]["arch"])
        for name in ("meta_platform", "meta_form_id", "meta_submitted_at"):
            [column] = listed.xpath(f"//field[@name='{name}']")
            self.assertEqual(column.get("optional"), "hide")
