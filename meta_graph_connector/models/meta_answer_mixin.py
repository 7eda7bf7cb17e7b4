from odoo import models
from odoo.exceptions import AccessError


class MetaAnswerMixin(models.AbstractModel):
    """What a customer wrote and the business answers through Meta (a
    comment, a conversation): the one check of who may answer, whatever the
    channel."""

    _name = "meta.answer.mixin"
    _description = "Meta Answerable"

    def _meta_check_agent(self, refusal):
        """Refuse unless the user may answer what a customer wrote here (a
        comment, a conversation): a salesperson or a Meta administrator who
        can read these records, under crm's rules (a salesperson: their own
        leads). ``refusal`` says what they cannot answer, in their language.
        The one check of every answer, whatever the channel."""
        self.ensure_one()
        self.check_access("read")
        if not (
            self.env.su
            or self.env.user.has_group("sales_team.group_sale_salesman")
            or self.env.user.has_group("meta_graph_connector.group_meta_admin")
        ):
            raise AccessError(refusal)
