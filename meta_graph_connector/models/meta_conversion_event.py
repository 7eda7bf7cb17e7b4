import logging
import time

from odoo import api, fields, models
from odoo.tools import split_every

from .. import series
from ..graph import conversions
from ..graph.errors import InvalidRequestError, quoted

_logger = logging.getLogger(__name__)

STATES = [
    ("queued", "Queued"),
    ("sending", "Sending"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("expired", "Too Old"),
    ("cancelled", "Cancelled"),
]


@series.sql_constraints
class MetaConversionEvent(models.Model):
    """A stage a Meta lead reached, told to Meta's Conversions API for CRM
    (Conversion Leads): Meta learns which of its leads convert.

    One row per Meta lead and event name (the ``event_id`` Meta
    deduplicates on), so a lead moving back and forth through a stage is
    told once. Rows exist only for people whose consent allows measurement;
    the consent, the suppression list and Meta's 7-day window are checked
    again when the row is sent, and the person's identifiers are hashed
    then, never stored here or in the outbox. docs/meta-facts.md §8."""

    _name = "meta.conversion.event"
    _description = "Meta Conversion Event"
    _inherit = ["meta.admin.mixin", "meta.outbox.origin"]
    _order = "event_time desc, id desc"
    _rec_name = "event_name"

    lead_id = fields.Many2one("crm.lead", required=True, index=True, ondelete="cascade")
    meta_lead_id = fields.Many2one(
        "meta.lead", string="Meta Submission", required=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, index=True)
    dataset_id = fields.Many2one("meta.asset", required=True, ondelete="cascade")
    stage_id = fields.Many2one("crm.stage", ondelete="set null")
    event_name = fields.Char(string="Event", required=True, readonly=True)
    event_time = fields.Datetime(required=True, readonly=True)
    event_key = fields.Char(string="Event ID", required=True, readonly=True)
    state = fields.Selection(STATES, default="queued", required=True, index=True)
    send_alone = fields.Boolean(
        help="Meta refused a request without saying which event was wrong: "
        "this one is sent on its own, so one bad event cannot sink others."
    )
    error = fields.Text(readonly=True)
    sent_at = fields.Datetime(readonly=True)
    outbox_id = fields.Many2one("meta.outbox", readonly=True, ondelete="set null")

    _sql_constraints = [
        (
            "event_unique",
            "unique(dataset_id, event_key)",
            "Meta is told once that a lead reached a stage.",
        ),
    ]

    # ------------------------------------------------------------- queue

    @api.model
    def _meta_queue_for(self, leads, event_name_of):
        """Queue an event for each Meta lead of ``leads`` whose name
        ``event_name_of(lead)`` gives (falsy: none), at the current time."""
        now = fields.Datetime.now()
        wanted = []
        # sudo: crm.lead - whoever moves a lead tells Meta, and the Meta
        # submissions behind it are technical records they do not read
        for lead in leads.sudo():
            if lead.meta_is_test or not lead.meta_lead_ids:
                continue
            dataset = self._meta_dataset_of(lead.company_id)
            name = " ".join((event_name_of(lead) or "").split())
            if not dataset or not name or not lead._meta_measurement_allowed():
                continue
            for binding in lead.meta_lead_ids:
                wanted.append(
                    {
                        "lead_id": lead.id,
                        "meta_lead_id": binding.id,
                        "company_id": lead.company_id.id,
                        "dataset_id": dataset.id,
                        "stage_id": lead.stage_id.id,
                        "event_name": name,
                        "event_time": now,
                        "event_key": conversions.event_key(binding.leadgen_id, name),
                    }
                )
        if not wanted:
            return self.browse()
        known = {
            (e.dataset_id.id, e.event_key)
            for e in self.search(
                [("event_key", "in", [v["event_key"] for v in wanted])]
            )
        }
        fresh, seen = [], set()
        for values in wanted:
            key = (values["dataset_id"], values["event_key"])
            if key not in known and key not in seen:
                seen.add(key)
                fresh.append(values)
        events = self.create(fresh)
        if events:
            self.env.ref("meta_graph_connector.ir_cron_meta_conversions")._trigger()
        return events

    @api.model
    def _meta_dataset_of(self, company):
        # sudo: meta.asset - which dataset receives a company's CRM events
        # is configuration every lead's writer needs, no token is read.
        return (
            self.env["meta.asset"]
            .sudo()
            .search(
                [
                    ("asset_type", "=", "dataset"),
                    ("conversion_enabled", "=", True),
                    ("company_id", "=", company.id),
                ],
                limit=1,
            )
        )

    def action_send_again(self):
        """Queue failed events again (after the cause was fixed): Meta
        still takes them within its 7 days, and keeps each once."""
        self._meta_check_admin()
        again = self.filtered(lambda e: e.state in ("failed", "cancelled"))
        # sudo: meta.conversion.event - an administrator's checked request
        again.sudo().write(
            {"state": "queued", "error": False, "outbox_id": False, "send_alone": True}
        )
        if again:
            self.env.ref("meta_graph_connector.ir_cron_meta_conversions")._trigger()
        return True

    # -------------------------------------------------------------- send

    @api.model
    def _cron_send_conversion_events(self):
        """Hand the queued events to the outbox, a small request per
        dataset at a time, oldest first (Meta wants the stages in order)."""
        queued = self.search(
            [("state", "=", "queued")], order="event_time, id", limit=10000
        )
        for dataset in queued.dataset_id:
            mine = queued.filtered(lambda e, d=dataset: e.dataset_id == d)
            mine = mine._meta_drop_unsendable()
            alone = mine.filtered("send_alone")
            chunks = [*split_every(conversions.EVENTS_PER_REQUEST, (mine - alone).ids)]
            chunks += [[event_id] for event_id in alone.ids]
            for chunk in chunks:
                events = self.browse(chunk)
                item = self.env["meta.outbox"]._meta_enqueue(
                    dataset,
                    "send_conversion_events",
                    params={"event_ids": list(chunk)},
                    # no ordering key: a request given up must not hold back
                    # every later event of the dataset; each event carries its
                    # own time, which orders the stages at Meta
                )
                events.write({"state": "sending", "outbox_id": item.id})
        return True

    def _meta_drop_unsendable(self, now=None):
        """Settle the events that must not be sent (consent withdrawn,
        person suppressed, too old, invalid); return the others."""
        now = int(time.time()) if now is None else now
        keep = self.browse()
        for event in self:
            state, error = event._meta_refusal(now)
            if state:
                event.write({"state": state, "error": error, "outbox_id": False})
            else:
                keep |= event
        return keep

    def _meta_refusal(self, now):
        """(state, why) when this event must not go, else (None, None)."""
        self.ensure_one()
        if not self.lead_id._meta_measurement_allowed():
            return "cancelled", self.env._(
                "Not sent: the person has not consented to conversion "
                "measurement (or withdrew it)."
            )
        payload = self._meta_payload()
        problems = conversions.problems(payload, now)
        if "event_time_too_old" in problems:
            return "expired", self.env._(
                "Not sent: Meta only takes events of the last 7 days."
            )
        if problems:
            return "failed", self.env._(
                "Not sent: %(problems)s.",
                problems="; ".join(
                    self._meta_problem_texts().get(p, p) for p in problems
                ),
            )
        return None, None

    @api.model
    def _meta_problem_texts(self):
        """What :func:`conversions.problems` finds, in words."""
        return {
            "event_name_missing": self.env._("the stage has no Meta event name"),
            "event_time_invalid": self.env._("the event time is not valid"),
            "event_time_ahead": self.env._("the event time is in the future"),
            "action_source_invalid": self.env._("the action source is not Meta's"),
            "event_source_invalid": self.env._("the event source is not the CRM"),
            "lead_event_source_missing": self.env._("the CRM name is missing"),
            "lead_id_invalid": self.env._(
                "the Meta lead ID is not valid (15 to 17 digits)"
            ),
            "no_identifier": self.env._("nothing identifies the person"),
            "not_hashed": self.env._("an identifier is not hashed"),
        }

    def _meta_payload(self):
        self.ensure_one()
        lead = self.lead_id
        partner = lead.partner_id
        return conversions.lead_event(
            leadgen_id=self.meta_lead_id.leadgen_id,
            event_name=self.event_name,
            event_time=int(self.event_time.timestamp()),
            email=lead.email_from or partner.email,
            phone=lead.phone or partner.phone,
            country=(lead.country_id or partner.country_id).code
            or self.company_id.country_id.code
            or "TR",
        )

    def _meta_send(self, item):
        """Send these events (one outbox item) and settle each of them.

        Meta keeps nothing of a request it refuses: the event it names is
        failed with its words, the others go back to the queue (each on its
        own when Meta named none)."""
        events = self._meta_drop_unsendable()
        if not events:
            return self.env._("Nothing left to send.")
        dataset = item.asset_id
        try:
            result = dataset._meta_call(
                conversions.send_events,
                dataset.external_id,
                [event._meta_payload() for event in events],
                test_event_code=dataset.conversion_test_code or None,
            )
        except InvalidRequestError as error:
            return events._meta_refused(error)
        events.write(
            {"state": "sent", "sent_at": fields.Datetime.now(), "error": False}
        )
        return {"events_received": result.received, "fbtrace_id": result.fbtrace_id}

    def _meta_refused(self, error):
        index = conversions.refused_index(error)
        if index is not None and index < len(self):
            bad = self[index]
        elif len(self) == 1:
            bad = self
        else:
            bad = self.browse()
        bad.write({"state": "failed", "error": self._meta_error_text(error)})
        (self - bad).write(
            {"state": "queued", "outbox_id": False, "send_alone": not bad}
        )
        if self - bad:
            self.env.ref("meta_graph_connector.ir_cron_meta_conversions")._trigger()
        _logger.info("Meta refused conversion events %s: %s", bad.ids, error)
        return self.env._(
            "Meta refused the request %(error)s: %(failed)s event(s) failed, "
            "%(again)s queued again.",
            # Meta's title and message for people: they name the field
            error=quoted(error),
            failed=len(bad),
            again=len(self - bad),
        )

    @api.model
    def _meta_error_text(self, error):
        kind = conversions.explain(error)
        if kind == "event_too_old":
            return self.env._("Meta refused it: older than 7 days.")
        return self.env._("Meta refused it: %(error)s.", error=quoted(error))

    def _meta_outbox_gave_up(self, item, error, reason):
        """The outbox gave up on the request carrying these events."""
        self.filtered(lambda e: e.state == "sending").write(
            {"state": "failed", "error": reason}
        )
