import hashlib
import secrets

from odoo import api, fields, models
from odoo.tools import SQL

from .. import series
from ..graph.times import to_naive_utc


@series.sql_constraints
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

    Each request acts once: it is keyed on what Meta signed (the kind, the
    person, ``issued_at``), so a second delivery of the same request gets
    the first one's confirmation code and changes nothing. A request issued
    before a connection got its current token (the person connected again)
    is about the earlier connection and leaves this one alone.
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
    issued_at = fields.Datetime(
        readonly=True, help="When Meta issued the request (its signed date)."
    )
    request_key = fields.Char(
        readonly=True,
        copy=False,
        help="SHA-256 of the kind, the person and Meta's date: the same "
        "request delivered again is recognised by it.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        readonly=True,
        index=True,
        default=lambda self: self.env.company,
        help="The company of the connections the request concerned.",
    )

    _sql_constraints = [
        ("code_unique", "unique(confirmation_code)", "Confirmation codes are unique."),
        (
            "request_key_unique",
            "unique(request_key)",
            "Meta's request is recorded once.",
        ),
    ]

    @api.model
    def _meta_receive(self, kind, verified):
        """Act on a verified callback (a ``SignedRequest``), once; return the
        request (for its code), the first one's when Meta sends it again."""
        meta_user_id = verified.user_id
        issued_at = to_naive_utc(verified.issued_at)
        key = hashlib.sha256(
            f"{kind}:{meta_user_id}:{verified.issued_at.timestamp():.0f}".encode()
        ).hexdigest()
        # sudo: meta.deletion.request - written by the public callback route
        Request = self.sudo()
        known = Request.search([("request_key", "=", key)], limit=1)
        if known:
            return known
        # sudo: meta.connection - Meta's callback is a public route: it acts
        # on the connections of the person it names, whatever the company.
        connections = (
            self.env["meta.connection"]
            .sudo()
            .with_context(active_test=False)
            .search([("meta_user_id", "=", meta_user_id)], order="id")
        )
        request = Request.browse(
            Request._meta_claim(
                key,
                kind=kind,
                issued_at=issued_at,
                meta_user_id=meta_user_id,
                company=connections.company_id[:1] or self.env.company,
            )
        )
        if not request:
            # recorded by a delivery this transaction already sees
            return Request.search([("request_key", "=", key)], limit=1)
        # the person connected again after the request: not about this token
        concerned = connections.filtered(
            lambda c: c._meta_connected_since() <= issued_at
        )
        for connection in concerned:
            connection._meta_removed_by_person(kind)
        if kind == "data_deletion":
            concerned.write({"meta_user_id": False})
        request.write(
            {
                "state": "done",
                "done_at": fields.Datetime.now(),
                "connection_count": len(concerned),
            }
        )
        return request

    @api.model
    def _meta_claim(self, key, kind, issued_at, meta_user_id, company):
        """Insert the request unless its key is known; its id, or None.

        ``ON CONFLICT DO NOTHING``: two deliveries at the same moment cannot
        both act. Under the request's REPEATABLE READ isolation, the second
        one meets the first's row as a serialization failure, and Odoo runs
        it again; it then finds the row and answers the same code.
        """
        self.flush_model()
        now = fields.Datetime.now()
        rows = self.env.execute_query(
            SQL(
                """INSERT INTO meta_deletion_request
                     (kind, confirmation_code, user_ref, state, received_at,
                      issued_at, request_key, company_id, connection_count,
                      create_uid, create_date, write_uid, write_date)
                   VALUES (%s, %s, %s, 'received', %s, %s, %s, %s, 0,
                           %s, %s, %s, %s)
                   ON CONFLICT (request_key) DO NOTHING
                   RETURNING id""",
                kind,
                secrets.token_hex(10),
                hashlib.sha256(str(meta_user_id).encode()).hexdigest(),
                now,
                issued_at,
                key,
                company.id,
                self.env.uid,
                now,
                self.env.uid,
                now,
            )
        )
        return rows[0][0] if rows else None

    def _meta_status_url(self):
        self.ensure_one()
        return f"{self.get_base_url()}/meta/data_deletion/{self.confirmation_code}"
