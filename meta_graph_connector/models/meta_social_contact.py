from psycopg2 import IntegrityError

from odoo import api, fields, models

from ..graph.errors import TransientError


class MetaSocialContact(models.Model):
    """One person as a Page or an Instagram account knows them: their
    Meta-scoped id there (a Page-scoped id, an Instagram-scoped id), linked
    to the Odoo partner they are. Unique per asset and id, so two events of
    the same newcomer arriving together make one contact and one partner."""

    _name = "meta.social.contact"
    _description = "Meta Contact"
    _order = "last_interaction_at desc, id desc"
    _rec_name = "display_label"

    asset_id = fields.Many2one(
        "meta.asset", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="asset_id.company_id", store=True)
    platform = fields.Selection(
        [("facebook", "Facebook"), ("instagram", "Instagram")],
        required=True,
        readonly=True,
    )
    scoped_id = fields.Char(
        string="Meta-Scoped ID",
        required=True,
        readonly=True,
        help="The person's id for this Page or Instagram account (Meta gives "
        "each app and Page its own). An Instagram caption mention gives only "
        "the username: it is kept as 'username:<name>'.",
    )
    partner_id = fields.Many2one(
        "res.partner", required=True, index=True, ondelete="cascade"
    )
    name = fields.Char(readonly=True)
    username = fields.Char(readonly=True)
    display_label = fields.Char(compute="_compute_display_label")
    last_interaction_at = fields.Datetime(readonly=True)
    comment_ids = fields.One2many("meta.social.comment", "contact_id")

    _sql_constraints = [
        (
            "contact_unique",
            "unique(asset_id, scoped_id)",
            "A person has one contact per Page or Instagram account.",
        ),
    ]

    @api.depends("name", "username", "scoped_id")
    def _compute_display_label(self):
        for contact in self:
            contact.display_label = (
                contact.name
                or (contact.username and f"@{contact.username}")
                or contact.scoped_id
            )

    @api.model
    def _meta_contact_for(self, asset, change):
        """The contact of the author of ``change`` (a core ``CommentChange``)
        on ``asset``: the existing link, else a new one with a new partner
        (:meth:`_meta_partner_for`). Safe against two events of a newcomer
        processed at once: the unique key decides, the loser reads."""
        scoped_id = change.author_id or (
            change.author_username and f"username:{change.author_username}"
        )
        if not scoped_id:
            return self.browse()
        contact = self.search(
            [("asset_id", "=", asset.id), ("scoped_id", "=", scoped_id)], limit=1
        )
        if contact:
            contact._meta_refresh_profile(change)
            return contact
        try:
            with self.env.cr.savepoint():
                return self.create(
                    {
                        "asset_id": asset.id,
                        "platform": change.platform,
                        "scoped_id": scoped_id,
                        "partner_id": self._meta_partner_for(asset, change).id,
                        "name": change.author_name or False,
                        "username": change.author_username or False,
                    }
                )
        except IntegrityError:
            # another worker created them meanwhile; their partner is the one
            contact = self.search(
                [("asset_id", "=", asset.id), ("scoped_id", "=", scoped_id)], limit=1
            )
            if not contact:
                # committed after this transaction's snapshot: invisible here,
                # the event is retried in a new transaction, which sees it
                raise TransientError(
                    "This person was recorded by another worker at the same "
                    "moment: retried."
                ) from None
            return contact

    def _meta_refresh_profile(self, change):
        vals = {}
        if change.author_name and change.author_name != self.name:
            vals["name"] = change.author_name
        if change.author_username and change.author_username != self.username:
            vals["username"] = change.author_username
        if vals:
            self.write(vals)

    @api.model
    def _meta_partner_for(self, asset, change):
        """The partner of a person seen for the first time on ``asset``: a
        new one, marked as coming from Meta. A hook: a capability that knows
        the person otherwise (a Messenger conversation, a lead form with the
        same Meta identity) finds them here first."""
        label = change.author_label or self.env._(
            "Meta user %(id)s", id=change.author_id
        )
        return self.env["res.partner"].create(
            {
                "name": label,
                "company_id": asset.company_id.id,
                "meta_origin": change.platform,
                "comment": False,
            }
        )
