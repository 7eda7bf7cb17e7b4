import json

from odoo import api, fields, models
from odoo.tools import SQL

from .. import series
from ..graph.audience import row_digest


@series.sql_constraints
class MetaAudienceMember(models.Model):
    """A person as Meta has them in an audience: the row sent (hashes only)
    and its digest, so a sync sends only what changed and can remove exactly
    what it added."""

    _name = "meta.audience.member"
    _description = "Meta Audience Member"

    audience_id = fields.Many2one(
        "meta.audience", required=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one(related="audience_id.company_id", store=True)
    # kept when the partner is deleted: the removal still has to reach Meta
    partner_id = fields.Many2one("res.partner", index=True, ondelete="set null")
    extern_id = fields.Char(required=True)
    row = fields.Json(help="The hashed row sent to Meta.")
    row_digest = fields.Char(required=True)
    sent_at = fields.Datetime(help="When Meta confirmed the row; empty: on its way.")
    seen_sync = fields.Integer(
        help="The last sync that found the person in the segment: those a "
        "sync did not see have left it."
    )
    removing = fields.Boolean(
        help="Its removal is on its way to Meta (sent once, retried if it fails)."
    )

    _sql_constraints = [
        (
            "member_unique",
            "unique(audience_id, extern_id)",
            "A person is in an audience once.",
        ),
    ]

    @api.model
    def _meta_members_of(self, audience, chunk):
        """The members of the people of ``chunk`` (partner id, extern id,
        row), by the extern id they are wanted under.

        A person's member is found by the partner: one sent under another
        EXTERN_ID (``odoo-partner-<id>`` before EXTERN_IDs named their
        database, or a copy of another database) is renamed to the wanted
        one, its row kept as Meta has it, so the sync removes the old
        EXTERN_ID at Meta before it sends the new row."""
        wanted = {partner_id: extern_id for partner_id, extern_id, _row in chunk}
        members = self.search_read(
            [("audience_id", "=", audience.id), ("partner_id", "in", list(wanted))],
            ["partner_id", "extern_id", "row_digest", "sent_at", "removing"],
            load=None,
            order="id",
        )
        known = {member["extern_id"]: member for member in members}
        renames = []
        for member in members:
            extern_id = wanted.get(member["partner_id"])
            if (
                extern_id
                and extern_id not in known
                # a removal on its way settles the member by its old id
                and not member["removing"]
            ):
                renames.append((member["id"], extern_id))
                known[extern_id] = {**member, "extern_id": extern_id}
        if renames:
            self.flush_model()
            self.env.cr.execute(
                SQL(
                    "UPDATE meta_audience_member member SET extern_id = new.extern_id "
                    "FROM unnest(%s::int[], %s::varchar[]) AS new(id, extern_id) "
                    "WHERE member.id = new.id",
                    [member_id for member_id, _e in renames],
                    [extern_id for _m, extern_id in renames],
                )
            )
            self.invalidate_model(["extern_id"])
        return known

    @api.model
    def _meta_rows(self, member_ids):
        """The rows sent of these members, by member id."""
        ids = list(member_ids)
        if not ids:
            return {}
        return {
            member["id"]: member["row"]
            for member in self.browse(ids).read(["row"], load=None)
        }

    @api.model
    def _meta_values_held(self, audience, values, exclude_ids=()):
        """Which of ``values`` (hashed identifiers, EXTERN_IDs) a member of
        ``audience`` other than ``exclude_ids`` still has in its row."""
        if not values:
            return set()
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT value FROM meta_audience_member member, "
                "jsonb_array_elements_text(member.row) AS value "
                "WHERE member.audience_id = %s AND member.id != ALL(%s::int[]) "
                "AND member.row ?| %s::text[] AND value = ANY(%s::text[])",
                audience.id,
                list(exclude_ids),
                list(values),
                list(values),
            )
        )
        return {value for (value,) in self.env.cr.fetchall()}

    @api.model
    def _meta_mark_seen(self, audience, extern_ids, sync_number):
        """Mark these people as still in the segment at this sync."""
        if not extern_ids:
            return
        # SQL: a thousand rows per chunk of the sync, nothing else changes
        self.env.cr.execute(
            SQL(
                "UPDATE meta_audience_member SET seen_sync = %s "
                "WHERE audience_id = %s AND extern_id = ANY(%s)",
                sync_number,
                audience.id,
                list(extern_ids),
            )
        )
        self.invalidate_model(["seen_sync"])

    @api.model
    def _meta_mark_sent(self, audience, extern_ids, rows):
        """Meta confirmed these rows: their members are sent, unless a later
        sync has meanwhile queued another row for the person (its digest
        differs: that one is still on its way). One statement for a batch of
        thousands (the ORM would load every member to write it)."""
        if not extern_ids:
            return
        digests = [row_digest(row) for row in rows]
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "UPDATE meta_audience_member member "
                "SET sent_at = now() at time zone 'UTC', "
                "write_uid = %s, write_date = now() at time zone 'UTC' "
                "FROM unnest(%s::varchar[], %s::varchar[]) AS sent(extern_id, digest) "
                "WHERE member.audience_id = %s AND member.extern_id = sent.extern_id "
                "AND member.row_digest = sent.digest",
                self.env.uid,
                list(extern_ids),
                digests,
                audience.id,
            )
        )
        self.invalidate_model(["sent_at", "write_uid", "write_date"])

    @api.model
    def _meta_upsert_many(self, audience, entries, sync_number=None):
        """Record the rows about to be sent, ``entries`` being (partner id,
        extern id, row, digest): one statement for a batch of 10,000 (the
        ORM would create them one by one), the unique key making it an
        upsert."""
        if not entries:
            return
        self.flush_model()
        uid = self.env.uid
        # Odoo's cursor: its query log and counters see these statements
        self.env.cr.execute_values(
            """
            INSERT INTO meta_audience_member
                (audience_id, company_id, partner_id, extern_id, row, row_digest,
                 seen_sync, sent_at, removing,
                 create_uid, create_date, write_uid, write_date)
            VALUES %s
            ON CONFLICT (audience_id, extern_id) DO UPDATE SET
                partner_id = EXCLUDED.partner_id,
                row = EXCLUDED.row,
                row_digest = EXCLUDED.row_digest,
                seen_sync = COALESCE(
                    EXCLUDED.seen_sync, meta_audience_member.seen_sync
                ),
                sent_at = NULL,
                write_uid = EXCLUDED.write_uid,
                write_date = EXCLUDED.write_date
            """,
            [
                (
                    audience.id,
                    audience.company_id.id,
                    partner_id,
                    extern_id,
                    json.dumps(row),
                    digest,
                    sync_number,
                    uid,
                    uid,
                )
                for partner_id, extern_id, row, digest in entries
            ],
            template="(%s, %s, %s, %s, %s::jsonb, %s, %s, NULL, FALSE,"
            " %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')",
            page_size=1000,
        )
        self.invalidate_model()
