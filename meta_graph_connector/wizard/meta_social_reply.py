from odoo import api, fields, models


class MetaSocialReply(models.TransientModel):
    """Answer a comment from Odoo: publicly under it, or privately to its
    author (one message per comment, within seven days)."""

    _name = "meta.social.reply"
    _description = "Reply to a Meta Comment"

    comment_id = fields.Many2one("meta.social.comment", required=True, readonly=True)
    comment_text = fields.Text(related="comment_id.text", string="Comment")
    author = fields.Char(related="comment_id.author")
    mode = fields.Selection(
        [("public", "Public reply"), ("private", "Private message")],
        default="public",
        required=True,
    )
    can_reply_privately = fields.Boolean(compute="_compute_can_reply_privately")
    text = fields.Text(required=True)

    @api.depends("comment_id")
    def _compute_can_reply_privately(self):
        for wizard in self:
            wizard.can_reply_privately = (
                wizard.comment_id.private_reply_state not in ("queued", "sent")
                and not wizard.comment_id.from_account
            )

    def action_send(self):
        self.ensure_one()
        if self.mode == "private":
            self.comment_id._meta_private_reply(self.text)
        else:
            self.comment_id._meta_reply(self.text)
        return {"type": "ir.actions.act_window_close"}
