from odoo import fields, models

from ..graph.const import PLATFORMS


class ResPartner(models.Model):
    """A person's comments and mentions on the company's Pages and
    Instagram accounts, on their card."""

    _inherit = "res.partner"

    meta_origin = fields.Selection(
        list(PLATFORMS),
        string="Came From",
        readonly=True,
        help="Created by Odoo when this person first commented on a Page or "
        "an Instagram account of the company.",
    )
    meta_social_contact_ids = fields.One2many(
        "meta.social.contact", "partner_id", string="Meta Contacts"
    )
    meta_social_comment_ids = fields.One2many(
        "meta.social.comment", "partner_id", string="Social Comments"
    )
    meta_social_comment_count = fields.Integer(
        string="Social", compute="_compute_meta_social_comment_count"
    )
    meta_last_social_at = fields.Datetime(
        string="Last Social Interaction",
        readonly=True,
        index="btree_not_null",
        help="When this person last commented on or mentioned a Page or an "
        "Instagram account of the company.",
    )

    meta_conversation_ids = fields.One2many(
        "discuss.channel", "meta_partner_id", string="Meta Conversations"
    )
    meta_conversation_count = fields.Integer(
        string="Conversations", compute="_compute_meta_conversation_count"
    )

    def _compute_meta_conversation_count(self):
        counts = dict(
            self.env["discuss.channel"]._read_group(
                [("meta_partner_id", "in", self.ids), ("channel_type", "=", "meta")],
                ["meta_partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.meta_conversation_count = counts.get(partner._origin, 0)

    def action_meta_conversations(self):
        """The person's Messenger and Instagram conversations: one opens in
        Discuss, several in a list."""
        self.ensure_one()
        conversations = self.env["discuss.channel"].search(
            [("meta_partner_id", "=", self.id), ("channel_type", "=", "meta")]
        )
        if len(conversations) == 1:
            return conversations._meta_discuss_action()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.action_meta_conversation"
        )
        action["domain"] = [("id", "in", conversations.ids)]
        return action

    def _compute_meta_social_comment_count(self):
        counts = self.env["meta.social.comment"]._meta_customer_counts(
            "partner_id", self
        )
        for partner in self:
            partner.meta_social_comment_count = counts.get(partner._origin, 0)

    def _meta_touch_social(self, moment):
        for partner in self:
            if not partner.meta_last_social_at or partner.meta_last_social_at < moment:
                # sudo: res.partner - the date is written by the webhook
                # worker for any partner, whatever its company rules
                partner.sudo().meta_last_social_at = moment

    def action_meta_social_comments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.action_meta_social_comment"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {
            "default_partner_id": self.id,
            "search_default_customers": 1,
        }
        return action
