import json
import logging
from datetime import timedelta

from odoo import api, fields, models, modules, tools
from odoo.tools import SQL, str2bool
from odoo.tools.sql import create_index

from .. import series
from ..graph.errors import MalformedPayloadError
from ..graph.webhook import (
    InstagramCommentEvent,
    InstagramMentionEvent,
    LeadgenEvent,
    MalformedEvent,
    MessagingEvent,
    PageCommentEvent,
    event_from_record,
)

_logger = logging.getLogger(__name__)

#: Days a processed event (done or ignored) is kept before the retention cron
#: deletes it; failed, parked and dead events stay until replayed or purged.
DEFAULT_RETENTION_DAYS = 30
#: Events one claim takes at most when their consumer handles several at once
#: (Meta's batch requests take 50 calls).
TOGETHER_LIMIT = 25
#: Pending events a delivery may bring for the request that stored them to
#: process once it has answered Meta; a larger delivery, or one arriving
#: while the lanes have more than this many due events, goes to the lanes.
ARRIVAL_LIMIT = TOGETHER_LIMIT
#: Seconds after which a request processing what it stored makes no new
#: claim: the worker is there to serve requests.
ARRIVAL_TIME_BUDGET = 10


@series.sql_constraints
class MetaWebhookEvent(models.Model):
    """Durable inbox of Meta webhook events.

    The webhook request only inserts rows here (one per update, unique by
    Meta's natural key) and, once it has answered Meta, processes what it
    stored (:meth:`_meta_receive`); the processing lanes (crons) take the
    rest. Each claims due rows and routes each to the model that owns its
    kind (``meta.event.consumer``).
    The queue mechanics (claims, retries, parking, replay) are
    ``meta.queue.mixin``'s.

    States: ``pending`` → ``done`` | ``ignored`` (nothing to do, with the
    reason) | ``failed`` (will retry at ``next_attempt_at``) → ``dead`` after
    too many attempts; ``parked`` while the connection's token or permission
    is broken (no retry storm), back to ``pending`` once it is reconnected.
    """

    _name = "meta.webhook.event"
    _description = "Meta Webhook Event"
    _inherit = ["meta.queue.mixin"]
    _order = "id desc"
    _rec_name = "key"
    _meta_lane_crons = (
        "meta_graph_connector.ir_cron_meta_process_events",
        "meta_graph_connector.ir_cron_meta_process_events_lane_2",
    )
    _meta_fair_column = "kind"
    # a dead event (malformed, refused by Meta) must not stop its
    # conversation forever: the events after it go on
    _meta_key_released_states = ("done", "ignored", "dead")

    key = fields.Char(required=True, readonly=True, index=True)
    # The words of graph.webhook.KINDS (a test keeps both lists equal); the
    # labels are here so that they are translated.
    kind = fields.Selection(
        [
            ("leadgen", "Lead Ads submission"),
            ("page_comment", "Facebook comment"),
            ("messenger_message", "Messenger message"),
            ("messenger_echo", "Messenger message sent by the Page"),
            ("messenger_postback", "Messenger button press"),
            ("messenger_read", "Messenger read receipt"),
            ("messenger_delivery", "Messenger delivery receipt"),
            ("messenger_reaction", "Messenger reaction"),
            ("messenger_referral", "Messenger ad or link referral"),
            ("instagram_message", "Instagram message"),
            ("instagram_echo", "Instagram message sent by the account"),
            ("instagram_postback", "Instagram button press"),
            ("instagram_read", "Instagram read receipt"),
            ("instagram_delivery", "Instagram delivery receipt"),
            ("instagram_reaction", "Instagram reaction"),
            ("instagram_referral", "Instagram ad or link referral"),
            ("instagram_comment", "Instagram comment"),
            ("instagram_mention", "Instagram mention"),
            ("unhandled", "Not processed by the addon"),
            ("malformed", "Malformed update"),
        ],
        readonly=True,
        index=True,
    )
    meta_object = fields.Char(string="Object", readonly=True)
    external_account_id = fields.Char(
        string="Page / Instagram ID", readonly=True, index=True
    )
    payload = fields.Json(readonly=True)
    payload_text = fields.Text(string="Raw Payload", compute="_compute_payload_text")
    body_sha256 = fields.Char(string="Delivery SHA-256", readonly=True)
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    occurred_at = fields.Datetime(readonly=True)
    # the person the event turned out to be about: Odoo's privacy lookup
    # finds (and erases) their events through it
    partner_id = fields.Many2one("res.partner", readonly=True, index="btree_not_null")

    _sql_constraints = [
        ("key_unique", "unique(key)", "A Meta event is stored only once."),
    ]

    def init(self):
        result = super().init()
        # the claim and the due-kinds scan read only what is still to do
        create_index(
            self.env.cr,
            "meta_webhook_event_due_kind_idx",
            self._table,
            ["kind", "id"],
            where="state IN ('pending', 'failed')",
        )
        return result

    def _compute_payload_text(self):
        for event in self:
            event.payload_text = json.dumps(
                event.payload, indent=2, ensure_ascii=False, sort_keys=True
            )

    @api.model
    def _meta_ordering_key(self, event):
        """What the event is part of, whose events run one at a time and
        oldest first (``meta.queue.mixin``): a conversation, a comment thread,
        a lead. Two lanes never work on one conversation at once (they would
        update the same rows and one would fail on the other), and a reply is
        never filed before the comment it answers. None: no order to keep."""
        if isinstance(event, MessagingEvent):
            return f"conversation:{event.account_id}:{event.customer_id}"
        if isinstance(event, PageCommentEvent):
            thread = event.parent_id if event.is_reply else event.comment_id
            return f"comment:{event.account_id}:{thread}"
        if isinstance(event, InstagramCommentEvent):
            return f"comment:{event.account_id}:{event.parent_id or event.comment_id}"
        if isinstance(event, InstagramMentionEvent):
            thread = event.comment_id or event.media_id
            return f"comment:{event.account_id}:{thread}"
        if isinstance(event, LeadgenEvent):
            return f"lead:{event.leadgen_id}"
        return None

    # ------------------------------------------------------------ routing

    @api.model
    @tools.ormcache()
    def _meta_event_routes(self):
        """Kind → name of the model owning it (``meta.event.consumer``)."""
        routes = {}
        # the models inheriting the consumer contract; one may be abstract: a
        # role with no records of its own (the conversation inbox files into
        # discuss.channel)
        for name in self.env.registry.descendants(["meta.event.consumer"], "_inherit"):
            for kind in type(self.env[name])._meta_event_kinds:
                routes[kind] = name
        return routes

    @api.model
    def _meta_handled_kinds(self):
        return set(self._meta_event_routes())

    # ------------------------------------------------------------ intake

    @api.model
    def _meta_receive(self, events, body_sha256=None):
        """The webhook's intake: store a delivery's events; return the ids
        of the new pending ones the request is to process itself once it
        has answered (:meth:`_meta_process_arrived`), or none after waking
        the lanes for them.

        Speed to lead: a cron worker starts some tens of milliseconds after
        its trigger, and only when one is free, while the request that
        stored an event is already running and has nothing left to do once
        Meta has its answer. The lanes stay the guarantee, for what a
        request does not take and for what it could not finish.
        """
        inserted = self._meta_store_events(events, body_sha256=body_sha256, wake=False)
        pending = self.browse(inserted).filtered(lambda e: e.state == "pending").ids
        if pending and not self._meta_arrival_allowed(pending):
            self._meta_trigger()
            return []
        return pending

    @api.model
    def _meta_arrival_allowed(self, ids):
        """Whether the request that stored the pending events ``ids``
        processes them: not when the administrator turned it off, not for
        a large delivery, not while the lanes are behind (a storm is theirs:
        a request must not turn into a lane while Meta waits for its
        answers), and not inside tests, whose requests share the test's
        cursor from another thread."""
        if modules.module.current_test or len(ids) > ARRIVAL_LIMIT:
            return False
        # sudo: ir.config_parameter - technical tuning of the queue
        setting = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("meta_graph_connector.process_on_arrival", "True")
        )
        if not str2bool(setting, default=True):
            return False
        self.flush_model(["state"])
        (behind,) = self.env.execute_query(
            SQL(
                """SELECT count(*) FROM (
                       SELECT 1 FROM meta_webhook_event
                        WHERE state = 'pending' AND id != ALL(%s)
                        LIMIT %s) due""",
                ids,
                ARRIVAL_LIMIT + 1,
            )
        )[0]
        return behind <= ARRIVAL_LIMIT

    @api.model
    def _meta_process_arrived(self, ids):
        """Once the webhook has answered: process as many due events as the
        request stored, in the queue's own order (its own, or older ones
        first), as the lanes' owner does; wake the lanes if one of ``ids``
        is still due (another lane holds it, an earlier event of its
        conversation is not finished)."""
        lanes = self._meta_lanes()
        queue = self.with_user(lanes[0].user_id) if lanes else self
        processed = queue._meta_process_queue(
            max_items=len(ids), time_budget=ARRIVAL_TIME_BUDGET
        )
        if self.search_count(self._meta_due_domain() + [("id", "in", ids)], limit=1):
            self._meta_trigger()
        return processed

    @api.model
    def _meta_store_events(self, events, body_sha256=None, wake=True):
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
        reason; one of a kind nothing handles is stored as ignored, without
        what the person wrote: both stay visible and never cost a lane.

        :param wake: wake the lanes for the new pending events (the webhook
            decides itself: :meth:`_meta_receive`)
        """
        events = self._meta_new_events(events)
        if not events:
            return []
        # ids give the order in which the events of a conversation run: the
        # older first, whatever order the delivery listed them in
        events.sort(key=lambda e: e.occurred_at.timestamp() if e.occurred_at else 0)
        assets = self.env["meta.asset"]._meta_by_external_id(
            {e.account_id for e in events}
        )
        handled = self._meta_handled_kinds()
        now = fields.Datetime.now()
        rows = [
            self._meta_event_row(event, assets.get(event.account_id), handled, now)
            for event in events
        ]
        inserted = self._meta_insert_rows(
            [SQL(", ").join([*values, SQL("%s", body_sha256)]) for values, _s in rows]
        )
        if wake and inserted and any(state == "pending" for _values, state in rows):
            self._meta_trigger()
        return inserted

    @api.model
    def _meta_new_events(self, events):
        """The events whose key is not stored yet (a plain read)."""
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
        return [event for event in events if event.key not in known]

    @api.model
    def _meta_event_row(self, event, asset, handled, now):
        """(the SQL values of ``event``'s row but its body hash, its state):
        pending, dead when malformed, ignored (without what the person
        wrote) when nothing handles its kind."""
        state, reason, record = "pending", None, event.to_record()
        if isinstance(event, MalformedEvent):
            state, reason = "dead", event.reason
        elif event.kind not in handled:
            state, record = "ignored", event.redacted_record()
            reason = self.env._("Nothing in Odoo handles these events.")
        occurred = event.occurred_at
        values = [
            SQL(
                "%s, %s, %s, %s, %s, %s, %s, %s, %s, 0, %s::jsonb",
                event.key,
                self._meta_ordering_key(event) if state == "pending" else None,
                event.kind,
                event.object,
                event.account_id,
                asset.id if asset else None,
                asset.connection_id.id if asset else None,
                asset.company_id.id if asset else None,
                state,
                json.dumps(record),
            ),
            SQL(
                "%s, %s, %s, %s, %s, %s, %s, %s",
                now,
                occurred.replace(tzinfo=None) if occurred else None,
                reason,
                now if state != "pending" else None,
                self.env.uid,
                now,
                self.env.uid,
                now,
            ),
        ]
        return values, state

    @api.model
    def _meta_insert_rows(self, rows):
        """Insert the rows (``ON CONFLICT (key) DO NOTHING``); the new ids."""
        inserted = []
        # keep statements bounded: a 1000-update delivery is one statement
        for start in range(0, len(rows), 1000):
            inserted += [
                row[0]
                for row in self.env.execute_query(
                    SQL(
                        """INSERT INTO meta_webhook_event
                             (key, ordering_key, kind, meta_object,
                              external_account_id,
                              asset_id, connection_id, company_id, state,
                              attempts, payload, received_at,
                              occurred_at, last_error, processed_at, create_uid,
                              create_date, write_uid, write_date, body_sha256)
                           VALUES %s
                           ON CONFLICT (key) DO NOTHING
                           RETURNING id""",
                        SQL(", ").join(
                            SQL("(%s)", row) for row in rows[start : start + 1000]
                        ),
                    )
                )
            ]
        return inserted

    # --------------------------------------------------------- processing

    @api.model
    def _cron_process_events(self, max_events=None, time_budget=None):
        """Cron lanes: process due events (see ``meta.queue.mixin``)."""
        # sudo: ir.config_parameter - technical tuning of the queue
        max_events = max_events or int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("meta_graph_connector.events_per_run", 0)
            or 0
        )
        kwargs = {"time_budget": time_budget} if time_budget else {}
        return self._meta_process_queue(max_items=max_events or None, **kwargs)

    def _meta_blocked_reason(self):
        self._meta_route_to_asset()
        return super()._meta_blocked_reason()

    def _meta_route_to_asset(self):
        """An event stored before its Page was connected finds it now."""
        if self.asset_id or not self.external_account_id:
            return
        asset = self.env["meta.asset"]._meta_by_external_id({self.external_account_id})
        if asset:
            self.asset_id = asset[self.external_account_id]

    def _meta_run(self):
        event = event_from_record(self.payload)
        if event.kind == "malformed":
            raise MalformedPayloadError(event.reason)
        if event.kind == "unhandled":
            return event.reason
        model = self._meta_event_routes().get(self.kind)
        if not model:
            return self.env._(
                "Nothing in Odoo handles '%(kind)s' events.", kind=self.kind
            )
        if not self.asset_id:
            return self.env._(
                "No Meta connection for Page/Instagram account %(id)s.",
                id=self.external_account_id,
            )
        consumer = self.env[model].with_company(self.company_id or self.env.company)
        return consumer._meta_handle_event(event, self)

    # ------------------------------------------------------ several at once

    @api.model
    def _meta_claim_limit(self, fair_value):
        """Events of a kind whose consumer handles several at once (Lead Ads:
        one Graph batch, one create) are claimed by up to
        ``TOGETHER_LIMIT``: a backlog drains by batches, while an event
        arriving alone still runs at once, alone."""
        model = self._meta_event_routes().get(fair_value)
        if model and self.env[model]._meta_handles_together:
            return TOGETHER_LIMIT
        return 1

    def _meta_groups(self):
        """Events of one kind and one asset go together when their consumer
        handles several at once; the others one by one."""
        routes = self._meta_event_routes()
        alone, together = [], {}
        for event in self:
            model = routes.get(event.kind)
            if model and event.asset_id and self.env[model]._meta_handles_together:
                key = (event.kind, event.asset_id.id)
                together[key] = together.get(key, self.browse()) | event
            else:
                alone.append(event)
        return alone + list(together.values())

    def _meta_run_together(self):
        events = [event_from_record(record.payload) for record in self]
        if any(event.kind in ("malformed", "unhandled") for event in events):
            # each alone says what is wrong with it
            raise MalformedPayloadError("An event of the group cannot be handled.")
        model = self._meta_event_routes()[self[0].kind]
        consumer = self.env[model].with_company(self[0].company_id or self.env.company)
        return consumer._meta_handle_events(list(zip(events, self, strict=True)))

    def _meta_set_done(self, result=None):
        done = super()._meta_set_done(result)
        # the person the event is about, when its result has one (a lead, a
        # conversation, a comment)
        if isinstance(result, models.BaseModel) and "partner_id" in result._fields:
            partner = result.partner_id
            if partner._name == "res.partner" and len(partner) == 1:
                self.partner_id = partner
        return done

    # ---------------------------------------------------------- retention

    @api.model
    def _cron_purge_events(self):
        """Delete processed events (done, ignored) older than the retention
        period: their payloads are personal data and the results they made
        (leads, messages) live elsewhere. Failed, parked and dead events are
        kept until replayed or purged by an administrator."""
        # sudo: ir.config_parameter - technical tuning of the retention
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(
                "meta_graph_connector.event_retention_days", DEFAULT_RETENTION_DAYS
            )
        )
        limit = fields.Datetime.now() - timedelta(days=max(days, 1))
        old = self.search(
            [("state", "in", ("done", "ignored")), ("processed_at", "<", limit)]
        )
        old.unlink()
        return len(old)

    def action_purge(self):
        """Delete the selected events (administrators, any state)."""
        self._meta_check_admin()
        # sudo: meta.webhook.event - Meta administrators may delete what
        # they see; the inbox grants deletion to system users only.
        self.sudo().unlink()
        return {"type": "ir.actions.client", "tag": "soft_reload"}
