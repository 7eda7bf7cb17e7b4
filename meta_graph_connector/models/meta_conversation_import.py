import logging
import time
from datetime import timedelta

from odoo import api, fields, models, modules

from ..graph import messaging
from ..graph.errors import GraphError, RateLimitError, TransientError
from ..graph.times import parse_time

_logger = logging.getLogger(__name__)

#: A run starts no new call after this many seconds; the cron is triggered
#: again at once for what is left.
IMPORT_TIME_BUDGET = 20
#: Meta lets the Conversations API be called about twice a second per Page
#: or Instagram account (docs/meta-facts.md §6.1).
SECONDS_PER_CALL = 0.5


class MetaConversationImport(models.AbstractModel):
    """The import of recent Messenger and Instagram conversations when a
    Page or an Instagram account is connected, so that agents start with
    context: the conversations updated in the last days, each with the
    latest messages Meta keeps readable. A page of conversations is
    committed with the cursor of the next one: a killed worker, a rate limit
    or a broken token resumes where it stopped; messages are filed once by
    their Meta id, whether the webhook or the import saw them first."""

    _name = "meta.conversation.import"
    _description = "Meta Conversations Import"

    _last_call = {}

    @api.model
    def _cron_import_conversations(self, time_budget=IMPORT_TIME_BUDGET):
        auto_commit = not modules.module.current_test
        deadline = time.monotonic() + time_budget
        assets = self.env["meta.asset"].search(
            [
                ("asset_type", "in", ("page", "instagram")),
                ("connection_id.state", "=", "connected"),
                ("inbox_import_state", "in", ("pending", "running")),
                ("inbox_import_days", ">", 0),
            ]
        )
        for asset in assets:
            asset = asset.with_company(asset.company_id)
            try:
                finished = self._meta_import_asset(asset, deadline, auto_commit)
            except (RateLimitError, TransientError) as error:
                # throttled, or Meta failed for a moment: the next run resumes
                # at the page it stopped in (filed messages are not refiled)
                _logger.info("Conversation import of %s paused: %s", asset.id, error)
                self.env.ref(
                    "meta_graph_connector.ir_cron_meta_import_conversations"
                )._trigger(fields.Datetime.now() + timedelta(minutes=1))
                return False
            except GraphError as error:
                asset.write(
                    {"inbox_import_state": "failed", "inbox_import_error": str(error)}
                )
                finished = True
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if not finished:
                self.env.ref(
                    "meta_graph_connector.ir_cron_meta_import_conversations"
                )._trigger()
                return False
        return True

    @api.model
    def _meta_import_asset(self, asset, deadline, auto_commit):
        """Import as much of ``asset`` as the time allows; True when done."""
        platform = "messenger" if asset.asset_type == "page" else "instagram"
        page_id = asset._meta_token_holder().external_id
        since = fields.Datetime.now() - timedelta(days=asset.inbox_import_days)
        if asset.inbox_import_state == "pending":
            asset.inbox_import_state = "running"
        while True:
            if time.monotonic() > deadline:
                return False
            self._meta_pace(asset)
            nodes, following = asset._meta_call(
                messaging.conversations_page,
                page_id,
                platform,
                after=asset.inbox_import_cursor or None,
            )
            older = False
            for node in nodes:
                updated = parse_time(node.get("updated_time"))
                if updated and updated.replace(tzinfo=None) < since:
                    older = True  # newest first: the rest is older still
                    break
                self._meta_pace(asset)
                self._meta_import_conversation(asset, platform, node)
            done = older or not following
            asset.write(
                {
                    "inbox_import_cursor": False if done else following,
                    "inbox_import_state": "done" if done else "running",
                }
            )
            if auto_commit:
                self.env.cr.commit()  # pylint: disable=invalid-commit
            if done:
                return True

    @api.model
    def _meta_import_conversation(self, asset, platform, node):
        scoped_id, name = messaging.conversation_customer(asset.external_id, node)
        if not scoped_id or not node.get("id"):
            return
        nodes, _following = asset._meta_call(
            messaging.conversation_messages_page, node["id"]
        )
        channel = self.env["discuss.channel"]._meta_conversation_for(
            asset, platform, scoped_id, name=name
        )
        channel._meta_import_history(
            [messaging.history_message(asset.external_id, n) for n in reversed(nodes)]
        )

    @api.model
    def _meta_pace(self, asset):
        """About two calls a second per Page or account, as Meta asks."""
        key = asset._meta_token_holder().id
        wait = self._last_call.get(key, 0) + SECONDS_PER_CALL - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        type(self)._last_call[key] = time.monotonic()
