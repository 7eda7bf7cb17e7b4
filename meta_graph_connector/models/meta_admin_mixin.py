from odoo import models
from odoo.exceptions import AccessError


class MetaAdminMixin(models.AbstractModel):
    """Server-side check for actions that change a Meta connection or call Meta.

    Every public method is callable over RPC by anyone who can read the
    record: hiding a button from a salesperson is no permission. Each such
    action calls :meth:`_meta_check_admin` first, before it writes with sudo
    or spends a Graph call.
    """

    _name = "meta.admin.mixin"
    _description = "Meta Administration Check"

    def _meta_check_admin(self):
        # env.su: internal callers (crons, the install hook), never RPC
        if self.env.su or self.env.user.has_group(
            "meta_graph_connector.group_meta_admin"
        ):
            return
        raise AccessError(
            self.env._(
                "Only Meta administrators can do this. Ask one to add you to "
                "the group Meta / Administrator."
            )
        )
