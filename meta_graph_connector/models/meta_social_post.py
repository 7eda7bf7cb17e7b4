from psycopg2 import IntegrityError

from odoo import api, fields, models
from odoo.tools import mute_logger

from ..graph import social
from ..graph.errors import TransientError


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
        [("facebook", "Facebook"), ("instagram", "Instagram")],
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

    @api.depends("text", "post_ref")
    def _compute_label(self):
        for post in self:
            text = " ".join((post.text or "").split())
            post.label = (
                (text[:60] + "…") if len(text) > 60 else (text or post.post_ref)
            )

    @api.model
    def _meta_post_for(
        self, asset, platform, post_ref, text=None, posted_at=None, url=""
    ):
        """The post ``post_ref`` of ``asset``, created on first sight. Written
        only when something new is learnt of it: every comment of a busy
        post names it, and two workers writing the same row for nothing
        would fail each other (serialization)."""
        if not post_ref:
            return self.browse()
        vals = {
            key: value
            for key, value in {
                "text": text,
                "posted_at": posted_at and posted_at.replace(tzinfo=None),
                "url": social.post_url(platform, post_ref, url) or False,
            }.items()
            if value
        }
        post = self._meta_find(asset, post_ref)
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
    def _meta_find(self, asset, post_ref):
        return self.search(
            [("asset_id", "=", asset.id), ("post_ref", "=", post_ref)], limit=1
        )
