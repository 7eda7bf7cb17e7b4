import dataclasses
import logging
import time
from datetime import timedelta

from odoo import api, fields, models, modules

from ..graph import social
from ..graph.errors import GraphError, RateLimitError

_logger = logging.getLogger(__name__)

#: A run starts no new page after this many seconds; the cron is triggered
#: again at once for what is left (short runs never hold a worker).
IMPORT_TIME_BUDGET = 20


class MetaSocialImport(models.AbstractModel):
    """The import of recent comments when a Page or an Instagram account is
    connected: its posts of the last days, then every comment of each,
    a Graph page at a time. Every page is committed with the cursor of the
    next one, so a killed worker, a rate limit or a broken token resumes
    where it stopped, never skipping nor repeating a page; the comments
    themselves are applied like webhooks (idempotent by their Meta id)."""

    _name = "meta.social.import"
    _description = "Meta Comments Import"

    @api.model
    def _cron_import_comments(self, time_budget=IMPORT_TIME_BUDGET):
        auto_commit = not modules.module.current_test
        deadline = time.monotonic() + time_budget
        assets = self.env["meta.asset"].search(
            [
                ("asset_type", "in", ("page", "instagram")),
                ("connection_id.state", "=", "connected"),
                ("comment_import_state", "in", ("pending", "running")),
                ("comment_import_days", ">", 0),
            ]
        )
        for asset in assets:
            asset = asset.with_company(asset.company_id)
            try:
                finished = self._meta_import_asset(asset, deadline, auto_commit)
            except RateLimitError as error:
                # the door throttled the connection: the next run resumes
                _logger.info("Comment import of asset %s paused: %s", asset.id, error)
                return False
            except GraphError as error:
                asset.write(
                    {
                        "comment_import_state": "failed",
                        "comment_import_error": str(error),
                    }
                )
                finished = True
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if not finished:
                self.env.ref(
                    "meta_graph_connector.ir_cron_meta_import_comments"
                )._trigger()
                return False
        return True

    @api.model
    def _meta_import_asset(self, asset, deadline, auto_commit):
        """Import as much of ``asset`` as the time allows; True when done."""
        platform = "facebook" if asset.asset_type == "page" else "instagram"
        if not asset.comment_import_since:
            asset.write(
                {
                    "comment_import_state": "running",
                    "comment_import_since": fields.Datetime.now()
                    - timedelta(days=asset.comment_import_days),
                }
            )
        Post = self.env["meta.social.post"]
        while not asset.comment_import_posts_listed:
            if time.monotonic() > deadline:
                return False
            nodes, after = asset._meta_call(
                social.posts_page,
                platform,
                asset.external_id,
                since=asset.comment_import_since,
                after=asset.comment_import_cursor or None,
            )
            for node in nodes:
                ref, text, posted, url = social.post_of_read(platform, node)
                post = Post._meta_post_for(asset, platform, ref, text, posted, url)
                if not post.import_state:
                    post.import_state = "pending"
            asset.write(
                {
                    "comment_import_cursor": after or False,
                    "comment_import_posts_listed": not after,
                }
            )
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
        # history: recorded on the cards, not announced in their chatter
        Comment = self.env["meta.social.comment"].with_context(meta_social_import=True)
        for post in Post.search(
            [("asset_id", "=", asset.id), ("import_state", "=", "pending")],
            order="posted_at desc, id",
        ):
            while post.import_state == "pending":
                if time.monotonic() > deadline:
                    return False
                nodes, after = asset._meta_call(
                    social.comments_page,
                    platform,
                    post.post_ref,
                    after=post.import_cursor or None,
                )
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
                if auto_commit:
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        asset.write({"comment_import_state": "done", "comment_import_error": False})
        return True

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
