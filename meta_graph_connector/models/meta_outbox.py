import json
from dataclasses import dataclass
from typing import Any

from odoo import api, fields, models

from ..graph import api as meta_api
from ..graph import messaging, social
from ..graph.errors import GraphError, MalformedPayloadError


@dataclass(frozen=True)
class Operation:
    """What the outbox does for one operation name.

    ``send(item)`` does the work and returns Meta's answer (stored on the
    item, given to the origin's ``_meta_outbox_done``); it raises the core's
    Graph errors, or :class:`Settled` to end the item without an answer.
    ``origin(item)``, when given, names the records hearing of the outcome
    (the hooks of ``meta.outbox.origin``) instead of the item's ``origin``.
    """

    send: Any
    origin: Any = None


def graph_call(function):
    """The operation sending the core function ``function(client, **params)``
    through the item's asset's door (``meta.connection._meta_call``)."""
    return Operation(
        send=lambda item: item.asset_id._meta_call(function, **(item.params or {}))
    )


class Settled(Exception):  # noqa: N818 - an outcome, not a failure
    """Raised by an operation that ends its item without Meta's answer:
    nothing (more) to send, or a refusal its origin settled already. The
    item is ignored, with this reason."""


class MetaOutbox(models.Model):
    """Everything Odoo sends to Meta, queued: nothing is sent inside a
    user's request.

    An item names an operation (:meth:`_meta_operations`), the asset it is
    about and its arguments; a lane of the outbox cron runs it through the
    asset's door, with the queue's retries, parking, throttling and ordering
    keys (``meta.queue.mixin``). The record that asked for it (``origin``)
    inherits ``meta.outbox.origin``: it gives the item's ordering key and
    hears of the outcome through the hooks of that contract (done, failed,
    gave up, already done), with Meta's typed error, also kept on the item
    (``error_code``, ``error_subcode``, ``error_scope``).
    """

    _name = "meta.outbox"
    _description = "Meta Outbox"
    _inherit = ["meta.queue.mixin"]
    _order = "id desc"
    _meta_lane_crons = ("meta_graph_connector.ir_cron_meta_process_outbox",)

    name = fields.Char(compute="_compute_name")
    operation = fields.Char(required=True, readonly=True)
    params = fields.Json(string="Arguments", readonly=True)
    params_text = fields.Text(string="Arguments (JSON)", compute="_compute_texts")
    result = fields.Json(readonly=True)
    result_text = fields.Text(string="Answer (JSON)", compute="_compute_texts")
    origin_model = fields.Char(readonly=True)
    origin_id = fields.Many2oneReference(model_field="origin_model", readonly=True)
    requested_by = fields.Many2one("res.users", readonly=True)
    # Meta's error, typed (``graph.errors.GraphError``): what the origins
    # decide on; ``last_error`` is its text, for people
    error_code = fields.Integer(readonly=True)
    error_subcode = fields.Integer(readonly=True)
    error_scope = fields.Char(readonly=True)

    @api.depends("operation", "asset_id")
    def _compute_name(self):
        for item in self:
            item.name = f"{item.operation} · {item.asset_id.name or '-'}"

    def _compute_texts(self):
        for item in self:
            item.params_text = json.dumps(item.params, indent=2, ensure_ascii=False)
            item.result_text = json.dumps(item.result, indent=2, ensure_ascii=False)

    @api.model
    def _meta_operations(self):
        """Operation name → :class:`Operation`: the one registry of what the
        outbox sends. A capability adds its operations by extending this
        method (``{**super()._meta_operations(), ...}``); the run looks the
        item's operation up here, and an item whose operation is not in it
        dies with that reason."""
        return {
            "subscribe_page": graph_call(meta_api.subscribe_page),
            "unsubscribe_page": graph_call(meta_api.unsubscribe_page),
            "create_test_lead": graph_call(meta_api.create_test_lead),
            # Page and Instagram comments (meta.social.comment)
            "comment_reply": graph_call(social.reply_to_comment),
            "comment_private_reply": graph_call(social.private_reply),
            "comment_hide": graph_call(social.set_comment_hidden),
            "comment_delete": graph_call(social.delete_comment),
            # Messenger and Instagram conversations (discuss.channel)
            "message_send": graph_call(messaging.send_in_conversation),
        }

    @api.model
    def _meta_enqueue(
        self, asset, operation, params=None, ordering_key=None, origin=None
    ):
        """Queue ``operation`` for ``asset``; return the item.

        :param origin: the record asking (a ``meta.outbox.origin``): it gives
            the ordering key and hears of the outcome.
        :param ordering_key: the key of an item without origin.
        """
        if operation not in self._meta_operations():
            raise ValueError(f"unknown Meta operation {operation!r}")
        if origin is not None and not isinstance(
            origin, self.pool["meta.outbox.origin"]
        ):
            raise TypeError(f"{origin._name} is not a meta.outbox.origin")
        if origin:
            ordering_key = origin._meta_outbox_ordering_key(operation)
        # sudo: meta.outbox - a technical queue; callers are the actions that
        # checked the user's rights, the item carries who asked.
        item = self.sudo().create(
            {
                "operation": operation,
                "asset_id": asset.id,
                "params": params or {},
                "ordering_key": ordering_key,
                "origin_model": origin._name if origin else False,
                "origin_id": origin.id if origin else False,
                "requested_by": self.env.user.id,
            }
        )
        self._meta_trigger()
        return item

    @api.model
    def _cron_process_outbox(self):
        return self._meta_process_queue()

    def _meta_run(self):
        operation = self._meta_operations().get(self.operation)
        if not operation:
            raise MalformedPayloadError(f"unknown Meta operation {self.operation!r}")
        if not self.asset_id:
            return self.env._("The asset of this item was removed.")
        origin = self._meta_origin()
        if origin._meta_outbox_already_done(self):
            # a call that is not idempotent, which Meta already honoured
            return origin if self.origin_model else None
        try:
            result = operation.send(self)
        except Settled as settled:
            return str(settled)
        self.result = result if isinstance(result, dict | list) else {"result": result}
        origin._meta_outbox_done(self, result)
        return origin if self.origin_model else None

    def _meta_blocked_reason(self):
        if self._meta_ends_a_disconnection():
            return None  # the last thing said to Meta for this connection
        return super()._meta_blocked_reason()

    def _meta_set_parked(self, reason, error=None):
        if self._meta_ends_a_disconnection():
            # nobody will repair a connection being disconnected
            return self._meta_set_dead(reason, error=error)
        result = super()._meta_set_parked(reason, error=error)
        self._meta_keep_error(error)
        return result

    def _meta_ends_a_disconnection(self):
        return (
            self.operation == "unsubscribe_page"
            and self.connection_id.state == "disconnected"
        )

    def _meta_set_failed(self, error, delay=None, count=True):
        result = super()._meta_set_failed(error, delay=delay, count=count)
        if self.state == "failed":  # else it died: its origin heard of it
            self._meta_keep_error(error)
            self._meta_origin()._meta_outbox_failed(self, error, self.last_error)
        return result

    def _meta_set_dead(self, reason, error=None):
        result = super()._meta_set_dead(reason, error=error)
        self._meta_keep_error(error)
        self._meta_origin()._meta_outbox_gave_up(self, error, reason)
        return result

    def _meta_set_done(self, result=None):
        done = super()._meta_set_done(result)
        self._meta_keep_error(None)
        return done

    def action_replay(self):
        result = super().action_replay()
        for item in self:
            item._meta_keep_error(None)
        return result

    def _meta_keep_error(self, error):
        """Keep Meta's typed error on the item (none for another failure)."""
        graph = error if isinstance(error, GraphError) else None
        values = {
            "error_code": graph and graph.code or 0,
            "error_subcode": graph and graph.subcode or 0,
            "error_scope": graph and graph.scope or False,
        }
        if any(self[name] != value for name, value in values.items()):
            self.write(values)

    def _meta_origin(self):
        """The records hearing of this item's outcome (``meta.outbox.origin``):
        those its operation names, else the record that queued it; an empty
        origin when none is left (its hooks then do nothing)."""
        operation = self._meta_operations().get(self.operation)
        if operation and operation.origin:
            return operation.origin(self)
        if self.origin_model and self.origin_model in self.env:
            origin = self.env[self.origin_model].browse(self.origin_id).exists()
            if origin:
                return origin
        return self.env["meta.outbox.origin"]
