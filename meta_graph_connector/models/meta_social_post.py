from odoo import api, fields, models

from ..graph import social


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
        """The post ``post_ref`` of ``asset``, created on first sight."""
        if not post_ref:
            return self.browse()
        post = self.search(
            [("asset_id", "=", asset.id), ("post_ref", "=", post_ref)], limit=1
        )
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
            if vals:
                post.write(vals)
            return post
        return self.create(
            {"asset_id": asset.id, "platform": platform, "post_ref": post_ref, **vals}
        )
