from odoo import api, fields, models


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
    def _meta_upsert(self, audience, partner_id, extern_id, row, digest):
        # sudo: meta.audience.member - a technical table written by the sync
        # an administrator started; nobody edits it by hand
        members_sudo = self.sudo()
        member = members_sudo.search(
            [("audience_id", "=", audience.id), ("extern_id", "=", extern_id)]
        )
        values = {"row": row, "row_digest": digest, "sent_at": False}
        if member:
            member.write(values)
            return member
        return members_sudo.create(
            {
                **values,
                "audience_id": audience.id,
                "partner_id": partner_id,
                "extern_id": extern_id,
            }
        )
