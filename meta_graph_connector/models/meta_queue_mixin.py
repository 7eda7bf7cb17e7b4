import logging
import random
import time
from contextlib import contextmanager
from datetime import timedelta

from psycopg2.errors import DeadlockDetected, LockNotAvailable, SerializationFailure

from odoo import api, fields, models, modules
from odoo.tools import SQL
from odoo.tools.sql import create_index

from ..graph.errors import (
    AppError,
    GraphError,
    InvalidRequestError,
    MalformedPayloadError,
    MissingPermissionError,
    RateLimitError,
    TokenError,
    TransientError,
)

_logger = logging.getLogger(__name__)


class MetaContention(TransientError):
    """Another worker did the same thing at the same moment (made the same
    new person, the same campaign) after this transaction's snapshot: what it
    made is invisible here, and is found when the same work runs again in a
    new transaction. Expected with parallel lanes: a queue runs the item
    again at once, quietly, without counting an attempt."""


#: Errors of two transactions meeting on the same rows: expected when several
#: lanes work at once, never the item's fault, gone in a new transaction.
CONTENTION_ERRORS = (
    MetaContention,
    SerializationFailure,
    DeadlockDetected,
    LockNotAvailable,
)


class _QuietSqlErrors(logging.Filter):
    def __init__(self, error_types):
        super().__init__()
        self.error_types = error_types

    def filter(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(isinstance(arg, self.error_types) for arg in args)


@contextmanager
def quiet_sql_errors(*error_types):
    """Keep out of the log the "bad query" ERROR that Odoo's cursor writes
    for a failed statement when the failure is one of ``error_types`` (by
    default: contention), a conflict the caller expects and handles. Any
    other failed query is still logged, unlike with ``mute_logger``."""
    logger = logging.getLogger("odoo.sql_db")
    quiet = _QuietSqlErrors(error_types or CONTENTION_ERRORS)
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


DEFAULT_MAX_ATTEMPTS = 10
RETRY_BASE_SECONDS = 60
RETRY_MAX_SECONDS = 6 * 3600
#: A cron run stops starting new items after this many seconds and reports
#: what remains; the scheduler then runs it again at once, up to 10 times in
#: one pass (MAX_BATCH_PER_CRON_JOB), and a cron worker that spends more than
#: ``limit_time_real_cron`` (default 120 s) in a pass is killed: 10 × 10 s
#: stays inside it.
RUN_TIME_BUDGET = 10
DEFAULT_EVENTS_PER_RUN = 1000
#: What :meth:`MetaQueueMixin._meta_process` returns for an item that met
#: another lane's work and is to run again in a new transaction.
CONTENDED = "contended"
#: Contended claims and items a run retries in new transactions before it
#: ends and wakes its lane again (the lane goes on at once, in a new run).
CONTENTION_RETRIES_PER_RUN = 50
#: Connection states in which nothing is sent to Meta for it: items wait.
BLOCKING_STATES = (
    "needs_reconnect",
    "permission_missing",
    "app_restricted",
    "disconnected",
)


class MetaQueueMixin(models.AbstractModel):
    """A durable queue of work about Meta, in either direction.

    One piece of machinery for the webhook inbox (``meta.webhook.event``)
    and the outbox (``meta.outbox``): items are claimed with ``FOR UPDATE
    SKIP LOCKED`` (several cron lanes consume one queue at once), each claim
    runs in its own savepoint and is committed alone (one item, or a group
    the queue runs together, each item keeping its own outcome), failures
    retry with exponential backoff and jitter, token and app errors and a
    permission refusal Meta confirms park the item until its connection is
    repaired, a request Meta calls invalid (or malformed data, or a refusal
    about that object alone) is dead at once, and after ``max attempts`` an
    item is dead; dead and failed items can be replayed.

    Two orderings hold in every claim: items of a connection Meta throttled
    are not claimed before ``throttled_until``, and items sharing an
    ``ordering_key`` (a conversation, an audience) run in id order, a failed
    one blocking those after it in its key, never the other keys.

    A queue model implements :meth:`_meta_run` (do the work of one item) and
    names its cron lanes in ``_meta_lane_crons``.
    """

    _name = "meta.queue.mixin"
    _description = "Meta Durable Queue"
    _inherit = ["meta.admin.mixin"]

    #: xml ids of the crons consuming this queue (its lanes)
    _meta_lane_crons = ()
    #: column whose values take turns when claiming (fairness), or None
    _meta_fair_column = None
    #: states of an item that no longer hold back the later items of its
    #: ordering key
    _meta_key_released_states = ("done", "ignored")

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
    asset_id = fields.Many2one(
        "meta.asset", readonly=True, index=True, ondelete="set null"
    )
    connection_id = fields.Many2one(
        related="asset_id.connection_id", store=True, index=True, string="Connection"
    )
    company_id = fields.Many2one(
        related="asset_id.company_id", store=True, index=True, string="Company"
    )
    ordering_key = fields.Char(
        readonly=True,
        index="btree_not_null",
        help="Items of one key (a conversation, an audience) run in order.",
    )
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True, index=True)
    last_error = fields.Text(readonly=True)
    processed_at = fields.Datetime(readonly=True)
    res_model = fields.Char(string="Result Model", readonly=True)
    res_id = fields.Many2oneReference(
        string="Result ID", model_field="res_model", readonly=True
    )

    def init(self):
        result = super().init()
        if self._abstract:
            return result
        # The claim asks, for each candidate, whether an earlier item of its
        # key is unfinished: one probe of this index, however long the key's
        # history (a conversation of thousands of messages).
        create_index(
            self.env.cr,
            f"{self._table}_key_unfinished_idx",
            self._table,
            ["ordering_key", "id"],
            where=self.env.cr.mogrify(
                "state NOT IN %s", [tuple(self._meta_key_released_states)]
            ).decode(),
        )
        return result

    # ------------------------------------------------------------ lanes

    @api.model
    def _meta_lanes(self):
        """The crons consuming this queue: those shipped, and any copy an
        administrator made of them (Scheduled Actions → Duplicate) to add a
        lane; Odoo runs each cron in one worker at a time, so lanes are what
        lets several cron workers drain one queue together."""
        # sudo: ir.cron - the lanes are woken by whoever stored the work
        Cron = self.env["ir.cron"].sudo()
        shipped = Cron.browse(
            [
                cron.id
                for xmlid in self._meta_lane_crons
                if (cron := self.env.ref(xmlid, raise_if_not_found=False))
            ]
        )
        if not shipped:
            return shipped
        return shipped | Cron.search(
            [("code", "in", shipped.mapped("code")), ("active", "=", True)]
        )

    @api.model
    def _meta_trigger(self, at=None):
        """Wake the lanes (now, or when a retry is due)."""
        for cron in self._meta_lanes():
            cron._trigger(at)

    # -------------------------------------------------------- processing

    @api.model
    def _meta_process_queue(
        self, max_items=None, time_budget=RUN_TIME_BUDGET, commit=None
    ):
        """Process due items, committing each claim; report what remains.

        A claim takes one item, or several that run together
        (:meth:`_meta_claim_limit`: Lead Ads submissions of one Page, read in
        one Graph batch and made in one create), and is committed alone: a
        lead is visible the moment its claim is done (speed to lead), and the
        lock of an item not yet started is never released early by a commit,
        so no other lane can take it. With a fair column, its values take
        turns: a storm of one kind does not make the others wait; the values
        are read again after each round.

        Contention with another lane (a claim that lost a race, an item whose
        rows another lane changed meanwhile) is retried in a new transaction,
        which sees what the other lane committed: a run never ends with work
        left because of it. Should it go on, the run ends and wakes its lane
        again at once rather than at its next interval.

        :param time_budget: seconds after which no new claim is made, or
            None for no limit (tests drain a queue by count, not by time).
        :param commit: commit each claim (None: always, except inside tests,
            whose transaction must not be committed).
        """
        max_items = max_items or DEFAULT_EVENTS_PER_RUN
        if commit is None:
            commit = not modules.module.current_test
        started = time.monotonic()
        processed = contended = 0
        rotation, claimed = [], True
        while processed < max_items and (
            time_budget is None or time.monotonic() - started < time_budget
        ):
            if not rotation:
                if not claimed:
                    break  # a whole round found nothing due (retries wait)
                rotation, claimed = self._meta_fair_values(), False
                if not rotation:
                    break
            done, met = self._meta_claim_and_process(
                rotation.pop(0), max_items - processed
            )
            if not done and not met:
                continue
            if met:
                contended += met
                rotation, claimed = [], True  # read again, in a new snapshot
            claimed = claimed or bool(done)
            processed += done
            if commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
                # committed: what the items read (an audience batch holds
                # 10,000 rows) need not stay cached for the next claim
                self.env.invalidate_all()
            if contended and (not commit or contended >= CONTENTION_RETRIES_PER_RUN):
                break
        return self._meta_end_run(processed, contended)

    @api.model
    def _meta_claim_and_process(self, fair_value, limit):
        """Claim due items (of ``fair_value``) and process them: (items
        processed, items that met another lane's work)."""
        try:
            items = self._meta_claim_due(
                min(self._meta_claim_limit(fair_value), limit), fair_value=fair_value
            )
        except MetaContention:
            # another lane committed on a due row after this snapshot
            # (REPEATABLE READ): a new transaction sees what it did
            return 0, 1
        outcomes = items._meta_process_claimed()
        met = sum(1 for outcome in outcomes if outcome is CONTENDED)
        return len(outcomes) - met, met

    @api.model
    def _meta_end_run(self, processed, contended):
        """Report the run to the scheduler; wake the lane again when it
        ended on contention with work left."""
        remaining = self.search_count(self._meta_due_domain())
        if contended and remaining:
            # not ended for want of work: the lane runs again now, not at
            # its next interval (Odoo reads "0 done" as "nothing to do")
            self._meta_trigger()
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
    def _meta_fair_values(self):
        """Values of the fair column among items to do (``[None]`` without
        one): a loose index scan, one index probe per value."""
        column = self._meta_fair_column
        if not column:
            return [None]
        self.flush_model(["state", column])
        rows = self.env.execute_query(
            SQL(
                """WITH RECURSIVE fair(value) AS (
                       (SELECT %(column)s FROM %(table)s
                         WHERE state IN ('pending', 'failed')
                      ORDER BY %(column)s LIMIT 1)
                     UNION ALL
                       SELECT (SELECT q.%(column)s FROM %(table)s q
                                WHERE q.state IN ('pending', 'failed')
                                  AND q.%(column)s > fair.value
                             ORDER BY q.%(column)s LIMIT 1)
                         FROM fair
                        WHERE fair.value IS NOT NULL)
                   SELECT value FROM fair WHERE value IS NOT NULL""",
                column=SQL.identifier(column),
                table=SQL.identifier(self._table),
            )
        )
        return [row[0] for row in rows]

    @api.model
    def _meta_claim_due(self, limit, fair_value=None):
        """Lock and return up to ``limit`` due items, oldest first.

        Skipped: rows another lane holds, items of a throttled connection,
        and items whose ordering key has an earlier item not finished.
        """
        # the claim is raw SQL: pending ORM writes (a replay) must reach it
        self.flush_model()
        self.env["meta.connection"].flush_model(["throttled_until"])
        column = self._meta_fair_column
        now = fields.Datetime.now()
        fair = (
            SQL("AND q.%s = %s", SQL.identifier(column), fair_value)
            if column and fair_value is not None
            else SQL()
        )
        query = SQL(
            """SELECT q.id FROM %(table)s q
                    WHERE q.state IN ('pending', 'failed')
                      AND (q.next_attempt_at IS NULL OR q.next_attempt_at <= %(now)s)
                      %(fair)s
                      AND (q.connection_id IS NULL OR NOT EXISTS (
                            SELECT 1 FROM meta_connection c
                             WHERE c.id = q.connection_id
                               AND c.throttled_until > %(now)s))
                      AND (q.ordering_key IS NULL OR NOT EXISTS (
                            SELECT 1 FROM %(table)s p
                             WHERE p.ordering_key = q.ordering_key
                               AND p.id < q.id
                               AND p.state NOT IN %(released)s))
                 ORDER BY q.id
                    LIMIT %(limit)s
               FOR UPDATE OF q SKIP LOCKED""",
            table=SQL.identifier(self._table),
            now=now,
            fair=fair,
            released=tuple(self._meta_key_released_states),
            limit=limit,
        )
        try:
            # Another lane may have updated (and committed) a due row after
            # this transaction's snapshot: locking it is then a serialization
            # failure under REPEATABLE READ, which says nothing of the work
            # left: the caller claims again in a new transaction.
            with quiet_sql_errors(SerializationFailure), self.env.cr.savepoint():
                rows = self.env.execute_query(query)
        except SerializationFailure as error:
            raise MetaContention(
                "Another lane changed a due item meanwhile: claim again."
            ) from error
        return self.browse([row[0] for row in rows])

    def _meta_process(self):
        """Run this item inside a savepoint and record the outcome."""
        self.ensure_one()
        blocked = self._meta_blocked_reason()
        if blocked:
            return self._meta_set_parked(blocked)
        try:
            with quiet_sql_errors(), self.env.cr.savepoint():
                result = self._meta_run()
        except Exception as error:  # noqa: BLE001 - one bad item must not stop the queue
            return self._meta_fail(error)
        return self._meta_record(result)

    def _meta_fail(self, error):
        """The outcome of this item when its work failed with ``error``
        (raised, or Meta's answer about this item in a batch): one rule per
        kind of error."""
        if isinstance(error, CONTENTION_ERRORS):
            return self._meta_set_contended(error)
        if isinstance(error, (MalformedPayloadError, InvalidRequestError)):
            # Meta's data itself is wrong, or Meta says the request is wrong
            # or the object does not exist (100/33, 803): retrying cannot
            # help; the item stays visible.
            return self._meta_set_dead(str(error), error=error)
        if isinstance(error, (TokenError, AppError)):
            # The savepoint rollback also undid the flag the door set on the
            # connection (and a batch item's error met no door): set it again,
            # outside (it is idempotent).
            if isinstance(error, TokenError):
                self.connection_id._meta_flag_token_error(error)
            else:
                self.connection_id._meta_flag_app_error(error)
            return self._meta_set_parked(str(error), error=error)
        if isinstance(error, MissingPermissionError):
            return self._meta_refused(error)
        if isinstance(error, RateLimitError):
            # the connection is throttled; this item is not to blame
            self.connection_id._meta_throttle(error.retry_after, str(error))
            return self._meta_set_failed(error, delay=error.retry_after, count=False)
        if not isinstance(error, GraphError):
            _logger.error("%s %s failed", self._description, self.id, exc_info=error)
        return self._meta_set_failed(error)

    def _meta_refused(self, error):
        """Meta refused a permission for this item's work."""
        connection = self.connection_id
        if connection and connection._meta_permission_lost(error):
            # Meta confirms a permission is gone: the health check flagged
            # the connection; this item waits for the repair
            return self._meta_set_parked(str(error), error=error)
        # the token holds what its features need: Meta refuses this item's
        # object alone, which no retry nor repair changes
        return self._meta_set_dead(str(error), error=error)

    def _meta_record(self, result):
        """Record what :meth:`_meta_run` returned: a str ignores the item
        with that reason, an error fails it (Meta's answer about this item in
        a batch), anything else is done (a record is its result)."""
        if isinstance(result, Exception):
            return self._meta_fail(result)
        if isinstance(result, str):
            return self._meta_set_ignored(result)
        return self._meta_set_done(result)

    # ---------------------------------------------------- several at once

    @api.model
    def _meta_claim_limit(self, fair_value):
        """How many due items one claim takes (of ``fair_value``, the fair
        column's value): 1, unless the queue runs such items together
        (:meth:`_meta_groups`)."""
        return 1

    def _meta_process_claimed(self):
        """Process the items of one claim: each group of items that run
        together as one, the others one by one. One outcome per item."""
        outcomes = []
        for group in self._meta_groups():
            if len(group) > 1:
                outcomes += group._meta_process_together()
            else:
                outcomes.append(group._meta_process())
        return outcomes

    def _meta_groups(self):
        """These items cut into groups that run together
        (:meth:`_meta_run_together`); by default each item alone."""
        return list(self)

    def _meta_process_together(self):
        """Run these items as one (one Graph batch, one create) inside one
        savepoint. Should anything fail, each item runs again alone: one
        item's failure, or Meta's answer about one of them, stays its own."""
        if any(item._meta_blocked_reason() for item in self):
            return [item._meta_process() for item in self]
        try:
            with quiet_sql_errors(), self.env.cr.savepoint():
                results = self._meta_run_together()
        except CONTENTION_ERRORS as error:
            return [item._meta_set_contended(error) for item in self]
        except Exception as error:  # noqa: BLE001 - each item alone finds its outcome
            _logger.debug("%s %s run alone: %s", self._description, self.ids, error)
            return [item._meta_process() for item in self]
        return [
            item._meta_record(result)
            for item, result in zip(self, results, strict=True)
        ]

    def _meta_run_together(self):
        """Do the work of these items as one; a hook of the queues whose
        :meth:`_meta_groups` groups items.

        :return: one result per item, in order: as :meth:`_meta_run`
            returns, or the error about that item alone (Meta's answer to it
            in a batch), which it then meets as if raised.
        :raise: anything: each item then runs alone.
        """
        raise NotImplementedError

    def _meta_blocked_reason(self):
        """Why this item must wait without calling Meta (its connection's
        token or permission is broken), or None."""
        connection = self.connection_id
        if connection and connection.state in BLOCKING_STATES:
            return connection.last_error or dict(
                connection._fields["state"]._description_selection(self.env)
            ).get(connection.state)
        return None

    def _meta_run(self):
        """Do the work of this item. A hook every queue implements.

        :return: a record (done, linked as the result), a str (ignored, with
            that reason) or None (done).
        """
        raise NotImplementedError

    # ---------------------------------------------------------- outcomes

    def _meta_set_contended(self, error):
        """Another lane worked on the same rows at the same moment: the
        savepoint undid this item's work, which runs again in the lane's next
        transaction. Not the item's fault: no attempt counted, no wait, no
        error logged."""
        _logger.debug("%s %s met another lane: %s", self._description, self.id, error)
        self.write({"next_attempt_at": False})
        return CONTENDED

    def _meta_set_parked(self, reason, error=None):
        """Wait for the connection's repair; ``error`` is what was raised
        (None when the item waited without calling Meta): the outcome hooks
        of a queue read its typed values (code, scope)."""
        self.write({"state": "parked", "next_attempt_at": False, "last_error": reason})

    @api.model
    def _meta_unpark(self, assets):
        """Queue again what waited for these assets' connection."""
        parked = self.search([("state", "=", "parked"), ("asset_id", "in", assets.ids)])
        if parked:
            parked.write({"state": "pending", "next_attempt_at": False})
            self._meta_trigger()
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

    def _meta_set_dead(self, reason, error=None):
        self.write(
            {
                "state": "dead",
                "attempts": self.attempts + 1,
                "processed_at": fields.Datetime.now(),
                "next_attempt_at": False,
                "last_error": reason,
            }
        )

    def _meta_set_failed(self, error, delay=None, count=True):
        """Retry later; ``count=False`` when the item is not to blame (Meta
        throttled the connection): it never dies of waiting."""
        attempts = self.attempts + 1 if count else self.attempts
        # sudo: ir.config_parameter - technical tuning of the queue
        max_attempts = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("meta_graph_connector.event_max_attempts", DEFAULT_MAX_ATTEMPTS)
        )
        if count and attempts >= max_attempts:
            # through the hook, so whoever waits on the item hears of it
            return self._meta_set_dead(str(error), error=error)
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
        # wake the lanes when this item is due, however long until then
        self._meta_trigger(next_attempt_at)

    # ------------------------------------------------------------ actions

    def action_replay(self):
        """Queue the selected items again."""
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
        self._meta_trigger()
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
