import re

from odoo.tests import new_test_user, tagged

from .common import MetaHttpCase

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@tagged("post_install", "-at_install")
class TestConsentPortal(MetaHttpCase):
    """A person gives and withdraws their Meta consent in their portal; it
    is evidence like any other decision, and a withdrawal reaches Meta."""

    def setUp(self):
        super().setUp()
        ad_account = self.connect_ad_account()
        tag = self.env["res.partner.category"].create({"name": "Müşteri"})
        self.audience = self.env["meta.audience"].create(
            {
                "name": "Müşteriler",
                "ad_account_id": ad_account.id,
                "segment": "tags",
                "tag_ids": [(6, 0, tag.ids)],
            }
        )
        self.portal_user = new_test_user(
            self.env,
            login="ayse_portal",
            password="ayse_portal_pw",
            groups="base.group_portal",
            name="Ayşe Yılmaz",
            email="ayse@example.com",
        )
        self.person = self.portal_user.partner_id
        self.person.category_id = [(6, 0, tag.ids)]

    def consent_page(self):
        response = self.url_open("/my/privacy/meta")
        self.assertEqual(response.status_code, 200)
        return response.text

    def save(self, **choices):
        token = CSRF_RE.search(self.consent_page()).group(1)
        return self.url_open("/my/privacy/meta", data={"csrf_token": token, **choices})

    def states(self):
        self.env.invalidate_all()
        return self.person._meta_consent_states()[self.person.id]

    def at_meta(self):
        ref = self.audience.meta_audience_ref
        return [m["EXTERN_ID"] for m in self.simulator.audience_members(ref)]

    def test_consent_given_then_withdrawn_on_the_portal_reaches_meta(self):
        self.authenticate("ayse_portal", "ayse_portal_pw")
        self.assertIn("/my/privacy/meta", self.url_open("/my").text)
        page = self.consent_page()
        self.assertIn("KVKK Art. 9", page)
        self.assertNotIn(" checked=", page.split("meta_consent_audiences")[1][:80])

        self.save(audiences="granted")
        self.assertEqual(
            self.states(), {"audiences": "granted", "measurement": "unknown"}
        )
        decision = self.person.meta_consent_ids.sudo()[:1]
        self.assertEqual(
            (decision.source, decision.recorded_by_id, decision.notice_version),
            ("portal", self.portal_user, "portal-2026-12"),
        )
        self.assertIn(
            " checked=", self.consent_page().split("meta_consent_audiences")[1][:200]
        )
        # saving the same choices again is no new decision
        self.save(audiences="granted")
        self.assertEqual(len(self.person.sudo().meta_consent_ids), 1)

        self.audience._meta_sync()
        self.send_outbox()
        self.assertEqual(
            self.at_meta(), [self.audience._meta_extern_id(self.person.id)]
        )

        self.save()  # the box unticked: a withdrawal
        self.assertEqual(self.states()["audiences"], "withdrawn")
        self.send_outbox()
        self.assertEqual(self.at_meta(), [], "removed at Meta at once")

    def test_an_objection_on_the_portal_suppresses_the_person(self):
        self.authenticate("ayse_portal", "ayse_portal_pw")
        self.save(audiences="granted", measurement="granted", objection="1")
        self.assertEqual(
            self.states(), {"audiences": "withdrawn", "measurement": "granted"}
        )
        keys = self.env["meta.suppression"]._meta_keys_of(self.person)
        self.assertTrue(keys)
        self.assertEqual(
            self.env["meta.suppression"]._meta_suppressed_keys(
                {key for _kind, key in keys}
            ),
            {key for _kind, key in keys},
        )
        # consenting again later is recorded, yet never sent
        self.save(audiences="granted", measurement="granted")
        self.assertEqual(self.states()["audiences"], "granted")
        self.audience._meta_sync()
        self.send_outbox()
        self.assertEqual(self.at_meta(), [])

    def test_only_the_person_decides_and_only_with_the_form(self):
        other = self.env["res.partner"].create({"name": "Burak Kaya"})
        # nobody logged in: the login page, nothing recorded
        response = self.url_open("/my/privacy/meta")
        self.assertIn("/web/login", response.url)
        self.authenticate("ayse_portal", "ayse_portal_pw")
        # without the form's token: refused
        response = self.url_open("/my/privacy/meta", data={"audiences": "granted"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.states()["audiences"], "unknown")
        # another partner's id is not a parameter of the page
        self.save(audiences="granted", partner_id=str(other.id))
        self.assertFalse(other.sudo().meta_consent_ids)
        self.assertEqual(self.states()["audiences"], "granted")
