from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..graph import api as meta_api
from ..graph.errors import RateLimitError, TokenError
from .common import APP_ID, PAGE_SCOPES, MetaTransactionCase

ADS_SCOPES = [*PAGE_SCOPES, "ads_management", "business_management"]


#: The Page fields of Messenger conversations (pages_messaging).
DM_FIELDS = [
    "messages",
    "message_echoes",
    "messaging_postbacks",
    "message_reads",
    "message_deliveries",
    "message_reactions",
    "messaging_referrals",
]


@tagged("post_install", "-at_install")
class TestMetaConnection(MetaTransactionCase):
    """Connections, their assets and their health against the simulator."""

    def _alerts(self, connection):
        return connection.message_ids.filtered(
            lambda m: m.subject and "reconnect" in m.subject.lower()
        )

    def _call_expecting(self, error_class, operation, asset=None):
        # Not assertRaises: Odoo's rolls back to a savepoint, and the flag the
        # door sets must survive for a caller that does not.
        try:
            (asset or self.page)._meta_call(operation)
        except error_class:
            return
        self.fail(f"{error_class.__name__} expected")

    def _connect(self, token, user=None):
        wizard = (
            self.env["meta.connect.wizard"]
            .with_user(user or self.meta_admin)
            .create({"access_token": token})
        )
        action = wizard.action_connect()
        self.assertNotEqual(wizard.access_token, token, "the wizard forgets it")
        self.send_outbox()  # the subscriptions it queued
        return self.env["meta.connection"].browse(action["res_id"])

    # ------------------------------------------------------------ health

    def test_health_check_of_a_valid_token(self):
        self.page.with_user(self.meta_admin).action_subscribe_webhooks()
        self.assertFalse(self.page.webhook_ok, "queued, not sent in the request")
        self.send_outbox()
        self.connection.with_user(self.meta_admin).action_check_health()
        self.assertEqual(self.connection.state, "connected")
        self.assertTrue(self.connection.last_health_check)
        self.assertIn("leads_retrieval", self.connection.granted_scopes)
        self.assertFalse(self.connection.missing_scopes)
        self.assertEqual(self.connection.token_type, "SYSTEM_USER")
        self.assertTrue(self.page.webhook_ok)
        self.assertIn("leadgen", self.page.webhook_fields)

    def test_invalid_token_flags_the_connection_and_alerts_once(self):
        self.simulator.invalidate_token(self.system_token, subcode=460)
        self.connection._meta_check_health()
        self.assertEqual(self.connection.state, "needs_reconnect")
        self.assertEqual(len(self._alerts(self.connection)), 1)
        activities = self.connection.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.meta_admin)
        alert = self._alerts(self.connection)
        self.assertIn(self.meta_admin.partner_id, alert.partner_ids)
        # More failures anywhere (health cron, a Graph call) do not alert again.
        self.connection._meta_check_health()
        self._call_expecting(TokenError, lambda client: client.get("me"))
        self.env["meta.connection"]._cron_check_health()
        self.assertEqual(len(self._alerts(self.connection)), 1)
        self.assertEqual(len(self.connection.activity_ids), 1)
        self.assertEqual(self.connection.state, "needs_reconnect")

    def test_alerts_are_in_the_language_of_who_gets_the_to_do(self):
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env["ir.module.module"]._load_module_terms(
            ["meta_graph_connector"], ["tr_TR"], overwrite=True
        )
        self.meta_admin.lang = "tr_TR"
        self.simulator.invalidate_token(self.system_token, subcode=460)
        self.connection._meta_check_health()
        self.assertEqual(
            self.connection.activity_ids.summary,
            "Meta bağlantısının yeniden kurulması gerekiyor",
        )
        alert = self.connection.message_ids.filtered(
            lambda m: m.subject == "Meta bağlantısının yeniden kurulması gerekiyor"
        )
        self.assertIn("token'ını reddetti", str(alert.body))
        # Meta's English is quoted in the Turkish sentence, with no technical
        # suffix and no double full stop
        self.assertRegex(str(alert.body), r"“[^”]+”")
        self.assertNotIn("..", str(alert.body))
        self.assertNotIn("| code", str(alert.body))

    def test_token_error_from_any_call_flags_the_connection(self):
        self.simulator.invalidate_token(self.sim_page["access_token"], subcode=463)
        self._call_expecting(TokenError, lambda client: client.get(self.sim_page["id"]))
        self.assertEqual(self.connection.state, "needs_reconnect")
        self.assertIn("190", self.connection.last_error)

    def test_missing_scope_is_reported(self):
        self.connection.feature_lead_ads = True  # used for Lead Ads
        self.simulator.revoke_scope(self.system_token, "leads_retrieval")
        self.connection._meta_check_health()
        self.assertEqual(self.connection.state, "permission_missing")
        self.assertIn("leads_retrieval", self.connection.missing_scopes)

    def test_wrong_app_secret_does_not_blame_the_connection(self):
        self.meta_app.app_secret = "not-the-secret"
        self.connection._meta_check_health()
        self.assertEqual(self.connection.state, "connected")
        self.assertTrue(self.connection.last_error)

    def test_api_version_is_pinned_per_connection(self):
        self.connection.api_version = "v24.0"
        self.page._meta_call(lambda client: client.get(self.sim_page["id"]))
        self.assertTrue(self.simulator.requests[-1].path.startswith("/v24.0/"))
        self.assertEqual(APP_ID, self.env["meta.app"]._meta_config()["app_id"])

    def test_one_http_session_per_connection(self):
        first = self.connection._meta_client(self.page)
        second = self.connection._meta_client()
        self.assertIs(first.session, second.session)
        other = self.connection.copy({"name": "Other", "access_token": "x"})
        self.assertIsNot(other._meta_client().session, first.session)

    def test_the_door_uses_the_token_of_the_asset(self):
        self.page._meta_call(lambda client: client.get("me"))
        self.assertEqual(
            self.simulator.requests[-1].token, self.sim_page["access_token"]
        )
        self.instagram._meta_call(lambda client: client.get("me"))
        self.assertEqual(
            self.simulator.requests[-1].token,
            self.sim_page["access_token"],
            "an Instagram account is reached with its Page's token",
        )
        self.connection._meta_call(lambda client: client.get("me"))
        self.assertEqual(self.simulator.requests[-1].token, self.system_token)

    # -------------------------------------------------------- webhooks

    def test_subscription_follows_the_handlers_and_the_permissions(self):
        """Only fields something handles are subscribed (Lead Ads, comments,
        conversations), and only those the token may subscribe: without
        pages_messaging, no Messenger field."""
        page = self.simulator.add_page(name="Sadece Form")
        scopes = [s for s in PAGE_SCOPES if s != "pages_messaging"]
        token = self.simulator.add_user_token(
            scopes=scopes, pages=[page["id"]], token_type="SYSTEM_USER"
        )
        connection = self._connect(token)
        asset = connection.asset_ids.filtered(lambda a: a.external_id == page["id"])
        self.assertEqual(
            set(self.simulator.subscriptions(page["id"])), {"leadgen", "feed"}
        )
        self.assertTrue(asset.webhook_ok)
        self.assertEqual(connection.state, "connected")
        handled = self.env["meta.webhook.event"]._meta_handled_kinds()
        self.assertEqual(
            handled,
            {"leadgen", "page_comment", "instagram_comment", "instagram_mention"}
            | {
                f"{channel}_{action}"
                for channel in ("messenger", "instagram")
                for action in (
                    "message",
                    "echo",
                    "postback",
                    "read",
                    "delivery",
                    "reaction",
                    "referral",
                )
            },
        )
        # without leads_retrieval, only the comments can be subscribed
        self.assertEqual(
            meta_api.page_fields(
                handled, [s for s in scopes if s != "leads_retrieval"]
            ),
            ("feed",),
        )

    def test_subscription_reaches_meta(self):
        self.page._meta_subscribe_webhooks()
        subscribed = self.simulator.subscriptions(self.sim_page["id"])
        self.assertEqual(subscribed, ["leadgen", "feed", *DM_FIELDS])

    def test_subscription_drift_is_repaired_and_told_once(self):
        self.page._meta_subscribe_webhooks()
        self.simulator.set_subscription(self.sim_page["id"], [])  # Meta lost it
        self.env["meta.connection"]._cron_check_health()
        self.assertEqual(
            self.simulator.subscriptions(self.sim_page["id"]),
            ["leadgen", "feed", *DM_FIELDS],
        )
        drift = self.connection.message_ids.filtered(
            lambda m: m.subject and "subscription" in m.subject.lower()
        )
        self.assertEqual(len(drift), 1)
        self.assertIn("leadgen", str(drift.body))
        # lost again before anyone looked: repaired again, not told twice
        self.simulator.set_subscription(self.sim_page["id"], [])
        self.env["meta.connection"]._cron_check_health()
        self.assertEqual(
            self.simulator.subscriptions(self.sim_page["id"]),
            ["leadgen", "feed", *DM_FIELDS],
        )
        self.assertEqual(
            len(
                self.connection.message_ids.filtered(
                    lambda m: m.subject and "subscription" in m.subject.lower()
                )
            ),
            1,
        )
        # complete again: the next drift is told again
        self.env["meta.connection"]._cron_check_health()
        self.assertFalse(self.page.subscription_alerted)

    # ---------------------------------------------------- connect wizard

    def test_reconnect_with_a_new_token_of_the_same_system_user(self):
        self.simulator.invalidate_token(self.system_token, subcode=460)
        self.connection._meta_check_health()
        self.assertEqual(self.connection.state, "needs_reconnect")
        self.connection.meta_user_id = self.simulator.token_info(
            self.system_token
        ).user_id
        new_token = self.simulator.add_user_token(
            scopes=PAGE_SCOPES, pages=[self.sim_page["id"]], token_type="SYSTEM_USER"
        )
        # the same System User, a new token
        self.simulator.token_info(new_token).user_id = self.connection.meta_user_id
        connection = self._connect(new_token)
        self.assertEqual(connection, self.connection)
        self.assertEqual(self.connection.state, "connected")
        self.assertEqual(self.connection.sudo().access_token, new_token)
        self.assertTrue(self.page.webhook_ok)

    def test_connect_fetches_pages_instagram_ad_accounts_and_datasets(self):
        business = self.simulator.add_business(name="Ege Holding")
        page = self.simulator.add_page(name="Ege Zeytin", ig_account_id=True)
        ad_account = self.simulator.add_ad_account(
            name="Ege Reklam", business_id=business["id"]
        )
        dataset = self.simulator.add_dataset(
            name="Ege Pixel", business_id=business["id"]
        )
        token = self.simulator.add_user_token(
            scopes=ADS_SCOPES,
            pages=[page["id"]],
            ad_accounts=[ad_account["id"]],
            token_type="SYSTEM_USER",
            business_id=business["id"],
        )
        connection = self._connect(token)
        by_type = {a.asset_type: a for a in connection.asset_ids}
        self.assertEqual(by_type["page"].name, "Ege Zeytin")
        self.assertEqual(by_type["page"].sudo().access_token, page["access_token"])
        self.assertEqual(by_type["instagram"].external_id, page["ig_account_id"])
        self.assertEqual(by_type["instagram"].parent_id, by_type["page"])
        self.assertEqual(by_type["ad_account"].external_id, ad_account["id"])
        self.assertEqual(by_type["ad_account"].currency, "TRY")
        self.assertEqual(by_type["dataset"].external_id, dataset["id"])
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection.user_id, self.meta_admin)
        self.assertFalse(by_type["ad_account"].sudo().access_token)

    def test_assets_without_their_permission_are_skipped(self):
        page = self.simulator.add_page(name="Sadece Sayfa")
        token = self.simulator.add_user_token(
            scopes=PAGE_SCOPES, pages=[page["id"]], token_type="SYSTEM_USER"
        )
        connection = self._connect(token)
        self.assertEqual(
            set(connection.asset_ids.mapped("asset_type")),
            {"page"},
            "no ads_management",
        )
        self.assertEqual(connection.state, "connected")

    def test_connect_wizard_refuses_a_bad_token(self):
        wizard = self.env["meta.connect.wizard"].create({"access_token": "garbage"})
        with self.assertRaises(UserError):
            wizard.action_connect()

    def test_an_asset_belongs_to_one_company(self):
        other = self.env["res.company"].create({"name": "Başka Şirket"})
        self.meta_admin.company_ids |= other
        wizard = (
            self.env["meta.connect.wizard"]
            .with_user(self.meta_admin)
            .create({"access_token": self.system_token, "company_id": other.id})
        )
        with self.assertRaises(UserError):
            wizard.action_connect()

    def test_disconnect_unsubscribes_and_forgets_tokens(self):
        self.page._meta_subscribe_webhooks()
        self.connection.with_user(self.meta_admin).action_disconnect()
        self.assertEqual(self.connection.state, "disconnected")
        self.assertTrue(self.simulator.subscriptions(self.sim_page["id"]), "queued")
        self.send_outbox()
        self.assertEqual(self.connection.state, "disconnected")
        self.assertFalse(self.connection.sudo().access_token)
        self.assertFalse(self.page.sudo().access_token)
        self.assertFalse(self.simulator.subscriptions(self.sim_page["id"]))

    # ------------------------------------------------------ throttling

    def test_a_throttled_connection_is_not_called(self):
        self.simulator.faults.throttle(code=32, calls=1, regain_minutes=7)
        self._call_expecting(
            RateLimitError, lambda client: client.get(self.sim_page["id"])
        )
        self.assertTrue(self.connection.is_throttled)
        remaining = self.connection._meta_throttle_remaining()
        self.assertAlmostEqual(remaining, 7 * 60, delta=5)
        calls = len(self.simulator.requests)
        self._call_expecting(
            RateLimitError, lambda client: client.get(self.sim_page["id"])
        )
        self.assertEqual(len(self.simulator.requests), calls, "no call while throttled")
        self.connection.throttled_until = fields.Datetime.now() - timedelta(seconds=1)
        self.page._meta_call(lambda client: client.get(self.sim_page["id"]))
        self.assertEqual(len(self.simulator.requests), calls + 1)

    def test_usage_above_the_threshold_slows_down_before_meta_throttles(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "meta_graph_connector.usage_threshold", "1"
        )
        self.simulator.app_call_budget = 10  # every call uses 10 % of the app budget
        self.page._meta_call(lambda client: client.get(self.sim_page["id"]))
        self.assertTrue(self.connection.is_throttled)
        self.assertIn("%", self.connection.throttle_reason)

    def test_disconnecting_with_a_dead_token_still_forgets_the_tokens(self):
        self.simulator.invalidate_token(self.system_token, subcode=460)
        self.connection.with_user(self.meta_admin).action_disconnect()
        self.send_outbox()
        self.assertEqual(self.connection.state, "disconnected", "not needs_reconnect")
        self.assertFalse(self.page.sudo().access_token)
        item = self.env["meta.outbox"].search([("operation", "=", "unsubscribe_page")])
        self.assertEqual(item.state, "dead")
