from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import PAGE_SCOPES, MetaTransactionCase


@tagged("post_install", "-at_install")
class TestAudienceSync(MetaTransactionCase):
    """Audiences synced to the simulator: what Meta received is asserted."""

    def setUp(self):
        super().setUp()
        account = self.simulator.add_ad_account("Ege Reklam")
        token = self.simulator.add_user_token(
            scopes=[*PAGE_SCOPES, "ads_management"],
            pages=[self.sim_page["id"]],
            token_type="SYSTEM_USER",
            ad_accounts=[account["id"]],
        )
        self.connection.sudo().access_token = token
        self.ad_account = self.env["meta.asset"].create(
            {
                "name": "Ege Reklam",
                "connection_id": self.connection.id,
                "asset_type": "ad_account",
                "external_id": account["id"],
            }
        )
        self.tag = self.env["res.partner.category"].create({"name": "Teklif verildi"})
        self.audience = self.env["meta.audience"].create(
            {
                "name": "Teklif verildi, kazanılmadı",
                "ad_account_id": self.ad_account.id,
                "segment": "tags",
                "tag_ids": [(6, 0, self.tag.ids)],
            }
        )

    def person(self, name, email, consent=True):
        partner = self.env["res.partner"].create(
            {
                "name": name,
                "email": email,
                "category_id": [(6, 0, self.tag.ids)],
                "country_id": self.env.ref("base.tr").id,
            }
        )
        if consent is not None:
            partner._meta_record_consent("audiences", consent, "manual")
        return partner

    def sync(self):
        self.audience._meta_sync()
        self.send_outbox()

    def at_meta(self):
        ref = self.audience.meta_audience_ref
        return sorted(m["EXTERN_ID"] for m in self.simulator.audience_members(ref))

    def test_only_consenting_unsuppressed_people_are_sent_then_only_changes(self):
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        burak = self.person("Burak Kaya", "burak@example.com")
        self.person("Cem Unknown", "cem@example.com", consent=None)
        deniz = self.person("Deniz Ak", "deniz@example.com")
        deniz._meta_record_consent("audiences", False, "manual", objection=True)
        deniz._meta_record_consent(
            "audiences", True, "manual"
        )  # back, still suppressed
        self.sync()
        self.assertEqual(
            self.at_meta(), [f"odoo-partner-{ayse.id}", f"odoo-partner-{burak.id}"]
        )
        # no readable e-mail ever left, and nobody who did not consent
        sent = " ".join(str(r.params) for r in self.simulator.requests)
        for plain in ("ayse@example.com", "cem@example.com", "deniz@example.com"):
            self.assertNotIn(plain, sent)
        calls = [r for r in self.simulator.requests if r.path.endswith("/users")]
        # a delta: Burak withdraws, Ayşe changes her e-mail, Elif joins
        burak._meta_record_consent("audiences", False, "manual")
        ayse.email = "ayse.yilmaz@example.com"
        elif_ = self.person("Elif Şahin", "elif@example.com")
        self.simulator.clear_requests()
        self.sync()
        self.assertEqual(
            self.at_meta(), [f"odoo-partner-{ayse.id}", f"odoo-partner-{elif_.id}"]
        )
        added = [
            r
            for r in self.simulator.requests
            if r.path.endswith("/users") and r.method == "POST"
        ]
        [payload] = [r.json_param("payload") for r in added]
        self.assertEqual(len(payload["data"]), 2)  # Ayşe (changed) and Elif only
        # a sync with nothing changed sends nothing
        self.simulator.clear_requests()
        self.sync()
        self.assertFalse(
            [r for r in self.simulator.requests if r.path.endswith("/users")]
        )
        # the audit log has one row per call, no personal data
        log = self.audience.log_ids
        self.assertEqual(
            len(log.filtered(lambda r: r.operation in ("add_users", "remove_users"))),
            len(calls) + 2,
        )
        self.assertNotIn("example.com", str(log.read()))

    def test_an_erased_person_leaves_the_audience(self):
        ayse = self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        self.assertEqual(len(self.at_meta()), 1)
        ayse.unlink()
        self.sync()
        self.assertEqual(self.at_meta(), [])

    def test_terms_not_accepted_is_said_in_words(self):
        self.simulator.set_custom_audience_tos(self.ad_account.external_id, False)
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.audience._meta_sync()
        self.assertEqual(self.audience.state, "error")
        self.assertIn("terms", self.audience.last_sync_result)

    def test_a_salesperson_cannot_read_audiences_nor_their_log(self):
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        for model in ("meta.audience", "meta.audience.log", "meta.audience.member"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.salesman).search([])
        with self.assertRaises(AccessError):
            self.audience.with_user(self.salesman).action_sync_now()

    def test_the_audit_log_cannot_be_changed(self):
        self.person("Ayşe Yılmaz", "ayse@example.com")
        self.sync()
        from odoo.exceptions import UserError

        with self.assertRaises(UserError):
            self.audience.log_ids[:1].sudo().write({"rows": 0})
        with self.assertRaises(UserError):
            self.audience.log_ids[:1].sudo().unlink()
