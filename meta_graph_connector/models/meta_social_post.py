import logging

from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.tools import format_date, mute_logger

from .. import series
from ..graph import social
from ..graph.const import PLATFORMS
from ..graph.errors import GraphError, TransientError

_logger = logging.getLogger(__name__)

#: The permission reading a post or media needs (docs/meta-facts.md §6.3).
READ_SCOPES = {"facebook": "pages_read_engagement", "instagram": "instagram_basic"}


@series.sql_constraints
class MetaSocialPost(models.Model):
    """A Page post or an Instagram media people commented on: what the
    timeline shows the comment was written under, with its link."""

    _name = "meta.social.post"
    _description = "Meta Post"
    _order = "posted_at desc, id desc"
    _rec_name = "label"

    asset_id = fields.Many2one(
        "meta.asset", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="asset_id.company_id", store=True)
    platform = fields.Selection(
        list(PLATFORMS),
        required=True,
        readonly=True,
    )
    post_ref = fields.Char(string="Meta Post ID", required=True, readonly=True)
    text = fields.Text(readonly=True)
    url = fields.Char(string="Link", readonly=True)
    posted_at = fields.Datetime(readonly=True)
    label = fields.Char(compute="_compute_label")
    comment_ids = fields.One2many("meta.social.comment", "post_id")
    import_state = fields.Selection(
        [("pending", "To import"), ("done", "Imported")], readonly=True, copy=False
    )
    import_cursor = fields.Char(
        readonly=True, copy=False, help="Meta's cursor of the next comments page."
    )

    _sql_constraints = [
        (
            "post_unique",
            "unique(asset_id, post_ref)",
            "A post is recorded once per Page or Instagram account.",
        ),
    ]

    @api.depends("text", "posted_at", "platform", "post_ref")
    @api.depends_context("lang")
    def _compute_label(self):
        """What the post says; a post without words (a photo) or Meta did not
        give is named by its platform and date, never by its Meta id."""
        platforms = dict(self._fields["platform"]._description_selection(self.env))
        for post in self:
            text = " ".join((post.text or "").split())
            if text:
                post.label = (text[:60] + "…") if len(text) > 60 else text
            elif post.posted_at:
                post.label = self.env._(
                    "%(platform)s post of %(date)s",
                    platform=platforms.get(post.platform, ""),
                    date=format_date(self.env, post.posted_at),
                )
            else:
                post.label = self.env._(
                    "%(platform)s post", platform=platforms.get(post.platform, "")
                )

    @api.model
    def _meta_post_for(
        self, asset, platform, post_ref, text=None, posted_at=None, url="", read=False
    ):
        """The post ``post_ref`` of ``asset``, created on first sight (and,
        with ``read``, what it says read from Meta then). Written only when
        something new is learnt of it: every comment of a busy post names
        it, and two workers writing the same row for nothing would fail each
        other (serialization)."""
        if not post_ref:
            return self.browse()
        post = self._meta_find(asset, post_ref)
        if not post and read:
            text, posted_at, url = self._meta_read(asset, platform, post_ref, url)
        vals = {
            key: value
            for key, value in {
                "text": text,
                "posted_at": posted_at and posted_at.replace(tzinfo=None),
                "url": social.post_url(platform, post_ref, url) or False,
            }.items()
            if value
        }
        if post:
            changed = {key: value for key, value in vals.items() if post[key] != value}
            if changed:
                post.write(changed)
            return post
        try:
            # a lost race is expected and handled below: not a database error
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                return self.create(
                    {
                        "asset_id": asset.id,
                        "platform": platform,
                        "post_ref": post_ref,
                        **vals,
                    }
                )
        except IntegrityError:
            # the first comments of a new post, processed at once
            post = self._meta_find(asset, post_ref)
            if not post:
                raise TransientError(
                    "This post was recorded by another worker at the same "
                    "moment: retried."
                ) from None
            return post

    @api.model
    def _meta_read(self, asset, platform, post_ref, url=""):
        """(text, date, permalink) of a post, read when its first comment
        comes: optional, so a post Meta does not give (deleted, beyond the
        connection's permissions, Meta throttling) is named by what the
        comment tells, and neither the comment nor the connection suffers."""
        granted = (asset.connection_id.granted_scopes or "").split(",")
        if READ_SCOPES[platform] not in granted:
            return None, None, url
        try:
            _ref, text, posted_at, permalink = asset._meta_call(
                social.get_post, platform, post_ref
            )
        except GraphError as error:
            _logger.info("Post %s of asset %s not read: %s", post_ref, asset.id, error)
            return None, None, url
        return text, posted_at, permalink or url

    @api.model
    def _meta_find(self, asset, post_ref):
        return self.search(
            [("asset_id", "=", asset.id), ("post_ref", "=", post_ref)], limit=1
        )
