from odoo import fields, models
from odoo.exceptions import UserError

from ..graph import api as meta_api
from ..graph.client import GraphClient
from ..graph.errors import GraphError


class MetaAccountConnect(models.TransientModel):
    """Connect the Pages a System User (or user) token manages.

    "Fetch Pages" lists them with ``/me/accounts``, creates or updates one
    ``meta.account`` per Page with its Page token, subscribes its webhooks
    and checks its health, so a connection is usable right after this step.
    """

    _name = "meta.account.connect"
    _description = "Connect Meta Pages"
    _inherit = ["meta.admin.mixin"]

    access_token = fields.Char(
        required=True,
        help="A System User token from Meta Business Settings (recommended: it "
        "does not expire with a person's password) or a long-lived user token.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )

    def action_fetch_pages(self):
        self.ensure_one()
        self._meta_check_admin()
        config = self.env["meta.app"]._meta_config()
        client = GraphClient(
            self.access_token.strip(),
            app_secret=config["app_secret"],
            api_version=config["api_version"],
            base_url=config["base_url"],
            timeout=config["timeout"],
        )
        try:
            pages = meta_api.list_pages(client)
        except GraphError as error:
            raise UserError(
                self.env._("Meta refused the token: %(error)s", error=error)
            ) from None
        if not pages:
            raise UserError(
                self.env._(
                    "This token manages no Facebook Page. Give the System User "
                    "access to the Page in Meta Business Settings first."
                )
            )
        accounts = self._meta_upsert_accounts(pages, config["api_version"])
        # The token is stored on the connections; do not keep it here too.
        self.access_token = "-"
        for account in accounts:
            # health first: it learns the granted scopes, which decide the
            # webhook fields Meta will accept for this Page
            account._meta_check_health()
            account._meta_subscribe_webhooks()
        return {
            "type": "ir.actions.act_window",
            "res_model": "meta.account",
            "name": self.env._("Meta Connections"),
            "view_mode": "list,form",
            "domain": [("id", "in", accounts.ids)],
        }

    def _meta_upsert_accounts(self, pages, api_version):
        # sudo: meta.account - Page tokens are system-only fields; Meta
        # administrators store them through this wizard without reading them.
        Account = self.env["meta.account"].sudo().with_context(active_test=False)
        existing = {
            account.page_id: account
            for account in Account.search(
                [("page_id", "in", [p.page_id for p in pages])]
            )
        }
        accounts = Account.browse()
        for page in pages:
            values = {
                "name": page.name or page.page_id,
                "page_access_token": page.access_token,
                "user_access_token": self.access_token.strip(),
                "page_tasks": ",".join(page.tasks),
                "instagram_account_id": page.instagram_id or False,
                "instagram_username": page.instagram_username or False,
                "active": True,
            }
            account = existing.get(page.page_id)
            if account and account.company_id != self.company_id:
                raise UserError(
                    self.env._(
                        "The Page %(page)s is already connected in company "
                        "%(company)s.",
                        page=page.name,
                        company=account.company_id.name,
                    )
                )
            if account:
                # the state is left to the health check below: going back to
                # "connected" there also releases the events parked meanwhile
                account.write(values)
            else:
                account = Account.create(
                    {
                        **values,
                        "page_id": page.page_id,
                        "company_id": self.company_id.id,
                        "api_version": api_version,
                        "user_id": self.env.user.id,
                    }
                )
            accounts |= account
        return accounts.sudo(False)
