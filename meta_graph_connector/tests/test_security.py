from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import MetaTransactionCase


@tagged("post_install", "-at_install")
class TestSecurity(MetaTransactionCase):
    def test_salesperson_reads_no_token_nor_app_secret(self):
        account = self.account.with_user(self.salesman)
        self.assertEqual(account.name, self.account.name)
        with self.assertRaises(AccessError):
            account.read(["page_access_token"])
        with self.assertRaises(AccessError):
            account.read(["user_access_token"])
        self.assertNotIn("page_access_token", account.fields_get())
        with self.assertRaises(AccessError):
            self.env["ir.config_parameter"].with_user(self.salesman).search(
                [("key", "=", "meta_graph_connector.app_secret")]
            ).read(["value"])
        with self.assertRaises(AccessError):
            account.write({"name": "hijacked"})

    def test_salesperson_cannot_read_the_webhook_inbox(self):
        with self.assertRaises(AccessError):
            self.env["meta.webhook.event"].with_user(self.salesman).search([])

    def test_meta_admin_manages_without_seeing_tokens(self):
        account = self.account.with_user(self.meta_admin)
        account.write({"name": "Renamed Page"})
        with self.assertRaises(AccessError):
            account.read(["page_access_token"])
        # but the health check can still use the token behind the seam
        account.action_check_health()
        self.assertEqual(self.account.state, "connected")

    def test_tokens_never_reach_the_chatter(self):
        self.simulator.invalidate_token(self.sim_page["access_token"], subcode=460)
        self.account._meta_check_health()
        bodies = " ".join(self.account.message_ids.mapped("body"))
        self.assertNotIn(self.sim_page["access_token"], bodies)
        self.assertNotIn(self.sim_page["access_token"], self.account.last_error or "")

    def test_company_rule(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other_account = self.env["meta.account"].create(
            {
                "name": "Other Page",
                "page_id": "123123123",
                "company_id": other_company.id,
                "page_access_token": "x",
            }
        )
        visible = self.env["meta.account"].with_user(self.meta_admin).search([])
        self.assertIn(self.account, visible)
        self.assertNotIn(other_account, visible)
