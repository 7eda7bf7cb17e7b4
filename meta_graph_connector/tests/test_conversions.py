import hashlib
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import PAGE_SCOPES, MetaTransactionCase
from .test_lead_ads import LeadAdsMixin


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


@tagged("post_install", "-at_install")
class TestConversionLeads(LeadAdsMixin, MetaTransactionCase):
    """The stages of Meta leads told to the simulator's dataset: asserted on
    what Meta received."""

    def setUp(self):
        super().setUp()
        account = self.simulator.add_ad_account("Ege Reklam")
        self.sim_dataset = self.simulator.add_dataset(
            "Ege Pixel", ad_account_id=account["id"]
        )
        token = self.simulator.add_user_token(
            scopes=[*PAGE_SCOPES, "ads_management"],
            pages=[self.sim_page["id"]],
            token_type="SYSTEM_USER",
            ad_accounts=[account["id"]],
        )
        self.connection.sudo().access_token = token
        self.dataset = self.env["meta.asset"].create(
            {
                "name": "Ege Pixel",
                "connection_id": self.connection.id,
                "asset_type": "dataset",
                "external_id": self.sim_dataset["id"],
                "conversion_enabled": True,
                "conversion_lost_event": "Lost",
            }
        )
        Stage = self.env["crm.stage"]
        self.new = Stage.create(
            {"name": "Yeni", "sequence": -10, "meta_conversion_event": "New"}
        )
        self.qualified = Stage.create(
            {"name": "Nitelikli", "sequence": -9, "meta_conversion_event": "Qualified"}
        )
        self.visit = Stage.create({"name": "Ziyaret", "sequence": -8})
        self.won = Stage.create({"name": "Kazanıldı", "sequence": -7, "is_won": True})
        self.won.meta_conversion_event = "Converted"
        self.customer = self.env["res.partner"].create(
            {"name": "Ayşe Yılmaz", "email": "ayse.yilmaz@example.com"}
        )
        self.customer._meta_record_consent("measurement", True, "manual")

    # ------------------------------------------------------------ helpers

    def meta_lead(self):
        sim_lead = self.submit()
        self.deliver(sim_lead)
        return sim_lead, self.lead_of(sim_lead)

    def send(self):
        self.env["meta.conversion.event"]._cron_send_conversion_events()
        self.send_outbox()

    def at_meta(self):
        return self.simulator.dataset_events(self.sim_dataset["id"])

    def events_sent(self):
        return [
            r
            for r in self.simulator.requests
            if r.path.endswith(f"{self.sim_dataset['id']}/events")
        ]

    # -------------------------------------------------------------- tests

    def test_each_mapped_stage_of_a_consenting_meta_lead_reaches_meta_once(self):
        sim_lead, lead = self.meta_lead()
        self.assertEqual(lead.partner_id, self.customer)
        self.assertEqual(lead.stage_id, self.new)
        self.assertEqual(lead.meta_conversion_event_ids.mapped("event_name"), ["New"])
        lead.stage_id = self.qualified
        lead.stage_id = self.visit  # not mapped: Meta is not told
        lead.stage_id = self.new  # back and forth: the same event, kept once
        lead.stage_id = self.qualified
        lead.action_set_won()
        self.send()
        received = self.at_meta()
        self.assertEqual(
            [e["event_name"] for e in received], ["New", "Qualified", "Converted"]
        )
        first = received[0]
        self.assertEqual(str(first["user_data"]["lead_id"]), sim_lead["id"])
        self.assertEqual(first["action_source"], "system_generated")
        self.assertEqual(
            first["custom_data"], {"event_source": "crm", "lead_event_source": "Odoo"}
        )
        self.assertEqual(first["user_data"]["em"], [sha("ayse.yilmaz@example.com")])
        self.assertEqual(first["user_data"]["ph"], [sha("905321234567")])
        # one request, hashes only: no readable identifier left Odoo
        self.assertEqual(len(self.events_sent()), 1)
        sent = str(self.events_sent()[0].params)
        self.assertNotIn("ayse.yilmaz@example.com", sent)
        self.assertNotIn("532 123", sent)
        self.assertNotIn("5321234567", sent)
        self.assertEqual(set(lead.meta_conversion_event_ids.mapped("state")), {"sent"})
        self.assertEqual(lead.meta_conversion_status, "Converted: Sent")
        # nothing new: nothing sent again
        self.send()
        self.assertEqual(len(self.events_sent()), 1)

    def test_no_measurement_consent_no_event(self):
        self.customer._meta_record_consent("measurement", False, "manual")
        _sim_lead, lead = self.meta_lead()
        lead.stage_id = self.qualified
        self.assertFalse(lead.meta_conversion_event_ids)
        self.assertEqual(
            lead.meta_conversion_status,
            "Not sent: no consent to conversion measurement",
        )
        # unknown is no
        stranger = self.submit(
            field_data=[
                {"name": "full_name", "values": ["Cem Kaya"]},
                {"name": "email", "values": ["cem@example.com"]},
            ]
        )
        self.deliver(stranger)
        other = self.lead_of(stranger)
        other.stage_id = self.qualified
        self.assertFalse(other.meta_conversion_event_ids)
        # a lead that did not come from Meta is never told
        plain = self.env["crm.lead"].create(
            {"name": "Fuar", "partner_id": self.customer.id}
        )
        plain.stage_id = self.qualified
        self.assertFalse(plain.meta_conversion_event_ids)
        self.send()
        self.assertEqual(self.at_meta(), [])
        self.assertFalse(self.events_sent())

    def test_a_withdrawal_or_objection_before_sending_stops_the_event(self):
        _sim_lead, lead = self.meta_lead()
        lead.stage_id = self.qualified
        self.assertEqual(len(lead.meta_conversion_event_ids), 2)
        self.customer._meta_record_consent("measurement", False, "manual")
        self.send()
        self.assertEqual(
            set(lead.meta_conversion_event_ids.mapped("state")), {"cancelled"}
        )
        self.assertFalse(self.events_sent())
        # consent again, but the person objected to Meta advertising: the
        # suppression list wins for measurement too
        self.customer._meta_record_consent("measurement", True, "manual")
        self.customer._meta_record_consent("audiences", False, "manual", objection=True)
        lead.action_set_won()
        self.assertFalse(
            lead.meta_conversion_event_ids.filtered(lambda e: e.state == "queued")
        )
        self.send()
        self.assertFalse(self.events_sent())

    def test_a_lost_lead_is_told_with_the_datasets_lost_event(self):
        _sim_lead, lead = self.meta_lead()
        lead.action_set_lost()
        self.send()
        self.assertEqual([e["event_name"] for e in self.at_meta()], ["New", "Lost"])
        self.dataset.conversion_lost_event = False
        _sim_lead, other = self.meta_lead()
        other.action_set_lost()
        self.send()
        self.assertEqual(
            [e["event_name"] for e in self.at_meta()], ["New", "Lost", "New"]
        )

    def test_a_lead_lost_with_crms_wizard_is_told_lost_once(self):
        """crm's "Lost" button archives the lead, then sets its probability
        to 0 in a second write: the lead is lost after the second one."""
        _sim_lead, lead = self.meta_lead()
        lead.probability = 40
        reason = self.env["crm.lost.reason"].create({"name": "Fiyat yüksek"})

        def lose():
            wizard = (
                self.env["crm.lead.lost"]
                .with_user(self.seller)
                .create({"lead_ids": [(6, 0, lead.ids)], "lost_reason_id": reason.id})
            )
            wizard.action_lost_reason_apply()

        lose()
        self.assertFalse(lead.active)
        self.assertEqual(lead.probability, 0)
        self.assertEqual(
            sorted(lead.meta_conversion_event_ids.mapped("event_name")), ["Lost", "New"]
        )
        # archived leads written again, restored and lost a second time:
        # Meta is told once
        lead.write({"probability": 0})
        lead.action_unarchive()
        lead.probability = 30
        lose()
        self.assertEqual(
            sorted(lead.meta_conversion_event_ids.mapped("event_name")), ["Lost", "New"]
        )
        self.send()
        self.assertEqual([e["event_name"] for e in self.at_meta()], ["New", "Lost"])

    def test_meta_refusal_on_the_lead_names_the_field(self):
        """Meta's "Invalid parameter" says nothing; its error_user_title and
        error_user_msg name the event and the field: the lead shows those."""
        _sim_lead, lead = self.meta_lead()
        # Meta's clock is two hours behind ours: the event is in its future
        self.simulator.clock.advance(-7200)
        self.send()
        event = lead.meta_conversion_event_ids
        self.assertEqual(event.state, "failed")
        self.assertIn("Server-side API parameter error", event.error)
        self.assertIn("$['data'][0]", event.error)
        self.assertIn("in the future", event.error)
        item = self.env["meta.outbox"].search(
            [("operation", "=", "send_conversion_events")], limit=1
        )
        self.assertIn("in the future", item.last_error)

    def test_an_event_past_the_7_days_is_not_sent_and_does_not_block_others(self):
        _sim_lead, lead = self.meta_lead()
        _sim_lead2, other = self.meta_lead()
        old = lead.meta_conversion_event_ids
        old.event_time = fields.Datetime.now() - timedelta(days=7, minutes=1)
        self.send()
        self.assertEqual(old.state, "expired")
        self.assertEqual(other.meta_conversion_event_ids.state, "sent")
        self.assertEqual(len(self.at_meta()), 1)

    def test_one_event_meta_refuses_fails_alone_the_others_are_sent(self):
        _sim_lead, first = self.meta_lead()
        _sim_lead2, second = self.meta_lead()
        _sim_lead3, third = self.meta_lead()
        # in Odoo's eyes still fresh, at Meta already past the 7 days: Meta
        # refuses the whole request and names the event
        second.meta_conversion_event_ids.event_time = fields.Datetime.now() - timedelta(
            days=6, hours=23, minutes=30
        )
        self.simulator.clock.advance(3600)
        self.send()
        refused = second.meta_conversion_event_ids
        self.assertEqual(refused.state, "failed")
        self.assertIn("7 days", refused.error)
        # the others went back to the queue, and out with the next pass
        self.assertEqual(
            (first | third).meta_conversion_event_ids.mapped("state"),
            ["queued", "queued"],
        )
        self.send()
        self.assertEqual(
            (first | third).meta_conversion_event_ids.mapped("state"), ["sent", "sent"]
        )
        self.assertEqual(len(self.at_meta()), 2)

    def test_a_transient_failure_is_retried_and_meta_keeps_the_event_once(self):
        _sim_lead, lead = self.meta_lead()
        # the client's own 3 quick retries fail too: the outbox retries later
        self.simulator.faults.fail_calls("/events", method="POST", times=4)
        self.send()
        event = lead.meta_conversion_event_ids
        self.assertEqual(event.state, "sending")
        item = event.outbox_id
        self.assertEqual(item.state, "failed")
        item.next_attempt_at = fields.Datetime.now() - timedelta(seconds=1)
        self.send_outbox()
        self.assertEqual(event.state, "sent")
        self.assertEqual(len(self.at_meta()), 1)

    def test_a_request_given_up_fails_its_events_visibly(self):
        _sim_lead, lead = self.meta_lead()
        self.env["ir.config_parameter"].sudo().set_param(
            "meta_graph_connector.event_max_attempts", "1"
        )
        self.simulator.faults.fail_calls("/events", method="POST", times=4)
        self.send()
        event = lead.meta_conversion_event_ids
        self.assertEqual(event.outbox_id.state, "dead")
        self.assertEqual(event.state, "failed")
        self.assertTrue(event.error)
        # once the cause is fixed, an administrator sends it again
        with self.assertRaises(AccessError):
            event.with_user(self.seller).action_send_again()
        event.with_user(self.meta_admin).action_send_again()
        self.send()
        self.assertEqual(event.state, "sent")
        self.assertEqual(len(self.at_meta()), 1)

    def test_test_event_code_sends_to_the_test_tab_only(self):
        self.dataset.conversion_test_code = "TEST4242"
        self.meta_lead()
        self.send()
        self.assertEqual(self.at_meta(), [])
        test_events = self.simulator.dataset_events(self.sim_dataset["id"], test=True)
        self.assertEqual([e["event_name"] for e in test_events], ["New"])

    def test_only_the_companys_enabled_dataset_receives_events(self):
        self.dataset.conversion_enabled = False
        _sim_lead, lead = self.meta_lead()
        lead.stage_id = self.qualified
        self.assertFalse(lead.meta_conversion_event_ids)
        # another company's dataset is not this lead's
        other_company = self.env["res.company"].create({"name": "Başka A.Ş."})
        self.meta_admin.company_ids |= other_company
        theirs = self.env["meta.connection"].create(
            {
                "name": "Başka",
                "access_token": self.connection.sudo().access_token,
                "user_id": self.meta_admin.id,
                "company_id": other_company.id,
            }
        )
        self.env["meta.asset"].create(
            {
                "name": "Başka Pixel",
                "connection_id": theirs.id,
                "asset_type": "dataset",
                "external_id": "1300000000000077",
                "conversion_enabled": True,
            }
        )
        lead.stage_id = self.new
        lead.stage_id = self.qualified
        self.assertFalse(lead.meta_conversion_event_ids)

    def test_a_salesperson_reads_the_status_of_their_leads_only(self):
        _sim_lead, lead = self.meta_lead()
        self.assertEqual(lead.user_id, self.seller)
        mine = lead.with_user(self.seller)
        self.assertEqual(mine.meta_conversion_status, "New: Queued")
        self.assertEqual(len(mine.meta_conversion_event_ids), 1)
        event = lead.meta_conversion_event_ids.with_user(self.seller)
        with self.assertRaises(AccessError):
            event.write({"state": "sent"})
        with self.assertRaises(AccessError):
            event.unlink()
        Event = self.env["meta.conversion.event"]
        self.assertFalse(Event.with_user(self.other_seller).search([]))
        # and moving the lead tells Meta, whoever moves it
        mine.stage_id = self.qualified
        self.assertEqual(len(lead.meta_conversion_event_ids), 2)

    def test_one_dataset_per_company_and_only_a_dataset(self):
        second = self.env["meta.asset"].create(
            {
                "name": "Another Pixel",
                "connection_id": self.connection.id,
                "asset_type": "dataset",
                "external_id": "1300000000000099",
            }
        )
        with self.assertRaises(Exception):  # noqa: B017 - ValidationError
            second.conversion_enabled = True
        with self.assertRaises(Exception):  # noqa: B017 - ValidationError
            self.page.conversion_enabled = True

    def test_stage_mapping_is_named_in_english_at_install(self):
        won = self.env.ref("crm.stage_lead4")
        self.assertEqual(won.meta_conversion_event, "Won")


@tagged("post_install", "-at_install")
class TestConversionAccess(MetaTransactionCase):
    def test_a_salesperson_cannot_map_stages_nor_enable_a_dataset(self):
        seller = new_test_user(
            self.env, login="conv_seller", groups="sales_team.group_sale_salesman"
        )
        stage = self.env.ref("crm.stage_lead1").with_user(seller)
        with self.assertRaises(AccessError):
            stage.write({"meta_conversion_event": "Hacked"})
        with self.assertRaises(AccessError):
            self.page.with_user(seller).write({"conversion_enabled": True})
