from odoo import api, models

from ..graph import audience_api, conversions

#: Conversion Leads events: the item names the events, not their content.
CONVERSIONS = "send_conversion_events"


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
            "create_lookalike": audience_api.create_lookalike,
            "delete_audience": audience_api.delete_audience,
            CONVERSIONS: conversions.send_events,
        }

    def _meta_run(self):
        # The item names the events, not their content: the payload (hashed
        # identifiers) is built when it leaves, after the consent, the
        # suppression list and the 7-day window are checked again.
        if self.operation != CONVERSIONS:
            # the item dies with its error's text, which carries Meta's words
            # for people (GraphError.words): they name what is wrong
            return super()._meta_run()
        events = self._meta_conversion_events().filtered(lambda e: e.state == "sending")
        if not events:
            return self.env._("Nothing left to send.")
        result = events._meta_send(self)
        if isinstance(result, dict):
            self.result = result
            return None
        return result

    def _meta_set_dead(self, reason):
        result = super()._meta_set_dead(reason)
        if self.operation == CONVERSIONS:
            self._meta_conversion_events()._meta_outbox_gave_up(reason)
        return result

    def _meta_conversion_events(self):
        # sudo: meta.conversion.event - the outbox runs as whoever queued it
        # (often the cron); the events are its own payload.
        return (
            self.env["meta.conversion.event"]
            .sudo()
            .browse((self.params or {}).get("event_ids") or [])
            .exists()
        )
