from odoo import api, models


class MetaEventConsumer(models.AbstractModel):
    """A model that owns some kinds of Meta webhook events.

    The one hook by which a capability receives its events: inherit this
    mixin, list the kinds (the words of ``graph.webhook.KINDS``) in
    ``_meta_event_kinds`` and implement :meth:`_meta_handle_event`. The
    webhook inbox routes each stored event to the model owning its kind, and
    the webhook fields a Page is subscribed to follow the kinds owned; the
    inbox model itself is never edited to add a capability::

        class MetaLeadForm(models.Model):
            _name = "meta.lead.form"
            _inherit = ["meta.event.consumer"]
            _meta_event_kinds = ("leadgen",)

            @api.model
            def _meta_handle_event(self, event, inbox_event):
                ...
    """

    _name = "meta.event.consumer"
    _description = "Meta Webhook Event Consumer"

    #: kinds of ``graph.webhook.KINDS`` this model handles
    _meta_event_kinds = ()
    #: whether :meth:`_meta_handle_events` handles several events of one
    #: asset better than one by one (a backlog is then claimed by batches)
    _meta_handles_together = False

    @api.model
    def _meta_handle_event(self, event, inbox_event):
        """Handle one event; called by the inbox inside a savepoint, in the
        company of the event's asset.

        :param event: the core's parsed event (``graph.webhook``).
        :param inbox_event: the ``meta.webhook.event`` record (its asset,
            connection, attempts).
        :return: a record (the result, linked on the event), a str (the event
            is ignored, with that reason) or None.
        :raise: the core's Graph errors: token and app errors, and a
            permission refusal ``debug_token`` confirms, park the event
            (another refusal makes it dead: it concerns that object alone),
            rate limits and transient errors retry it later, invalid
            requests and malformed data make it dead. Handlers must be
            idempotent: an event may be processed again after a crash or a
            replay.
        """
        raise NotImplementedError(f"{self._name} handles no Meta event")

    @api.model
    def _meta_handle_events(self, pairs):
        """Handle several events of one kind and one asset at once; called
        for consumers that say so (``_meta_handles_together``), inside one
        savepoint. Should it raise, the inbox handles each event alone with
        :meth:`_meta_handle_event`: one event's failure stays its own.

        :param pairs: ``[(event, inbox_event)]``, oldest first.
        :return: one result per pair, in order: as :meth:`_meta_handle_event`
            returns, or the Graph error about that event alone (Meta answers
            each call of a batch request on its own), which the event then
            meets as if its handler had raised it.
        """
        return [
            self._meta_handle_event(event, inbox_event) for event, inbox_event in pairs
        ]
