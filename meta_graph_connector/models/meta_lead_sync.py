import copy
import json
import logging
import time
from datetime import timedelta

from odoo import api, fields, models, modules

from ..graph import api as meta_api
from ..graph.errors import GraphError, MissingPermissionError, quoted
from ..graph.times import parse_time, to_naive_utc
from .meta_import_job import IMPORT_TIME_BUDGET
from .meta_queue_mixin import CONTENTION_ERRORS, quiet_sql_errors

_logger = logging.getLogger(__name__)

#: The poll re-reads this much before its watermark: Meta's clock, indexing
#: delays and equal timestamps must not make it skip a lead.
WATERMARK_OVERLAP = timedelta(hours=1)
#: times a page is imported again, in a new transaction, when another worker
#: made the same people or leads at the same moment
CONTENTION_RETRIES = 3
#: Leads asked per Graph page (Meta serves 25 unless told, up to 100); a
#: page is imported, and its progress committed, at once.
LEADS_PAGE_SIZE = 100
#: The order forms are synchronised in: the ones asked for, then a resumed
#: one (it has leads left to read), then the least recently synchronised.
FORM_ORDER = (
    "sync_requested desc, sync_resume_at asc nulls last, last_sync_at asc nulls first"
)


class MetaLeadSync(models.AbstractModel):
    """The reconciliation of lead forms with Meta: the backfill, then the
    poll that finds the leads whose webhook never came.

    A form keeps where its synchronisation stands (watermark, resume point,
    progress); this model reads Meta a page at a time and moves those marks,
    and the binding (``meta.lead``) imports what it reads. Each Page's forms
    are synchronised by its "leads" ``meta.import.job`` (its runner pages,
    commits, paces and applies the retry or pause policy of each error).
    """

    _name = "meta.lead.sync"
    _description = "Meta Lead Forms Reconciliation"

    @api.model
    def _meta_reconcile(self):
        """Pull every active form's leads since its watermark (every 15 min).

        Webhooks are at-least-once at best and sometimes never arrive; this
        poll creates only the missing leads, so a lead Meta never delivered
        still reaches the pipeline. Each run synchronises every form once,
        through its Page's import job; each connection and each form is on
        its own: one failing never stops the others.
        """
        auto_commit = not modules.module.current_test
        pages = self.env["meta.asset"].search(
            [("asset_type", "=", "page"), ("connection_id.state", "=", "connected")]
        )
        for page in pages:
            try:
                with self.env.cr.savepoint():
                    self.env["meta.lead.form"]._meta_sync_forms(
                        page.with_company(page.company_id)
                    )
            except GraphError as error:
                _logger.info("Meta form sync of Page %s failed: %s", page.id, error)
            except Exception:  # noqa: BLE001 - the other Pages go on
                _logger.exception("Meta form sync of Page %s failed", page.id)
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        Form = self.env["meta.lead.form"]
        forms = Form.search([("connection_id.state", "=", "connected")])
        # Only the Pages' jobs synchronise forms: a form marked running that
        # no job will run now (archived, its connection broken) was
        # interrupted, by a killed worker or a time limit; the others resume
        # from what their last page committed.
        stalled = Form.with_context(active_test=False).search(
            [("backfill_state", "=", "running"), ("id", "not in", forms.ids)]
        )
        stalled.write({"backfill_state": "interrupted"})
        self._meta_start_jobs(forms.page_id)
        budget = IMPORT_TIME_BUDGET if auto_commit else None
        return self.env["meta.import.job"]._meta_run_due(["leads"], time_budget=budget)

    @api.model
    def _meta_start_jobs(self, pages):
        """Every form of these Pages is due again: start their jobs over,
        except one still on its way (resuming, waiting for Meta's pace, a
        backoff or the connection's repair), which goes on first."""
        Job = self.env["meta.import.job"]
        going = Job.search(
            [
                ("asset_id", "in", pages.ids),
                ("kind", "=", "leads"),
                ("state", "in", ("pending", "running", "paused")),
            ]
        )
        # the cron itself: not triggered again
        Job._meta_restart(pages - going.asset_id, "leads", trigger=False)

    # ------------------------------------------------------------ the job

    @api.model
    def _meta_import_page(self, job):
        """One page of the reconciliation of ``job``'s Page: the next page of
        the form being synchronised, else of the next form due. The cursor
        keeps the form's run and the forms done in this run of the job;
        None when no form is left.

        An error is shown on the form. One that concerns the connection
        (throttle, Meta failing for a moment, token, app, a permission Meta
        confirms lost) is raised for the runner's policy; when the job
        resumes, the form's marks resume its run below where it stopped, as
        a new run (Meta's cursor may have expired meanwhile, and what Meta
        listed meanwhile above it is left to the watermark). Any other error
        is this form's alone: the other forms go on, the next run retries it.
        """
        state = json.loads(job.cursor) if job.cursor else {"done": []}
        form, run = self._meta_next_form(job, state)
        if not form:
            return None
        auto_commit = not modules.module.current_test
        try:
            finished = self._meta_sync_page(form, run, auto_commit)
        except Exception as error:  # noqa: BLE001 - one form never stops the others
            self._meta_sync_failed(form, error)
            state.pop("run", None)
            if isinstance(error, GraphError) and job._meta_policy(error) != "fail":
                # the runner keeps the cursor it has: this one, without the run
                job.cursor = json.dumps(state)
                raise
            finished = True
        if finished:
            state["done"].append(form.id)
            state.pop("run", None)
        else:
            state["run"] = run.to_json()
        return json.dumps(state)

    @api.model
    def _meta_next_form(self, job, state):
        """The form of ``job``'s next page and its run (begun if new)."""
        Form = self.env["meta.lead.form"]
        if state.get("run"):
            run = _SyncRun.from_json(state["run"])
            form = Form.browse(run.form_id).exists()
            if form.active and form.page_id == job.asset_id:
                return form, run
            state["done"].append(run.form_id)  # archived meanwhile
            del state["run"]
        form = Form.search(
            [
                ("page_id", "=", job.asset_id.id),
                "|",
                ("id", "not in", state["done"]),
                ("sync_requested", "=", True),  # asked again meanwhile
            ],
            order=FORM_ORDER,
            limit=1,
        )
        if not form:
            return form, None
        return form, self._meta_begin_run(form)

    # ----------------------------------------------------- one form, one page

    @api.model
    def _meta_sync_form(self, form, auto_commit=False, deadline=None):
        """Read ``form``'s leads since the watermark and import the missing,
        to the end: the same pages as its Page's job reads, in a row (tests,
        the demo and the benchmarks).

        :param deadline: ``time.monotonic()`` after which no new page is
            read: the run pauses as an interrupted one would, without an
            error, and the next run goes on.
        :return: True when the run completed, None when it paused, False
            when it stopped on an error (shown on the form).
        """
        form.ensure_one()
        run = self._meta_begin_run(form)
        if auto_commit:
            form.env.cr.commit()  # pylint: disable=invalid-commit
        while True:
            try:
                finished = self._meta_sync_page(form, run, auto_commit)
            except Exception as error:  # noqa: BLE001 - reported on the form
                self._meta_sync_failed(form, error)
                if isinstance(error, MissingPermissionError):
                    # flagged only when debug_token confirms it is gone
                    form.connection_id._meta_permission_lost(error)
                if auto_commit:
                    form.env.cr.commit()  # pylint: disable=invalid-commit
                return False
            if auto_commit:
                # per page: progress is visible and work is not redone
                form.env.cr.commit()  # pylint: disable=invalid-commit
            if finished:
                return True
            if deadline and time.monotonic() > deadline and run.advanced:
                return None

    @api.model
    def _meta_begin_run(self, form):
        """Begin a synchronisation of ``form``: since the watermark, below
        where an interrupted one stopped.

        The first run has no watermark: it is the initial backfill, as far
        back as Meta keeps leads (about 90 days), and reports its progress
        per page.
        """
        until = form.sync_resume_at or None
        values = {"sync_requested": False}
        if form.backfill_state != "done":
            values["backfill_state"] = "running"
            if not until:  # a fresh backfill, not the resumption of one
                values.update(backfill_seen=0, backfill_imported=0)
        form.write(values)
        return _SyncRun(form.id, form.sync_run_newest, until, fields.Datetime.now())

    @api.model
    def _meta_sync_page(self, form, run, auto_commit):
        """Read and import the next page of ``run``; True when it was the last.

        Meta lists a form's leads newest first
        (https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving/),
        so the watermark moves only when a run has read everything down to
        it: a run interrupted on a later page (5xx, throttling, timeout,
        token, a killed worker) leaves the watermark where it was and records
        how far down it got (``sync_resume_at``): a new run reads only the
        older leads it did not reach, and the binding's unique lead id makes
        re-reading the boundary second harmless. Every lead is imported once.
        """
        since = form.sync_watermark - WATERMARK_OVERLAP if form.sync_watermark else None
        graph_leads, after = form.connection_id._meta_call(
            meta_api.form_leads_page,
            form.meta_form_id,
            asset=form.page_id,
            since=since,
            until=run.until,
            after=run.after,
            limit=LEADS_PAGE_SIZE,
        )
        self._meta_import_leads(form, run, graph_leads, auto_commit)
        run.after = after
        if after:
            return False
        # A complete run has read every lead created before it began; a
        # resumed one only those below where the interrupted run stopped.
        reached = (form.sync_watermark, run.newest, None if run.until else run.started)
        form.write(
            {
                "sync_watermark": max(filter(None, reached), default=False),
                "sync_resume_at": False,
                "sync_run_newest": False,
                "last_sync_at": fields.Datetime.now(),
                "last_sync_error": self._meta_skipped_summary(run),
                "backfill_state": "done",
            }
        )
        return True

    @api.model
    def _meta_import_leads(self, form, run, graph_leads, auto_commit):
        """Import a page of ``form``'s leads and move the form's marks."""
        backfill = form.backfill_state != "done"
        source = "backfill" if backfill else "reconciliation"
        for retry in range(CONTENTION_RETRIES):
            skipped = []
            # the run moves only with the page imported (not twice on a retry)
            moved = copy.copy(run)
            try:
                with quiet_sql_errors(), form.env.cr.savepoint():
                    bindings = form.env["meta.lead.importer"]._meta_import_batch(
                        form, graph_leads, source, skipped
                    )
                    moved.observe(
                        parse_time(g.get("created_time")) for g in graph_leads
                    )
                    form.write(
                        self._meta_progress_values(
                            form, moved, backfill, len(graph_leads), bindings
                        )
                    )
                vars(run).update(vars(moved))
                run.skip(skipped)
                return
            except CONTENTION_ERRORS:
                # a lane made one of these people (or leads) at the same
                # moment: a new transaction sees what it made
                if not auto_commit or retry == CONTENTION_RETRIES - 1:
                    raise
                form.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _meta_progress_values(self, form, run, backfill, read, bindings):
        values = {"sync_run_newest": run.newest, "sync_resume_at": run.resume_at}
        if backfill:
            values.update(
                backfill_state="running",  # again, after an interruption
                backfill_seen=form.backfill_seen + read,
                backfill_imported=form.backfill_imported + len(bindings),
            )
        else:
            values["missed_webhook_count"] = form.missed_webhook_count + len(bindings)
        return values

    @api.model
    def _meta_sync_failed(self, form, error):
        """Keep the error visible until a run succeeds; the run resumes.
        (The door flagged or throttled the connection already.)"""
        if isinstance(error, GraphError):
            _logger.info("Meta lead sync of form %s stopped: %s", form.id, error)
        else:
            _logger.exception("Meta lead sync of form %s failed", form.id)
        values = {"last_sync_error": str(error) or error.__class__.__name__}
        if form.backfill_state != "done":
            values["backfill_state"] = "interrupted"
        form.write(values)

    @api.model
    def _meta_skipped_summary(self, run):
        if not run.skipped:
            return False
        return self.env._(
            "%(count)s leads could not be read and were skipped. First: %(error)s",
            count=run.skipped,
            error=quoted(run.first_skipped),
        )


class _SyncRun:
    """How far a synchronisation of a form got: Meta's cursor of its next
    page, and the creation times Meta pages by. Kept between pages in the
    job's cursor (:meth:`to_json`).

    ``resume_at`` is the creation time of the oldest lead read when every
    lead so far came newest first, as Meta lists them; when they did not,
    the position is unknown and a resumed run re-reads from the window the
    run started with (``until``, or everything).
    """

    _TIMES = ("until", "started", "newest", "resume_at", "oldest")

    def __init__(self, form_id, newest, until, started):
        self.form_id = form_id
        self.newest = newest or None
        self.resume_at = self.until = until or None
        self.started = started
        self.after = None  # Meta's cursor of the next page
        self.oldest = None
        self.ordered = True
        self.skipped = 0  # leads that could not be read
        self.first_skipped = ""  # why the first could not

    def to_json(self):
        data = dict(vars(self))
        for name in self._TIMES:
            data[name] = fields.Datetime.to_string(data[name]) or None
        return data

    @classmethod
    def from_json(cls, data):
        run = cls(data["form_id"], None, None, None)
        for name, value in data.items():
            if name in cls._TIMES:
                value = fields.Datetime.to_datetime(value) or None
            setattr(run, name, value)
        return run

    def skip(self, errors):
        if errors and not self.skipped:
            self.first_skipped = errors[0]
        self.skipped += len(errors)

    @property
    def advanced(self):
        """Whether a run paused now would resume further down than it began."""
        return self.resume_at is not None and self.resume_at != self.until

    def observe(self, times):
        for when in times:
            when = to_naive_utc(when)
            if when is None or (self.oldest is not None and when > self.oldest):
                self.ordered = False
            else:
                self.oldest = when
            if when and (self.newest is None or when > self.newest):
                self.newest = when
        if self.ordered and self.oldest is not None:
            self.resume_at = self.oldest
