from datetime import datetime

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import MetaTransactionCase
from .test_lead_ads import LeadAdsMixin


@tagged("post_install", "-at_install")
class TestConsent(MetaTransactionCase):
    """Consent per person and purpose, kept as evidence; the suppression list."""

    def setUp(self):
        super().setUp()
        self.partner = self.env["res.partner"].create(
            {
                "name": "Ayşe Yılmaz",
                "email": "ayse@example.com",
                "phone": "0532 123 45 67",
                "country_id": self.env.ref("base.tr").id,
            }
        )
        self.admin_env = self.partner.with_user(self.meta_admin)

    def test_no_decision_is_unknown_and_the_latest_decision_counts(self):
        partner = self.admin_env
        self.assertEqual(partner.meta_audience_consent, "unknown")
        partner._meta_record_consent(
            "audiences", True, "lead_form", notice_version="v3"
        )
        partner.invalidate_recordset()
        self.assertEqual(partner.meta_audience_consent, "granted")
        self.assertEqual(partner.meta_measurement_consent, "unknown")
        partner._meta_record_consent("audiences", False, "manual")
        partner.invalidate_recordset()
        self.assertEqual(partner.meta_audience_consent, "withdrawn")
        # the history keeps both decisions, with who recorded them
        history = partner.meta_consent_ids
        self.assertEqual(len(history), 2)
        self.assertEqual(history.recorded_by_id, self.meta_admin)
        self.assertEqual(set(history.mapped("source")), {"lead_form", "manual"})

    def test_a_decision_is_evidence_never_changed_nor_deleted(self):
        [decision] = self.admin_env._meta_record_consent("audiences", True, "manual")
        with self.assertRaises(UserError):
            decision.sudo().write({"state": "withdrawn"})
        with self.assertRaises(UserError):
            decision.sudo().unlink()
        # it goes with the person when the person is erased
        self.partner.unlink()
        self.assertFalse(decision.exists())

    def test_a_salesperson_neither_reads_nor_records_consent_evidence(self):
        self.admin_env._meta_record_consent("audiences", True, "manual")
        seller = self.partner.with_user(self.salesman)
        with self.assertRaises(AccessError):
            seller.env["meta.consent"].search([])
        with self.assertRaises(AccessError):
            seller.read(["meta_audience_consent"])
        with self.assertRaises(AccessError):
            seller.env["meta.consent.wizard"].create(
                {"partner_id": self.partner.id}
            ).action_record()
        with self.assertRaises(AccessError):
            seller.env["meta.suppression"].search([])

    def test_an_objection_suppresses_the_person_for_good_by_hash_only(self):
        wizard = (
            self.env["meta.consent.wizard"]
            .with_user(self.meta_admin)
            .create(
                {
                    "partner_id": self.partner.id,
                    "purpose": "audiences",
                    "decision": "withdrawn",
                    "objection": True,
                    "evidence": "Telefonla itiraz etti",
                }
            )
        )
        wizard.action_record()
        Suppression = self.env["meta.suppression"]
        rows = Suppression.search([])
        self.assertEqual(set(rows.mapped("kind")), {"EMAIL", "PHONE"})
        self.assertEqual(set(rows.mapped("reason")), {"objection"})
        for row in rows:  # nothing readable is kept
            self.assertRegex(row.key, r"^[a-f0-9]{64}$")
            self.assertNotIn("ayse", row.key)
        # back as a new contact, spelled otherwise: still suppressed
        again = self.env["res.partner"].create(
            {
                "name": "A. Yılmaz",
                "email": " AYSE@Example.com",
                "phone": "+90 532 123 4567",
            }
        )
        keys = {key for _kind, key in Suppression._meta_keys_of(again)}
        self.assertEqual(Suppression._meta_suppressed_keys(keys), keys)
        # suppressing twice changes nothing
        Suppression._meta_suppress(again, "erasure")
        self.assertEqual(Suppression.search_count([]), 2)

    def test_a_decision_belongs_to_the_company_it_was_given_to(self):
        other = self.env["res.company"].create({"name": "İkinci Şirket"})
        self.partner.company_id = other
        [decision] = self.partner.sudo()._meta_record_consent(
            "audiences", True, "manual"
        )
        self.assertEqual(decision.company_id, other)  # not the recorder's
        form_company = self.env.company
        [decision] = self.partner.sudo()._meta_record_consent(
            "audiences", True, "lead_form", company=form_company
        )
        self.assertEqual(decision.company_id, form_company)

    def test_consent_is_per_company(self):
        other = self.env["res.company"].create({"name": "Başka Şirket"})
        admin = new_test_user(
            self.env,
            login="meta_admin_other",
            groups="base.group_user,meta_graph_connector.group_meta_admin",
            company_id=other.id,
            company_ids=[other.id],
        )
        self.admin_env._meta_record_consent("audiences", True, "manual")
        self.assertFalse(self.env["meta.consent"].with_user(admin).search([]))


@tagged("post_install", "-at_install")
class TestConsentFromLeadForms(LeadAdsMixin, MetaTransactionCase):
    def checkboxes(self, ads, measurement):
        return [
            {"checkbox_key": "reklam_izni", "is_checked": "1" if ads else "0"},
            {"checkbox_key": "olcum_izni", "is_checked": "1" if measurement else ""},
        ]

    def test_mapped_checkboxes_become_consent_decisions_of_the_customer(self):
        partner = self.env["res.partner"].create(
            {"name": "Ayşe Yılmaz", "email": "ayse.yilmaz@example.com"}
        )
        first = self.submit(custom_disclaimer_responses=self.checkboxes(True, False))
        self.deliver(first)
        self.assertEqual(self.lead_of(first).partner_id, partner)
        # the form now lists its checkboxes; unmapped, they record nothing
        boxes = self.form.consent_checkbox_ids
        self.assertEqual(
            set(boxes.mapped("checkbox_key")), {"reklam_izni", "olcum_izni"}
        )
        self.assertFalse(
            self.env["meta.consent"].search([("partner_id", "=", partner.id)])
        )
        # the administrator says what each checkbox means
        by_key = {box.checkbox_key: box for box in boxes}
        by_key["reklam_izni"].with_user(self.meta_admin).write(
            {"purpose": "audiences", "notice_version": "KVKK-2026-01"}
        )
        by_key["olcum_izni"].with_user(self.meta_admin).purpose = "measurement"
        submitted = datetime(2026, 11, 20, 9, 30)
        second = self.submit(
            created_time=submitted,
            custom_disclaimer_responses=self.checkboxes(True, False),
        )
        self.deliver(second)
        self.assertEqual(self.lead_of(second).partner_id, partner)
        states = partner._meta_consent_states()[partner.id]
        self.assertEqual(states, {"audiences": "granted", "measurement": "withdrawn"})
        decision = self.env["meta.consent"].search(
            [("partner_id", "=", partner.id), ("purpose", "=", "audiences")]
        )
        self.assertEqual(decision.source, "lead_form")
        # given to the form's company, whoever ran the intake
        self.assertEqual(decision.company_id, self.form.company_id)
        self.assertEqual(decision.notice_version, "KVKK-2026-01")
        self.assertEqual(decision.decided_at, submitted)
        self.assertIn(second["id"], decision.evidence)


@tagged("post_install", "-at_install")
class TestErasureSuppresses(MetaTransactionCase):
    def person(self, name="Ayşe Yılmaz", email="ayse@example.com"):
        return self.env["res.partner"].create(
            {"name": name, "email": email, "phone": "0532 123 45 67"}
        )

    def test_an_erased_person_is_never_sent_again(self):
        Suppression = self.env["meta.suppression"]
        partner = self.person()
        keys = {key for _kind, key in Suppression._meta_keys_of(partner)}
        self.assertEqual(len(keys), 2)
        partner.unlink()
        self.assertEqual(set(Suppression.search([]).mapped("reason")), {"erasure"})
        again = self.person(name="Ayşe Y.", email="AYSE@example.com ")
        again_keys = {key for _kind, key in Suppression._meta_keys_of(again)}
        self.assertEqual(Suppression._meta_suppressed_keys(again_keys), keys)

    def test_merging_duplicates_suppresses_nobody(self):
        keep, duplicate = self.person(), self.person(name="Ayşe Yilmaz")
        wizard = self.env["base.partner.merge.automatic.wizard"].create({})
        wizard._merge((keep | duplicate).ids, dst_partner=keep)
        self.assertFalse(duplicate.exists())
        self.assertFalse(self.env["meta.suppression"].search([]))
