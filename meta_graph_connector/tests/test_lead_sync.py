import json
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
JOB_LOGGER = "odoo.addons.meta_graph_connector.models.meta_import_job"
#: Small pages, so that a run has several.
PAGE, LEADS = 10, 55
#: A fault on the 4th page of a run: the 3 pages before it stay imported.
BEFORE_FAULT = 3


class WorkerKilled(BaseException):
    """A worker dying between two pages (kill -9, time limit): not an
    exception the code may catch, only what the last commit kept survives."""


@tagged("post_install", "-at_install")
class TestLeadSync(LeadAdsMixin, MetaTransactionCase):
    """Backfill and reconciliation stopped on a later page, then run again:
    every lead is imported exactly once."""

    def setUp(self):
        super().setUp()
        self.startPatcher(patch.object(meta_lead_sync, "LEADS_PAGE_SIZE", PAGE))
        self.now = datetime.now(timezone.utc)
        # the import job's clock: it moves only when a test moves it
        self.clock = fields.Datetime.now()
        Job = type(self.env["meta.import.job"])
        self.startPatcher(patch.object(Job, "_meta_now", lambda job: self.clock))
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

    def _job(self):
        return self.env["meta.import.job"].search(
            [("asset_id", "=", self.page.id), ("kind", "=", "leads")]
        )

    def _when_the_job_is_due(self):
        """Move the job's clock to when its wait (backoff, throttle) ends."""
        job = self._job()
        if job.next_run_at and job.next_run_at > self.clock:
            self.clock = job.next_run_at

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
        # page 4 fails: the pages before it stay
        self.simulator.faults.fail_calls(
            f"/{sim_form['id']}/leads", kind=kind, skip=BEFORE_FAULT, **fault
        )
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertEqual(len(self._imported(sim_form)), BEFORE_FAULT * PAGE)
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
        self._when_the_job_is_due()
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertAllImportedOnce(form, sim_form)
        # the resumed run read only what the first one had not reached
        pages = [r for r in self.simulator.requests if r.path.endswith("/leads")]
        self.assertLessEqual(len(pages), (LEADS - BEFORE_FAULT * PAGE) // PAGE + 2)
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
        self._when_the_job_is_due()
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
    def _dies_on_second_page(form):
        real_import = type(form.env["meta.lead.importer"])._meta_import_batch
        calls = []

        def import_then_die(record, *args, **kwargs):
            calls.append(1)
            if len(calls) == 2:
                raise WorkerKilled()
            return real_import(record, *args, **kwargs)

        return import_then_die

    @mute_logger(SYNC_LOGGER, BINDING_LOGGER)
    def test_a_worker_killed_between_pages_loses_nothing(self):
        for backfill in (True, False):
            with self.subTest(backfill=backfill):
                form, sim_form = self._form(backfill=backfill)
                import_then_die = self._dies_on_second_page(form)
                # not assertRaises: Odoo's rolls back what its block wrote,
                # and what the first page wrote is the point
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
                self.assertEqual(len(self._imported(sim_form)), PAGE)
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
        self.assertEqual(self._job().state, "done", "the Page's job goes on")
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
        self.assertEqual(len(self._imported(sim_form)), PAGE)
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

    # --- the Page's import job: one runner's policy per error scope

    def _lead_pages(self):
        return [r for r in self.simulator.requests if r.path.endswith("/leads")]

    def _interrupt(self, sim_form, kind, **fault):
        """A backfill stopped by ``kind`` on its 4th page; the pages before
        it imported, the error shown on the form."""
        self.simulator.faults.fail_calls(
            f"/{sim_form['id']}/leads", kind=kind, skip=BEFORE_FAULT, **fault
        )
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertEqual(len(self._imported(sim_form)), BEFORE_FAULT * PAGE)
        self.simulator.faults.reset()
        self.simulator.clear_requests()

    def _resumed_where_it_stopped(self, form, sim_form, resume_at):
        """The form was read again from where it stopped (the boundary
        second included), to the end, each lead imported once."""
        self.assertAllImportedOnce(form, sim_form)
        self.assertEqual(form.backfill_imported, LEADS)
        pages = self._lead_pages()
        self.assertEqual(len(pages), (LEADS - BEFORE_FAULT * PAGE) // PAGE + 1)
        rules = json.loads(pages[0].query["filtering"])
        until = fields.Datetime.to_datetime(resume_at).replace(tzinfo=timezone.utc)
        self.assertIn(
            {
                "field": "time_created",
                "operator": "LESS_THAN",
                "value": int(until.timestamp()) + 1,
            },
            rules,
        )
        self.assertEqual(self._job().state, "done")
        self.assertFalse(self._job().last_error)

    @mute_logger(SYNC_LOGGER, GRAPH_LOGGER, JOB_LOGGER)
    def test_a_transient_failure_is_retried_after_its_backoff(self):
        """Meta failing for a moment (5xx beyond the client's own retries)
        during a backfill: the job retries after its backoff, not at the
        next 15-minute run, and the backfill resumes where it stopped."""
        form, sim_form = self._form()
        cron = self.env.ref("meta_graph_connector.ir_cron_meta_reconcile_leads")
        Trigger = self.env["ir.cron.trigger"].sudo()
        Trigger.search([("cron_id", "=", cron.id)]).unlink()
        self._interrupt(sim_form, "transient", times=4)
        job = self._job()
        self.assertEqual(job.attempts, 1)
        self.assertEqual(job.next_run_at, self.clock + timedelta(seconds=60))
        self.assertTrue(job.last_error)
        self.assertEqual(form.backfill_state, "interrupted")
        self.assertTrue(form.last_sync_error)
        resume_at = form.sync_resume_at
        self.assertTrue(
            Trigger.search(
                [("cron_id", "=", cron.id), ("call_at", "=", job.next_run_at)]
            ),
            "the cron runs again when the backoff ends",
        )
        # not before its backoff ends
        self.clock += timedelta(seconds=30)
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertFalse(self._lead_pages())
        self.clock = job.next_run_at
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self._resumed_where_it_stopped(form, sim_form, resume_at)
        self.assertEqual(job.attempts, 0)

    @mute_logger(SYNC_LOGGER, GRAPH_LOGGER, JOB_LOGGER)
    def test_a_rate_limit_waits_for_the_connections_throttle(self):
        form, sim_form = self._form()
        self._interrupt(sim_form, "throttle", code=80005)
        job = self._job()
        until = self.connection.throttled_until
        self.assertTrue(until, "Meta asked to wait")
        self.assertGreaterEqual(job.next_run_at, until)
        resume_at = form.sync_resume_at
        # nothing is called while the throttle lasts
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertFalse(self._lead_pages())
        self.connection.throttled_until = False  # the wait is over
        self.clock = job.next_run_at
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self._resumed_where_it_stopped(form, sim_form, resume_at)

    @mute_logger(SYNC_LOGGER, GRAPH_LOGGER, JOB_LOGGER)
    def test_a_token_error_pauses_the_job_until_the_connection_is_repaired(self):
        form, sim_form = self._form()
        self._interrupt(sim_form, "token", subcode=460)
        job = self._job()
        self.assertEqual(job.state, "paused")
        self.assertEqual(self.connection.state, "needs_reconnect")
        resume_at = form.sync_resume_at
        self.clock += timedelta(days=1)
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertFalse(self._lead_pages(), "nothing runs meanwhile")
        self.assertEqual(job.state, "paused")
        self.connection._meta_mark_connected()
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self._resumed_where_it_stopped(form, sim_form, resume_at)

    def test_each_run_synchronises_every_form_of_the_page_once(self):
        """The Page's job goes through its forms and ends; the next run
        starts it again (the poll), a form asked for meanwhile goes first."""
        first, first_sim = self._form(backfill=False)
        second, second_sim = self._form(backfill=False)
        self.env["meta.lead.form"]._cron_reconcile_leads()
        job = self._job()
        self.assertEqual(job.state, "done")
        self.assertAllImportedOnce(first, first_sim)
        self.assertAllImportedOnce(second, second_sim)
        self.simulator.clear_requests()
        second._meta_request_sync()
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertEqual(job.state, "done")
        paths = [r.path for r in self._lead_pages()]
        self.assertEqual(len(paths), 2, "each form once, one page each")
        self.assertIn(second_sim["id"], paths[0], "the form asked for first")
        self.assertFalse(second.sync_requested)

    @mute_logger(BINDING_LOGGER)
    def test_leads_skipped_on_several_pages_are_counted_once_the_run_ends(self):
        form, sim_form = self._form(count=25)
        malformed = [{"name": "email", "values": [{"not": "a scalar"}]}]
        for days in (1, 70):  # on the first page and on the last
            self.simulator.add_lead(
                sim_form["id"],
                created_time=self.now - timedelta(days=days),
                field_data=malformed,
            )
        self.env["meta.lead.form"]._cron_reconcile_leads()
        self.assertEqual(form.backfill_state, "done")
        self.assertEqual(len(self._imported(sim_form)), 25)
        self.assertIn("2 leads could not be read", form.last_sync_error)
        self.assertIn("values must be a list of scalars", form.last_sync_error)
