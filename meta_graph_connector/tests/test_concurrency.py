"""Two lanes at the same instant, on real, separate transactions.

Each test opens its own cursors next to the test's transaction and commits
what the lanes would commit; what they committed is removed at the end.
"""

import threading
import time
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from meta_simulator import payloads

from ..graph.webhook import parse_delivery
from ..models.meta_queue_mixin import MetaContention

#: the phone of the person of the "submitting twice" test, as Odoo sanitizes it
PERSON_PHONE = "+905329998877"

PAGE_QUESTIONS = [
    {"id": "1", "key": "full_name", "label": "Ad Soyad", "type": "FULL_NAME"},
    {"id": "2", "key": "phone_number", "label": "Telefon", "type": "PHONE"},
]


def graph_lead(lead_id, phone):
    return {
        "id": lead_id,
        "form_id": "888000902",
        "created_time": "2026-12-01T10:00:00+0000",
        "field_data": [
            {"name": "full_name", "values": ["Deniz Aynıkişi"]},
            {"name": "phone_number", "values": [phone]},
        ],
    }


@tagged("post_install", "-at_install")
class TestTwoLanesAtOnce(TransactionCase):
    def lane(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {})

    def backend(self, cr):
        cr.execute("SELECT pg_backend_pid()")
        return cr.fetchone()[0]

    def wait_until_held(self, thread, pid):
        """Wait until the lane of connection ``pid`` waits on a lock another
        transaction holds, or has finished (it took none): bounded by count."""
        with self.registry.cursor() as watcher:
            for _poll in range(600):
                if not thread.is_alive():
                    return False
                watcher.execute(
                    "SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted", [pid]
                )
                if watcher.fetchone():
                    return True
                watcher.rollback()
                time.sleep(0.05)
        return False

    # ------------------------------------------------------------ people

    def committed_person_form(self):
        """A Lead Ads form that makes customers, committed where both lanes
        see it; its id."""
        with self.registry.cursor() as cr:
            env = self.lane(cr)
            connection = env["meta.connection"].create(
                {"name": "Eşzamanlı Formlar", "access_token": "EAAB-concurrent-leads"}
            )
            page = env["meta.asset"].create(
                {
                    "name": "Eşzamanlı Form Sayfası",
                    "connection_id": connection.id,
                    "asset_type": "page",
                    "external_id": "888000901",
                }
            )
            form = env["meta.lead.form"].create(
                {
                    "name": "Eşzamanlı Form",
                    "page_id": page.id,
                    "meta_form_id": "888000902",
                    "questions": PAGE_QUESTIONS,
                    "create_partner": True,
                    "merge_duplicates": False,
                    "user_id": False,
                    "team_id": False,
                }
            )
            # the answers go where Odoo puts them for a form read from Meta
            form._meta_update_mapping()
            return form.id

    def forget_person_form(self, form_id):
        """Remove what :meth:`committed_person_form` and the lanes committed."""
        with self.registry.cursor() as cr:
            env = self.lane(cr)
            leads = env["crm.lead"].search([("meta_form_id", "=", form_id)])
            cr.execute("DELETE FROM meta_lead WHERE form_id = %s", [form_id])
            leads.unlink()
            cr.execute(
                "DELETE FROM res_partner WHERE phone_sanitized = %s",
                [PERSON_PHONE],
            )
            cr.execute("DELETE FROM meta_lead_form WHERE id = %s", [form_id])
            cr.execute("DELETE FROM meta_asset WHERE external_id = %s", ["888000901"])
            cr.execute(
                "DELETE FROM meta_connection WHERE name = %s",
                ["Eşzamanlı Formlar"],
            )

    def import_submission(self, env, form_id, lead_id, phone):
        """The person's submission ``lead_id`` imported in the lane of ``env``."""
        return env["meta.lead.importer"]._meta_import(
            env["meta.lead.form"].browse(form_id),
            [graph_lead(lead_id, phone)],
            strict=True,
        )

    def customers_with_person_phone(self):
        """Customers committed with the person's phone, whatever lane made them."""
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM res_partner WHERE phone_sanitized = %s",
                [PERSON_PHONE],
            )
            return cr.fetchone()[0]

    def test_one_new_person_submitting_twice_at_once_is_one_customer(self):
        """Two lanes import two submissions of one new person (two spellings
        of one phone) at the same instant: the second finds no customer in
        its snapshot, waits on the first one's lock while it creates, and is
        run again (as the queue does) to find the first one's customer."""
        form_id = self.committed_person_form()
        second_lead, second_phone = "888000903000002", "0090 532 999 8877"
        outcome = {}
        try:
            with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
                lane1, lane2 = self.lane(cr1), self.lane(cr2)
                # lane 2's transaction began before lane 1 commits
                cr2.execute("SELECT 1")
                first = self.import_submission(
                    lane1, form_id, "888000903000001", "+90 532 999 88 77"
                )
                customer = first.lead_id.partner_id
                self.assertTrue(customer)

                def second():
                    try:
                        self.import_submission(
                            lane2, form_id, second_lead, second_phone
                        )
                    except MetaContention:
                        outcome["retry"] = True
                    except Exception as error:  # noqa: BLE001 - reported below
                        outcome["error"] = error

                lane2_pid = self.backend(cr2)
                thread = threading.Thread(target=second)
                thread.start()
                outcome["held"] = self.wait_until_held(thread, lane2_pid)
                cr1.commit()
                thread.join(30)
                self.assertFalse(thread.is_alive(), "lane 2 went on")
                self.assertNotIn("error", outcome)
                if outcome.get("retry"):
                    # the queue runs the event again in a new transaction
                    cr2.rollback()
                    again = self.import_submission(
                        lane2, form_id, second_lead, second_phone
                    )
                    self.assertEqual(again.lead_id.partner_id.id, customer.id)
                cr2.commit()
            self.assertEqual(
                self.customers_with_person_phone(), 1, "one person, one customer"
            )
            self.assertTrue(outcome["held"], "lane 2 waited for lane 1's person")
        finally:
            self.forget_person_form(form_id)

    # ------------------------------------------------------------ campaigns

    def test_two_lanes_make_one_utm_campaign_without_an_error(self):
        """The first leads of a new campaign in two lanes at once: the lane
        that loses the unique name logs no error and runs again at once (in
        a new transaction, which finds the other lane's campaign)."""
        name, meta_id = "Eşzamanlı Kampanya 2026", "120299000000001"
        try:
            with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
                lane1, lane2 = self.lane(cr1), self.lane(cr2)
                cr2.execute("SELECT 1")  # lane 2's snapshot: no campaign yet
                first = lane1["utm.campaign"]._meta_find_or_create(meta_id, name)
                cr1.commit()
                with self.assertNoLogs(level="ERROR"):
                    with self.assertRaises(MetaContention):
                        lane2["utm.campaign"]._meta_find_or_create(meta_id, name)
                cr2.rollback()
                again = lane2["utm.campaign"]._meta_find_or_create(meta_id, name)
                self.assertEqual(again.id, first.id)
                cr2.rollback()
        finally:
            with self.registry.cursor() as cr:
                cr.execute(
                    "DELETE FROM utm_campaign WHERE meta_campaign_id = %s", [meta_id]
                )

    # ------------------------------------------------------------ lanes

    def store(self, delivery):
        with self.registry.cursor() as cr:
            return self.lane(cr)["meta.webhook.event"]._meta_store_events(
                parse_delivery(delivery)
            )

    def forget(self, ids):
        with self.registry.cursor() as cr:
            cr.execute("DELETE FROM meta_webhook_event WHERE id IN %s", [tuple(ids)])

    def leadgen(self, count, start):
        # a Page Odoo does not know: the events run without calling Meta
        return payloads.delivery(
            "page",
            [
                payloads.leadgen_change(
                    {
                        "id": str(900000000000000 + start + index),
                        "form_id": "3333",
                        "created_time": 1790000000 + index,
                    },
                    page_id="777000780",
                )
                for index in range(count)
            ],
        )

    def test_a_lane_that_loses_a_claim_race_does_not_end_with_work_left(self):
        """Lane 2 commits on a due row after lane 1's snapshot: lane 1's
        claim fails (REPEATABLE READ). Its run does not end there with
        "0 done", which Odoo reads as "nothing to do" and answers by waiting
        for the lane's next interval: it claims again in a new transaction,
        and, when it cannot commit, wakes its lane at once."""
        ids = self.store(self.leadgen(2, start=950))
        try:
            with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
                lanes = self.lane(cr1)["meta.webhook.event"]._meta_lanes()
                cr1.commit()

                def race():
                    cr1.execute("SELECT 1")  # lane 1's snapshot is taken
                    cr2.execute(
                        "UPDATE meta_webhook_event SET attempts = attempts"
                        " WHERE id = %s",
                        [ids[0]],
                    )
                    cr2.commit()

                worker = self.lane(cr1)["meta.webhook.event"]
                race()
                Trigger = worker.env["ir.cron.trigger"]
                known = Trigger.search([]).ids
                # without committing (as inside tests): the lane is woken now
                self.assertEqual(worker._meta_process_queue(), 0)
                woken = Trigger.search(
                    [
                        ("id", "not in", known),
                        ("cron_id", "in", lanes.ids),
                        ("call_at", "<=", worker.env.cr.now()),
                    ]
                )
                self.assertTrue(woken, "the lane runs again now, not in 5 minutes")
                cr1.rollback()
                # committing, as a lane does: it claims again and goes on
                race()
                self.assertEqual(worker._meta_process_queue(commit=True), 2)
                self.assertEqual(set(worker.browse(ids).mapped("state")), {"ignored"})
        finally:
            self.forget(ids)

    def test_a_conversation_runs_in_one_lane_oldest_first(self):
        """Events of one conversation are claimed one at a time and in the
        order they happened, whatever order the delivery listed them in;
        another conversation goes on in the other lane meanwhile."""
        page, start = "777000781", 1790000000000
        delivery = payloads.delivery(
            "page",
            [
                payloads.messenger_message(
                    page, "4201", "m_a2", "ikinci", timestamp_ms=start + 2
                ),
                payloads.messenger_message(
                    page, "4202", "m_b1", "merhaba", timestamp_ms=start + 1
                ),
                payloads.messenger_message(
                    page, "4201", "m_a1", "birinci", timestamp_ms=start
                ),
            ],
        )
        ids = self.store(delivery)
        try:
            with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
                lane1 = self.lane(cr1)["meta.webhook.event"]
                lane2 = self.lane(cr2)["meta.webhook.event"]
                first = lane1._meta_claim_due(1)
                self.assertIn("m_a1", first.key, "the older message first")
                others = lane2._meta_claim_due(10)
                self.assertEqual(
                    [event.key.rsplit(":", 1)[1] for event in others],
                    ["m_b1"],
                    "never two events of one conversation at once",
                )
                cr1.rollback()
                cr2.rollback()
        finally:
            self.forget(ids)

    def test_contention_is_retried_at_once_quietly(self):
        """An event whose work meets another lane's commit (a serialization
        failure) runs again in the lane's next transaction: no error in the
        log, no attempt counted, no minute to wait."""
        ids = self.store(self.leadgen(1, start=960))
        with self.registry.cursor() as cr:
            partner_id = self.lane(cr)["res.partner"].create({"name": "Ortak Kişi"}).id
        EventClass = type(self.env["meta.webhook.event"])

        def run(event):
            # the work of the event touches a row the other lane changed
            event.env["res.partner"].browse(partner_id).comment = "lane 1"
            return event.env["res.partner"].browse(partner_id)

        try:
            with (
                patch.object(EventClass, "_meta_run", run),
                self.registry.cursor() as cr1,
                self.registry.cursor() as cr2,
            ):
                cr1.execute("SELECT 1")  # lane 1's snapshot is taken
                cr2.execute(
                    "UPDATE res_partner SET comment = 'lane 2' WHERE id = %s",
                    [partner_id],
                )
                cr2.commit()
                worker = self.lane(cr1)["meta.webhook.event"]
                with self.assertNoLogs(level="ERROR"):
                    self.assertEqual(worker._meta_process_queue(), 0)
                event = worker.browse(ids)
                self.assertEqual(event.state, "pending")
                self.assertEqual(event.attempts, 0)
                self.assertFalse(event.next_attempt_at)
                cr1.rollback()
                # the next transaction sees lane 2's commit: done
                self.assertEqual(worker._meta_process_queue(commit=True), 1)
                self.assertEqual(event.state, "done")
                self.assertEqual(event.attempts, 1)
        finally:
            self.forget(ids)
            with self.registry.cursor() as cr:
                cr.execute("DELETE FROM res_partner WHERE id = %s", [partner_id])
