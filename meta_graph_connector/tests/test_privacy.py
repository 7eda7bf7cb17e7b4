import hashlib
import time

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import APP_SECRET, MetaHttpCase
from .test_lead_ads import LeadAdsMixin, answers

CONTROLLER_LOGGER = "odoo.addons.meta_graph_connector.controllers.main"


@tagged("post_install", "-at_install")
class TestPrivacy(LeadAdsMixin, MetaHttpCase):
    """Meta's Deauthorize and Data Deletion callbacks, sent by the simulator
    to this Odoo, and the erasure of a person through Odoo's privacy lookup."""

    def setUp(self):
        super().setUp()
        self.meta_user_id = self.simulator.token_info(self.system_token).user_id
        self.connection.meta_user_id = self.meta_user_id
        # the simulator calls this Odoo from its own thread: what the test
        # wrote must be in the database first
        self.env.flush_all()

    def _url(self, path):
        return f"{self.base_url()}{path}"

    def test_deauthorize_disconnects_the_person_s_connections(self):
        result = self.simulator.send_deauthorize(
            self._url("/meta/deauthorize"), self.meta_user_id
        )
        self.assertEqual(result.status, 200)
        self.env.invalidate_all()  # written by the request
        self.assertEqual(self.connection.state, "disconnected")
        request = self.env["meta.deletion.request"].search([])
        self.assertEqual((request.kind, request.connection_count), ("deauthorize", 1))
        self.assertNotIn(self.meta_user_id, request.user_ref)
        self.assertEqual(
            request.user_ref, hashlib.sha256(self.meta_user_id.encode()).hexdigest()
        )
        alert = self.connection.message_ids.filtered(
            lambda m: m.subject and "removed the app" in m.subject
        )
        self.assertTrue(alert)
        # the Pages' webhooks end through the outbox, then the tokens go
        self.send_outbox()
        self.assertFalse(self.connection.sudo().access_token)
        self.assertFalse(self.page.sudo().access_token)

    def test_data_deletion_answers_the_status_url_and_a_code(self):
        result = self.simulator.send_data_deletion(
            self._url("/meta/data_deletion"), self.meta_user_id
        )
        self.assertTrue(result.valid, result.error)
        self.env.invalidate_all()  # written by the request
        code = result.answer["confirmation_code"]
        self.assertTrue(result.answer["url"].endswith(f"/meta/data_deletion/{code}"))
        self.assertFalse(self.connection.meta_user_id, "the person's id is erased")
        self.assertEqual(self.connection.state, "disconnected")
        page = self.url_open(f"/meta/data_deletion/{code}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(code, page.text)
        self.assertIn("Completed", page.text)
        self.assertNotIn(self.meta_user_id, page.text)
        self.assertTrue(page.headers["Content-Type"].startswith("text/plain"))

    def test_an_unknown_code_says_nothing(self):
        page = self.url_open("/meta/data_deletion/%3Cb%3Ebold")
        self.assertEqual(page.status_code, 404)
        self.assertNotIn("bold", page.text)
        self.assertEqual(page.text, "Unknown confirmation code.")

    @mute_logger(CONTROLLER_LOGGER)
    def test_forged_callbacks_are_refused_and_change_nothing(self):
        for path, send in (
            ("/meta/deauthorize", self.simulator.send_deauthorize),
            ("/meta/data_deletion", self.simulator.send_data_deletion),
        ):
            result = send(
                self._url(path), self.meta_user_id, secret="not-" + APP_SECRET
            )
            self.assertEqual(result.status, 403, path)
        for path in ("/meta/deauthorize", "/meta/data_deletion"):
            response = self.url_open(path, data={"signed_request": "a.b"})
            self.assertEqual(response.status_code, 403)
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, "connected")
        self.assertEqual(self.connection.meta_user_id, self.meta_user_id)
        self.assertFalse(self.env["meta.deletion.request"].search([]))

    def test_the_previous_secret_is_accepted_during_a_rotation(self):
        self.meta_app.write(
            {"app_secret": "new-secret", "app_secret_previous": APP_SECRET}
        )
        self.env.flush_all()
        result = self.simulator.send_deauthorize(
            self._url("/meta/deauthorize"), self.meta_user_id
        )
        self.assertEqual(result.status, 200)

    def _reconnect(self):
        """The person connects again: a new token of theirs through the
        connection wizard, as an administrator does."""
        wizard = (
            self.env["meta.connect.wizard"]
            .with_user(self.meta_admin)
            .create({"access_token": self.system_token})
        )
        wizard.action_connect()
        self.assertEqual(self.connection.state, "connected")
        self.env.flush_all()

    def _alerts(self):
        return self.connection.message_ids.filtered(
            lambda m: m.subject and "removed the app" in m.subject
        )

    def test_a_request_delivered_twice_acts_once(self):
        issued_at = int(time.time())
        first = self.simulator.send_data_deletion(
            self._url("/meta/data_deletion"), self.meta_user_id, issued_at=issued_at
        )
        again = self.simulator.send_data_deletion(
            self._url("/meta/data_deletion"), self.meta_user_id, issued_at=issued_at
        )
        self.assertTrue(again.valid, again.error)
        self.assertEqual(again.answer, first.answer, "the same code and page")
        removed = [
            self.simulator.send_deauthorize(
                self._url("/meta/deauthorize"), self.meta_user_id, issued_at=issued_at
            )
            for _attempt in range(2)
        ]
        self.assertEqual([r.status for r in removed], [200, 200])
        self.env.invalidate_all()  # written by the requests
        requests = self.env["meta.deletion.request"].search([])
        self.assertEqual(
            sorted(requests.mapped("kind")), ["data_deletion", "deauthorize"]
        )
        self.assertEqual(len(self.connection.message_ids.filtered("subject")), 1)

    @mute_logger(CONTROLLER_LOGGER)
    def test_stale_and_future_requests_change_nothing(self):
        now = int(time.time())
        for issued_at in (now - 400 * 24 * 3600, now + 3600):
            for path, send in (
                ("/meta/deauthorize", self.simulator.send_deauthorize),
                ("/meta/data_deletion", self.simulator.send_data_deletion),
            ):
                result = send(self._url(path), self.meta_user_id, issued_at=issued_at)
                self.assertEqual(result.status, 403, (path, issued_at))
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, "connected")
        self.assertEqual(self.connection.meta_user_id, self.meta_user_id)
        self.assertFalse(self.env["meta.deletion.request"].search([]))

    def test_a_removal_older_than_the_reconnection_leaves_it_connected(self):
        issued_before = int(time.time()) - 600
        self._reconnect()
        result = self.simulator.send_deauthorize(
            self._url("/meta/deauthorize"), self.meta_user_id, issued_at=issued_before
        )
        self.assertEqual(result.status, 200, "acknowledged")
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, "connected")
        self.assertFalse(self._alerts())
        request = self.env["meta.deletion.request"].search([])
        self.assertEqual((request.kind, request.connection_count), ("deauthorize", 0))
        # a removal issued after the reconnection does disconnect it
        result = self.simulator.send_deauthorize(
            self._url("/meta/deauthorize"), self.meta_user_id
        )
        self.env.invalidate_all()
        self.assertEqual(self.connection.state, "disconnected")

    def test_privacy_lookup_finds_and_erases_a_person_s_meta_data(self):
        sim_lead = self.submit(
            field_data=answers(email="silinecek@example.com", phone_number="")
        )
        self.deliver(sim_lead)
        lead = self.lead_of(sim_lead)
        binding = self.env["meta.lead"].search([("leadgen_id", "=", sim_lead["id"])])
        event = self.Event.search([("key", "like", sim_lead["id"])])
        self.assertEqual(event.partner_id, lead.partner_id)
        wizard = self.env["privacy.lookup.wizard"].create(
            {"name": "Ayşe Yılmaz", "email": "silinecek@example.com"}
        )
        wizard.action_lookup()
        found = {(line.res_model, line.res_id) for line in wizard.line_ids}
        self.assertIn(("meta.lead", binding.id), found)
        self.assertIn(("meta.webhook.event", event.id), found)
        wizard.line_ids.filtered(
            lambda line: line.res_model in ("meta.lead", "meta.webhook.event")
        ).action_unlink_all()
        self.assertFalse(binding.exists())
        self.assertFalse(event.exists())
        # Meta still keeps the lead: the reconciliation does not bring it back
        self.form.sync_watermark = False
        self.form.backfill_state = "todo"
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertFalse(
            self.env["meta.lead"].search([("leadgen_id", "=", sim_lead["id"])])
        )
        self.deliver(sim_lead)  # nor a redelivery
        self.assertFalse(
            self.env["meta.lead"].search([("leadgen_id", "=", sim_lead["id"])])
        )
