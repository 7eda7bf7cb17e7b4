from odoo import models
from odoo.exceptions import AccessError


class MetaAdminMixin(models.AbstractModel):
    """Server-side check for actions that change a Meta connection or call Meta.

    Every public method is callable over RPC by anyone who can read the
    record: hiding a button from a salesperson is no permission, and a
    record id is no permission either (an RPC call names any id, of any
    company). Each such action calls :meth:`_meta_check_admin` first, before
    it writes with sudo or spends a Graph call.
    """

    _name = "meta.admin.mixin"
    _description = "Meta Administration Check"

    def _meta_check_admin(self, operation="write"):
        """Refuse unless the user is a Meta administrator who may
        ``operation`` the records of ``self``: access rights, record rules
        (the company rules among them), and, for records without rules
        (wizards), their company being one the user works in.

        On an empty recordset (``@api.model`` actions) only the group is
        checked: the records the action then touches are checked there.
        """
        # env.su: internal callers (crons, the install hook), never RPC
        if self.env.su:
            return
        if not self.env.user.has_group("meta_graph_connector.group_meta_admin"):
            raise AccessError(
                self.env._(
                    "Only Meta administrators can do this. Ask one to add you to "
                    "the group Meta / Administrator."
                )
            )
        if not self:
            return
        self.check_access(operation)
        company_field = self._fields.get("company_id")
        if company_field is not None and company_field.comodel_name == "res.company":
            if self.company_id - self.env.companies:
                raise AccessError(
                    self.env._(
                        "You cannot do this for another company: select its "
                        "company first, if you work for it."
                    )
                )
