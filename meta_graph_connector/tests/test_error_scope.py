"""A fault about one object never parks a connection (issue: one
capability's fault must never stop another).

Meta's errors are classified by what they concern in the core
(``graph.errors``); here the Odoo layer is held to it, with the
capabilities running together on one connection: an Instagram profile Meta
will not give, or a permission refusal about one lead, must leave the next
lead, comment and message flowing. Only the token, the app, or a permission
that ``debug_token`` confirms missing change the connection's state; and
the permissions a connection needs follow the features it is used for.
"""

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..graph import oauth, social
from ..graph.errors import UnavailableObjectError
from .common import PAGE_SCOPES, MetaTransactionCase
from .test_lead_ads import EVENT_LOGGER, LeadAdsMixin


@tagged("post_install", "-at_install")
class TestErrorScope(LeadAdsMixin, MetaTransactionCase):
    def setUp(self):
        super().setUp()
        # the connection is used for Lead Ads and Instagram, and its token
        # was granted what that needs (Instagram's profile lookups included)
        scopes = [
            *PAGE_SCOPES,
            "instagram_basic",
            "instagram_manage_comments",
            "instagram_manage_messages",
        ]
        self.system_token = self.simulator.add_user_token(
            scopes=scopes, pages=[self.sim_page["id"]], token_type="SYSTEM_USER"
        )
        self.connection.sudo().access_token = self.system_token
        self.page.sudo().access_token = self.simulator.page_token(
            self.system_token, self.sim_page["id"]
        )
        self.connection.write({"feature_lead_ads": True, "feature_instagram": True})
        self.connection._meta_check_health()
        self.assertEqual(self.connection.state, "connected")

    def event_of(self, sim_lead):
        return self.Event.search([("key", "like", sim_lead["id"])])

    def assert_leads_still_flow(self):
        sim_lead = self.submit()
        self.deliver(sim_lead)
        self.assertTrue(self.lead_of(sim_lead), "the next lead is not parked")
        self.assertEqual(self.connection.state, "connected")

    def test_a_profile_meta_will_not_give_never_parks_the_connection(self):
        """An Instagram commenter who never messaged the account: Meta
        answers 230 to the profile lookup. Before, the door flagged the
        whole connection "permission missing" and parked every lead."""
        ig = self.sim_page["ig_account_id"]
        media = self.simulator.add_ig_media(ig)
        self.simulator.add_comment(
            media["id"],
            "Fiyat nedir?",
            from_id="17841000000077",
            username="deniz",
            deliver=False,
        )
        # not assertRaises: it rolls back to a savepoint, hiding what the
        # door wrote; the profile cron has no savepoint around the call
        refused = None
        try:
            self.instagram._meta_call(social.get_profile, "17841000000077")
        except UnavailableObjectError as error:
            refused = error
        self.assertTrue(refused, "Meta gives no profile of one who never wrote")
        self.assertEqual(self.connection.state, "connected")
        self.assertFalse(self.connection.activity_ids, "no alert for one person")
        self.assert_leads_still_flow()

    def test_a_refusal_about_one_lead_fails_that_lead_only(self):
        """Meta refuses one object with a permission code although the
        token holds every permission: debug_token says so, the item is
        dead with Meta's reason and the others go on."""
        refused, fine = self.submit(), self.submit()
        self.simulator.faults.fail_calls(refused["id"], kind="permission")
        with mute_logger(EVENT_LOGGER):
            self.deliver(refused)
        event = self.event_of(refused)
        self.assertEqual(event.state, "dead")
        self.assertIn("200", event.last_error)
        self.assertEqual(self.connection.state, "connected")
        self.assertFalse(self.connection.activity_ids)
        self.deliver(fine)
        self.assertTrue(self.lead_of(fine))

    def test_a_permission_meta_confirms_missing_stops_and_says_which(self):
        """The same refusal, but debug_token confirms leads_retrieval is
        gone: the connection is flagged with the permission named, its work
        waits, and the health says so (it said "healthy" before)."""
        sim_lead = self.submit()
        self.simulator.revoke_scope(self.system_token, "leads_retrieval")
        self.simulator.faults.fail_calls(sim_lead["id"], kind="permission")
        self.connection.last_health_check = False
        with mute_logger(EVENT_LOGGER):
            self.deliver(sim_lead)
        event = self.event_of(sim_lead)
        self.assertEqual(event.state, "parked")
        self.assertEqual(self.connection.state, "permission_missing")
        self.assertEqual(self.connection.missing_scopes, "leads_retrieval")
        self.assertEqual(self.connection.health_level, "danger")
        self.assertIn("leads_retrieval", str(self.connection.health_html))
        self.assertEqual(len(self.connection.activity_ids), 1)

    def test_one_inspection_for_a_burst_of_refusals(self):
        leads = [self.submit() for _i in range(3)]
        for lead in leads:
            self.simulator.faults.fail_calls(lead["id"], kind="permission")
        self.connection.last_health_check = False
        before = len(self.simulator.requests)
        with mute_logger(EVENT_LOGGER):
            self.deliver(*leads)
        inspections = [
            r for r in self.simulator.requests[before:] if "debug_token" in r.path
        ]
        self.assertEqual(len(inspections), 1)
        self.assertEqual({self.event_of(lead).state for lead in leads}, {"dead"})

    def test_an_app_error_flags_the_connection_and_says_so(self):
        """Code 3: the app lacks a capability; no token can fix it. The
        connection says so (not "permission missing") and work waits."""
        sim_lead = self.submit()
        self.simulator.faults.fail_calls(sim_lead["id"], kind="app")
        with mute_logger(EVENT_LOGGER):
            self.deliver(sim_lead)
        self.assertFalse(self.lead_of(sim_lead), "waits for the repair")
        self.assertEqual(self.connection.state, "app_restricted")
        self.assertEqual(self.connection.health_level, "danger")
        self.assertIn("App Dashboard", str(self.connection.health_html))
        self.connection._meta_check_health()
        self.assertEqual(self.connection.state, "connected")
        self.Event._cron_process_events()
        self.assertTrue(self.lead_of(sim_lead), "released once repaired")


@tagged("post_install", "-at_install")
class TestPermissionsFollowFeatures(MetaTransactionCase):
    def connect_with(self, features, **flags):
        token = self.simulator.add_user_token(
            scopes=list(oauth.login_scopes(features)),
            pages=[self.sim_page["id"]],
            token_type="SYSTEM_USER",
        )
        connection = self.env["meta.connection"].create(
            {"name": "Yorum ve Messenger", "access_token": token, **flags}
        )
        connection._meta_check_health()
        return connection

    def test_comments_and_messenger_need_no_leads_retrieval(self):
        """Connected with exactly what "Connect with Facebook" asks for
        comments and Messenger: nothing is missing, nothing is parked."""
        features = ["page_comments", "messenger"]
        connection = self.connect_with(
            features, feature_page_comments=True, feature_messenger=True
        )
        self.assertEqual(connection.state, "connected")
        self.assertFalse(connection.missing_scopes)
        self.assertEqual(connection.health_level, "ok")

    def test_a_connection_made_without_features_takes_those_it_was_granted(self):
        connection = self.connect_with(["page_comments", "messenger"])
        self.assertEqual(connection.state, "connected")
        self.assertEqual(connection._meta_features(), ["page_comments", "messenger"])

    def test_ticking_a_feature_asks_for_its_permissions(self):
        connection = self.connect_with(
            ["messenger"], feature_messenger=True, user_id=self.meta_admin.id
        )
        connection.feature_lead_ads = True
        self.assertEqual(connection.state, "permission_missing")
        self.assertIn("leads_retrieval", connection.missing_scopes)
        connection.feature_lead_ads = False
        self.assertEqual(connection.state, "connected")
        self.assertFalse(connection.missing_scopes)


@tagged("post_install", "-at_install")
class TestConnectNeverNarrows(MetaTransactionCase):
    """Connecting again with a narrower login never takes a Page away from
    a connection where more of it works, without saying and asking."""

    def setUp(self):
        super().setUp()
        # the company's connection serves Lead Ads and Messenger
        self.connection.write({"feature_lead_ads": True, "feature_messenger": True})
        self.connection._meta_check_health()
        self.page._meta_subscribe_webhooks()
        self.assertIn("messages", self.simulator.subscriptions(self.sim_page["id"]))

    def test_a_new_login_asks_at_least_for_what_already_works(self):
        wizard = self.env["meta.connect.wizard"].with_user(self.meta_admin).create({})
        self.assertTrue(wizard.feature_lead_ads and wizard.feature_messenger)
        self.assertIn("pages_messaging", wizard.login_scopes)

    def test_a_narrower_login_keeps_the_page_where_it_works_and_says_so(self):
        narrow = self.simulator.add_user_token(
            scopes=list(oauth.login_scopes(["lead_ads"])),
            pages=[self.sim_page["id"]],
            token_type="SYSTEM_USER",
        )
        wizard = (
            self.env["meta.connect.wizard"]
            .with_user(self.meta_admin)
            .create({"access_token": narrow, "feature_messenger": False})
        )
        action = wizard.action_connect()
        self.send_outbox()
        self.assertEqual(action["res_model"], "meta.connect.wizard", "it asks")
        self.assertNotEqual(wizard.connection_id, self.connection)
        self.assertEqual(self.page.connection_id, self.connection, "not moved")
        self.assertIn("messages", self.simulator.subscriptions(self.sim_page["id"]))
        self.assertEqual(wizard.kept_page_ids, self.page)
        self.assertIn("Messenger", str(wizard.kept_pages_html))
        # the administrator read it and moves the Page all the same
        wizard.action_move_kept_pages()
        self.assertEqual(self.page.connection_id, wizard.connection_id)
