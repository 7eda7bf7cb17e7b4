import json

from odoo import api, fields, models

from ..graph import api as meta_api
from ..graph import messaging, social
from ..graph.errors import MalformedPayloadError


class MetaOutbox(models.Model):
    """Everything Odoo sends to Meta, queued: nothing is sent inside a
    user's request.

    An item names an operation of the core (``graph.api``), the asset it is
    about and its arguments; a lane of the outbox cron runs it through the
    asset's door, with the queue's retries, parking, throttling and ordering
    keys (``meta.queue.mixin``). The record that asked for it (``origin``)
    hears of the outcome through ``_meta_outbox_done(item, result)`` when it
    defines it.
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
        """Operation name → core function ``f(client, **params)``. A hook:
        capabilities add the operations they send."""
        return {
            "subscribe_page": meta_api.subscribe_page,
            "unsubscribe_page": meta_api.unsubscribe_page,
            "create_test_lead": meta_api.create_test_lead,
            # Page and Instagram comments (meta.social.comment)
            "comment_reply": social.reply_to_comment,
            "comment_private_reply": social.private_reply,
            "comment_hide": social.set_comment_hidden,
            "comment_delete": social.delete_comment,
            # Messenger and Instagram conversations (discuss.channel)
            "message_send": messaging.send_in_conversation,
        }

    @api.model
    def _meta_enqueue(
        self, asset, operation, params=None, ordering_key=None, origin=None
    ):
        """Queue ``operation`` for ``asset``; return the item."""
        if operation not in self._meta_operations():
            raise ValueError(f"unknown Meta operation {operation!r}")
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
        if (
            origin
            and hasattr(origin, "_meta_outbox_already_done")
            and origin._meta_outbox_already_done(self)
        ):
            # a call that is not idempotent, which Meta already honoured
            return origin
        result = self.asset_id._meta_call(operation, **(self.params or {}))
        self.result = result if isinstance(result, dict | list) else {"result": result}
        if origin and hasattr(origin, "_meta_outbox_done"):
            origin._meta_outbox_done(self, result)
        return origin or None

    def _meta_blocked_reason(self):
        if self._meta_ends_a_disconnection():
            return None  # the last thing said to Meta for this connection
        return super()._meta_blocked_reason()

    def _meta_set_parked(self, reason):
        if self._meta_ends_a_disconnection():
            # nobody will repair a connection being disconnected
            return self._meta_set_dead(reason)
        return super()._meta_set_parked(reason)

    def _meta_ends_a_disconnection(self):
        return (
            self.operation == "unsubscribe_page"
            and self.connection_id.state == "disconnected"
        )

    def _meta_set_dead(self, reason):
        result = super()._meta_set_dead(reason)
        origin = self._meta_origin()
        if origin and hasattr(origin, "_meta_outbox_failed"):
            origin._meta_outbox_failed(self, reason)
        return result

    def _meta_origin(self):
        if not self.origin_model or self.origin_model not in self.env:
            return None
        origin = self.env[self.origin_model].browse(self.origin_id).exists()
        return origin or None
