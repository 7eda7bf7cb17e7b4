import time
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models import meta_lead_sync
from .common import MetaTransactionCase
from .test_lead_ads import BINDING_LOGGER, QUESTIONS, SYNC_LOGGER, LeadAdsMixin, answers

GRAPH_LOGGER = "odoo.addons.meta_graph_connector.graph.client"
#: Small pages and batches, so that a run has several of each.
PAGE, BATCH, LEADS = 10, 20, 55


class WorkerKilled(BaseException):
    """A worker dying between two batches (kill -9, time limit): not an
    exception the code may catch, only what the last commit kept survives."""


@tagged("post_install", "-at_install")
class TestLeadSync(LeadAdsMixin, MetaTransactionCase):
    """Backfill and reconciliation stopped on a later page, then run again:
    every lead is imported exactly once."""

    def setUp(self):
        super().setUp()
        self.startPatcher(patch.object(meta_lead_sync, "LEADS_PAGE_SIZE", PAGE))
        self.startPatcher(patch.object(meta_lead_sync, "IMPORT_BATCH", BATCH))
        self.now = datetime.now(timezone.utc)
        # the forms of the Page already known to Odoo: only ours syncs
        self.env["meta.lead.form"].search([]).active = False

    def _form(self, backfill=True, count=LEADS):
        """A Meta form with ``count`` leads of the last 60 days, known to
        Odoo as freshly discovered (backfill) or already synchronised."""
        sim_form = self.simulator.add_form(self.sim_page["id"], name="Senkron Formu")
        self.simulator.add_leads(
            sim_form["id"],
            count,
            start=self.now - timedelta(days=60),
            end=self.now - timedelta(days=2),
        )
        form = self.env["meta.lead.form"]._meta_get_form(self.page, sim_form["id"])
        form.create_partner = False  # customers are not the point here
        if not backfill:
            form.write(
                {
                    "backfill_state": "done",
                    "sync_watermark": fields.Datetime.to_datetime(
                        self.now.replace(tzinfo=None) - timedelta(days=61)
                    ),
                }
            )
        return form, sim_form

    def _imported(self, sim_form):
        bindings = self.env["meta.lead"].search(
            [("form_id.meta_form_id", "=", sim_form["id"])]
        )
        return bindings

    def assertAllImportedOnce(self, form, sim_form):
        bindings = self._imported(sim_form)
        expected = {
            lead.id for lead in self.simulator.store.form_leads[sim_form["id"]].leads
        }
        self.assertEqual(set(bindings.mapped("leadgen_id")), expected)
        self.assertEqual(len(bindings), len(expected), "no lead twice")
        self.assertEqual(len(bindings.lead_id), len(expected))
        self.assertFalse(form.sync_resume_at)
        self.assertFalse(form.last_sync_error)
        self.assertEqual(form.backfill_state, "done")

    def _interrupt_and_resume(self, backfill, kind, **fault):
        form, sim_form = self._form(backfill=backfill)
        # pages 1-2 make the first batch; page 4 (in the second batch) fails
        self.simulator.faults.fail_calls(
            f"/{sim_form['id']}/leads", kind=kind, skip=3, **fault
        )
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertEqual(len(self._imported(sim_form)), BATCH, "the first batch stays")
        self.assertTrue(form.last_sync_error, "the error is shown")
        self.assertTrue(form.sync_resume_at)
        self.assertEqual(form.backfill_state, "interrupted" if backfill else "done")
        if kind == "token":
            self.assertEqual(self.connection.state, "needs_reconnect")
            self.connection._meta_mark_connected()
        if kind == "throttle":
            self.assertTrue(self.connection.is_throttled, "Meta asked to wait")
            self.connection.throttled_until = False  # the wait is over
        self.simulator.faults.reset()
        self.simulator.clear_requests()
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertAllImportedOnce(form, sim_form)
        # the resumed run read only what the first one had not reached
        pages = [r for r in self.simulator.requests if r.path.endswith("/leads")]
        self.assertLessEqual(len(pages), (LEADS - BATCH) // PAGE + 2)
        return form

    @mute_logger(SYNC_LOGGER, BINDING_LOGGER, GRAPH_LOGGER)
    def test_backfill_and_reconciliation_resume_after_each_fault(self):
        faults = {
            "5xx": ("transient", {"times": 4}),  # the client retries 3 times
            "rate limit": ("throttle", {"code": 80005}),
            "timeout": ("hang", {"times": 4}),
            "token error": ("token", {"subcode": 460}),
        }
        self.meta_app.graph_timeout = 0.5
        self.simulator.faults.hang_seconds = 1.5
        for backfill in (True, False):
            for name, (kind, options) in faults.items():
                with self.subTest(backfill=backfill, fault=name):
                    form = self._interrupt_and_resume(backfill, kind, **options)
                    form.active = False

    @mute_logger(SYNC_LOGGER, BINDING_LOGGER, GRAPH_LOGGER)
    def test_a_lead_arriving_during_an_interruption_is_not_skipped(self):
        """A lead created after the interrupted run began (its webhook lost)
        is above what the resumed run reads: the watermark must not jump
        over it when the resumed run completes."""
        form, sim_form = self._form()
        self.simulator.faults.fail_calls(
            f"/{sim_form['id']}/leads", kind="throttle", code=80005, skip=3
        )
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertTrue(form.sync_resume_at)
        self.connection.throttled_until = False  # the wait is over
        late = self.simulator.add_lead(
            sim_form["id"], created_time=self.now - timedelta(days=1)
        )
        self.env["meta.lead.form"]._cron_reconcile_leads()  # resumes, completes
        self.assertLess(
            form.sync_watermark,
            fields.Datetime.to_datetime(self.now.replace(tzinfo=None))
            - timedelta(days=1),
        )
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertIn(late["id"], self._imported(sim_form).mapped("leadgen_id"))
        self.assertAllImportedOnce(form, sim_form)

    @staticmethod
    def _dies_on_second_batch(form):
        real_import = type(form.env["meta.lead.importer"])._meta_import_batch
        calls = []

        def import_then_die(record, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise WorkerKilled()
            return real_import(record, *args, **kwargs)

        return import_then_die

    @mute_logger(SYNC_LOGGER, BINDING_LOGGER)
    def test_a_worker_killed_between_batches_loses_nothing(self):
        for backfill in (True, False):
            with self.subTest(backfill=backfill):
                form, sim_form = self._form(backfill=backfill)
                import_then_die = self._dies_on_second_batch(form)
                # not assertRaises: Odoo's rolls back what its block wrote,
                # and what the first batch wrote is the point
                killed = False
                with patch.object(
                    type(form.env["meta.lead.importer"]),
                    "_meta_import_batch",
                    import_then_die,
                ):
                    try:
                        self.env["meta.lead.form"]._cron_reconcile_leads()
                    except WorkerKilled:
                        killed = True
                self.assertTrue(killed)
                self.assertEqual(len(self._imported(sim_form)), BATCH)
                if backfill:
                    self.assertEqual(form.backfill_state, "running")
                self.env["meta.lead.form"]._cron_reconcile_leads()
                self.assertAllImportedOnce(form, sim_form)
                form.active = False

    @mute_logger(SYNC_LOGGER, BINDING_LOGGER, GRAPH_LOGGER)
    def test_one_broken_form_does_not_stop_the_others(self):
        broken, broken_sim = self._form()
        sound, sound_sim = self._form()
        crashing, crashing_sim = self._form()
        self.simulator.faults.fail_calls(
            f"/{broken_sim['id']}/leads", kind="not_found", times=100
        )
        Importer = type(self.env["meta.lead.importer"])
        real_import = Importer._meta_import

        def crash_on_one_form(record, form, *args, **kwargs):
            if form == crashing:
                raise ValueError("a bug on one form")
            return real_import(record, form, *args, **kwargs)

        with patch.object(Importer, "_meta_import", crash_on_one_form):
            self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertAllImportedOnce(sound, sound_sim)
        for form in (broken, crashing):
            self.assertEqual(form.backfill_state, "interrupted")
            self.assertTrue(form.last_sync_error)
        self.assertIn("a bug on one form", crashing.last_sync_error)
        # the errors stay until a run succeeds, then they are gone
        self.simulator.faults.reset()
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertAllImportedOnce(broken, broken_sim)
        self.assertAllImportedOnce(crashing, crashing_sim)

    def test_an_empty_form_gets_a_watermark(self):
        form, _sim_form = self._form(count=0)
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertEqual(form.backfill_state, "done")
        self.assertTrue(form.sync_watermark, "the next run does not read 90 days again")

    def test_one_new_person_in_one_batch_is_one_customer(self):
        sim_form = self.simulator.add_form(
            self.sim_page["id"], name="Kişi Formu", questions=QUESTIONS
        )
        when = self.now - timedelta(days=3)
        person = {"email": "yeni.kisi@example.com", "phone_number": "0532 999 88 77"}
        for offset, fields_ in enumerate(
            (
                person,
                {**person, "email": "YENI.KISI@example.com"},
                {**person, "email": ""},  # the same person, by phone only
                {"email": "baska@example.com", "phone_number": ""},
            )
        ):
            self.simulator.add_lead(
                sim_form["id"],
                created_time=when + timedelta(minutes=offset),
                field_data=answers(**fields_),
            )
        form = self.env["meta.lead.form"]._meta_get_form(self.page, sim_form["id"])
        self.assertTrue(form.create_partner)
        self.env["meta.lead.form"]._cron_reconcile_leads()
        leads = self._imported(sim_form).lead_id
        self.assertEqual(len(leads), 4)
        self.assertEqual(len(leads.partner_id), 2)
        same = leads.filtered(lambda lead: lead.partner_id.email != "baska@example.com")
        self.assertEqual(len(same), 3)
        self.assertEqual(len(same.partner_id), 1)

    def test_a_run_out_of_time_pauses_and_the_next_one_goes_on(self):
        form, sim_form = self._form()
        self.assertIsNone(
            self.env["meta.lead.sync"]._meta_sync_form(
                form, deadline=time.monotonic() - 1
            )
        )
        self.assertEqual(len(self._imported(sim_form)), BATCH)
        self.assertFalse(form.last_sync_error, "a pause is no error")
        self.assertTrue(form.sync_resume_at)
        self.assertEqual(form.backfill_state, "running")
        self.assertTrue(self.env["meta.lead.sync"]._meta_sync_form(form))
        self.assertAllImportedOnce(form, sim_form)

    @mute_logger(SYNC_LOGGER)
    def test_usage_near_the_limit_stops_the_paging_until_meta_lets_go(self):
        """The door observes Meta's usage after each page: past the
        threshold, the next page waits for the throttle to end (calling on
        would make Meta throttle the connection itself)."""
        form, sim_form = self._form()
        self.env["ir.config_parameter"].sudo().set_param(
            "meta_graph_connector.usage_threshold", "1"
        )
        budget = self.simulator.app_call_budget
        self.simulator.app_call_budget = 10  # every call uses 10 % of it
        self.simulator.clear_requests()
        self.assertFalse(self.env["meta.lead.sync"]._meta_sync_form(form))
        pages = [r for r in self.simulator.requests if r.path.endswith("/leads")]
        self.assertEqual(len(pages), 1, "no page after the one that used 10 %")
        self.assertTrue(self.connection.is_throttled)
        self.assertEqual(form.backfill_state, "interrupted")
        self.assertTrue(form.last_sync_error)
        self.simulator.app_call_budget = budget  # the hour is over
        self.env["ir.config_parameter"].sudo().set_param(
            "meta_graph_connector.usage_threshold", "75"
        )
        self.connection.throttled_until = False
        self.assertTrue(self.env["meta.lead.sync"]._meta_sync_form(form))
        self.assertAllImportedOnce(form, sim_form)

    def test_a_stalled_backfill_of_a_form_no_longer_synced_is_not_left_running(self):
        form, _sim_form = self._form()
        form.backfill_state = "running"  # its worker was killed
        form.active = False
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertEqual(form.backfill_state, "interrupted")
