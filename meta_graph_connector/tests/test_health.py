import time
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..graph.webhook import parse_delivery
from .common import PAGE_SCOPES, MetaCase, MetaTransactionCase


@tagged("post_install", "-at_install")
class TestHealthAtAGlance(MetaTransactionCase):
    def setUp(self):
        super().setUp()
        # subscribed as wanted: Lead Ads, comments and conversations
        self.page.webhook_fields = ",".join(self.page._meta_expected_webhook_fields())
        self.now = fields.Datetime.now()

    def in_days(self, days, hours=1):
        return self.now + timedelta(days=days, hours=hours)

    def test_a_healthy_connection_says_so(self):
        self.connection.token_expires_at = False
        self.assertEqual(self.connection.health_level, "ok")
        self.assertFalse(self.connection.health_html)

    def test_expiry_is_warned_14_days_then_3_days_ahead(self):
        self.connection.token_expires_at = self.in_days(20)
        self.assertEqual(self.connection.health_level, "ok")
        self.connection.token_expires_at = self.in_days(10)
        self.assertEqual(self.connection.health_level, "warning")
        self.assertIn("10 days", self.connection.health_html)
        self.connection.data_access_expires_at = self.in_days(2)
        self.assertEqual(self.connection.health_level, "danger")
        self.assertIn("data expires in 2 days", str(self.connection.health_html))

    def test_missing_permissions_are_said_in_words_with_what_they_break(self):
        self.connection.missing_scopes = "leads_retrieval,pages_messaging"
        html = str(self.connection.missing_scopes_html)
        self.assertIn("leads_retrieval", html)
        self.assertIn("Lead Ads stops", html)
        self.assertIn("Messenger messages cannot be read", html)
        self.assertEqual(self.connection.health_level, "danger")
        # the granted permissions are a list, not a comma-joined string
        self.connection.granted_scopes = "pages_show_list,leads_retrieval"
        self.assertEqual(
            self.connection.granted_scopes_text, "pages_show_list\nleads_retrieval"
        )

    def test_webhooks_leads_failures_and_subscription_drift(self):
        Event = self.env["meta.webhook.event"]
        self.assertFalse(self.connection.last_webhook_at)
        ids = Event._meta_store_events(parse_delivery(self.leadgen_delivery(3)))
        events = Event.browse(ids)
        events[0]._meta_set_failed(ValueError("retry later"))
        events[1]._meta_set_dead("gave up")
        lead = self.env["crm.lead"].create(
            {"name": "Meta lead", "meta_page_id": self.page.id}
        )
        self.connection.invalidate_recordset()
        self.assertTrue(self.connection.last_webhook_at)
        self.assertEqual(self.connection.last_lead_at, lead.create_date)
        self.assertEqual(self.connection.failed_event_count, 1)
        self.assertEqual(self.connection.dead_event_count, 1)
        self.assertEqual(self.connection.health_level, "warning")
        # Meta lost the leadgen subscription of the Page
        self.page.webhook_fields = False
        self.connection.invalidate_recordset()
        self.assertEqual(self.connection.drifted_page_count, 1)
        self.assertEqual(self.connection.health_level, "danger")
        self.assertIn("lost their webhook subscription", self.connection.health_html)

    def test_the_daily_check_warns_administrators_once_per_threshold(self):
        def todos():
            return self.connection.activity_ids.filtered(
                lambda a: "expires soon" in (a.summary or "")
            )

        def token_expiring_in(days):
            token = self.simulator.add_user_token(
                scopes=PAGE_SCOPES,
                pages=[self.sim_page["id"]],
                expires_at=int(time.time()) + days * 86400 + 3600,
            )
            self.connection.sudo().access_token = token

        token_expiring_in(10)
        self.env["meta.connection"]._cron_check_health()
        self.assertEqual(len(todos()), 1)
        self.assertEqual(self.connection.expiry_warned_days, 14)
        self.env["meta.connection"]._cron_check_health()
        self.assertEqual(len(todos()), 1, "warned once for the 14-day threshold")
        token_expiring_in(2)
        self.env["meta.connection"]._cron_check_health()
        self.assertEqual(len(todos()), 2)
        self.assertEqual(self.connection.expiry_warned_days, 3)
        # reconnected with a token that does not expire: warnings start over
        token_expiring_in(60)
        self.env["meta.connection"]._cron_check_health()
        self.assertEqual(self.connection.expiry_warned_days, 0)

    def test_the_crm_banner_is_for_meta_administrators_only(self):
        self.connection.missing_scopes = "leads_retrieval"
        Connection = self.env["meta.connection"]
        [entry] = Connection.with_user(self.meta_admin).get_attention_banner()
        self.assertEqual(entry["id"], self.connection.id)
        self.assertEqual(entry["level"], "danger")
        self.assertTrue(any("Lead Ads stops" in issue for issue in entry["issues"]))
        # a salesperson gets nothing, without an access error
        self.assertEqual(Connection.with_user(self.salesman).get_attention_banner(), [])
        self.connection.missing_scopes = False
        self.assertEqual(
            Connection.with_user(self.meta_admin).get_attention_banner(), []
        )

    def test_settings_show_the_health_of_each_connection(self):
        self.connection.token_expires_at = self.in_days(5)
        admin = self.env.ref("base.user_admin")
        # what the Settings screen loads: the onchange of a new record
        values = (
            self.env["res.config.settings"]
            .with_user(admin)
            .onchange({}, [], {"meta_health_html": {}, "company_id": {}})["value"]
        )
        self.assertIn(self.connection.name, values["meta_health_html"])
        self.assertIn("5 days", values["meta_health_html"])

    def test_connection_form_shows_health_in_the_administrators_language(self):
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env["ir.module.module"]._load_module_terms(
            ["meta_graph_connector"], ["tr_TR"], overwrite=True
        )
        self.connection.missing_scopes = "leads_retrieval"
        html = self.connection.with_context(lang="tr_TR").missing_scopes_html
        self.assertNotIn("is missing", str(html))


@tagged("post_install", "-at_install")
class TestAttentionBannerInBrowser(MetaCase, HttpCase):
    def test_pipeline_banner_opens_the_connection_that_needs_attention(self):
        self.connection.missing_scopes = "leads_retrieval"
        self.start_tour("/odoo", "meta_graph_connector_attention_banner", login="admin")
