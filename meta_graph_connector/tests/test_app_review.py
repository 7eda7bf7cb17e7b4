from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.meta_graph_connector.tests.common import MetaTransactionCase


@tagged("post_install", "-at_install")
class TestAppReviewKit(MetaTransactionCase):
    def setUp(self):
        super().setUp()
        self.app = self.meta_app
        features = ["lead_ads", "page_comments", "messenger", "human_agent"]
        self.app.write(
            {f"review_{f}": f in ("lead_ads",) for f in features}
            | {
                "review_instagram_comments": False,
                "review_instagram_messages": False,
                "review_audiences": False,
                "review_conversions": False,
            }
        )

    def names(self):
        return [line[0].name for line in self.app._meta_review_lines()]

    def test_the_list_follows_the_features_enabled(self):
        self.assertIn("leads_retrieval", self.names())
        self.assertNotIn("pages_messaging", self.names())
        self.app.review_messenger = True
        self.app.review_human_agent = True
        self.assertIn("pages_messaging", self.names())
        self.assertIn("Human Agent", self.names())
        self.assertIn("Advanced Access", self.names())

    def test_the_checklist_ticks_itself_as_meta_grants(self):
        self.connection.granted_scopes = "pages_show_list,pages_manage_metadata"
        self.app.invalidate_recordset(["review_html", "review_done"])
        states = {line[0].name: line[1] for line in self.app._meta_review_lines()}
        self.assertIs(states["pages_show_list"], True)
        self.assertIs(states["leads_retrieval"], False)
        self.assertIsNone(states["Business Verification"], "the token cannot tell")
        done = self.app.review_done
        self.connection.granted_scopes += ",leads_retrieval"
        self.app.invalidate_recordset(["review_html", "review_done"])
        self.assertEqual(self.app.review_done, done + 1)
        self.assertIn("leads_retrieval", self.app.review_html)

    def test_the_printed_kit_holds_the_texts_to_submit(self):
        self.app.review_messenger = True
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "meta_graph_connector.report_meta_app_review", self.app.ids
        )
        html = html.decode()
        self.assertIn("Retrieves each lead submitted", html)
        self.assertIn("Lead Ads Testing Tool", html)
        self.assertIn("Discuss", html)
        self.assertIn("test user", html)
        self.assertIn(self.app.app_id, html)

    def test_salespeople_do_not_print_it(self):
        with self.assertRaises(AccessError):
            self.env["ir.actions.report"].with_user(self.salesman)._render_qweb_html(
                "meta_graph_connector.report_meta_app_review", self.app.ids
            )

    def render(self):
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "meta_graph_connector.report_meta_app_review", self.app.ids
        )
        return html.decode()

    def test_the_kit_says_how_often_the_crons_really_run(self):
        html = self.render()
        self.assertIn("a reconciliation every 15 minutes reads any lead", html)
        self.assertNotIn("daily reconciliation", html)
        self.env.ref("meta_graph_connector.ir_cron_meta_reconcile_leads").write(
            {"interval_number": 1, "interval_type": "hours"}
        )
        self.assertIn("a reconciliation every hour reads any lead", self.render())

    def test_the_turkish_kit_is_cased_as_turkish(self):
        """Headings in capitals by the layout's style printed "IZIN" for
        "İzin": the page says its language and is not put in capitals."""
        self.env["res.lang"]._activate_lang("tr_TR")
        self.env["ir.module.module"]._load_module_terms(
            ["meta_graph_connector"], ["tr_TR"], overwrite=True
        )
        self.env = self.env(context=dict(self.env.context, lang="tr_TR"))
        self.app = self.app.with_env(self.env)
        html = self.render()
        self.assertIn('<html lang="tr-TR"', html)
        self.assertIn("İzin veya özellik", html)
        self.assertIn("text-transform: none", html)
