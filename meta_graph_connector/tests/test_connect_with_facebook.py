import re
from contextlib import ExitStack
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

import requests

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser, ChromeBrowserException
from odoo.tools import mute_logger

from .. import series
from .common import MetaCase


@tagged("post_install", "-at_install")
class TestConnectWithFacebook(MetaCase, HttpCase):
    """Facebook Login for Business against the simulator's dialog."""

    def setUp(self):
        super().setUp()
        self.env["ir.config_parameter"].sudo().set_param(
            "web.base.url", self.base_url()
        )
        self.redirect_uri = f"{self.base_url()}/meta/oauth/callback"
        self.simulator.set_oauth_redirect_uris([self.redirect_uri])
        self.other_page = self.simulator.add_page(name="Üsküdar Mağaza")
        self.person = self.simulator.add_person(
            "Ayşe Yılmaz",
            pages=[self.sim_page["id"], self.other_page["id"]],
            login=True,
        )
        self.Connection = self.env["meta.connection"].with_context(active_test=False)

    # ------------------------------------------------------------ helpers

    def start(self, features="lead_ads"):
        answer = self.url_open(
            f"/meta/oauth/start?features={features}", allow_redirects=False
        )
        self.assertEqual(answer.status_code, 303, answer.text)
        return answer.headers["Location"]

    def press(self, dialog_url, button="continue"):
        """The person's browser on Meta's dialog: press Continue or Cancel."""
        page = requests.get(dialog_url, timeout=10)
        self.assertEqual(page.status_code, 200, page.text)
        key = re.search(r'name="dialog_key" value="([^"]+)"', page.text).group(1)
        answer = requests.post(
            f"{self.simulator.base_url}/dialog/oauth/confirm",
            data={
                "dialog_key": key,
                button: "1",
                "page_ids": re.findall(r'name="page_ids" value="([^"]+)"', page.text),
                "scopes": re.findall(r'name="scopes" value="([^"]+)"', page.text),
            },
            allow_redirects=False,
            timeout=10,
        )
        self.assertEqual(answer.status_code, 302, answer.text)
        return answer.headers["Location"]

    def callback(self, location):
        self.assertTrue(location.startswith(self.redirect_uri), location)
        return self.url_open(location.split("#")[0], allow_redirects=False)

    def code_exchanges(self):
        return [
            r
            for r in self.simulator.requests
            if r.path.endswith("oauth/access_token")
            and ("code" in r.query or "code" in r.form)
        ]

    # ------------------------------------------------------------ tests

    def test_start_sends_the_browser_to_the_dialog_with_state_and_scopes(self):
        self.authenticate("meta_admin", "meta_admin")
        location = self.start("lead_ads,messenger")
        parts = urlsplit(location)
        self.assertTrue(location.startswith(self.simulator.base_url))
        self.assertTrue(parts.path.endswith("/dialog/oauth"))
        query = parse_qs(parts.query)
        self.assertEqual(query["client_id"], ["424242"])
        self.assertEqual(query["redirect_uri"], [self.redirect_uri])
        self.assertGreaterEqual(len(query["state"][0]), 32)
        scopes = query["scope"][0].split(",")
        self.assertIn("leads_retrieval", scopes)
        self.assertIn("pages_messaging", scopes)
        # the app secret never travels to the browser
        self.assertNotIn("odoo_test_app_secret", location)

    def test_the_login_connects_and_lists_the_granted_pages_to_pick_from(self):
        self.authenticate("meta_admin", "meta_admin")
        answer = self.callback(self.press(self.start()))
        self.assertEqual(answer.status_code, 303, answer.text)
        wizard_id = int(answer.headers["Location"].rsplit("/", 1)[1])
        self.assertIn("meta_connect_pages_action", answer.headers["Location"])
        wizard = self.env["meta.connect.wizard"].browse(wizard_id)
        connection = wizard.connection_id
        self.assertEqual(connection.meta_user_id, self.person["id"])
        self.assertEqual(connection.state, "connected")
        self.assertEqual(
            set(wizard.available_page_ids.mapped("external_id")),
            {self.sim_page["id"], self.other_page["id"]},
        )
        # the stored token is the long-lived one (~60 days)
        self.assertGreater(
            (connection.token_expires_at - connection.create_date).days, 50
        )
        # pick one Page: the other is archived, the picked one subscribed
        picked = wizard.available_page_ids.filtered(
            lambda p: p.external_id == self.sim_page["id"]
        )
        wizard.with_user(self.meta_admin).page_ids = picked
        wizard.with_user(self.meta_admin).action_use_pages()
        self.assertFalse((wizard.available_page_ids - picked).active)
        self.send_outbox()
        self.assertIn("leadgen", self.simulator.subscriptions(self.sim_page["id"]))
        self.assertEqual(self.simulator.subscriptions(self.other_page["id"]), [])

    def test_the_pages_to_pick_open_in_a_dialog(self):
        """Not a bare page titled "meta.connect.wizard,3" with a New button
        and a pager: the web client opens the wizard's action as a dialog."""
        self.authenticate("meta_admin", "meta_admin")
        answer = self.callback(self.press(self.start()))
        self.assertEqual(answer.status_code, 303, answer.text)
        # the web client's URL of an action and the record it opens
        odoo, action_part, wizard_id = (
            urlsplit(answer.headers["Location"]).path.strip("/").split("/")
        )
        self.assertEqual(odoo, "odoo")
        self.assertTrue(action_part.startswith("action-"), action_part)
        action = self.env.ref(action_part.removeprefix("action-"))
        self.assertEqual(action.type, "ir.actions.act_window")
        self.assertEqual(action.res_model, "meta.connect.wizard")
        self.assertEqual(action.target, "new", "a dialog")
        wizard = self.env["meta.connect.wizard"].browse(int(wizard_id))
        self.assertEqual(wizard.step, "pages")

    def test_a_retried_callback_spends_the_code_once(self):
        """Odoo runs a request again after a serialization failure (busy
        crons are enough): the retry connects with the token already
        obtained, and Meta sees one exchange of its single-use code."""
        Wizard = type(self.env["meta.connect.wizard"])
        connect_token = Wizard._meta_connect_token
        attempts = []

        def busy_database(wizard, token):
            attempts.append(token)
            if len(attempts) == 1:
                # what PostgreSQL says when a concurrent transaction wrote
                # the same rows: Odoo's retrying() rolls back and runs the
                # whole request again
                wizard.env.cr.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'could not serialize access'"
                    " USING ERRCODE = 'serialization_failure'; END $$"
                )
            return connect_token(wizard, token)

        self.authenticate("meta_admin", "meta_admin")
        location = self.press(self.start())
        with (
            patch.object(Wizard, "_meta_connect_token", busy_database),
            mute_logger("odoo.service.model", "odoo.sql_db"),
        ):
            answer = self.callback(location)
        self.assertEqual(answer.status_code, 303, answer.text)
        self.assertEqual(len(attempts), 2, "Odoo ran the callback again")
        self.assertEqual(attempts[0], attempts[1], "with the same token")
        self.assertEqual(len(self.code_exchanges()), 1, "one exchange at Meta")
        wizard_id = int(answer.headers["Location"].rsplit("/", 1)[1])
        wizard = self.env["meta.connect.wizard"].browse(wizard_id)
        self.assertEqual(wizard.connection_id.state, "connected")
        self.assertEqual(wizard.connection_id.meta_user_id, self.person["id"])

    def test_a_callback_with_a_wrong_state_is_refused_and_no_code_is_spent(self):
        self.authenticate("meta_admin", "meta_admin")
        location = self.press(self.start())
        forged = re.sub(r"state=[^&#]+", "state=forged", location)
        before = self.Connection.search_count([])
        answer = self.callback(forged)
        self.assertEqual(answer.status_code, 400)
        self.assertIn("does not belong to a login you started", answer.text)
        self.assertEqual(self.Connection.search_count([]), before)
        self.assertFalse(self.code_exchanges())
        # the login is used up: the genuine answer does not connect either
        self.assertEqual(self.callback(location).status_code, 400)
        self.assertEqual(self.Connection.search_count([]), before)

    def test_a_callback_nobody_started_is_refused(self):
        self.authenticate("meta_admin", "meta_admin")
        answer = self.callback(f"{self.redirect_uri}?code=stolen&state=whatever")
        self.assertEqual(answer.status_code, 400)
        self.assertFalse(self.code_exchanges())

    def test_a_replayed_callback_does_not_connect_twice(self):
        self.authenticate("meta_admin", "meta_admin")
        location = self.press(self.start())
        self.assertEqual(self.callback(location).status_code, 303)
        self.assertEqual(self.callback(location).status_code, 400)

    def test_cancelling_the_dialog_says_so_and_connects_nothing(self):
        self.authenticate("meta_admin", "meta_admin")
        before = self.Connection.search_count([])
        answer = self.callback(self.press(self.start(), button="cancel"))
        self.assertEqual(answer.status_code, 400)
        self.assertIn("cancelled", answer.text)
        self.assertEqual(self.Connection.search_count([]), before)

    def test_a_salesperson_can_neither_start_nor_finish_a_login(self):
        self.authenticate("meta_salesman", "meta_salesman")
        answer = self.url_open("/meta/oauth/start", allow_redirects=False)
        self.assertEqual(answer.status_code, 403)
        answer = self.url_open(
            "/meta/oauth/callback?code=x&state=y", allow_redirects=False
        )
        self.assertEqual(answer.status_code, 403)
        wizard = self.env["meta.connect.wizard"].with_user(self.salesman)
        with self.assertRaises(AccessError):
            wizard.create({}).action_connect_with_facebook()

    @staticmethod
    def _meta_wait_across_pages(browser, expression, pages=5):
        """Wait for ``expression`` in a browser that is moving from page to
        page (Odoo, then Meta's dialog): 19.0's browser helper gives up on
        the page it started on when the browser leaves it; ask the next."""
        for _page in range(pages - 1):
            try:
                return browser._wait_ready(expression)
            except ChromeBrowserException:
                continue
        return browser._wait_ready(expression)

    def test_connect_with_facebook_in_a_real_browser(self):
        """Chrome clicks through Odoo, Meta's dialog and back, in one session."""
        browser = ChromeBrowser(self, success_signal="tour succeeded")
        stack = ExitStack()
        try:
            self.authenticate("admin", "admin", browser=browser)
            self.cr.flush()
            self.cr.clear()

            def tour(url, name, wait=True):
                browser._result = browser._result.__class__()
                if url:
                    browser.navigate_to(self.base_url() + url, wait_stop=True)
                self.assertTrue(
                    self._meta_wait_across_pages(browser, f"odoo.isTourReady('{name}')")
                )
                start = f"odoo.startTour('{name}', {{}})"
                if wait:
                    browser._wait_code_ok(start, 60)
                else:  # its last click leaves the page: it cannot report
                    browser._websocket_request(
                        "Runtime.evaluate", params={"expression": start}
                    )

            # Odoo: CRM > Configuration > Meta > Connect to Meta > Connect with Facebook
            elsewhere = series.requests_from_elsewhere(self, browser=browser)
            stack.enter_context(elsewhere)
            tour("/odoo", "meta_graph_connector_connect_with_facebook", wait=False)
            # Meta's dialog (another origin): the person presses Continue
            self.assertTrue(
                self._meta_wait_across_pages(
                    browser, "document.querySelector('button[name=continue]') !== null"
                ),
                "the browser did not reach Meta's dialog",
            )
            press = "document.querySelector('button[name=continue]').click()"
            browser._websocket_request("Runtime.evaluate", params={"expression": press})
            # back in Odoo: pick the Pages
            tour(None, "meta_graph_connector_pick_pages")
        finally:
            stack.close()
            browser.stop()
            self._wait_remaining_requests()
        connection = self.Connection.search([("meta_user_id", "=", self.person["id"])])
        self.assertEqual(connection.state, "connected")
        pages = connection.asset_ids.filtered(lambda a: a.asset_type == "page")
        self.assertEqual(pages.filtered("active").mapped("name"), ["Anadolu Mobilya"])
        self.assertEqual(len(pages), 2)
