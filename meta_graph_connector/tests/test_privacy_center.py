import base64

from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.meta_graph_connector.tests.common import MetaTransactionCase


@tagged("post_install", "-at_install")
class TestPrivacyCenter(MetaTransactionCase):
    def setUp(self):
        super().setUp()
        self.env.company.write(
            {"name": "Anadolu Mobilya A.Ş.", "email": "kvkk@anadolu.example"}
        )
        self.meta_app.write(
            {
                "review_lead_ads": True,
                "review_page_comments": False,
                "review_messenger": True,
                "review_instagram_comments": False,
                "review_instagram_messages": False,
                "review_audiences": False,
                "review_conversions": False,
            }
        )
        self.Center = self.env["meta.privacy.center"].with_user(self.meta_admin)

    def test_the_texts_name_the_company_and_only_the_purposes_enabled(self):
        self.instagram.active = False  # no Instagram account: none of its uses
        center = self.Center.create({})
        tr = str(center.notice_lead_ads_tr)
        self.assertIn("Anadolu Mobilya A.Ş.", tr)
        self.assertIn("kvkk@anadolu.example", tr)
        self.assertIn("Aydınlatma Metni", tr)
        self.assertIn("Messenger üzerinden", tr)
        self.assertNotIn("Instagram hesabımızdaki", tr, "comments are not used")
        self.assertNotIn("Özel Hedef Kitle", tr, "audiences are not used")
        self.assertIn("Messenger", str(center.notice_lead_ads_en))
        self.assertFalse(center.notice_audiences_tr, "no audience: no such notice")
        self.assertIn("Meta Platforms Ireland", str(center.gdpr_notice_en))
        # audiences turned on: their notice and consent appear
        self.meta_app.review_audiences = True
        center = self.Center.create({})
        self.assertIn("Özel Hedef Kitle", str(center.notice_audiences_tr))
        self.assertNotIn("Messenger", str(center.notice_audiences_tr))
        self.assertIn("KVKK m. 9", str(center.consent_transfer_tr))

    def test_markup_in_the_company_name_stays_text(self):
        self.env.company.name = "<script>alert(1)</script> Ltd"
        center = self.Center.create({})
        self.assertNotIn("<script>", str(center.notice_lead_ads_tr))
        self.assertIn("&lt;script&gt;", str(center.notice_lead_ads_tr))

    def test_what_is_kept_and_what_leaves_are_shown(self):
        center = self.Center.create({})
        self.assertIn("Lead Ads", str(center.inventory_html))
        self.assertIn("SHA-256", str(center.transfers_html))
        self.assertIn("Suppression", str(center.consent_html))
        partner = self.env["res.partner"].create({"name": "Silinen", "email": "s@x.tr"})
        self.env["meta.suppression"]._meta_suppress(partner, "erasure")
        center = self.Center.create({})
        self.assertIn("Erasure", str(center.consent_html))

    def test_the_processing_record_lists_what_why_where_how_long(self):
        self.instagram.active = False  # its uses would add two rows
        center = self.Center.create({})
        center.action_export_processing_record()
        rows = base64.b64decode(center.record_file).decode("utf-8-sig").splitlines()
        self.assertEqual(len(rows), 3, "a header and one row per feature used")
        self.assertIn("Retention", rows[0])
        self.assertIn("Lead Ads", rows[1])

    def test_for_meta_administrators_only(self):
        with self.assertRaises(AccessError):
            self.env["meta.privacy.center"].with_user(self.salesman).create({})
        center = self.Center.create({})
        with self.assertRaises(AccessError):
            center.with_user(self.salesman).read(["notice_lead_ads_tr"])

    def test_instagram_is_a_purpose_when_an_account_is_connected(self):
        """The App Review list leaves Instagram out, but the company's
        Instagram account is connected: its comments and messages are
        processed, and the texts say so."""
        self.assertTrue(self.instagram.active)
        center = self.Center.create({})
        for field in ("notice_lead_ads_tr", "gdpr_notice_tr"):
            self.assertIn("Instagram hesabımızdaki", str(center[field]), field)
            self.assertIn("direkt mesajları", str(center[field]), field)
        self.assertIn(
            "direct messages you send us on Instagram", str(center.gdpr_notice_en)
        )
        center.action_export_processing_record()
        rows = base64.b64decode(center.record_file).decode("utf-8-sig").splitlines()
        self.assertTrue(any("Instagram" in row for row in rows[1:]))

    def test_missing_address_and_e_mail_are_said_not_dashed(self):
        self.env.company.write(
            {"street": False, "city": False, "country_id": False, "email": False}
        )
        center = self.Center.create({})
        self.assertIn("address", center.missing_details)
        self.assertIn("e-mail", center.missing_details)
        tr, en = str(center.notice_lead_ads_tr), str(center.notice_lead_ads_en)
        self.assertIn("şirketin adresi eksik", tr)
        self.assertIn("şirketin e-posta adresi eksik", tr)
        self.assertIn("address is missing", en)
        for text in (tr, en, str(center.gdpr_notice_en)):
            self.assertNotIn("(-)", text)
            self.assertNotIn(" - adresine", text)
            self.assertNotIn("Write to -", text)
        # complete details: no warning, the details in the texts
        self.env.company.write(
            {"street": "Atatürk Cad. 1", "city": "İzmir", "email": "kvkk@x.tr"}
        )
        center = self.Center.create({})
        self.assertFalse(center.missing_details)
        self.assertIn("Atatürk Cad. 1, İzmir", str(center.notice_lead_ads_tr))
