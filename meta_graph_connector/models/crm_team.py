from datetime import timedelta

from odoo import fields, models

from .. import series


class CrmTeam(models.Model):
    """The team answering a Page's or an account's conversations (its inbox
    team) chooses who answers a new one, as a live chat channel chooses its
    operator (``im_livechat.channel._get_operator``)."""

    _inherit = "crm.team"

    def _meta_get_agent(self, conversation=None):
        """The least busy available agent of the team for ``conversation``:
        online now, with the fewest conversations where the customer wrote in
        the last 24 hours. No user when nobody of the team is online (the
        team answers)."""
        agents = self._meta_available_agents(conversation)
        if not agents:
            return self.env["res.users"]
        load = self._meta_agent_load(agents)
        return agents.browse(min(agents.ids, key=lambda uid: (load[uid], uid)))

    def _meta_available_agents(self, conversation=None):
        """The members of the team who may take ``conversation`` now."""
        return self.member_ids.filtered(series.is_user_available)

    def _meta_agent_load(self, agents):
        """User id → how many conversations of ``agents`` the customer wrote
        in during the last 24 hours."""
        since = fields.Datetime.now() - timedelta(hours=24)
        load = dict.fromkeys(agents.ids, 0)
        # sudo: discuss.channel - counting every agent's open conversations
        for agent, count in (
            self.env["discuss.channel"]
            .sudo()
            ._read_group(
                [
                    ("channel_type", "=", "meta"),
                    ("meta_agent_id", "in", agents.ids),
                    ("meta_last_inbound_at", ">=", since),
                ],
                ["meta_agent_id"],
                ["__count"],
            )
        ):
            load[agent.id] = count
        return load
