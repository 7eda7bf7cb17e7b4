from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, api, fields, modules
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..controllers.main import _process_arrived
from ..graph.errors import RateLimitError, TransientError
from ..graph.webhook import KINDS, parse_delivery
from ..models.meta_queue_mixin import MetaContention
from ..models.meta_webhook_event import ARRIVAL_LIMIT
from .common import MetaTransactionCase, payloads

EVENT_LOGGER = "odoo.addons.meta_graph_connector.models.meta_queue_mixin"
CONTROLLER_LOGGER = "odoo.addons.meta_graph_connector.controllers.main"


@tagged("post_install", "-at_install")
class TestEventProcessing(MetaTransactionCase):
    """The processing cron's state machine, with a test handler for leadgen."""

    def setUp(self):
        super().setUp()
        self.Event = self.env["meta.webhook.event"]
        self.handled = []
        self.behaviour = {}
        EventClass = type(self.Event)

        def handler(model, event, inbox_event):
            reference = getattr(event, "leadgen_id", None) or event.key
            self.handled.append(reference)
            outcome = self.behaviour.get(reference)
            if isinstance(outcome, Exception):
                raise outcome
            if outcome == "graph-call":
                return self.page._meta_call(
                    lambda client: client.get(self.sim_page["id"])
                )
            if outcome == "write-then-fail":
                self.connection.name = "changed inside the failing handler"
                raise TransientError("boom after a write")
            return outcome or self.connection

        # the lead forms own leadgen events: a test handler in their place
        FormClass = type(self.env["meta.lead.form"])
        self.startPatcher(patch.object(FormClass, "_meta_handle_event", handler))
        # one event at a time: the state machine of each (Lead Ads backlogs
        # run together: test_lead_ads.TestLeadBacklog)
        self.startPatcher(patch.object(FormClass, "_meta_handles_together", False))
        self.assertEqual(
            EventClass._meta_event_routes(self.Event)["leadgen"], "meta.lead.form"
        )

    def _store(self, delivery):
        ids = self.Event._meta_store_events(parse_delivery(delivery))
        return self.Event.browse(ids)

    @contextmanager
    def _committed(self, events):
        """Store the events in a transaction of their own, committed (what
        other transactions see), and delete them afterwards: the test's own
        transaction does not roll them back."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            ids = env["meta.webhook.event"]._meta_store_events(events)
        try:
            yield ids
        finally:
            with self.registry.cursor() as cr:
                cr.execute(
                    "DELETE FROM meta_webhook_event WHERE id IN %s", [tuple(ids)]
                )

    def test_done_with_result(self):
        events = self._store(self.leadgen_delivery(2))
        processed = self.Event._cron_process_events()
        self.assertEqual(processed, 2)
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(events[0].res_model, "meta.connection")
        self.assertEqual(events[0].res_id, self.connection.id)
        self.assertEqual(events.mapped("attempts"), [1, 1])
        self.assertTrue(all(events.mapped("processed_at")))

    def test_kinds_without_handler_are_stored_without_what_people_wrote(self):
        def edit(mid, text):
            # Messenger's "message_edits": nothing handles them (yet)
            return {
                "id": self.sim_page["id"],
                "time": 1790000000000,
                "messaging": [
                    {
                        "sender": {"id": "PSID"},
                        "recipient": {"id": self.sim_page["id"]},
                        "timestamp": 1790000000000,
                        "message_edit": {"mid": mid, "text": text, "num_edit": 1},
                    }
                ],
            }

        events = self._store(
            payloads.delivery(
                "page", [edit("m_0", "Tel: 0532 111"), edit("m_1", "Adresim Kadıköy")]
            )
        )
        # ignored at arrival: no lane ever spends time on them
        self.assertEqual(set(events.mapped("state")), {"ignored"})
        self.assertEqual(events.mapped("kind"), ["unhandled"] * 2)
        stored = " ".join(event.payload_text for event in events)
        self.assertNotIn("0532", stored)
        self.assertNotIn("Kadıköy", stored)
        self.assertEqual(self.Event._cron_process_events(), 0)
        # a replay finds only the kind, and ignores it again
        events.with_user(self.meta_admin).action_replay()
        self.Event._cron_process_events()
        self.assertEqual(set(events.mapped("state")), {"ignored"})
        self.assertFalse(self.handled)

    def test_unhandled_and_malformed_items(self):
        page_id = self.sim_page["id"]
        events = self._store(
            {
                "object": "page",
                "entry": [
                    {
                        "id": page_id,
                        "time": 1790000000,
                        "changes": [
                            {"field": "ratings", "value": {"x": 1}},
                            {"field": "leadgen", "value": {"page_id": page_id}},
                        ],
                    }
                ],
            }
        )
        self.Event._cron_process_events()
        unhandled, malformed = events.sorted("id")
        self.assertEqual(unhandled.state, "ignored")
        self.assertEqual(unhandled.kind, "unhandled")
        self.assertEqual(unhandled.payload["item"], {"field": "ratings"})
        self.assertEqual(malformed.state, "dead")
        self.assertIn("leadgen_id", malformed.last_error)

    def test_unknown_page_is_ignored(self):
        events = self._store(self.leadgen_delivery(1, page_id="55555"))
        self.Event._cron_process_events()
        self.assertEqual(events.state, "ignored")
        self.assertIn("55555", events.last_error)
        self.assertFalse(self.handled)

    @mute_logger(EVENT_LOGGER)
    def test_failure_rolls_back_the_event_only_and_retries_with_backoff(self):
        events = self._store(self.leadgen_delivery(3))
        first, second, third = events.sorted("id")
        self.behaviour[second.payload["item"]["value"]["leadgen_id"]] = (
            "write-then-fail"
        )
        self.behaviour[third.payload["item"]["value"]["leadgen_id"]] = ValueError("bug")
        before = fields.Datetime.now()
        self.Event._cron_process_events()
        self.assertEqual(first.state, "done")
        self.assertEqual(second.state, "failed")
        self.assertEqual(third.state, "failed")
        self.assertNotEqual(
            self.connection.name,
            "changed inside the failing handler",
            "savepoint rollback",
        )
        self.assertIn("boom after a write", second.last_error)
        self.assertEqual(second.attempts, 1)
        # first retry ~60 s later (jitter ±20 %)
        self.assertGreaterEqual(second.next_attempt_at, before + timedelta(seconds=47))
        self.assertLessEqual(second.next_attempt_at, before + timedelta(seconds=73))
        # a retry is scheduled on the cron, once per failure
        cron = self.env.ref("meta_graph_connector.ir_cron_meta_process_events")
        retry_triggers = self.env["ir.cron.trigger"].search(
            [("cron_id", "=", cron.id), ("call_at", ">", before)]
        )
        self.assertEqual(len(retry_triggers), 2)
        # not due yet: a second run does nothing and schedules nothing more
        self.assertEqual(self.Event._cron_process_events(), 0)
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count(
                [("cron_id", "=", cron.id), ("call_at", ">", before)]
            ),
            2,
        )
        # once due and fixed, it succeeds
        self.behaviour.clear()
        with freeze_time(fields.Datetime.now() + timedelta(minutes=2)):
            self.Event._cron_process_events()
        self.assertEqual((second | third).mapped("state"), ["done", "done"])
        self.assertEqual(second.attempts, 2)

    def test_backoff_grows_and_event_dies_after_max_attempts(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "meta_graph_connector.event_max_attempts", "4"
        )
        event = self._store(self.leadgen_delivery(1))
        self.behaviour[event.payload["item"]["value"]["leadgen_id"]] = TransientError(
            "Meta is down"
        )
        delays = []
        now = fields.Datetime.now()
        for _attempt in range(4):
            with freeze_time(now):
                self.Event._cron_process_events()
            if event.state == "failed":
                delays.append((event.next_attempt_at - now).total_seconds())
                now = event.next_attempt_at + timedelta(seconds=1)
        self.assertEqual(event.state, "dead")
        self.assertEqual(event.attempts, 4)
        self.assertEqual(len(delays), 3)
        # exponential: each delay about twice the previous (jitter ±20 %)
        self.assertGreater(delays[1], delays[0] * 1.3)
        self.assertGreater(delays[2], delays[1] * 1.3)

    def test_rate_limit_waits_as_long_as_meta_says(self):
        event = self._store(self.leadgen_delivery(1))
        self.behaviour[event.payload["item"]["value"]["leadgen_id"]] = RateLimitError(
            "throttled", code=80005, retry_after=900
        )
        before = fields.Datetime.now()
        self.Event._cron_process_events()
        self.assertEqual(event.state, "failed")
        delay = (event.next_attempt_at - before).total_seconds()
        self.assertAlmostEqual(delay, 900, delta=5)

    def test_replay_requeues_from_the_stored_payload(self):
        event = self._store(self.leadgen_delivery(1))
        leadgen_id = event.payload["item"]["value"]["leadgen_id"]
        self.behaviour[leadgen_id] = TransientError("Meta is down")
        self.env["ir.config_parameter"].sudo().set_param(
            "meta_graph_connector.event_max_attempts", "1"
        )
        self.Event._cron_process_events()
        self.assertEqual(event.state, "dead")
        self.behaviour.clear()
        event.with_user(self.meta_admin).action_replay()
        self.assertEqual(event.state, "pending")
        self.assertEqual(event.attempts, 0)
        self.Event._cron_process_events()
        self.assertEqual(event.state, "done")
        self.assertEqual(self.handled, [leadgen_id, leadgen_id])

    def test_token_error_in_a_handler_flags_the_connection(self):
        """The handler's savepoint rolls back, the connection flag stays."""
        self.simulator.invalidate_token(self.sim_page["access_token"], subcode=460)
        event = self._store(self.leadgen_delivery(1))
        self.behaviour[event.payload["item"]["value"]["leadgen_id"]] = "graph-call"
        self.Event._cron_process_events()
        self.assertEqual(event.state, "parked")
        self.assertIn("190", event.last_error)
        self.assertEqual(self.connection.state, "needs_reconnect")
        self.assertEqual(len(self.connection.activity_ids), 1)
        # once the connection is healthy again, the event is queued again
        self.connection._meta_mark_connected()
        self.assertEqual(event.state, "pending")

    def test_two_workers_never_claim_the_same_event(self):
        """Two transactions claiming at once split the rows between them."""
        delivery = self.leadgen_delivery(5, page_id="777000777")
        with self._committed(parse_delivery(delivery)) as ids:
            with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
                worker1 = api.Environment(cr1, SUPERUSER_ID, {})["meta.webhook.event"]
                worker2 = api.Environment(cr2, SUPERUSER_ID, {})["meta.webhook.event"]
                first = worker1._meta_claim_due(3)
                # worker 2 does not wait for worker 1's locks: it skips them
                second = worker2._meta_claim_due(10)
                self.assertEqual(len(first), 3)
                self.assertEqual(set(first.ids) | set(second.ids), set(ids))
                self.assertFalse(set(first.ids) & set(second.ids))
                cr1.rollback()
                cr2.rollback()

    def test_a_row_another_lane_just_updated_is_claimed_in_a_new_transaction(self):
        """A lane whose snapshot predates another lane's commit on a due row
        cannot lock that row (REPEATABLE READ): its claim says so (contention,
        not an error of the queue), and a new transaction takes the row."""
        delivery = self.leadgen_delivery(2, page_id="777000779", start=900)
        with self._committed(parse_delivery(delivery)) as ids:
            with self.registry.cursor() as lane1, self.registry.cursor() as lane2:
                lane1.execute("SELECT 1")  # lane 1's snapshot is taken
                lane2.execute(
                    "UPDATE meta_webhook_event SET attempts = attempts WHERE id IN %s",
                    [tuple(ids)],
                )
                lane2.commit()
                worker = api.Environment(lane1, SUPERUSER_ID, {})["meta.webhook.event"]
                with self.assertRaises(MetaContention):
                    worker._meta_claim_due(10)
                lane1.rollback()
                self.assertEqual(sorted(worker._meta_claim_due(10).ids), sorted(ids))
                lane1.rollback()

    def test_redelivery_does_not_conflict_with_the_cron_updating_its_rows(self):
        """The intake reads under REPEATABLE READ; the cron commits state
        changes on the very rows Meta redelivers. That must store nothing and
        raise nothing (no serialization failure, so no replayed request)."""
        events = parse_delivery(
            self.leadgen_delivery(20, page_id="777000778", start=800)
        )
        with self._committed(events) as ids:
            with self.registry.cursor() as intake_cr, self.registry.cursor() as cron_cr:
                # the redelivery's transaction starts (snapshot taken) ...
                intake_cr.execute("SELECT count(*) FROM meta_webhook_event")
                # ... the cron finishes these events and commits ...
                cron_cr.execute(
                    "UPDATE meta_webhook_event SET state = 'done' WHERE id IN %s",
                    [tuple(ids)],
                )
                cron_cr.commit()
                # ... then the redelivery is stored
                intake = api.Environment(intake_cr, SUPERUSER_ID, {})[
                    "meta.webhook.event"
                ]
                self.assertEqual(intake._meta_store_events(events), [])
                intake_cr.rollback()

    def test_a_storm_of_one_kind_does_not_hold_back_a_lead(self):
        """Kinds take turns: a lead stored after 30 comments (with a handler
        for comments too) is processed among the first events, not after the
        whole backlog."""
        EventClass = type(self.Event)
        routes = {"leadgen": "meta.lead.form", "page_comment": "meta.lead.form"}
        self.startPatcher(
            patch.object(EventClass, "_meta_event_routes", lambda model: routes)
        )
        comments = self._store(
            payloads.delivery(
                "page",
                [
                    payloads.feed_comment(self.sim_page["id"], comment_id=f"1_{i}")
                    for i in range(30)
                ],
            )
        )
        lead = self._store(self.leadgen_delivery(1, start=700))
        self.assertGreater(lead.id, max(comments.ids))
        self.Event._cron_process_events(max_events=2)
        self.assertEqual(lead.state, "done")
        self.assertEqual(len(comments.filtered(lambda e: e.state == "pending")), 29)
        # and the storm still drains completely
        self.Event._cron_process_events()
        self.assertEqual(set(comments.mapped("state")), {"done"})

    def test_kinds_are_one_vocabulary(self):
        """The stored kind's choices are the core's kinds, in the same order."""
        selection = [key for key, _label in self.Event._fields["kind"].selection]
        self.assertEqual(selection, list(KINDS))

    def test_malformed_updates_are_dead_on_arrival_and_never_claimed(self):
        delivery = self.leadgen_delivery(1)
        delivery["entry"][0]["changes"][0]["value"]["leadgen_id"] = "../../me/accounts"
        event = self._store(delivery)
        self.assertEqual(event.state, "dead")
        self.assertIn("not a Meta object id", event.last_error)
        self.assertEqual(self.Event._cron_process_events(), 0)
        self.assertFalse(self.handled)

    # ------------------------------------------------------ on arrival
    # The webhook request processes what it stored once it has answered
    # Meta; the lanes take what it does not, and what it could not finish.

    def _lane_triggers(self):
        crons = self.Event._meta_lanes()
        return self.env["ir.cron.trigger"].search_count([("cron_id", "in", crons.ids)])

    def _receive(self, delivery):
        """``_meta_receive`` as a real request runs it (outside tests)."""
        with patch.object(modules.module, "current_test", False):
            return self.Event._meta_receive(parse_delivery(delivery))

    def test_the_request_takes_what_it_stored_without_waking_the_lanes(self):
        triggers = self._lane_triggers()
        ids = self._receive(self.leadgen_delivery(2))
        self.assertEqual(len(ids), 2)
        self.assertEqual(self._lane_triggers(), triggers, "no lane is woken")
        self.assertEqual(self.Event._meta_process_arrived(ids), 2)
        self.assertEqual(set(self.Event.browse(ids).mapped("state")), {"done"})
        self.assertEqual(len(self.handled), 2)
        self.assertEqual(self._lane_triggers(), triggers)

    def test_the_lanes_take_a_large_delivery_a_storm_and_what_is_turned_off(self):
        triggers = self._lane_triggers()
        self.assertEqual(self._receive(self.leadgen_delivery(ARRIVAL_LIMIT + 1)), [])
        self.assertEqual(self._lane_triggers(), triggers + 2, "both lanes woken")
        # the lanes are now behind by more than a delivery may bring
        self.assertEqual(self._receive(self.leadgen_delivery(1, start=100)), [])
        self.assertEqual(self._lane_triggers(), triggers + 4)
        self.Event.search([]).write({"state": "done"})
        self.assertTrue(self._receive(self.leadgen_delivery(1, start=200)))
        self.env["ir.config_parameter"].set_param(
            "meta_graph_connector.process_on_arrival", "False"
        )
        self.assertEqual(self._receive(self.leadgen_delivery(1, start=300)), [])
        self.assertEqual(self._lane_triggers(), triggers + 6)
        self.assertFalse(self.handled, "nothing processed in the request")

    def test_inside_tests_the_lanes_are_woken(self):
        # a test's requests share its cursor from the server's thread
        triggers = self._lane_triggers()
        self.assertEqual(
            self.Event._meta_receive(parse_delivery(self.leadgen_delivery(1))), []
        )
        self.assertEqual(self._lane_triggers(), triggers + 2)

    def test_an_event_the_request_did_not_get_to_wakes_the_lanes(self):
        older = self._store(self.leadgen_delivery(1, start=50))
        triggers = self._lane_triggers()
        ids = self._receive(self.leadgen_delivery(1))
        self.assertTrue(ids)
        # the queue's order: the older event first, this request's one left
        self.assertEqual(self.Event._meta_process_arrived(ids), 1)
        self.assertEqual(older.state, "done")
        self.assertEqual(self.Event.browse(ids).state, "pending")
        self.assertEqual(self._lane_triggers(), triggers + 2)

    def test_after_the_answer_in_a_transaction_of_its_own(self):
        delivery = parse_delivery(self.leadgen_delivery(1, start=400))
        with self._committed(delivery) as ids:
            _process_arrived(self.env.cr.dbname, ids)
            with self.registry.cursor() as cr:
                cr.execute(
                    "SELECT state FROM meta_webhook_event WHERE id IN %s", [tuple(ids)]
                )
                # processed, as another transaction sees it: this test's Page
                # is not committed, so the event found no connection
                self.assertEqual(cr.fetchall(), [("ignored",)])

    @mute_logger(CONTROLLER_LOGGER)
    def test_a_request_failing_after_the_answer_leaves_its_events_to_the_lanes(self):
        delivery = parse_delivery(self.leadgen_delivery(1, start=500))
        crons = tuple(self.Event._meta_lanes().ids)
        count = "SELECT count(*) FROM ir_cron_trigger WHERE cron_id IN %s"
        with self._committed(delivery) as ids:
            with self.registry.cursor() as cr:
                cr.execute(count, [crons])
                (before,) = cr.fetchone()
            EventClass = type(self.Event)
            with patch.object(
                EventClass, "_meta_process_arrived", side_effect=RuntimeError("boom")
            ):
                _process_arrived(self.env.cr.dbname, ids)
            with self.registry.cursor() as cr:
                cr.execute(
                    "SELECT state FROM meta_webhook_event WHERE id IN %s", [tuple(ids)]
                )
                self.assertEqual(cr.fetchall(), [("pending",)])
                cr.execute(count, [crons])
                self.assertEqual(cr.fetchone()[0], before + len(crons))
