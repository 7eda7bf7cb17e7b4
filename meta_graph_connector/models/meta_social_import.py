import dataclasses

from odoo import api, models

from ..graph import social
from .meta_import_job import IMPORT_TIME_BUDGET

#: The cursor of a comment import while it lists the posts (Meta's cursor of
#: the next page of posts follows); then ``comments``: each post keeps its
#: own cursor (``meta.social.post.import_cursor``).
POSTS = "posts:"
COMMENTS = "comments"


class MetaSocialImport(models.AbstractModel):
    """The import of recent comments when a Page or an Instagram account is
    connected: its posts of the last days, then every comment of each,
    a Graph page at a time, as a ``meta.import.job`` (resumable where it
    stopped, never skipping nor repeating a page); the comments themselves
    are applied like webhooks (idempotent by their Meta id)."""

    _name = "meta.social.import"
    _description = "Meta Comments Import"

    @api.model
    def _cron_import_comments(self, time_budget=IMPORT_TIME_BUDGET, limit=None):
        return self.env["meta.import.job"]._meta_run_due(
            ["comments"], time_budget=time_budget, limit=limit
        )

    @api.model
    def _meta_import_page(self, job):
        """Import one page of ``job``: posts first, then comments."""
        platform = "facebook" if job.asset_id.asset_type == "page" else "instagram"
        cursor = job.cursor or POSTS
        if cursor.startswith(POSTS):
            return self._meta_import_posts(job, platform, cursor[len(POSTS) :])
        return self._meta_import_comments(job, platform)

    @api.model
    def _meta_import_posts(self, job, platform, after):
        asset = job.asset_id
        nodes, after = asset._meta_call(
            social.posts_page,
            platform,
            asset.external_id,
            since=job.since,
            after=after or None,
        )
        Post = self.env["meta.social.post"]
        for node in nodes:
            ref, text, posted, url = social.post_of_read(platform, node)
            post = Post._meta_post_for(asset, platform, ref, text, posted, url)
            if not post.import_state:
                post.import_state = "pending"
        return POSTS + after if after else COMMENTS

    @api.model
    def _meta_import_comments(self, job, platform):
        """One page of comments of the newest post left; None when none is."""
        asset = job.asset_id
        post = self.env["meta.social.post"].search(
            [("asset_id", "=", asset.id), ("import_state", "=", "pending")],
            order="posted_at desc, id",
            limit=1,
        )
        if not post:
            return None
        nodes, after = asset._meta_call(
            social.comments_page,
            platform,
            post.post_ref,
            after=post.import_cursor or None,
        )
        # history: recorded on the cards, not announced in their chatter
        Comment = self.env["meta.social.comment"].with_context(meta_social_import=True)
        for node in nodes:
            change = social.change_from_read(
                platform, asset.external_id, node, post.post_ref
            )
            Comment._meta_apply(asset, change)
            if platform == "instagram":
                self._meta_import_replies(asset, post, change.comment_id)
        post.write(
            {
                "import_cursor": after or False,
                "import_state": "pending" if after else "done",
            }
        )
        return COMMENTS

    @api.model
    def _meta_import_replies(self, asset, post, comment_id):
        """The replies of an Instagram comment (its own edge)."""
        after = None
        while True:
            nodes, after = asset._meta_call(
                social.replies_page, comment_id, after=after
            )
            for node in nodes:
                change = social.change_from_read(
                    "instagram", asset.external_id, node, post.post_ref
                )
                if not change.parent_id:
                    change = dataclasses.replace(change, parent_id=comment_id)
                self.env["meta.social.comment"].with_context(
                    meta_social_import=True
                )._meta_apply(asset, change)
            if not after:
                return
