from odoo import models


def ordering_key(record):
    """The one spelling of an outbox ordering key: the record the items
    queue behind (``meta.audience:7``)."""
    return f"{record._name}:{record.id}"


class MetaOutboxOrigin(models.AbstractModel):
    """A model that asks the outbox to send something to Meta.

    The one contract between the outbox (``meta.outbox``) and the records
    that queue work in it: inherit this mixin and override the hooks whose
    outcome matters; each has a default that does nothing. The outbox calls
    them on the record given as ``origin`` to ``meta.outbox._meta_enqueue``
    (or on the records an operation names as its origin, see
    ``meta.outbox._meta_operations``), inside the item's savepoint for
    :meth:`_meta_outbox_already_done` and :meth:`_meta_outbox_done`::

        class MetaSocialComment(models.Model):
            _name = "meta.social.comment"
            _inherit = ["meta.outbox.origin"]

            def _meta_outbox_done(self, item, result):
                ...

    The hooks receive Meta's typed error (``graph.errors.GraphError``: its
    ``code``, ``subcode`` and ``scope``, also stored on the item as
    ``error_code``, ``error_subcode`` and ``error_scope``) next to the text
    people read: origins decide on the typed values, never on the text.
    """

    _name = "meta.outbox.origin"
    _description = "Meta Outbox Origin"

    def _meta_outbox_ordering_key(self, operation):
        """The key the items of ``operation`` for this record run in order
        behind (``ordering_key`` of the queue), or None for no order.

        By default the record itself: a record whose items queue behind
        another one (a message behind its conversation) returns that
        record's key."""
        self.ensure_one()
        return ordering_key(self)

    def _meta_outbox_already_done(self, item):
        """True when Meta already has what ``item`` sends (its echo came
        and the answer was lost): the item is done without calling Meta
        again, for a call Meta does not take twice harmlessly."""
        return False

    def _meta_outbox_done(self, item, result):
        """Meta took ``item``; ``result`` is its answer (the operation's
        return value)."""

    def _meta_outbox_failed(self, item, error, reason):
        """An attempt of ``item`` failed and is retried later.

        :param error: the exception (a ``GraphError`` when Meta answered).
        :param reason: the text kept on the item for people.
        """

    def _meta_outbox_gave_up(self, item, error, reason):
        """The outbox gave up on ``item`` (dead): Meta refused it, or it
        failed too often, or it can no longer be sent.

        :param error: the exception (a ``GraphError`` when Meta answered),
            or None when nothing was raised (a disconnection ended).
        :param reason: the text kept on the item for people.
        """
