from odoo import api, models

from ..graph import messaging
from ..graph.times import parse_time
from .meta_import_job import IMPORT_TIME_BUDGET

#: Meta lets the Conversations API be called about twice a second per Page
#: or Instagram account (docs/meta-facts.md §6.1).
SECONDS_PER_CALL = 0.5


class MetaConversationImport(models.AbstractModel):
    """The import of recent Messenger and Instagram conversations when a
    Page or an Instagram account is connected, so that agents start with
    context: the conversations updated in the last days, each with the
    latest messages Meta keeps readable. A page of conversations at a time,
    as a ``meta.import.job`` (resumable where it stopped); messages are
    filed once by their Meta id, whether the webhook or the import saw them
    first."""

    _name = "meta.conversation.import"
    _description = "Meta Conversations Import"

    @api.model
    def _cron_import_conversations(self, time_budget=IMPORT_TIME_BUDGET, limit=None):
        return self.env["meta.import.job"]._meta_run_due(
            ["conversations"], time_budget=time_budget, limit=limit
        )

    @api.model
    def _meta_import_page(self, job):
        """Import one page of conversations of ``job``, newest first; the
        job's next page waits as long as Meta's pace asks for the calls
        made. None when done (no next page, or older than the window)."""
        asset = job.asset_id
        platform = "messenger" if asset.asset_type == "page" else "instagram"
        page_id = asset._meta_token_holder().external_id
        nodes, following = asset._meta_call(
            messaging.conversations_page,
            page_id,
            platform,
            after=job.cursor or None,
        )
        calls = 1
        for node in nodes:
            updated = parse_time(node.get("updated_time"))
            if updated and updated.replace(tzinfo=None) < job.since:
                following = None  # newest first: the rest is older still
                break
            calls += self._meta_import_conversation(asset, platform, node)
        job._meta_pace(calls * SECONDS_PER_CALL)
        return following or None

    @api.model
    def _meta_import_conversation(self, asset, platform, node):
        """File the latest messages of a conversation; the calls made."""
        scoped_id, name = messaging.conversation_customer(asset.external_id, node)
        if not scoped_id or not node.get("id"):
            return 0
        nodes, _following = asset._meta_call(
            messaging.conversation_messages_page, node["id"]
        )
        channel = self.env["discuss.channel"]._meta_conversation_for(
            asset, platform, scoped_id, name=name
        )
        channel._meta_import_history(
            [messaging.history_message(asset.external_id, n) for n in reversed(nodes)]
        )
        return 1
