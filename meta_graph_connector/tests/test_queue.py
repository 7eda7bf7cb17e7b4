from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..graph.errors import GraphError
from ..graph.webhook import parse_delivery
from .common import PAGE_SCOPES, MetaTransactionCase

QUEUE_LOGGER = "odoo.addons.meta_graph_connector.models.meta_queue_mixin"
GRAPH_LOGGER = "odoo.addons.meta_graph_connector.graph.client"


@tagged("post_install", "-at_install")
class TestQueue(MetaTransactionCase):
    """The queue both directions share, through the outbox and the inbox."""

    def setUp(self):
        super().setUp()
        self.Outbox = self.env["meta.outbox"]
        # a second Page, of another connection
        self.sim_page_2 = self.simulator.add_page(name="Ege Zeytin")
        token_2 = self.simulator.add_user_token(
            scopes=PAGE_SCOPES, pages=[self.sim_page_2["id"]], token_type="SYSTEM_USER"
        )
        self.connection_2 = self.env["meta.connection"].create(
            {"name": "Ege Business", "access_token": token_2}
        )
        self.page_2 = self.env["meta.asset"].create(
            {
                "name": "Ege Zeytin",
                "connection_id": self.connection_2.id,
                "asset_type": "page",
                "external_id": self.sim_page_2["id"],
                "access_token": self.sim_page_2["access_token"],
            }
        )

    def _subscribe(self, page, fields=("leadgen",), key=None):
        return self.Outbox._meta_enqueue(
            page,
            "subscribe_page",
            {"page_id": page.external_id, "fields": list(fields)},
            ordering_key=key,
        )

    def _unsubscribe(self, page, key=None):
        return self.Outbox._meta_enqueue(
            page, "unsubscribe_page", {"page_id": page.external_id}, ordering_key=key
        )

    def _calls_about(self, sim_page):
        return [
            (r.method, r.status)
            for r in self.simulator.requests
            if f"/{sim_page['id']}/subscribed_apps" in r.path
        ]

    # ------------------------------------------------------------- outbox

    def test_nothing_is_sent_before_the_outbox_runs(self):
        item = self._subscribe(self.page)
        self.assertEqual(item.state, "pending")
        self.assertEqual(self._calls_about(self.sim_page), [])
        self.Outbox._cron_process_outbox()
        self.assertEqual(item.state, "done")
        self.assertEqual(self.simulator.subscriptions(self.sim_page["id"]), ["leadgen"])
        self.assertEqual(item.result, {"result": True})

    @mute_logger(QUEUE_LOGGER, GRAPH_LOGGER)
    def test_items_of_one_key_go_in_order_and_a_failure_blocks_only_its_key(self):
        key = f"page:{self.page.id}"
        first = self._subscribe(self.page, ("leadgen",), key)
        second = self._unsubscribe(self.page, key)
        third = self._subscribe(self.page, ("leadgen", "feed"), key)
        other = self._subscribe(self.page_2, key=f"page:{self.page_2.id}")
        # Meta fails the first call of this Page, and its three retries
        self.simulator.faults.fail_calls(
            f"/{self.sim_page['id']}/subscribed_apps", method="POST", times=4
        )
        self.Outbox._cron_process_outbox()
        self.assertEqual(first.state, "failed")
        self.assertEqual((second.state, third.state), ("pending", "pending"))
        self.assertEqual(other.state, "done", "another key is not held back")
        self.assertEqual(
            [m for m, _s in self._calls_about(self.sim_page)], ["POST"] * 4
        )
        # Meta is back; when the retry is due the key drains, in order
        with freeze_time(fields.Datetime.now() + timedelta(minutes=5)):
            self.Outbox._cron_process_outbox()
        self.assertEqual((first.state, second.state, third.state), ("done",) * 3)
        self.assertEqual(
            [m for m, s in self._calls_about(self.sim_page) if s == 200],
            ["POST", "DELETE", "POST"],
        )
        self.assertEqual(
            set(self.simulator.subscriptions(self.sim_page["id"])), {"leadgen", "feed"}
        )

    # ------------------------------------------------- the outbound seam

    def test_every_model_queuing_outbox_items_is_a_declared_origin(self):
        Origin = self.env.registry["meta.outbox.origin"]
        for model in (
            "meta.asset",
            "meta.lead.form",
            "meta.audience",
            "meta.audience.lookalike",
            "meta.conversion.event",
            "meta.social.comment",
            "mail.message",
            "discuss.channel",
        ):
            self.assertIsInstance(self.env[model], Origin, model)
        # an origin outside the contract is refused when queued
        partner = self.env["res.partner"].create({"name": "Zeynep"})
        with self.assertRaises(TypeError):
            self.Outbox._meta_enqueue(
                self.page, "unsubscribe_page", {"page_id": "1"}, origin=partner
            )
        # the origin gives the key, in one spelling
        self.page._meta_request_unsubscription()
        item = self.Outbox.search([("origin_id", "=", self.page.id)])
        self.assertEqual(item.ordering_key, f"meta.asset:{self.page.id}")

    @mute_logger(QUEUE_LOGGER)
    def test_an_operation_unknown_to_the_registry_dies_saying_so(self):
        # sudo: meta.outbox - an item of an operation no capability registers
        item = self.Outbox.sudo().create(
            {"operation": "no_such_operation", "asset_id": self.page.id}
        )
        self.Outbox._cron_process_outbox()
        self.assertEqual(item.state, "dead")
        self.assertIn("unknown Meta operation 'no_such_operation'", item.last_error)

    @mute_logger(QUEUE_LOGGER, GRAPH_LOGGER)
    def test_metas_typed_error_is_kept_and_given_to_the_origin(self):
        heard = []

        def gave_up(origin, item, error, reason):
            heard.append((origin, item, error, reason))

        self.simulator.faults.fail_calls(
            f"/{self.sim_page['id']}/subscribed_apps", kind="not_found", method="POST"
        )
        with patch.object(
            type(self.env["meta.asset"]), "_meta_outbox_gave_up", gave_up
        ):
            self.page._meta_request_subscription()
            self.Outbox._cron_process_outbox()
        item = self.Outbox.search([("origin_id", "=", self.page.id)])
        self.assertEqual(item.state, "dead")
        self.assertEqual(
            (item.error_code, item.error_subcode, item.error_scope),
            (100, 33, "object"),
        )
        self.assertIn("code 100/33", item.last_error, "people read Meta's text")
        [(origin, hook_item, error, reason)] = heard
        self.assertEqual((origin, hook_item), (self.page, item))
        self.assertIsInstance(error, GraphError)
        self.assertEqual((error.code, error.subcode), (100, 33))
        self.assertEqual(reason, item.last_error)
        item.action_replay()
        self.assertEqual((item.error_code, item.error_scope), (0, False))

    @mute_logger(QUEUE_LOGGER, GRAPH_LOGGER)
    def test_a_dead_item_blocks_its_key_until_replayed(self):
        key = "page:x"
        first = self.Outbox._meta_enqueue(
            self.page, "create_test_lead", {"form_id": "999999999"}, ordering_key=key
        )
        second = self._subscribe(self.page, key=key)
        self.Outbox._cron_process_outbox()
        self.assertEqual(first.state, "dead", "Meta: no such form")
        self.assertEqual(second.state, "pending")
        first.with_user(self.meta_admin).action_replay()
        self.simulator.add_form(self.sim_page["id"], form_id="999999999")
        self.Outbox._cron_process_outbox()
        self.assertEqual((first.state, second.state), ("done", "done"))

    # --------------------------------------------------------- throttling

    @mute_logger(QUEUE_LOGGER, GRAPH_LOGGER)
    def test_a_throttled_connection_is_not_called_until_it_regains_access(self):
        # Meta throttles the first Page's calls for 10 minutes (BUC 80001)
        self.simulator.faults.fail_calls(
            f"/{self.sim_page['id']}/subscribed_apps",
            kind="throttle",
            code=80001,
            regain_minutes=10,
            method="POST",
        )
        throttled = [self._subscribe(self.page) for _ in range(3)]
        flowing = [self._subscribe(self.page_2) for _ in range(3)]
        self.Outbox._cron_process_outbox()
        self.assertEqual(
            len(self._calls_about(self.sim_page)), 1, "one call, then none"
        )
        self.assertTrue(self.connection.is_throttled)
        self.assertAlmostEqual(self.connection._meta_throttle_remaining(), 600, delta=5)
        self.assertEqual({i.state for i in throttled}, {"failed", "pending"})
        self.assertEqual(throttled[0].attempts, 0, "not the item's fault")
        self.assertEqual({i.state for i in flowing}, {"done"})
        # still throttled a minute later: nothing is called
        with freeze_time(fields.Datetime.now() + timedelta(minutes=1)):
            self.Outbox._cron_process_outbox()
        self.assertEqual(len(self._calls_about(self.sim_page)), 1)
        # access regained: everything goes
        with freeze_time(fields.Datetime.now() + timedelta(minutes=11)):
            self.Outbox._cron_process_outbox()
        self.assertEqual({i.state for i in throttled}, {"done"})
        self.assertEqual(len(self._calls_about(self.sim_page)), 4)

    @mute_logger(QUEUE_LOGGER, GRAPH_LOGGER)
    def test_inbox_events_of_a_throttled_connection_wait(self):
        Event = self.env["meta.webhook.event"]
        self.connection._meta_throttle(300, "test")
        events = Event.browse(
            Event._meta_store_events(parse_delivery(self.leadgen_delivery(2)))
        )
        self.assertEqual(Event._cron_process_events(), 0)
        self.assertEqual(set(events.mapped("state")), {"pending"})

    def test_a_throttle_never_ends_before_meta_said(self):
        # Datetime fields keep whole seconds: the end must be rounded up,
        # never down, or items are claimed up to a second early
        with freeze_time("2026-12-03 10:00:00.900"):
            self.connection._meta_throttle(60, "test")
            self.assertGreaterEqual(
                self.connection.throttled_until,
                datetime(2026, 12, 3, 10, 1, 0, 900000),
            )
        with freeze_time("2026-12-03 10:01:00.950"):
            self.assertTrue(self.connection._meta_throttle_remaining())

    # --------------------------------------------------- lanes, retention

    def test_lanes_are_the_shipped_crons_and_their_copies(self):
        lanes = self.env["meta.webhook.event"]._meta_lanes()
        self.assertEqual(len(lanes), 2)
        lanes[0].copy({"name": "Meta: process webhook events (lane 3)"})
        self.assertEqual(len(self.env["meta.webhook.event"]._meta_lanes()), 3)
        self.assertEqual(len(self.Outbox._meta_lanes()), 1)

    def test_processed_events_are_purged_after_the_retention_period(self):
        Event = self.env["meta.webhook.event"]
        events = Event.browse(
            Event._meta_store_events(parse_delivery(self.leadgen_delivery(4)))
        )
        done, ignored, failed, dead = events.sorted("id")
        old = fields.Datetime.now() - timedelta(days=31)
        done.write({"state": "done", "processed_at": old})
        ignored.write({"state": "ignored", "processed_at": old})
        failed.write({"state": "failed", "processed_at": old})
        dead.write({"state": "dead", "processed_at": old})
        recent = Event.browse(
            Event._meta_store_events(parse_delivery(self.leadgen_delivery(1, start=50)))
        )
        recent.write({"state": "done", "processed_at": fields.Datetime.now()})
        self.assertEqual(Event._cron_purge_events(), 2)
        self.assertEqual((events | recent).exists(), failed | dead | recent)
        # an administrator purges what is kept, any state
        (failed | dead).with_user(self.meta_admin).action_purge()
        self.assertFalse((failed | dead).exists())
