from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..graph import const
from ..graph.webhook import sign
from .common import APP_SECRET, VERIFY_TOKEN, MetaHttpCase, payloads

CONTROLLER_LOGGER = "odoo.addons.meta_graph_connector.controllers.main"


@tagged("post_install", "-at_install")
class TestWebhookController(MetaHttpCase):
    def _events(self):
        return self.env["meta.webhook.event"].search([])

    # ------------------------------------------------------------ handshake

    def test_handshake_answers_the_challenge(self):
        response = self.url_open(
            "/meta/webhook?hub.mode=subscribe&hub.challenge=1158201444"
            f"&hub.verify_token={VERIFY_TOKEN}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, "1158201444")
        self.assertTrue(response.headers["Content-Type"].startswith("text/plain"))

    @mute_logger(CONTROLLER_LOGGER)
    def test_handshake_refusals(self):
        for query in (
            "hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong",
            f"hub.mode=unsubscribe&hub.challenge=1&hub.verify_token={VERIFY_TOKEN}",
            f"hub.mode=subscribe&hub.challenge=<b>x</b>&hub.verify_token={VERIFY_TOKEN}",
            "",
        ):
            response = self.url_open(f"/meta/webhook?{query}")
            self.assertEqual(response.status_code, 403, query)
            self.assertNotIn("<b>", response.text)

    # ------------------------------------------------------------ deliveries

    def test_valid_delivery_is_stored_and_triggers_the_cron(self):
        cron = self.env.ref("meta_graph_connector.ir_cron_meta_process_events")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        body = self.encode(self.leadgen_delivery(3))
        response = self.post_delivery(body)
        self.assertEqual(response.status_code, 200)
        events = self._events()
        self.assertEqual(len(events), 3)
        self.assertEqual(set(events.mapped("state")), {"pending"})
        self.assertEqual(set(events.mapped("kind")), {"leadgen"})
        self.assertEqual(events.account_id, self.account)
        self.assertEqual(events.company_id, self.account.company_id)
        self.assertEqual(
            set(events.mapped("key")),
            {f"leadgen:page:{self.sim_page['id']}:90000000000000{i}" for i in range(3)},
        )
        self.assertTrue(all(e.payload["item"]["field"] == "leadgen" for e in events))
        new_triggers = (
            self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - triggers
        )
        self.assertTrue(new_triggers, "the processing cron is woken up")

    def test_duplicate_and_rebatched_deliveries_are_stored_once(self):
        body = self.encode(self.leadgen_delivery(2))
        self.assertEqual(self.post_delivery(body).status_code, 200)
        self.assertEqual(self.post_delivery(body).status_code, 200)
        self.assertEqual(len(self._events()), 2)
        # the second lead again, now batched with a new neighbour
        rebatched = self.encode(self.leadgen_delivery(2, start=1))
        self.assertEqual(self.post_delivery(rebatched).status_code, 200)
        self.assertEqual(len(self._events()), 3)

    def test_turkish_text_and_previous_secret(self):
        self.meta_app.app_secret_previous = "previous_secret"
        delivery = payloads.feed_comment(
            self.sim_page["id"],
            comment_id="5555_6666",
            post_id="1111_5555",
            from_id="7777",
            from_name="Ayşe Yılmaz",
            message="Fiyatı nedir? İğne, ışık, çiçek, ödeme, şube, üzüm",
        )
        body = self.encode(delivery)
        self.assertIn(b"\\u0131", body)
        self.assertEqual(
            self.post_delivery(body, secret="previous_secret").status_code, 200
        )
        event = self._events()
        self.assertEqual(event.kind, "page_comment")
        self.assertIn("İğne", event.payload["item"]["value"]["message"])

    @mute_logger(CONTROLLER_LOGGER)
    def test_forged_deliveries_get_403_and_write_nothing(self):
        body = self.encode(self.leadgen_delivery(1))
        tampered = body.replace(b"3333", b"3334")
        attempts = [
            self.post_delivery(body, secret="wrong-secret"),
            self.post_delivery(body, secret=None),
            self.post_delivery(
                body, secret=None, headers={"X-Hub-Signature": "sha1=" + "0" * 40}
            ),
            self.post_delivery(
                tampered,
                secret=None,
                headers={"X-Hub-Signature-256": self._signature(body)},
            ),
            self.post_delivery(
                body,
                secret=None,
                headers={"X-Hub-Signature-256": self._signature(body).upper()},
            ),
        ]
        self.assertEqual([r.status_code for r in attempts], [403] * len(attempts))
        self.assertFalse(self._events())
        self.assertEqual(attempts[0].text, "Forbidden")

    def _signature(self, body):
        return sign(body, APP_SECRET)

    @mute_logger(CONTROLLER_LOGGER)
    def test_malformed_delivery_gets_400_and_writes_nothing(self):
        for body in (
            b"not json",
            b"[]",
            b'{"object": "page"}',
            b"[" * 5000 + b"]" * 5000,
        ):
            response = self.post_delivery(body)
            self.assertEqual(response.status_code, 400, body[:20])
        self.assertFalse(self._events())

    @mute_logger(CONTROLLER_LOGGER)
    def test_oversized_delivery_gets_413(self):
        body = self.encode(self.leadgen_delivery(20))
        with patch.object(const, "MAX_WEBHOOK_BODY_BYTES", len(body) - 1):
            response = self.post_delivery(body)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self._events())

    def test_events_of_unknown_pages_are_kept(self):
        body = self.encode(self.leadgen_delivery(1, page_id="987654321"))
        self.assertEqual(self.post_delivery(body).status_code, 200)
        event = self._events()
        self.assertFalse(event.account_id)
        self.assertEqual(event.external_account_id, "987654321")

    def test_thousand_leads_in_one_delivery(self):
        body = self.encode(self.leadgen_delivery(1000))
        self.assertEqual(self.post_delivery(body).status_code, 200)
        self.assertEqual(len(self._events()), 1000)
        self.assertEqual(self.post_delivery(body).status_code, 200)
        self.assertEqual(len(self._events()), 1000)
