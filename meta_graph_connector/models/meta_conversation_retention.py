from datetime import timedelta

from odoo import api, fields, models


class MetaConversationRetention(models.AbstractModel):
    """KVKK / GDPR storage limitation of Messenger and Instagram
    conversations: what messages said is erased once older than their
    company's retention period; who wrote when, and the Meta ids, stay."""

    _name = "meta.conversation.retention"
    _description = "Meta Conversation Retention"

    @api.model
    def _cron_meta_erase_old_content(self, batch=1000):
        """Erase the content of conversation messages past their company's
        retention period, ``batch`` messages a company per run (the cron
        runs again at once while more are left)."""
        for company in self.env["res.company"].search(
            [("meta_inbox_retention_days", ">", 0)]
        ):
            messages = self._meta_expired_messages(company, batch)
            messages._meta_erase_content(
                self.env._("Erased after the retention period.")
            )
            if len(messages) == batch:
                self.env.ref(
                    "meta_graph_connector.ir_cron_meta_erase_conversations"
                )._trigger()
        return True

    @api.model
    def _meta_expired_messages(self, company, limit):
        """Up to ``limit`` messages of ``company``'s conversations older than
        its retention period and not erased yet."""
        until = fields.Datetime.now() - timedelta(
            days=company.meta_inbox_retention_days
        )
        channels = (
            self.env["discuss.channel"]
            .with_context(active_test=False)
            .search(
                [("channel_type", "=", "meta"), ("meta_company_id", "=", company.id)]
            )
        )
        return self.env["mail.message"].search(
            [
                ("model", "=", "discuss.channel"),
                ("res_id", "in", channels.ids),
                ("message_type", "=", "comment"),
                ("date", "<", until),
                ("meta_erased", "=", False),
            ],
            limit=limit,
        )
