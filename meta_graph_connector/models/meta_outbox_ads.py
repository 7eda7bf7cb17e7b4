from odoo import api, models

from ..graph import audience_api
from .meta_outbox import Operation, Settled, graph_call


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

    return graph_call(send)


def _conversion_events(item):
    """The events a Conversions API item names: its origins."""
    # sudo: meta.conversion.event - the outbox runs as whoever queued it
    # (often the cron); the events are its own payload.
    return (
        item.env["meta.conversion.event"]
        .sudo()
        .browse((item.params or {}).get("event_ids") or [])
        .exists()
    )


def _send_conversion_events(item):
    """The item names the events, not their content: the payload (hashed
    identifiers) is built when it leaves, after the consent, the suppression
    list and the 7-day window are checked again (``meta.conversion.event``
    ``_meta_send``), and Meta's refusal is settled on the events."""
    events = item._meta_origin().filtered(lambda e: e.state == "sending")
    if not events:
        raise Settled(item.env._("Nothing left to send."))
    result = events._meta_send(item)
    if not isinstance(result, dict):
        raise Settled(result)  # Meta refused them, or none was left to send
    return result


class MetaOutbox(models.Model):
    """The Marketing API operations of the outbox: Custom Audiences and
    the Conversions API."""

    _inherit = "meta.outbox"

    @api.model
    def _meta_operations(self):
        return {
            **super()._meta_operations(),
            "add_users": _batch_sender(audience_api.add_users),
            "remove_users": _batch_sender(audience_api.remove_users),
            # identifiers people no longer have (an old e-mail): nobody
            # leaves the audience, only what Meta matched with them
            "remove_identifiers": _batch_sender(audience_api.remove_users),
            "replace_users": _batch_sender(audience_api.replace_users),
            "create_lookalike": graph_call(audience_api.create_lookalike),
            "delete_audience": graph_call(audience_api.delete_audience),
            # Conversion Leads: a request names events queued for it, which
            # hear of its outcome
            "send_conversion_events": Operation(
                send=_send_conversion_events, origin=_conversion_events
            ),
        }
