from odoo.tests import tagged

from ..graph import api as meta_api
from ..graph.errors import TokenError
from .common import APP_ID, PAGE_SCOPES, MetaTransactionCase


@tagged("post_install", "-at_install")
class TestMetaAccount(MetaTransactionCase):
    """Connection health against the simulator on loopback."""

    def _alerts(self, account):
        return account.message_ids.filtered(
            lambda m: m.subject and "reconnect" in m.subject.lower()
        )

    def _call_expecting_token_error(self, operation):
        # Not assertRaises: it rolls back to a savepoint, and the flag the
        # seam sets must survive for a caller that does not.
        try:
            self.account._meta_call(operation)
        except TokenError:
            return
        self.fail("TokenError expected")

    def test_health_check_of_a_valid_token(self):
        self.account.with_user(self.meta_admin).action_subscribe_webhooks()
        self.account.with_user(self.meta_admin).action_check_health()
        self.assertEqual(self.account.state, "connected")
        self.assertTrue(self.account.last_health_check)
        self.assertIn("leads_retrieval", self.account.granted_scopes)
        self.assertFalse(self.account.missing_scopes)
        self.assertEqual(self.account.token_type, "PAGE")
        self.assertTrue(self.account.webhook_ok)
        self.assertIn("leadgen", self.account.webhook_fields)

    def test_subscription_follows_the_handlers_and_the_permissions(self):
        """Only fields something handles are subscribed (Lead Ads today), and
        only those the token may subscribe."""
        page = self.simulator.add_page(name="Sadece Form")
        scopes = [s for s in PAGE_SCOPES if s != "pages_messaging"]
        token = self.simulator.add_user_token(
            scopes=scopes, pages=[page["id"]], token_type="SYSTEM_USER"
        )
        wizard = self.env["meta.account.connect"].create({"access_token": token})
        wizard.action_fetch_pages()
        account = self.env["meta.account"].search([("page_id", "=", page["id"])])
        self.assertEqual(set(self.simulator.subscriptions(page["id"])), {"leadgen"})
        self.assertTrue(account.webhook_ok)
        self.assertEqual(account.state, "connected")
        # without leads_retrieval, nothing handled can be subscribed
        self.assertEqual(
            meta_api.page_fields(
                self.env["meta.webhook.event"]._meta_event_handlers(),
                [s for s in scopes if s != "leads_retrieval"],
            ),
            (),
        )

    def test_subscription_reaches_meta(self):
        self.account._meta_subscribe_webhooks()
        subscribed = self.simulator.subscriptions(self.sim_page["id"])
        self.assertEqual(subscribed, ["leadgen"], "nothing handles comments or DMs yet")

    def test_invalid_token_flags_the_account_and_alerts_once(self):
        self.simulator.invalidate_token(self.sim_page["access_token"], subcode=460)
        self.account._meta_check_health()
        self.assertEqual(self.account.state, "needs_reconnect")
        self.assertEqual(len(self._alerts(self.account)), 1)
        activities = self.account.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.user_id, self.meta_admin)
        alert = self._alerts(self.account)
        self.assertIn(self.meta_admin.partner_id, alert.partner_ids)
        # More failures anywhere (health cron, a Graph call) do not alert again.
        self.account._meta_check_health()
        self._call_expecting_token_error(lambda client: client.get("me"))
        self.env["meta.account"]._cron_check_health()
        self.assertEqual(len(self._alerts(self.account)), 1)
        self.assertEqual(len(self.account.activity_ids), 1)
        self.assertEqual(self.account.state, "needs_reconnect")

    def test_token_error_from_any_call_flags_the_account(self):
        self.simulator.invalidate_token(self.sim_page["access_token"], subcode=463)
        self._call_expecting_token_error(lambda client: client.get(self.sim_page["id"]))
        self.assertEqual(self.account.state, "needs_reconnect")
        self.assertIn("190", self.account.last_error)

    def test_missing_scope_is_reported(self):
        self.simulator.revoke_scope(self.sim_page["access_token"], "leads_retrieval")
        self.account._meta_check_health()
        self.assertEqual(self.account.state, "permission_missing")
        self.assertIn("leads_retrieval", self.account.missing_scopes)

    def test_wrong_app_secret_does_not_blame_the_page(self):
        self.meta_app.app_secret = "not-the-secret"
        self.account._meta_check_health()
        self.assertEqual(self.account.state, "connected")
        self.assertTrue(self.account.last_error)

    def test_reconnect_with_the_connect_wizard(self):
        self.simulator.invalidate_token(self.sim_page["access_token"], subcode=460)
        self.account._meta_check_health()
        self.assertEqual(self.account.state, "needs_reconnect")
        # Meta issues a new Page token when the System User token is pasted again
        new_token = self.simulator.add_user_token(
            scopes=PAGE_SCOPES, pages=[self.sim_page["id"]], token_type="SYSTEM_USER"
        )
        wizard = (
            self.env["meta.account.connect"]
            .with_user(self.meta_admin)
            .create({"access_token": new_token})
        )
        action = wizard.action_fetch_pages()
        self.assertEqual(action["res_model"], "meta.account")
        self.assertEqual(self.account.state, "connected")
        self.assertNotEqual(wizard.access_token, new_token, "the wizard forgets it")
        self.assertTrue(self.account.webhook_ok)

    def test_connect_wizard_creates_connections_with_instagram(self):
        page = self.simulator.add_page(name="Ege Zeytin", ig_account_id=True)
        token = self.simulator.add_user_token(
            scopes=PAGE_SCOPES, pages=[page["id"]], token_type="SYSTEM_USER"
        )
        wizard = (
            self.env["meta.account.connect"]
            .with_user(self.meta_admin)
            .create({"access_token": token})
        )
        wizard.action_fetch_pages()
        account = self.env["meta.account"].search([("page_id", "=", page["id"])])
        self.assertEqual(account.name, "Ege Zeytin")
        self.assertTrue(account.instagram_account_id)
        self.assertEqual(account.sudo().page_access_token, page["access_token"])
        self.assertEqual(account.state, "connected")
        self.assertEqual(account.user_id, self.meta_admin)

    def test_connect_wizard_refuses_a_bad_token(self):
        from odoo.exceptions import UserError

        wizard = self.env["meta.account.connect"].create({"access_token": "garbage"})
        with self.assertRaises(UserError):
            wizard.action_fetch_pages()

    def test_disconnect_unsubscribes_and_forgets_tokens(self):
        self.account._meta_subscribe_webhooks()
        self.account.with_user(self.meta_admin).action_disconnect()
        self.assertEqual(self.account.state, "disconnected")
        self.assertFalse(self.account.sudo().page_access_token)
        self.assertFalse(self.simulator.subscriptions(self.sim_page["id"]))

    def test_api_version_is_pinned_per_connection(self):
        self.account.api_version = "v24.0"
        self.account._meta_call(lambda client: client.get(self.sim_page["id"]))
        self.assertTrue(self.simulator.requests[-1].path.startswith("/v24.0/"))
        self.assertEqual(APP_ID, self.env["meta.app"]._meta_config()["app_id"])
