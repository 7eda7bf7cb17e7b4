from datetime import datetime

from odoo.exceptions import AccessError
from odoo.tests import freeze_time, tagged

from odoo.addons.meta_graph_connector.tests.common import (
    PAGE_SCOPES,
    MetaTransactionCase,
)


@tagged("post_install", "-at_install")
class TestApiVersions(MetaTransactionCase):
    """The pinned Graph API version through its life: warnings ahead of its
    retirement, the next version tried without switching, the switch."""

    def setUp(self):
        super().setUp()
        self.connection.granted_scopes = ",".join(PAGE_SCOPES)

    def warnings(self):
        return self.connection.message_ids.filtered(
            lambda m: m.subject and m.subject.startswith("Meta retires")
        )

    def test_warned_90_30_and_7_days_ahead_once_each(self):
        # an ad account: the Marketing API retires v25.0 on 2027-02-23
        self.connect_ad_account()
        self.connection.api_version = "v25.0"
        told = []
        for day in (
            "2026-11-24",  # 91 days: nothing yet
            "2026-11-25",  # 90 days
            "2026-11-26",
            "2027-01-24",  # 30 days
            "2027-01-25",
            "2027-02-16",  # 7 days
            "2027-02-20",
        ):
            with freeze_time(day):
                self.connection._meta_warn_version_expiry()
            told.append(len(self.warnings()))
        self.assertEqual(told, [0, 1, 1, 2, 2, 3, 3])
        with freeze_time("2027-02-20"):
            self.connection.invalidate_recordset()
            self.assertEqual(self.connection.health_level, "danger")
            self.assertIn("v25.0", self.connection.health_html)
        self.assertIn("2027-02-23", str(self.warnings()[0].body))
        self.assertIn("v26.0", str(self.warnings()[0].body), "the next version")
        self.assertTrue(
            self.connection.activity_ids, "the responsible gets a to-do as well"
        )
        # switched: a new version starts its own warnings
        self.connection.api_version = "v26.0"
        self.assertEqual(self.connection.api_version_warned_days, 0)

    def test_graph_only_connections_follow_the_graph_calendar(self):
        self.connection.api_version = "v25.0"
        with freeze_time("2027-02-20"):
            self.connection._meta_warn_version_expiry()
            self.assertEqual(str(self.connection.api_version_expires_on), "2028-07-29")
        self.assertFalse(self.warnings())
        with freeze_time("2028-05-01"):
            self.connection._meta_warn_version_expiry()
        self.assertEqual(len(self.warnings()), 1)

    def test_the_daily_health_cron_warns(self):
        self.connection.api_version = "v21.0"  # Graph: 2027-01-21
        with freeze_time(datetime(2026, 12, 25, 6, 0)):
            self.env["meta.connection"]._cron_check_health()
        self.assertEqual(len(self.warnings()), 1)

    def test_trying_the_next_version_reports_what_changes_and_switches_nothing(self):
        self.connection.api_version = "v26.0"
        self.simulator.drop_field("v27.0", "page", "instagram_business_account")
        admin = self.connection.with_user(self.meta_admin)
        admin.action_try_next_version()
        self.assertEqual(self.connection.api_version, "v26.0", "nothing switched")
        self.assertEqual(self.connection.api_version_trial_version, "v27.0")
        self.assertFalse(self.connection.api_version_trial_ok)
        report = str(self.connection.api_version_trial_html)
        self.assertIn("instagram_business_account", report)
        self.assertIn(self.page.name, report)
        versions_called = {r.version for r in self.simulator.requests}
        self.assertLessEqual({"v26.0", "v27.0"}, versions_called)
        # one click to switch, one to come back
        admin.action_switch_version()
        self.assertEqual(self.connection.api_version, "v27.0")
        self.assertEqual(self.connection.api_version_previous, "v26.0")
        self.connection._meta_call(lambda client: client.get("me"))
        self.assertEqual(self.simulator.requests[-1].version, "v27.0")
        admin.action_switch_back()
        self.assertEqual(self.connection.api_version, "v26.0")
        self.assertIn("switched", str(self.connection.message_ids[0].body))

    def test_a_version_with_nothing_changed_says_so(self):
        self.connection.api_version = "v26.0"
        self.connection.with_user(self.meta_admin).action_try_next_version()
        self.assertTrue(self.connection.api_version_trial_ok)
        self.assertIn("unchanged", str(self.connection.api_version_trial_html))

    def test_meta_deprecation_headers_are_told_once(self):
        account = self.connect_ad_account()
        self.simulator.deprecate("v26.0", "v26.0 will stop working; upgrade to v27.0")
        for _attempt in range(2):
            self.connection._meta_call(
                lambda client: client.get(account.external_id, {"fields": "id"})
            )
        told = self.connection.message_ids.filtered(
            lambda m: m.subject and "warns about the API version" in m.subject
        )
        self.assertEqual(len(told), 1)
        self.assertIn("upgrade to v27.0", str(told.body))

    def test_only_meta_administrators_try_or_switch(self):
        for action in (
            "action_try_next_version",
            "action_switch_version",
            "action_switch_back",
        ):
            with self.assertRaises(AccessError):
                getattr(self.connection.with_user(self.salesman), action)()
