import logging
import math
from datetime import timedelta

from odoo import api, fields, models, modules

from .. import series
from ..graph.errors import APP, PERMISSION, THROTTLE, TOKEN, TRANSIENT, GraphError

_logger = logging.getLogger(__name__)

#: A cron run starts no new page after this many seconds; the cron is
#: triggered again at once for what is left (short runs never hold a worker).
IMPORT_TIME_BUDGET = 20
#: Meta failing for a moment: the page is tried again after 1, 2, 4… minutes
#: (at most an hour); after this many failures in a row the job fails.
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 3600
MAX_ATTEMPTS = 8


@series.sql_constraints
class MetaImportJob(models.Model):
    """One resumable import of a Page's or an Instagram account's history,
    or the reconciliation of a Page's Lead Ads forms.

    The job holds the state (cursor, window, next run, last error); a
    capability supplies only ``_meta_import_page(job)``, which imports one
    page and returns the cursor of the next one (None when done). One
    runner pages every job, commits each page with its next cursor (a
    killed worker resumes exactly there) and applies one policy per error
    scope: a throttle waits for the connection's throttle to end, a
    transient failure retries with backoff, a token, app or confirmed
    permission error waits for the connection's repair, and any other
    error fails the job with Meta's reason. Nothing sleeps: pacing sets
    the job's next run."""

    _name = "meta.import.job"
    _description = "Meta Import Job"
    _order = "id"
    _check_company_auto = True

    #: kind: (model importing one page, asset field of the days to import or
    #: None when the kind has no window of days, cron running the kind)
    _meta_kinds = {
        "comments": (
            "meta.social.import",
            "comment_import_days",
            "meta_graph_connector.ir_cron_meta_import_comments",
        ),
        "conversations": (
            "meta.conversation.import",
            "inbox_import_days",
            "meta_graph_connector.ir_cron_meta_import_conversations",
        ),
        # the Lead Ads reconciliation of a Page's forms: each form keeps its
        # own window (its watermark), so the job has no days
        "leads": (
            "meta.lead.sync",
            None,
            "meta_graph_connector.ir_cron_meta_reconcile_leads",
        ),
    }

    asset_id = fields.Many2one(
        "meta.asset", required=True, readonly=True, index=True, ondelete="cascade"
    )
    connection_id = fields.Many2one(related="asset_id.connection_id", store=True)
    company_id = fields.Many2one(related="asset_id.company_id", store=True)
    kind = fields.Selection(
        [
            ("comments", "Comments"),
            ("conversations", "Conversations"),
            ("leads", "Lead Ads Forms"),
        ],
        required=True,
        readonly=True,
    )
    state = fields.Selection(
        [
            ("pending", "To import"),
            ("running", "Importing"),
            ("paused", "Waiting for the connection"),
            ("done", "Imported"),
            ("failed", "Failed"),
        ],
        default="pending",
        required=True,
        readonly=True,
    )
    # where the next page starts; the importer's own spelling
    cursor = fields.Char(readonly=True)
    # what is older is not imported (set when the job starts)
    since = fields.Datetime(readonly=True)
    next_run_at = fields.Datetime(readonly=True)
    attempts = fields.Integer(readonly=True)
    last_error = fields.Char(readonly=True)

    _sql_constraints = [
        ("asset_kind_uniq", "unique(asset_id, kind)", "One import per kind."),
    ]

    def _meta_now(self):
        """The runner's clock (tests move it)."""
        return fields.Datetime.now()

    @api.model
    def _meta_restart(self, assets, kind, trigger=True):
        """Import ``kind`` of these assets (again) from the start; ``trigger``
        runs the kind's cron at once (not when the cron itself restarts)."""
        # sudo: meta.import.job - the system's work, started for assets the
        # caller may administer (checked by the caller)
        Job = self.sudo()
        assets = assets.filtered(lambda a: a.asset_type in ("page", "instagram"))
        if not assets:
            return
        for asset in assets:
            job = Job.search([("asset_id", "=", asset.id), ("kind", "=", kind)])
            values = {
                "state": "pending",
                "cursor": False,
                "since": False,
                "next_run_at": False,
                "attempts": 0,
                "last_error": False,
            }
            if job:
                job.write(values)
            else:
                Job.create(dict(values, asset_id=asset.id, kind=kind))
        if trigger:
            self.env.ref(self._meta_kinds[kind][2])._trigger()

    def _meta_days(self):
        """The days this job imports; None when its kind has no window."""
        self.ensure_one()
        days_field = self._meta_kinds[self.kind][1]
        return self.asset_id[days_field] if days_field else None

    def _meta_due(self, kinds):
        now = self._meta_now()
        jobs = self.search(
            [
                ("kind", "in", kinds),
                ("state", "in", ("pending", "running", "paused")),
                ("asset_id.active", "=", True),
                ("connection_id.state", "=", "connected"),
                "|",
                ("next_run_at", "=", False),
                ("next_run_at", "<=", now),
            ]
        )
        # 0 days: nothing to import (until the days change)
        return jobs.filtered(lambda job: job._meta_days() != 0)[:1]

    @api.model
    def _meta_run_due(self, kinds, time_budget=None, limit=None):
        """Run the due jobs of ``kinds`` page by page; True when none is
        left due. ``time_budget`` (seconds, crons) or ``limit`` (pages,
        tests) ends the run early: the cron is triggered for the rest."""
        auto_commit = not modules.module.current_test
        started = self._meta_now()
        pages = 0
        while True:
            job = self._meta_due(kinds)
            if not job:
                self._meta_wake(kinds)
                return True
            spent = (self._meta_now() - started).total_seconds()
            if (time_budget is not None and spent >= time_budget) or (
                limit is not None and pages >= limit
            ):
                self.env.ref(self._meta_kinds[job.kind][2])._trigger()
                return False
            job.with_company(job.company_id)._meta_run_page()
            pages += 1
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _meta_wake(self, kinds):
        """Trigger each kind's cron when its next waiting job is due."""
        for kind in kinds:
            waiting = self.search(
                [
                    ("kind", "=", kind),
                    ("state", "in", ("pending", "running")),
                    ("next_run_at", "!=", False),
                ],
                order="next_run_at",
                limit=1,
            )
            if waiting:
                self.env.ref(self._meta_kinds[kind][2])._trigger(waiting.next_run_at)

    def _meta_run_page(self):
        """Import the next page of this job and record where it ends."""
        self.ensure_one()
        days = self._meta_days()
        if not self.since and days is not None:
            self.since = self._meta_now() - timedelta(days=days)
        if self.state != "running":
            self.state = "running"
        model = self._meta_kinds[self.kind][0]
        # the page's own calls count against Meta's pace (_meta_pace)
        job = self.with_context(meta_page_started=self._meta_now())
        try:
            cursor = self.env[model]._meta_import_page(job)
        except GraphError as error:
            return self._meta_page_failed(error)
        self.write(
            {
                "cursor": cursor or False,
                "state": "running" if cursor else "done",
                "attempts": 0,
                "last_error": False,
            }
        )
        return True

    def _meta_pace(self, seconds):
        """No page of this job before ``seconds`` after this page began
        (Meta's pace for the calls it made): the time its calls took counts,
        so a page slower than its pace is followed at once. Rounded up, as a
        datetime field keeps whole seconds."""
        began = self.env.context.get("meta_page_started") or self._meta_now()
        self.next_run_at = began + timedelta(seconds=math.ceil(seconds))

    def _meta_policy(self, error):
        """What the runner does on Meta's ``error``: "throttle" (wait for
        the connection's throttle), "retry" (after a backoff), "pause"
        (until the connection's repair) or "fail". An importer asks too,
        to keep a failure of one of its items ("fail") from the others."""
        self.ensure_one()
        if error.scope == THROTTLE:
            return "throttle"
        if error.scope == TRANSIENT and self.attempts + 1 < MAX_ATTEMPTS:
            return "retry"
        if error.scope in (TOKEN, APP) or (
            error.scope == PERMISSION
            and self.connection_id._meta_permission_lost(error)
        ):
            # the door (or the health check) flagged the connection
            return "pause"
        return "fail"

    def _meta_page_failed(self, error):
        """One policy per scope of Meta's error; the cursor stays (as the
        importer left it), so the page is imported again when the job
        resumes."""
        _logger.info("Import job %s (%s): %s", self.id, self.kind, error)
        connection = self.connection_id
        now = self._meta_now()
        values = {"last_error": str(error)}
        policy = self._meta_policy(error)
        if policy == "throttle":
            # the door throttled the connection; the job is not to blame
            until = now + timedelta(seconds=max(int(error.retry_after or 0), 1))
            values["next_run_at"] = max(until, connection.throttled_until or until)
        elif policy == "retry":
            delay = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2**self.attempts)
            values.update(
                attempts=self.attempts + 1,
                next_run_at=now + timedelta(seconds=delay),
            )
        elif policy == "pause":
            # the connection's repair resumes the job
            values["state"] = "paused"
        else:
            values["state"] = "failed"
        self.write(values)
        return False
