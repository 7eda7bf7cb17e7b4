import hashlib
import secrets

from odoo import api, fields, models


class MetaDeletionRequest(models.Model):
    """A request Meta relayed from a person: the app was removed
    (Deauthorize callback) or its data must be deleted (Data Deletion
    Request callback).

    https://developers.facebook.com/docs/development/create-an-app/app-dashboard/data-deletion-callback/
    The person is known to the app only by their app-scoped user id, which
    is what a connection made with their token stores (``meta_user_id``): the
    connections of that person are disconnected and their tokens forgotten;
    for a deletion, the id itself is erased from them. The request keeps a
    hash of the id, never the id, and a confirmation code Meta shows to the
    person, whose public status page says how it went and nothing else.
    """

    _name = "meta.deletion.request"
    _description = "Meta Data Deletion Request"
    _order = "id desc"
    _rec_name = "confirmation_code"

    kind = fields.Selection(
        [("deauthorize", "App removed"), ("data_deletion", "Data deletion")],
        required=True,
        readonly=True,
    )
    confirmation_code = fields.Char(
        required=True, readonly=True, index=True, copy=False
    )
    user_ref = fields.Char(
        string="Person (hashed)",
        readonly=True,
        help="SHA-256 of the app-scoped user id: enough to tell two requests "
        "of one person apart, not to find the person.",
    )
    state = fields.Selection(
        [("received", "Received"), ("done", "Completed")],
        default="received",
        required=True,
        readonly=True,
    )
    received_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    done_at = fields.Datetime(readonly=True)
    connection_count = fields.Integer(string="Connections Disconnected", readonly=True)

    _sql_constraints = [
        ("code_unique", "unique(confirmation_code)", "Confirmation codes are unique."),
    ]

    @api.model
    def _meta_receive(self, kind, meta_user_id):
        """Act on a verified callback; return the request (for its code)."""
        # sudo: meta.connection - Meta's callback is a public route: it acts
        # on the connections of the person it names, whatever the company.
        connections = (
            self.env["meta.connection"]
            .sudo()
            .with_context(active_test=False)
            .search([("meta_user_id", "=", meta_user_id)])
        )
        for connection in connections:
            connection._meta_removed_by_person(kind)
        if kind == "data_deletion":
            connections.write({"meta_user_id": False})
        # sudo: meta.deletion.request - written by the public callback route
        return self.sudo().create(
            {
                "kind": kind,
                "confirmation_code": secrets.token_hex(10),
                "user_ref": hashlib.sha256(str(meta_user_id).encode()).hexdigest(),
                "state": "done",
                "done_at": fields.Datetime.now(),
                "connection_count": len(connections),
            }
        )

    def _meta_status_url(self):
        self.ensure_one()
        return f"{self.get_base_url()}/meta/data_deletion/{self.confirmation_code}"
