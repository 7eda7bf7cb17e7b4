import logging
import time
from unittest.mock import patch

import requests

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..graph import const, messaging
from ..graph.webhook import sign
from .common import APP_SECRET, PAGE_SCOPES, VERIFY_TOKEN, MetaHttpCase, payloads

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
        self.assertEqual(events.asset_id, self.page)
        self.assertEqual(events.connection_id, self.connection)
        self.assertEqual(events.company_id, self.page.company_id)
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
        # comments are kept whole only when something handles them
        EventClass = type(self.env["meta.webhook.event"])
        routes = {"leadgen": "meta.lead.form", "page_comment": "meta.lead.form"}
        self.startPatcher(
            patch.object(EventClass, "_meta_event_routes", lambda model: routes)
        )
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
        self.assertFalse(event.asset_id)
        self.assertEqual(event.external_account_id, "987654321")

    def test_thousand_leads_in_one_delivery(self):
        body = self.encode(self.leadgen_delivery(1000))
        self.assertEqual(self.post_delivery(body).status_code, 200)
        self.assertEqual(len(self._events()), 1000)
        self.assertEqual(self.post_delivery(body).status_code, 200)
        self.assertEqual(len(self._events()), 1000)

    # ------------------------------------------------- one bad update alone

    def _page_delivery(self, changes):
        """One entry of the simulated Page carrying these changes."""
        return {
            "object": "page",
            "entry": [
                {"id": self.sim_page["id"], "time": 1790000000, "changes": changes}
            ],
        }

    def _assert_dead_between_pending(self, stored):
        """The bad update of three is stored dead (malformed, with its
        error), its two neighbours pending; returns the dead one."""
        self.assertEqual(sorted(stored.mapped("state")), ["dead", "pending", "pending"])
        dead = stored.filtered(lambda e: e.state == "dead")
        self.assertEqual(dead.kind, "malformed")
        self.assertTrue(dead.last_error)
        return dead

    def _leadgen_change(self, leadgen_id, form_id="3333"):
        return {
            "field": "leadgen",
            "value": {
                "leadgen_id": leadgen_id,
                "form_id": form_id,
                "page_id": self.sim_page["id"],
                "created_time": 1790000000,
            },
        }

    def test_one_bad_update_is_stored_dead_and_its_neighbours_pending(self):
        bad_updates = {
            "NUL": self._leadgen_change("9000\x000002"),
            "lone surrogate": self._leadgen_change("900000000000002", "33\ud83d33"),
            "id longer than the index allows": self._leadgen_change("9" * 3000),
            "path in an id": self._leadgen_change("../../me/accounts"),
        }
        for start, (name, bad) in enumerate(bad_updates.items()):
            with self.subTest(bad=name):
                first, last = (
                    self._leadgen_change(str(900000000000100 + 10 * start + i))
                    for i in (1, 3)
                )
                delivery = self._page_delivery([first, bad, last])
                before = self._events()
                response = self.post_delivery(self.encode(delivery))
                self.assertEqual(response.status_code, 200)
                stored = self._events() - before
                self.assertEqual(len(stored), 3)
                self._assert_dead_between_pending(stored)
                # Meta's redelivery of the same body stores nothing more
                self.assertEqual(
                    self.post_delivery(self.encode(delivery)).status_code, 200
                )
                self.assertEqual(len(self._events() - before), 3)

    def test_a_value_json_cannot_hold_is_stored_dead_alone(self):
        """NaN, Infinity, a 5,000-digit number or a value nested 40 levels
        deep in one signed update: 200, that update dead, its neighbours
        pending (Python's json takes NaN, PostgreSQL's jsonb does not)."""
        bad_values = {
            "NaN": "NaN",
            "Infinity": "-Infinity",
            "5000 digits": "9" * 5000,
            "40 levels deep": "[" * 40 + "1" + "]" * 40,
        }
        for start, (name, raw) in enumerate(bad_values.items()):
            with self.subTest(bad=name):
                first, bad, last = (
                    self._leadgen_change(str(900000000000200 + 10 * start + i))
                    for i in (1, 2, 3)
                )
                bad["value"]["created_time"] = "@RAW@"
                delivery = self._page_delivery([first, bad, last])
                body = self.encode(delivery).replace(b'"@RAW@"', raw.encode())
                before = self._events()
                response = self.post_delivery(body)
                self.assertEqual(response.status_code, 200, response.text)
                stored = self._events() - before
                dead = self._assert_dead_between_pending(stored)
                self.assertEqual(
                    dead.payload["item"]["value"]["leadgen_id"],
                    str(900000000000202 + 10 * start),
                )

    # ------------------------------------------------------- body and logs

    @mute_logger(CONTROLLER_LOGGER)
    def test_chunked_body_is_read_no_further_than_the_cap(self):
        sent = []
        chunk = b"x" * (1024 * 1024)

        def body():
            for _ in range(128):  # Odoo's own request cap: 128 MiB
                sent.append(len(chunk))
                yield chunk

        try:
            response = self.opener.post(
                self.base_url() + "/meta/webhook",
                data=body(),
                headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": "sha256=" + "0" * 64,
                },
                timeout=60,
            )
        except requests.exceptions.ConnectionError:
            # the server answered and closed while the client still sent
            response = None
        if response is not None:
            self.assertEqual(response.status_code, 413)
        cap_mib = const.MAX_WEBHOOK_BODY_BYTES // (1024 * 1024)
        self.assertLess(sum(sent) // (1024 * 1024), cap_mib + 16)
        self.assertFalse(self._events())

    def test_the_verify_token_stays_out_of_the_access_log(self):
        lines = []

        class Keep(logging.Handler):
            def emit(self, record):
                lines.append(record.getMessage())

        handler = Keep(level=logging.INFO)
        access_log = logging.getLogger("werkzeug")
        access_log.addHandler(handler)
        try:
            response = self.url_open(
                "/meta/webhook?hub.mode=subscribe&hub.challenge=77"
                f"&hub.verify_token={VERIFY_TOKEN}"
            )
            self.assertEqual(response.status_code, 200)
            # the access line is written after the answer is sent
            deadline = time.monotonic() + 5
            while not any("/meta/webhook" in line for line in lines):
                self.assertLess(time.monotonic(), deadline, "no access log line")
                time.sleep(0.05)
        finally:
            access_log.removeHandler(handler)
        text = "\n".join(lines)
        self.assertIn("hub.verify_token=***", text)
        self.assertNotIn(VERIFY_TOKEN, text)


@tagged("post_install", "-at_install")
class TestWebhookAttachmentLinks(MetaHttpCase):
    """A signed Messenger delivery names the files it carries by URL: Odoo
    fetches them from the public Internet only (the sandbox: from the
    simulator's own server), else keeps the link as text."""

    PSID = "24000000000777"

    def setUp(self):
        super().setUp()
        self.connection.granted_scopes = ",".join(PAGE_SCOPES)
        self.page.inbox_team_id = self.env["crm.team"].create(
            {"name": "Sosyal Medya", "member_ids": [(6, 0, self.salesman.ids)]}
        )

    def receive(self, *urls):
        """The customer sends these links as images: Meta's signed delivery
        reaches the webhook, the inbox cron files it."""
        sent = self.simulator.receive_dm(
            self.sim_page["id"],
            self.PSID,
            "Fotoğraflar",
            attachments=[{"type": "image", "payload": {"url": url}} for url in urls],
            deliver=False,
        )
        body = payloads.messenger_message(
            self.sim_page["id"],
            self.PSID,
            sent["mid"],
            "Fotoğraflar",
            [{"type": "image", "payload": {"url": url}} for url in urls],
        )
        self.assertEqual(self.post_delivery(self.encode(body)).status_code, 200)
        self.env["meta.webhook.event"]._cron_process_events()
        channel = self.env["discuss.channel"].search(
            [
                ("channel_type", "=", "meta"),
                ("meta_contact_id.scoped_id", "=", self.PSID),
            ]
        )
        (message,) = channel.message_ids.filtered(lambda m: m.message_type == "comment")
        return channel, message

    def test_a_link_to_odoo_itself_stays_a_link(self):
        own_page = f"{self.base_url()}/web/database/selector"
        photo = self.simulator.add_cdn_file(b"\x89PNG foto", "image/png", "foto.png")
        channel, message = self.receive(photo, own_page)
        # the simulator's own file is kept; Odoo's page is not fetched
        self.assertEqual(
            message.attachment_ids.mapped("name"), ["foto.png"], "one file kept"
        )
        self.assertEqual(message.attachment_ids.raw, b"\x89PNG foto")
        self.assertFalse(
            self.env["ir.attachment"].search(
                [
                    ("res_model", "=", "discuss.channel"),
                    ("res_id", "=", channel.id),
                    ("mimetype", "like", "html"),
                ]
            )
        )
        self.assertIn(own_page, message.body, "shown as a link, as text")
        self.assertIn("Fotoğraflar", message.body)

    def test_outside_a_loopback_sandbox_no_loopback_link_is_fetched(self):
        """Meta (or any Graph address on the public Internet) configured: a
        file on this machine is not fetched, the simulator's included."""
        channel, _message = self.receive()
        photo = self.simulator.add_cdn_file(b"\x89PNG foto", "image/png", "foto.png")
        # an address on the public Internet that is not Meta's: still the
        # sandbox's http, but none of this machine's addresses
        self.meta_app.graph_base_url = "http://93.184.215.14"
        for url in (photo, f"{self.base_url()}/web/database/selector"):
            with self.subTest(url=url):
                self.assertFalse(channel._meta_fetch_part(messaging.Part("image", url)))
        self.meta_app.graph_base_url = self.simulator.base_url
        self.assertTrue(channel._meta_fetch_part(messaging.Part("image", photo)))
