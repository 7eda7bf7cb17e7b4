import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from ..graph.webhook import parse_delivery
from .common import APP_SECRET, VERIFY_TOKEN, MetaHttpCase, MetaTransactionCase

PREVIOUS_SECRET = "odoo_test_previous_app_secret"


@tagged("post_install", "-at_install")
class TestSecurity(MetaTransactionCase):
    def test_salesperson_reads_no_token_nor_app_secret(self):
        connection = self.connection.with_user(self.salesman)
        page = self.page.with_user(self.salesman)
        self.assertEqual(connection.name, self.connection.name)
        self.assertEqual(page.name, self.page.name)
        with self.assertRaises(AccessError):
            connection.read(["access_token"])
        with self.assertRaises(AccessError):
            page.read(["access_token"])
        self.assertNotIn("access_token", connection.fields_get())
        self.assertNotIn("access_token", page.fields_get())
        with self.assertRaises(AccessError):
            self.env["meta.app"].with_user(self.salesman).search([]).read(["app_id"])
        with self.assertRaises(AccessError):
            connection.write({"name": "hijacked"})
        with self.assertRaises(AccessError):
            self.env["meta.outbox"].with_user(self.salesman).search([])

    def test_meta_admin_sees_the_app_but_not_its_secrets(self):
        app = self.meta_app.with_user(self.meta_admin)
        self.assertEqual(app.app_id, "424242")
        for secret_field in ("app_secret", "app_secret_previous", "verify_token"):
            self.assertNotIn(secret_field, app.fields_get())
            with self.assertRaises(AccessError):
                app.read([secret_field])
            # no search oracle either: a domain on the field is refused
            with self.assertRaises(AccessError):
                app.search_count([(secret_field, "=like", "o%")])
        with self.assertRaises(AccessError):
            app.write({"graph_base_url": "https://attacker.example"})

    def test_values_kept_by_earlier_versions_move_to_the_app(self):
        """Up to 18.0.1.0.0 the secrets were system parameters that the
        settings page handed to anyone: the upgrade moves and deletes them."""
        params = self.env["ir.config_parameter"].sudo()
        legacy = {
            "app_id": "999000",
            "app_secret": "legacy_secret",
            "app_secret_previous": "legacy_previous",
            "verify_token": "legacy_verify_token",
            "api_version": "v25.0",
            "graph_base_url": "http://127.0.0.1:9",
        }
        for key, value in legacy.items():
            params.set_param(f"meta_graph_connector.{key}", value)
        self.env["meta.app"]._meta_adopt_legacy_parameters()
        for field, value in legacy.items():
            self.assertEqual(self.meta_app[field], value, field)
        self.assertFalse(
            params.search(
                [("key", "in", [f"meta_graph_connector.{k}" for k in legacy])]
            )
        )
        self.assertEqual(
            self.env["meta.app"]._meta_config()["app_secret"], "legacy_secret"
        )

    def test_one_meta_app_per_database(self):
        with self.assertRaises(UserError):
            self.env["meta.app"].create({"name": "Second app"})
        with self.assertRaises(UserError):
            self.meta_app.unlink()

    def test_salesperson_cannot_read_the_webhook_inbox(self):
        with self.assertRaises(AccessError):
            self.env["meta.webhook.event"].with_user(self.salesman).search([])

    def test_meta_admin_manages_without_seeing_tokens(self):
        connection = self.connection.with_user(self.meta_admin)
        connection.write({"name": "Renamed Business"})
        with self.assertRaises(AccessError):
            connection.read(["access_token"])
        with self.assertRaises(AccessError):
            self.page.with_user(self.meta_admin).read(["access_token"])
        # but the health check can still use the token behind the door
        connection.action_check_health()
        self.assertEqual(self.connection.state, "connected")

    def test_tokens_never_reach_the_chatter(self):
        self.simulator.invalidate_token(self.system_token, subcode=460)
        self.connection._meta_check_health()
        bodies = " ".join(self.connection.message_ids.mapped("body"))
        for token in (self.system_token, self.sim_page["access_token"]):
            self.assertNotIn(token, bodies)
            self.assertNotIn(token, self.connection.last_error or "")

    def test_company_rule(self):
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other = self.env["meta.connection"].create(
            {"name": "Other", "company_id": other_company.id, "access_token": "x"}
        )
        other_page = self.env["meta.asset"].create(
            {
                "name": "Other Page",
                "connection_id": other.id,
                "asset_type": "page",
                "external_id": "123123123",
            }
        )
        admin_env = self.env(user=self.meta_admin)
        self.assertEqual(admin_env["meta.connection"].search([]), self.connection)
        visible = admin_env["meta.asset"].search([])
        self.assertIn(self.page, visible)
        self.assertNotIn(other_page, visible)

    # ------------------------------------------- administration actions

    def _form(self):
        return self.env["meta.lead.form"].create(
            {
                "name": "Kampanya",
                "page_id": self.page.id,
                "meta_form_id": "3333",
                "backfill_state": "done",
            }
        )

    def _stored_leadgen_event(self):
        Event = self.env["meta.webhook.event"]
        return Event.browse(
            Event._meta_store_events(parse_delivery(self.leadgen_delivery(1)))
        )

    def test_salesperson_runs_no_administration_action(self):
        """Each action is refused on the server before it calls Meta or
        writes: the simulator receives nothing and nothing changes."""
        form = self._form()
        event = self._stored_leadgen_event()
        event._meta_set_dead("kept dead for the test")
        wizard = self.env["meta.connect.wizard"].create(
            {"access_token": self.system_token}
        )
        self.simulator.clear_requests()
        actions = {
            "disconnect": lambda u: self.connection.with_user(u).action_disconnect(),
            "check health": lambda u: self.connection.with_user(
                u
            ).action_check_health(),
            "fetch assets": lambda u: self.connection.with_user(
                u
            ).action_fetch_assets(),
            "subscribe": lambda u: self.page.with_user(u).action_subscribe_webhooks(),
            "sync forms": lambda u: self.page.with_user(u).action_sync_lead_forms(),
            "sync now": lambda u: form.with_user(u).action_sync_now(),
            "test lead": lambda u: form.with_user(u).action_send_test_lead(),
            "replay": lambda u: event.with_user(u).action_replay(),
            "connect": lambda u: wizard.with_user(u).action_connect(),
            "verify token": lambda u: self.meta_app.with_user(
                u
            ).action_regenerate_verify_token(),
        }
        for name, action in actions.items():
            with self.subTest(action=name), self.assertRaises(AccessError):
                action(self.salesman)
        self.assertEqual(self.simulator.requests, [])
        self.assertFalse(self.env["meta.outbox"].search([]), "nothing queued either")
        self.assertEqual(self.connection.state, "connected")
        self.assertEqual(self.page.sudo().access_token, self.sim_page["access_token"])
        self.assertFalse(form.sync_requested)
        self.assertEqual(event.state, "dead")
        self.assertEqual(self.meta_app.verify_token, VERIFY_TOKEN)
        # the verify token is a system secret: Meta administrators don't rotate it
        with self.assertRaises(AccessError):
            self.meta_app.with_user(self.meta_admin).action_regenerate_verify_token()

    def _administrator_of_company_b(self):
        """(company B, a Meta administrator of B alone)."""
        company_b = self.env["res.company"].create({"name": "B Şirketi"})
        admin_b = new_test_user(
            self.env,
            login="meta_admin_b",
            groups="base.group_user,meta_graph_connector.group_meta_admin",
            company_id=company_b.id,
            company_ids=[(6, 0, company_b.ids)],
            name="B Admin",
        )
        return company_b, admin_b

    def _records_of_company_a(self):
        """What an administrator of this company (A) works on: a form, a
        pending event, an objection, a deletion request, the privacy centre
        and a connect wizard."""
        form = self._form()
        event = self._stored_leadgen_event()
        self.assertEqual(event.company_id, self.env.company)
        partner = self.env["res.partner"].create(
            {"name": "Ayşe", "email": "ayse@example.com"}
        )
        self.env["meta.suppression"]._meta_suppress(partner, "objection")
        deletion = self.env["meta.deletion.request"].create(
            {"kind": "deauthorize", "confirmation_code": "a-code"}
        )
        center = self.env["meta.privacy.center"].with_user(self.meta_admin).create({})
        wizard = self.env["meta.connect.wizard"].create(
            {"access_token": self.system_token}
        )
        return {
            "form": form,
            "event": event,
            "deletion": deletion,
            "center": center,
            "wizard": wizard,
        }

    def _actions_on_company_a(self, a, Center):
        """name → an action of a user on company A's records ``a``;
        ``Center`` is the privacy centre model of the user of company B."""
        form, event, center = a["form"], a["event"], a["center"]
        return {
            "purge events": lambda u: event.with_user(u).action_purge(),
            "replay events": lambda u: event.with_user(u).action_replay(),
            "check health": lambda u: self.connection.with_user(
                u
            ).action_check_health(),
            "fetch assets": lambda u: self.connection.with_user(
                u
            ).action_fetch_assets(),
            "try next version": lambda u: self.connection.with_user(
                u
            ).action_try_next_version(),
            "disconnect": lambda u: self.connection.with_user(u).action_disconnect(),
            "subscribe": lambda u: self.page.with_user(u).action_subscribe_webhooks(),
            "sync forms": lambda u: self.page.with_user(u).action_sync_lead_forms(),
            "sync now": lambda u: form.with_user(u).action_sync_now(),
            "test lead": lambda u: form.with_user(u).action_send_test_lead(),
            "connect in A": lambda u: a["wizard"].with_user(u).action_connect(),
            "open A's centre": lambda u: center.with_user(u).read(["inventory_html"]),
            "A's centre record": lambda u: center.with_user(
                u
            ).action_export_processing_record(),
            "a centre for A": lambda u: Center.with_user(u).create(
                {"company_id": self.env.company.id}
            ),
            # an unsaved centre (the form's onchange) computes counts too
            "counts of A": lambda u: (
                Center.with_user(u)
                .new({"company_id": self.env.company.id})
                .consent_html
            ),
            "A's deletion requests": lambda u: (
                a["deletion"].with_user(u).read(["state"])
            ),
        }

    def _assert_company_a_untouched(self, a, admin_b):
        """Nothing of A changed nor reached Meta, and B finds none of it."""
        self.assertEqual(self.simulator.requests, [])
        self.assertTrue(a["event"].exists())
        self.assertEqual(a["event"].state, "pending")
        self.assertEqual(self.connection.state, "connected")
        self.assertTrue(self.page.active)
        self.assertFalse(self.env["meta.outbox"].search([]), "nothing queued")
        self.assertFalse(a["form"].sync_requested)
        self.assertFalse(
            self.env["meta.deletion.request"].with_user(admin_b).search([])
        )
        self.assertFalse(self.env["meta.suppression"].with_user(admin_b).search([]))

    def test_another_company_s_administrator_acts_on_nothing_of_this_one(self):
        """An administrator of company B names company A's records over RPC:
        every action is refused before any sudo or Graph call; A's data
        stays, the simulator receives nothing, B sees no count of A's."""
        company_b, admin_b = self._administrator_of_company_b()
        a = self._records_of_company_a()
        Center = self.env["meta.privacy.center"].with_user(admin_b)
        self.simulator.clear_requests()
        for name, action in self._actions_on_company_a(a, Center).items():
            with self.subTest(action=name), self.assertRaises(AccessError):
                action(admin_b)
        self._assert_company_a_untouched(a, admin_b)
        # B's own centre counts B's records only
        own = Center.create({})
        self.assertEqual(own.company_id, company_b)
        self.assertNotIn("Objection", str(own.consent_html))
        self.assertIn("Objection", str(a["center"].consent_html))

    def test_meta_admin_runs_the_administration_actions(self):
        form = self._form()
        form.with_user(self.meta_admin).action_sync_now()
        self.assertTrue(form.sync_requested)
        self.connection.with_user(self.meta_admin).action_disconnect()
        self.send_outbox()
        self.assertEqual(self.connection.state, "disconnected")
        self.assertFalse(self.page.sudo().access_token)


@tagged("post_install", "-at_install")
class TestSecretsOverRpc(MetaHttpCase):
    """What an attacker logged in as a portal user, a salesperson or a Meta
    administrator (not a system administrator) gets over JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(
            cls.env, login="meta_portal", groups="base.group_portal", name="Portal"
        )

    def setUp(self):
        super().setUp()
        self.meta_app.app_secret_previous = PREVIOUS_SECRET
        self.secrets = {
            APP_SECRET,
            PREVIOUS_SECRET,
            VERIFY_TOKEN,
            self.sim_page["access_token"],
            self.system_token,
        }

    def _rpc(self, model, method, args=(), kwargs=None):
        response = self.url_open(
            f"/web/dataset/call_kw/{model}/{method}",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": model,
                        "method": method,
                        "args": list(args),
                        "kwargs": kwargs or {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        return response.text

    def _calls(self):
        app_id = self.meta_app.id
        settings_fields = list(self.env["res.config.settings"]._fields)
        secret_fields = ["app_secret", "app_secret_previous", "verify_token"]
        token_fields = ["access_token"]
        return [
            # the reported hole: settings read config parameters with sudo
            ("res.config.settings", "default_get", [settings_fields], {}),
            ("res.config.settings", "get_values", [], {}),
            ("res.config.settings", "onchange", [{}, [], {}], {}),
            ("ir.config_parameter", "search_read", [[]], {}),
            (
                "ir.config_parameter",
                "get_param",
                ["meta_graph_connector.app_secret"],
                {},
            ),
            ("meta.app", "read", [[app_id]], {}),
            ("meta.app", "read", [[app_id], secret_fields], {}),
            (
                "meta.app",
                "web_read",
                [[app_id]],
                {"specification": dict.fromkeys(secret_fields, {})},
            ),
            ("meta.app", "search_read", [[]], {}),
            ("meta.app", "web_search_read", [[]], {"specification": {"app_id": {}}}),
            ("meta.app", "export_data", [[app_id], secret_fields], {}),
            ("meta.app", "read_group", [[], ["app_secret"], ["app_secret"]], {}),
            ("meta.app", "default_get", [secret_fields], {}),
            ("meta.app", "fields_get", [], {}),
            ("meta.app", "name_search", [], {"name": "o"}),
            ("meta.connection", "read", [[self.connection.id]], {}),
            ("meta.connection", "read", [[self.connection.id], token_fields], {}),
            ("meta.connection", "search_read", [[]], {}),
            (
                "meta.connection",
                "export_data",
                [[self.connection.id], token_fields],
                {},
            ),
            ("meta.asset", "read", [[self.page.id]], {}),
            ("meta.asset", "read", [[self.page.id], token_fields], {}),
            ("meta.asset", "search_read", [[]], {}),
            ("meta.asset", "export_data", [[self.page.id], token_fields], {}),
            ("meta.asset", "read_group", [[], ["access_token"], ["access_token"]], {}),
        ]

    @mute_logger("odoo.http", "odoo.addons.base.models.ir_rule", "odoo.models")
    def test_no_secret_through_any_rpc_method(self):
        for login in ("meta_portal", "meta_salesman", "meta_admin"):
            self.authenticate(login, login)
            for model, method, args, kwargs in self._calls():
                text = self._rpc(model, method, args, kwargs)
                for secret in self.secrets:
                    self.assertNotIn(
                        secret, text, f"{login} got a secret from {model}.{method}"
                    )

    @mute_logger("odoo.http")
    def test_search_is_no_oracle_for_secrets(self):
        for login in ("meta_portal", "meta_salesman", "meta_admin"):
            self.authenticate(login, login)
            text = self._rpc(
                "meta.app", "search_count", [[("app_secret", "=like", "o%")]]
            )
            self.assertIn('"error"', text, login)

    @mute_logger("odoo.http")
    def test_salesperson_cannot_disconnect_nor_rotate_over_rpc(self):
        for login in ("meta_portal", "meta_salesman"):
            self.authenticate(login, login)
            self._rpc("meta.connection", "action_disconnect", [[self.connection.id]])
            self._rpc(
                "meta.app", "action_regenerate_verify_token", [[self.meta_app.id]]
            )
        self.assertEqual(self.connection.state, "connected")
        self.assertEqual(self.meta_app.verify_token, VERIFY_TOKEN)

    def test_system_administrator_still_configures_the_app(self):
        self.authenticate("admin", "admin")
        text = self._rpc(
            "meta.app",
            "web_read",
            [[self.meta_app.id]],
            {"specification": {"app_secret": {}}},
        )
        self.assertIn(APP_SECRET, text)
