import logging
import time
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.tools import split_every

from ..graph import api as meta_api
from ..graph.errors import (
    AppError,
    GraphError,
    MissingPermissionError,
    RateLimitError,
    TokenError,
    quoted,
)
from ..graph.times import parse_time, to_naive_utc
from .meta_queue_mixin import CONTENTION_ERRORS, quiet_sql_errors

_logger = logging.getLogger(__name__)

#: The poll re-reads this much before its watermark: Meta's clock, indexing
#: delays and equal timestamps must not make it skip a lead.
WATERMARK_OVERLAP = timedelta(hours=1)
#: A reconciliation run starts no new batch after this many seconds; it
#: reports the forms left and the scheduler runs it again at once (see the
#: event processing's RUN_TIME_BUDGET for why runs stay short).
SYNC_TIME_BUDGET = 10
IMPORT_BATCH = 200
#: times a batch is imported again, in a new transaction, when another worker
#: made the same people or leads at the same moment
CONTENTION_RETRIES = 3
#: Leads asked per Graph page (Meta serves 25 unless told, up to 100).
LEADS_PAGE_SIZE = 100


class MetaLeadSync(models.AbstractModel):
    """The reconciliation of lead forms with Meta: the backfill, then the
    poll that finds the leads whose webhook never came.

    A form keeps where its synchronisation stands (watermark, resume point,
    progress); this model reads Meta and moves those marks, and the binding
    (``meta.lead``) imports what it reads. Called by the form's cron.
    """

    _name = "meta.lead.sync"
    _description = "Meta Lead Forms Reconciliation"

    @api.model
    def _meta_reconcile(self):
        """Pull every active form's leads since its watermark (every 15 min).

        Webhooks are at-least-once at best and sometimes never arrive; this
        poll creates only the missing leads, so a lead Meta never delivered
        still reaches the pipeline. Each connection and each form is on its
        own: one failing never stops the others.
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
        forms = Form.search(
            [("connection_id.state", "=", "connected")],
            order="sync_requested desc, sync_resume_at asc nulls last,"
            " last_sync_at asc nulls first",
        )
        # Only this cron synchronises forms and it never runs twice at once:
        # a form marked running that it will not run now (archived, its
        # connection broken) was interrupted, by a killed worker or a time
        # limit; the others resume below from what their last batch committed.
        stalled = Form.with_context(active_test=False).search(
            [("backfill_state", "=", "running"), ("id", "not in", forms.ids)]
        )
        stalled.write({"backfill_state": "interrupted"})
        deadline = time.monotonic() + SYNC_TIME_BUDGET if auto_commit else None
        done = 0
        for form in forms:
            if deadline and time.monotonic() > deadline:
                break
            self.with_company(form.company_id)._meta_sync_form(
                form.with_company(form.company_id),
                auto_commit=auto_commit,
                deadline=deadline,
            )
            done += 1
        # the forms not reached, and one paused midway, are picked up by the
        # next run, which the scheduler starts at once
        paused = forms.filtered(lambda f: f.sync_resume_at and not f.last_sync_error)
        self.env["ir.cron"]._notify_progress(
            done=done, remaining=len(forms) - done + len(paused)
        )
        return True

    @api.model
    def _meta_sync_form(self, form, auto_commit=False, deadline=None):
        """Read ``form``'s leads since the watermark and import the missing.

        The first run has no watermark: it is the initial backfill, as far
        back as Meta keeps leads (about 90 days), and reports its progress
        per batch.

        Meta lists a form's leads newest first
        (https://developers.facebook.com/docs/marketing-api/guides/lead-ads/retrieving/),
        so the watermark moves only when a run has read everything down to
        it: a run interrupted on a later page (5xx, throttling, timeout,
        token, a killed worker) leaves the watermark where it was and records
        how far down it got (``sync_resume_at``): the next run reads only the
        older leads it did not reach, and the binding's unique lead id makes
        re-reading the boundary second harmless. Every lead is imported once.

        :param deadline: ``time.monotonic()`` after which no new batch is
            started: the run pauses as an interrupted one would, without an
            error, and the next run goes on.
        :return: True when the run completed, None when it paused.
        """
        form.ensure_one()
        started_at = fields.Datetime.now()
        since = form.sync_watermark - WATERMARK_OVERLAP if form.sync_watermark else None
        until = form.sync_resume_at or None
        backfill = form.backfill_state != "done"
        values = {"sync_requested": False}
        if backfill:
            values["backfill_state"] = "running"
            if not until:  # a fresh backfill, not the resumption of one
                values.update(backfill_seen=0, backfill_imported=0)
        form.write(values)
        if auto_commit:
            form.env.cr.commit()  # pylint: disable=invalid-commit
        run = _SyncRun(form.sync_run_newest, until)
        skipped = []
        try:
            leads = form.connection_id._meta_pages(
                meta_api.iter_form_leads,
                form.meta_form_id,
                asset=form.page_id,
                since=since,
                until=until,
                limit=LEADS_PAGE_SIZE,
            )
            source = "backfill" if backfill else "reconciliation"
            for batch in split_every(IMPORT_BATCH, leads, list):
                for retry in range(CONTENTION_RETRIES):
                    try:
                        with quiet_sql_errors(), form.env.cr.savepoint():
                            bindings = form.env[
                                "meta.lead.importer"
                            ]._meta_import_batch(form, batch, source, skipped)
                            run.observe(
                                parse_time(g.get("created_time")) for g in batch
                            )
                            form.write(
                                self._meta_progress_values(
                                    form, run, backfill, len(batch), bindings
                                )
                            )
                        break
                    except CONTENTION_ERRORS:
                        # a lane made one of these people (or leads) at the
                        # same moment: a new transaction sees what it made
                        if not auto_commit or retry == CONTENTION_RETRIES - 1:
                            raise
                        form.env.cr.commit()  # pylint: disable=invalid-commit
                if auto_commit:
                    # per batch: progress is visible and work is not redone
                    form.env.cr.commit()  # pylint: disable=invalid-commit
                if deadline and time.monotonic() > deadline and run.advanced:
                    return None
        except Exception as error:  # noqa: BLE001 - one form never stops the others
            self._meta_sync_failed(form, error, backfill)
            if auto_commit:
                form.env.cr.commit()  # pylint: disable=invalid-commit
            return False
        # A complete run has read every lead created before it began; a
        # resumed one only those below where the interrupted run stopped.
        reached = (form.sync_watermark, run.newest, None if until else started_at)
        form.write(
            {
                "sync_watermark": max(filter(None, reached), default=False),
                "sync_resume_at": False,
                "sync_run_newest": False,
                "last_sync_at": fields.Datetime.now(),
                "last_sync_error": self._meta_skipped_summary(skipped),
                "backfill_state": "done",
            }
        )
        return True

    @api.model
    def _meta_progress_values(self, form, run, backfill, read, bindings):
        values = {"sync_run_newest": run.newest, "sync_resume_at": run.resume_at}
        if backfill:
            values.update(
                backfill_seen=form.backfill_seen + read,
                backfill_imported=form.backfill_imported + len(bindings),
            )
        else:
            values["missed_webhook_count"] = form.missed_webhook_count + len(bindings)
        return values

    @api.model
    def _meta_sync_failed(self, form, error, backfill):
        """Keep the error visible until a run succeeds; the run resumes."""
        if isinstance(error, GraphError):
            _logger.info("Meta lead sync of form %s stopped: %s", form.id, error)
        else:
            _logger.exception("Meta lead sync of form %s failed", form.id)
        if isinstance(error, TokenError):
            form.connection_id._meta_flag_token_error(error)
        elif isinstance(error, AppError):
            form.connection_id._meta_flag_app_error(error)
        elif isinstance(error, MissingPermissionError):
            # flagged only when debug_token confirms the permission is gone
            form.connection_id._meta_permission_lost(error)
        elif isinstance(error, RateLimitError):
            form.connection_id._meta_throttle(error.retry_after, str(error))
        values = {"last_sync_error": str(error) or error.__class__.__name__}
        if backfill:
            values["backfill_state"] = "interrupted"
        form.write(values)

    @api.model
    def _meta_skipped_summary(self, skipped):
        if not skipped:
            return False
        return self.env._(
            "%(count)s leads could not be read and were skipped. First: %(error)s",
            count=len(skipped),
            error=quoted(skipped[0]),
        )


class _SyncRun:
    """How far a synchronisation got, in the creation times Meta pages by.

    ``resume_at`` is the creation time of the oldest lead read when every
    lead so far came newest first, as Meta lists them; when they did not,
    the position is unknown and a resumed run re-reads from the window the
    run started with (``until``, or everything).
    """

    def __init__(self, newest, until):
        self.newest = newest or None
        self.resume_at = self._until = until or None
        self._oldest = None
        self._ordered = True

    @property
    def advanced(self):
        """Whether a run paused now would resume further down than it began."""
        return self.resume_at is not None and self.resume_at != self._until

    def observe(self, times):
        for when in times:
            when = to_naive_utc(when)
            if when is None or (self._oldest is not None and when > self._oldest):
                self._ordered = False
            else:
                self._oldest = when
            if when and (self.newest is None or when > self.newest):
                self.newest = when
        if self._ordered and self._oldest is not None:
            self.resume_at = self._oldest
