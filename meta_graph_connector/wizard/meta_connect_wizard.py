from odoo import fields, models
from odoo.exceptions import UserError

from ..graph import api as meta_api
from ..graph.client import GraphClient
from ..graph.errors import GraphError, TokenError


class MetaConnectWizard(models.TransientModel):
    """Connect to Meta with a System User (or user) token.

    The token is inspected (``debug_token``: valid? whose? which
    permissions?), becomes a connection (the same one again when a new token
    of the same System User is pasted: a reconnection), and the assets it
    reaches are fetched: Pages with their Page tokens and Instagram accounts,
    ad accounts and datasets where permissions allow. Pages are then
    subscribed to the webhook fields the installed features handle.
    """

    _name = "meta.connect.wizard"
    _description = "Connect to Meta"
    _inherit = ["meta.admin.mixin"]

    access_token = fields.Char(
        required=True,
        help="A System User token from Meta Business Settings (recommended: it "
        "does not expire with a person's password) or a long-lived user token.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    def action_connect(self):
        self.ensure_one()
        self._meta_check_admin()
        token = self.access_token.strip()
        Connection = self.env["meta.connection"]
        try:
            info = meta_api.inspect_token(Connection._meta_app_client(), token)
        except TokenError as error:
            raise UserError(
                self.env._(
                    "Meta refused the app credentials (%(error)s): check the App "
                    "ID and App Secret of the Meta App first.",
                    error=error,
                )
            ) from None
        except GraphError as error:
            raise UserError(
                self.env._("Meta could not check the token: %(error)s", error=error)
            ) from None
        if not info.is_valid:
            raise UserError(
                self.env._(
                    "Meta refused the token: %(error)s",
                    error=info.error_message or self.env._("it is not valid"),
                )
            )
        connection = self._meta_connection_for(info, token)
        # The token is stored on the connection; do not keep it here too.
        self.access_token = "-"
        try:
            connection._meta_check_health()
            assets = connection._meta_fetch_assets()
        except GraphError as error:
            raise UserError(
                self.env._("Meta refused to list the assets: %(error)s", error=error)
            ) from None
        pages = assets.filtered(lambda asset: asset.asset_type == "page")
        if not pages:
            raise UserError(
                self.env._(
                    "This token manages no Facebook Page. Give the System User "
                    "access to the Page in Meta Business Settings first."
                )
            )
        # subscriptions are sent by the outbox, seconds from now
        pages._meta_request_subscription()
        return {
            "type": "ir.actions.act_window",
            "res_model": "meta.connection",
            "res_id": connection.id,
            "view_mode": "form",
        }

    def _meta_connection_for(self, info, token):
        """The connection of this token's user in this company, or a new one."""
        # sudo: meta.connection - the token is a system-only field; Meta
        # administrators store it through this wizard without reading it.
        Connection = self.env["meta.connection"].sudo().with_context(active_test=False)
        connection = Connection.browse()
        if info.profile_id:
            connection = Connection.search(
                [
                    ("meta_user_id", "=", info.profile_id),
                    ("company_id", "=", self.company_id.id),
                ],
                limit=1,
            )
        values = {"access_token": token, "active": True}
        if connection:
            connection.write(values)
            return connection.sudo(False)
        name = self._meta_token_owner_name(token) or self.env._(
            "Meta connection %(user)s", user=info.profile_id or ""
        )
        return Connection.create(
            {
                **values,
                "name": name,
                "meta_user_id": info.profile_id or False,
                "company_id": self.company_id.id,
                "user_id": self.env.user.id,
            }
        ).sudo(False)

    def _meta_token_owner_name(self, token):
        """The System User's (or person's) name, to name the connection."""
        config = self.env["meta.app"]._meta_config()
        client = GraphClient(
            token,
            app_secret=config["app_secret"],
            api_version=config["api_version"],
            base_url=config["base_url"],
            timeout=config["timeout"],
        )
        try:
            return meta_api.get_me(client).get("name")
        except GraphError:
            return None
