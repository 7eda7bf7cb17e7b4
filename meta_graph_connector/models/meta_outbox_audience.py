from odoo import api, models

from ..graph import audience_api


def _batch_sender(function):
    """An outbox operation sending one batch of a customer file; the answer
    is kept as plain counts (the outbox stores JSON)."""

    def send(
        client, audience_id, schema, rows, session_id, batch_seq, last_batch, **_ids
    ):
        result = function(
            client,
            audience_id,
            schema,
            rows,
            session_id=session_id,
            batch_seq=batch_seq,
            last_batch=last_batch,
        )
        return {"received": result.received, "invalid": result.invalid}

    return send


class MetaOutbox(models.Model):
    _inherit = "meta.outbox"

    @api.model
    def _meta_operations(self):
        return {
            **super()._meta_operations(),
            "add_users": _batch_sender(audience_api.add_users),
            "remove_users": _batch_sender(audience_api.remove_users),
            "replace_users": _batch_sender(audience_api.replace_users),
            "create_lookalike": audience_api.create_lookalike,
            "delete_audience": audience_api.delete_audience,
        }
