from psycopg2.errors import UniqueViolation

from odoo import api, fields, models

from .. import series
from ..graph import social
from ..graph.const import PLATFORMS
from ..graph.errors import GraphError, RateLimitError
from .meta_queue_mixin import MetaContention, quiet_sql_errors


@series.sql_constraints
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
        list(PLATFORMS),
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
    picture_url = fields.Char(string="Profile Picture", readonly=True)
    profile_checked = fields.Boolean(
        readonly=True,
        help="Meta's profile of the person was asked for once (it answers "
        "only for people who messaged the account).",
    )
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
        on ``asset`` (:meth:`_meta_contact_of`)."""
        scoped_id = change.author_id or (
            change.author_username and f"username:{change.author_username}"
        )
        if not scoped_id:
            return self.browse()
        return self._meta_contact_of(
            asset,
            change.platform,
            scoped_id,
            name=change.author_name,
            username=change.author_username,
            label=change.author_label,
        )

    @api.model
    def _meta_contact_of(
        self, asset, platform, scoped_id, name="", username="", label=""
    ):
        """The contact of ``scoped_id`` on ``asset``: the existing link, else
        a new one with a new partner (:meth:`_meta_partner_for`), found or
        made the way every person is (``res.partner``'s
        ``_meta_find_or_create_people``): two events of a newcomer processed
        at once by two lanes make one contact and one partner."""

        def find(env, refs):
            contact = env[self._name].search(
                [("asset_id", "=", asset.id), ("scoped_id", "=", scoped_id)], limit=1
            )
            return {scoped_id: contact} if contact else {}

        def create(refs):
            self.env.ref("meta_graph_connector.ir_cron_meta_social_profiles")._trigger()
            return {
                scoped_id: self._meta_create_contact(
                    asset, platform, scoped_id, name, username, label
                )
            }

        contacts = self.env["res.partner"]._meta_find_or_create_people(
            {scoped_id: [f"meta:{asset.id}:{scoped_id}"]}, find, create
        )
        contact = contacts[scoped_id]
        contact._meta_refresh_names(name, username)
        return contact

    @api.model
    def _meta_create_contact(self, asset, platform, scoped_id, name, username, label):
        try:
            # the unique key stays the last word should a path make a contact
            # without the lock: its conflict is expected, not a database error
            with quiet_sql_errors(UniqueViolation), self.env.cr.savepoint():
                return self.create(
                    {
                        "asset_id": asset.id,
                        "platform": platform,
                        "scoped_id": scoped_id,
                        "partner_id": self._meta_partner_for(
                            asset,
                            platform,
                            label
                            or name
                            or (username and f"@{username}")
                            or self.env._("Meta user %(id)s", id=scoped_id),
                        ).id,
                        "name": name or False,
                        "username": username or False,
                    }
                )
        except UniqueViolation:
            contact = self.search(
                [("asset_id", "=", asset.id), ("scoped_id", "=", scoped_id)], limit=1
            )
            if contact:
                return contact
            raise MetaContention(
                "This person was recorded by another worker at the same "
                "moment: retried."
            ) from None

    def _meta_refresh_names(self, name, username):
        vals = {}
        if name and name != self.name:
            vals["name"] = name
        if username and username != self.username:
            vals["username"] = username
        if vals:
            self.write(vals)

    @api.model
    def _meta_partner_for(self, asset, platform, label):
        """The partner of a person seen for the first time on ``asset``: a
        new one, marked as coming from Meta. A hook: a capability that knows
        the person otherwise (a lead form with the same Meta identity) finds
        them here first."""
        return self.env["res.partner"].create(
            {
                "name": label,
                "company_id": asset.company_id.id,
                "meta_origin": platform,
                "comment": False,
            }
        )

    # ------------------------------------------------------------ profiles

    @api.model
    def _cron_fetch_profiles(self, limit=100):
        """Ask Meta once for the profile (name, username, picture) of the
        Instagram people met in comments. Never required: Meta answers only
        for people who messaged the account (error 230 otherwise), and only
        to connections granted ``instagram_manage_messages``."""
        contacts = self.search(
            [
                ("platform", "=", "instagram"),
                ("profile_checked", "=", False),
                ("scoped_id", "not like", "username:%"),
                ("asset_id.connection_id.state", "=", "connected"),
                (
                    "asset_id.connection_id.granted_scopes",
                    "ilike",
                    "instagram_manage_messages",
                ),
            ],
            limit=limit,
        )
        for contact in contacts:
            try:
                profile = contact.asset_id._meta_call(
                    social.get_profile, contact.scoped_id
                )
            except RateLimitError:
                break  # the door throttled the connection: the next run goes on
            except GraphError:
                contact.profile_checked = True
                continue
            contact._meta_apply_profile(profile)
        return True

    def _meta_apply_profile(self, profile):
        self.ensure_one()
        placeholder = self.partner_id.meta_origin and self.partner_id.name in (
            self.display_label,
            self.name,
            f"@{self.username}" if self.username else None,
        )
        self.write(
            {
                "name": profile["name"] or self.name,
                "username": profile["username"] or self.username,
                "picture_url": profile["picture_url"] or False,
                "profile_checked": True,
            }
        )
        if placeholder and profile["name"]:
            # the partner Odoo made for them still bears their handle
            self.partner_id.sudo().name = profile["name"]
