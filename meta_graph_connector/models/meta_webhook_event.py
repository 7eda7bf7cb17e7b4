import json
import logging
import random
import time
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..graph import api as meta_api
from ..graph.errors import (
    GraphError,
    InvalidRequestError,
    MalformedPayloadError,
    MissingPermissionError,
    RateLimitError,
    TokenError,
)
from ..graph.webhook import MalformedEvent, event_from_record

_logger = logging.getLogger(__name__)

#: Defaults of the processing cron, overridable by system parameters.
#: Events one cron run handles at most before reporting progress (the
#: scheduler runs it again at once while events remain).
DEFAULT_EVENTS_PER_RUN = 1000
DEFAULT_MAX_ATTEMPTS = 10
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 6 * 3600
#: A cron run stops starting new events after this many seconds and reports
#: what remains; the scheduler then runs it again at once, up to 10 times in
#: one pass (MAX_BATCH_PER_CRON_JOB), and a cron worker that spends more than
#: ``limit_time_real_cron`` (default 120 s) in a pass is killed: 10 × 10 s
#: stays inside it.
RUN_TIME_BUDGET = 10


class MetaWebhookEvent(models.Model):
    """Durable inbox of Meta webhook events.

    The webhook request only inserts rows here (one per update, unique by
    Meta's natural key) and triggers the processing cron; the cron claims due
    rows with ``FOR UPDATE SKIP LOCKED`` and dispatches each to its handler.

    States: ``pending`` → ``done`` | ``ignored`` (nothing to do, with the
    reason) | ``failed`` (will retry at ``next_attempt_at``) → ``dead`` after
    too many attempts; ``parked`` while the connection's token or permission
    is broken (no retry storm), back to ``pending`` once it is reconnected.
    ``dead`` and ``failed`` rows can be replayed.
    """

    _name = "meta.webhook.event"
    _description = "Meta Webhook Event"
    _order = "id desc"
    _rec_name = "key"
    _inherit = ["meta.admin.mixin"]

    key = fields.Char(required=True, readonly=True, index=True)
    kind = fields.Char(readonly=True, index=True)
    meta_object = fields.Char(string="Object", readonly=True)
    external_account_id = fields.Char(
        string="Page / Instagram ID", readonly=True, index=True
    )
    account_id = fields.Many2one(
        "meta.account",
        string="Connection",
        readonly=True,
        index=True,
        ondelete="set null",
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("done", "Done"),
            ("ignored", "Ignored"),
            ("failed", "Failed"),
            ("parked", "Parked"),
            ("dead", "Dead"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True, index=True)
    last_error = fields.Text(readonly=True)
    payload = fields.Json(readonly=True)
    payload_text = fields.Text(string="Raw Payload", compute="_compute_payload_text")
    body_sha256 = fields.Char(string="Delivery SHA-256", readonly=True)
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    occurred_at = fields.Datetime(readonly=True)
    processed_at = fields.Datetime(readonly=True)
    res_model = fields.Char(string="Result Model", readonly=True)
    res_id = fields.Many2oneReference(
        string="Result ID", model_field="res_model", readonly=True
    )

    _sql_constraints = [
        ("key_unique", "unique(key)", "A Meta event is stored only once."),
    ]

    def init(self):
        # the claim and the due-kinds scan read only what is still to do
        create_index(
            self.env.cr,
            "meta_webhook_event_due_kind_idx",
            self._table,
            ["kind", "id"],
            where="state IN ('pending', 'failed')",
        )

    def _compute_payload_text(self):
        for event in self:
            event.payload_text = json.dumps(
                event.payload, indent=2, ensure_ascii=False, sort_keys=True
            )

    # ------------------------------------------------------------ intake

    @api.model
    def _meta_store_events(self, events, body_sha256=None):
        """Insert parsed events; return the ids of the rows that are new.

        Keys already stored are left out first (a plain read), and the rest
        go in one multi-row ``INSERT … ON CONFLICT (key) DO NOTHING``: a
        thousand updates cost two statements, a redelivery (or Odoo re-running
        the request after a serialization failure) inserts nothing. Leaving
        out known keys before inserting matters: under the request's
        REPEATABLE READ isolation, an ``ON CONFLICT`` on a row the processing
        cron updated after this request began is a serialization failure, and
        Odoo would replay the whole request, again and again, while Meta waits.

        An update the parser found malformed (ids that are no Meta ids, text
        PostgreSQL cannot store, …) is stored as dead at once, with the
        reason: visible, replayable, and never in the way of its neighbours.
        """
        if not events:
            return []
        known = {
            row[0]
            for row in self.env.execute_query(
                SQL(
                    "SELECT key FROM meta_webhook_event WHERE key = ANY(%s)",
                    list({event.key for event in events}),
                )
            )
        }
        events = [event for event in events if event.key not in known]
        if not events:
            return []
        accounts = self._meta_accounts_by_external_id({e.account_id for e in events})
        now = fields.Datetime.now()
        rows = []
        pending = False
        for event in events:
            account = accounts.get(event.account_id)
            occurred = event.occurred_at
            malformed = isinstance(event, MalformedEvent)
            pending = pending or not malformed
            rows.append(
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, 0, %s::jsonb, %s, %s, %s, %s, %s,"
                    " %s, %s, %s, %s)",
                    event.key,
                    event.kind,
                    event.object,
                    event.account_id,
                    account.id if account else None,
                    account.company_id.id if account else None,
                    "dead" if malformed else "pending",
                    json.dumps(event.to_record()),
                    body_sha256,
                    now,
                    occurred.replace(tzinfo=None) if occurred else None,
                    event.reason if malformed else None,
                    now if malformed else None,
                    self.env.uid,
                    now,
                    self.env.uid,
                    now,
                )
            )
        inserted = []
        # keep statements bounded: a 1000-update delivery is one statement
        for start in range(0, len(rows), 1000):
            inserted += [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """INSERT INTO meta_webhook_event
                             (key, kind, meta_object, external_account_id,
                              account_id, company_id, state, attempts, payload,
                              body_sha256, received_at, occurred_at, last_error,
                              processed_at, create_uid, create_date, write_uid,
                              write_date)
                           VALUES %s
                           ON CONFLICT (key) DO NOTHING
                           RETURNING id""",
                        SQL(", ").join(rows[start : start + 1000]),
                    )
                )
            ]
        if inserted and pending:
            self._meta_trigger_processing()
        return inserted

    @api.model
    def _meta_accounts_by_external_id(self, external_ids):
        external_ids = [i for i in external_ids if i]
        if not external_ids:
            return {}
        # sudo: meta.account - routing an event to its connection happens for
        # the public webhook route and the cron, whatever the company.
        accounts = (
            self.env["meta.account"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    "|",
                    ("page_id", "in", external_ids),
                    ("instagram_account_id", "in", external_ids),
                ]
            )
        )
        mapping = {}
        for account in accounts:
            mapping[account.page_id] = account
            if account.instagram_account_id:
                mapping[account.instagram_account_id] = account
        return mapping

    @api.model
    def _meta_trigger_processing(self, at=None):
        cron = self.env.ref(
            "meta_graph_connector.ir_cron_meta_process_events",
            raise_if_not_found=False,
        )
        if cron:
            cron._trigger(at)

    # --------------------------------------------------------- processing

    @api.model
    def _cron_process_events(self, max_events=None, time_budget=RUN_TIME_BUDGET):
        """Process due events, committing each one.

        Safe with several workers/servers: rows are claimed with ``FOR UPDATE
        SKIP LOCKED``, so a row another transaction holds is skipped, and a
        worker that dies releases its row when its transaction aborts.
        """
        params = self.env["ir.config_parameter"].sudo()
        max_events = max_events or int(
            params.get_param(
                "meta_graph_connector.events_per_run", DEFAULT_EVENTS_PER_RUN
            )
        )
        # Tests run inside one transaction that must not be committed.
        auto_commit = not modules.module.current_test
        started = time.monotonic()
        processed = 0
        # One event per claim and per commit: a lead is visible the moment it
        # is done (speed to lead), and the lock of an event not yet started is
        # never released early by a commit, so no other worker can take it.
        # Kinds take turns: a storm of 10,000 comments does not make the next
        # lead wait behind it; the kinds are read again after each round, so
        # a kind that arrives meanwhile joins the next one.
        rotation, claimed = [], True
        while processed < max_events and time.monotonic() - started < time_budget:
            if not rotation:
                if not claimed:
                    break  # a whole round found nothing due (retries wait)
                rotation, claimed = self._meta_due_kinds(), False
                if not rotation:
                    break
            event = self._meta_claim_due(1, kind=rotation.pop(0))
            if not event:
                continue
            claimed = True
            event._meta_process()
            processed += 1
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        remaining = self.search_count(self._meta_due_domain())
        self.env["ir.cron"]._notify_progress(done=processed, remaining=remaining)
        return processed

    def _meta_due_domain(self):
        now = fields.Datetime.now()
        return [
            ("state", "in", ("pending", "failed")),
            "|",
            ("next_attempt_at", "=", False),
            ("next_attempt_at", "<=", now),
        ]

    @api.model
    def _meta_due_kinds(self):
        """Kinds that have pending or failed events, in a stable order.

        A loose index scan (one index probe per kind, on the partial index of
        :meth:`init`), so a backlog of 10,000 events of one kind costs a few
        probes, not a scan of the backlog.
        """
        self.flush_model(["state", "kind"])
        rows = self.env.execute_query(
            SQL(
                """WITH RECURSIVE kinds(kind) AS (
                       (SELECT kind FROM meta_webhook_event
                         WHERE state IN ('pending', 'failed')
                      ORDER BY kind LIMIT 1)
                     UNION ALL
                       SELECT (SELECT e.kind FROM meta_webhook_event e
                                WHERE e.state IN ('pending', 'failed')
                                  AND e.kind > kinds.kind
                             ORDER BY e.kind LIMIT 1)
                         FROM kinds
                        WHERE kinds.kind IS NOT NULL)
                   SELECT kind FROM kinds WHERE kind IS NOT NULL"""
            )
        )
        return [row[0] for row in rows]

    @api.model
    def _meta_claim_due(self, limit, kind=None):
        """Lock and return up to ``limit`` due events (oldest first), of
        ``kind`` when given; rows another worker holds are skipped."""
        # the claim is raw SQL: pending ORM writes (a replay) must reach it
        self.flush_model(["state", "next_attempt_at", "kind"])
        rows = self.env.execute_query(
            SQL(
                """SELECT id FROM meta_webhook_event
                    WHERE state IN ('pending', 'failed')
                      AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
                      AND (%s::varchar IS NULL OR kind = %s)
                 ORDER BY id
                    LIMIT %s
               FOR UPDATE SKIP LOCKED""",
                fields.Datetime.now(),
                kind,
                kind,
                limit,
            )
        )
        return self.browse([row[0] for row in rows])

    def _meta_process(self):
        """Run this event's handler inside a savepoint and record the outcome."""
        self.ensure_one()
        try:
            event = event_from_record(self.payload)
        except MalformedPayloadError as error:
            return self._meta_set_dead(str(error))
        if event.kind == "malformed":
            return self._meta_set_dead(event.reason)
        if event.kind == "unhandled":
            return self._meta_set_ignored(event.reason)
        handler_name = self._meta_event_handlers().get(self.kind)
        if not handler_name:
            return self._meta_set_ignored(
                self.env._("No handler for '%(kind)s' events yet.", kind=self.kind)
            )
        if not self.account_id:
            account = self._meta_accounts_by_external_id({self.external_account_id})
            account = account.get(self.external_account_id)
            if not account:
                return self._meta_set_ignored(
                    self.env._(
                        "No Meta connection for Page/Instagram account %(id)s.",
                        id=self.external_account_id,
                    )
                )
            self.write({"account_id": account.id, "company_id": account.company_id.id})
        if self.account_id.state in ("needs_reconnect", "permission_missing"):
            # Calling Meta with a token it refused only prolongs the problem.
            return self._meta_set_parked(self.account_id.last_error)
        handler = getattr(
            self.with_company(self.company_id or self.env.company), handler_name
        )
        try:
            with self.env.cr.savepoint():
                result = handler(event)
        except MalformedPayloadError as error:
            # Meta's data itself is wrong: retrying cannot help; keep it visible.
            return self._meta_set_dead(str(error))
        except TokenError as error:
            # The savepoint rollback also undid the flag _meta_call set on the
            # connection: set it again, outside (it is idempotent).
            self.account_id._meta_flag_token_error(error)
            return self._meta_set_parked(str(error))
        except MissingPermissionError as error:
            self.account_id._meta_flag_permission_error(error)
            return self._meta_set_parked(str(error))
        except InvalidRequestError as error:
            # Meta says the request itself is wrong, or the object does not
            # exist (100/33, 803): the same request cannot succeed later.
            return self._meta_set_dead(str(error))
        except RateLimitError as error:
            return self._meta_set_failed(error, delay=error.retry_after)
        except GraphError as error:
            return self._meta_set_failed(error)
        except Exception as error:  # noqa: BLE001 - one bad event must not stop the batch
            _logger.exception("Meta event %s (%s) failed", self.id, self.kind)
            return self._meta_set_failed(error)
        if isinstance(result, str):
            return self._meta_set_ignored(result)
        return self._meta_set_done(result)

    def _meta_event_handlers(self):
        """Kind → method name of the handler. A hook: capabilities add theirs.

        Handlers receive the parsed core event and return a record (the
        result, linked on the event), a string (ignored, with that reason) or
        None. They must be idempotent: an event may be processed again after
        a crash or a replay.
        """
        return {"leadgen": "_meta_handle_leadgen"}

    def _meta_handle_leadgen(self, event):
        """A lead form was submitted: fetch the lead, make it a CRM lead."""
        Binding = self.env["meta.lead"]
        binding = Binding.search([("leadgen_id", "=", event.leadgen_id)], limit=1)
        if binding:
            # Redelivery, replay, or the reconciliation poll was first.
            return binding.lead_id or binding
        account = self.account_id
        graph_lead = account._meta_call(meta_api.get_lead, event.leadgen_id)
        form = self.env["meta.lead.form"]._meta_get_form(
            account, str(graph_lead.get("form_id") or event.form_id)
        )
        if not form.active:
            return self.env._(
                "The lead form %(form)s is archived in Odoo.", form=form.name
            )
        bindings = form._meta_import_graph_leads(
            [graph_lead], source="webhook", strict=True
        )
        return bindings.lead_id or bindings

    def _meta_set_parked(self, reason):
        self.write({"state": "parked", "next_attempt_at": False, "last_error": reason})

    @api.model
    def _meta_unpark(self, accounts):
        """Queue again what waited for these connections to be repaired."""
        parked = self.search(
            [("state", "=", "parked"), ("account_id", "in", accounts.ids)]
        )
        if parked:
            parked.write({"state": "pending", "next_attempt_at": False})
            self._meta_trigger_processing()
        return parked

    def _meta_set_done(self, result=None):
        values = {
            "state": "done",
            "attempts": self.attempts + 1,
            "processed_at": fields.Datetime.now(),
            "next_attempt_at": False,
            "last_error": False,
        }
        if isinstance(result, models.BaseModel) and len(result) == 1:
            values.update(res_model=result._name, res_id=result.id)
        self.write(values)

    def _meta_set_ignored(self, reason):
        self.write(
            {
                "state": "ignored",
                "processed_at": fields.Datetime.now(),
                "next_attempt_at": False,
                "last_error": reason,
            }
        )

    def _meta_set_dead(self, reason):
        self.write(
            {
                "state": "dead",
                "attempts": self.attempts + 1,
                "processed_at": fields.Datetime.now(),
                "next_attempt_at": False,
                "last_error": reason,
            }
        )

    def _meta_set_failed(self, error, delay=None):
        attempts = self.attempts + 1
        max_attempts = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("meta_graph_connector.event_max_attempts", DEFAULT_MAX_ATTEMPTS)
        )
        if attempts >= max_attempts:
            return self.write(
                {
                    "state": "dead",
                    "attempts": attempts,
                    "next_attempt_at": False,
                    "last_error": str(error),
                }
            )
        if delay is None:
            ceiling = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (attempts - 1))
            # jitter spreads retries of a burst of failures over time
            delay = ceiling * random.uniform(0.8, 1.2)  # noqa: S311 - not crypto
        next_attempt_at = fields.Datetime.now() + timedelta(seconds=delay)
        self.write(
            {
                "state": "failed",
                "attempts": attempts,
                "next_attempt_at": next_attempt_at,
                "last_error": str(error),
            }
        )
        # wake the cron when this event is due, however long until then
        self._meta_trigger_processing(next_attempt_at)

    # ------------------------------------------------------------ actions

    def action_replay(self):
        """Queue the selected events again, from their stored raw payload."""
        self._meta_check_admin()
        self.write(
            {
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": False,
                "last_error": False,
                "processed_at": False,
            }
        )
        self._meta_trigger_processing()
        return True

    def action_open_result(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
