from odoo import Command, fields
from odoo.tests import Form, HttpCase, tagged

from ..graph import api as meta_api
from ..graph.webhook import parse_delivery
from .common import MetaCase, MetaTransactionCase


@tagged("post_install", "-at_install")
class TestViews(MetaTransactionCase):
    def test_every_view_of_the_addon_loads(self):
        views = self.env["ir.ui.view"].search(
            [
                ("model_data_id.module", "=", "meta_graph_connector"),
                ("type", "!=", "qweb"),
            ]
        )
        self.assertGreaterEqual(len(views), 8)
        for model in set(views.mapped("model")):
            self.env[model].get_views(
                [(False, "list"), (False, "form"), (False, "search")]
                if model != "res.config.settings"
                else [(False, "form")]
            )

    def test_meta_app_form_shows_its_values(self):
        app = Form(self.meta_app)
        self.assertEqual(app.app_id, "424242")
        self.assertTrue(app.sandbox)
        self.assertTrue(app.webhook_url.endswith("/meta/webhook"))
        app.api_version = "v25.0"
        app.save()
        self.assertEqual(self.env["meta.app"]._meta_config()["api_version"], "v25.0")

    def test_verify_token_is_generated_and_can_be_rotated(self):
        App = self.env["meta.app"]
        before = App._meta_ensure_verify_token().verify_token
        self.assertTrue(before)
        self.assertEqual(App._meta_ensure_verify_token().verify_token, before)
        self.meta_app.action_regenerate_verify_token()
        self.assertNotEqual(App._meta_config()["verify_token"], before)

    def test_account_and_inbox_forms_open(self):
        form = Form(self.connection)
        self.assertEqual(form.name, self.connection.name)
        self.assertEqual(Form(self.page).external_id, self.sim_page["id"])
        Event = self.env["meta.webhook.event"]
        self.assertEqual(Event._meta_store_events([]), [])
        ids = Event._meta_store_events(parse_delivery(self.leadgen_delivery(1)))
        event = Event.browse(ids)
        self.assertIn("leadgen_id", event.payload_text)
        self.assertEqual(Form(event).kind, "leadgen")


@tagged("post_install", "-at_install")
class TestViewsInBrowser(MetaCase, HttpCase):
    def test_every_screen_opens_in_the_web_client(self):
        # one failed event so the inbox's default filter shows a row
        Event = self.env["meta.webhook.event"]
        ids = Event._meta_store_events(parse_delivery(self.leadgen_delivery(1)))
        Event.browse(ids)._meta_set_failed(ValueError("shown in the inbox"))
        # a lead form with one imported lead, for the Lead Ads screens
        sim_form = self.simulator.add_form(
            self.sim_page["id"],
            name="Tour Form",
            questions=[
                {
                    "id": "1",
                    "key": "full_name",
                    "label": "Full name",
                    "type": "FULL_NAME",
                },
                {"id": "2", "key": "email", "label": "Email", "type": "EMAIL"},
            ],
        )
        sim_lead = self.simulator.add_lead(sim_form["id"])
        form = self.env["meta.lead.form"]._meta_get_form(self.page, sim_form["id"])
        graph_lead = self.page._meta_call(meta_api.get_lead, sim_lead["id"])
        self.env["meta.lead.importer"]._meta_import(form, [graph_lead])
        # one outbox item, for the outbox screen
        self.env["meta.outbox"]._meta_enqueue(
            self.page, "create_test_lead", {"form_id": form.meta_form_id}
        )
        self.start_tour("/odoo", "meta_graph_connector_views", login="admin")


@tagged("post_install", "-at_install")
class TestTurkishSalespersonWalk(MetaCase, HttpCase):
    def test_a_turkish_salesperson_walks_through_meta_leads_in_turkish(self):
        self.speak_turkish(self.salesman)
        form = self.env["meta.lead.form"].create(
            {"name": "Showroom Randevusu", "page_id": self.page.id, "meta_form_id": "9"}
        )
        now = fields.Datetime.now()
        for name, platform in (
            ("Elif Şahin", "instagram"),
            ("Burak Yıldız", "facebook"),
        ):
            binding = (
                self.env["meta.lead"]
                .sudo()
                .create(
                    {
                        "leadgen_id": f"walk-{platform}",
                        "page_id": self.page.id,
                        "form_id": form.id,
                        "answers": [
                            {"key": "city", "label": "Şehir", "values": ["İstanbul"]},
                        ],
                    }
                )
            )
            self.env["crm.lead"].create(
                {
                    "name": name,
                    "type": "opportunity",
                    "user_id": self.salesman.id,
                    "meta_form_id": form.id,
                    "meta_page_id": self.page.id,
                    "meta_platform": platform,
                    "meta_submitted_at": now,
                    "meta_lead_ids": [Command.link(binding.id)],
                }
            )
        self.start_tour(
            "/odoo", "meta_graph_connector_salesperson_walk", login="meta_salesman"
        )
