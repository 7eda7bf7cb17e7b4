from urllib.parse import urlencode

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..graph import api as meta_api
from ..graph import oauth
from ..graph.errors import GraphError, TokenError, quoted
from ..models.meta_login import LOGIN_FEATURES


class MetaConnectWizard(models.TransientModel):
    """Connect to Meta: with Facebook (Facebook Login for Business, see
    meta.login) or, the advanced path, with a pasted System User token.

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

    step = fields.Selection(
        [("connect", "Connect"), ("pages", "Pages")], default="connect", required=True
    )
    feature_lead_ads = fields.Boolean(string="Lead Ads", default=True)
    feature_page_comments = fields.Boolean(string="Page Comments")
    feature_messenger = fields.Boolean(string="Messenger")
    feature_instagram = fields.Boolean(string="Instagram")
    feature_audiences = fields.Boolean(string="Custom Audiences")
    login_scopes = fields.Text(
        string="Permissions Asked", compute="_compute_login_scopes"
    )
    redirect_uri = fields.Char(
        string="Valid OAuth Redirect URI", compute="_compute_login_scopes"
    )
    connection_id = fields.Many2one("meta.connection", readonly=True)
    available_page_ids = fields.Many2many(
        "meta.asset",
        "meta_connect_wizard_available_page_rel",
        string="Granted Pages",
        readonly=True,
    )
    page_ids = fields.Many2many(
        "meta.asset",
        "meta_connect_wizard_page_rel",
        string="Pages to Use",
        domain="[('id', 'in', available_page_ids)]",
    )
    access_token = fields.Char(
        help="A System User token from Meta Business Settings (recommended: it "
        "does not expire with a person's password) or a long-lived user token.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    kept_page_ids = fields.Many2many(
        "meta.asset",
        "meta_connect_wizard_kept_page_rel",
        string="Pages Kept Where They Work",
        compute="_compute_kept_pages",
    )
    kept_pages_html = fields.Html(
        string="What Would Stop",
        compute="_compute_kept_pages",
        sanitize=False,  # built with Markup escaping from Odoo's own names
    )

    @api.model
    def default_get(self, fields_list):
        """Tick the features the company's connections are used for: a new
        login asks at least for what already works (Lead Ads alone when
        there is nothing yet)."""
        values = super().default_get(fields_list)
        company = self.env["res.company"].browse(
            values.get("company_id") or self.env.company.id
        )
        # sudo: meta.connection - which features are in use, to pre-tick them
        in_use = set()
        for connection in (
            self.env["meta.connection"]
            .sudo()
            .search([("company_id", "=", company.id), ("state", "!=", "disconnected")])
        ):
            in_use.update(connection._meta_features())
        if in_use:
            for name in LOGIN_FEATURES:
                field = f"feature_{name}"
                if field in fields_list and f"default_{field}" not in self.env.context:
                    values[field] = name in in_use
        return values

    @api.depends("available_page_ids", "connection_id")
    def _compute_kept_pages(self):
        labels = dict(
            (name, self._fields[f"feature_{name}"].get_description(self.env)["string"])
            for name in LOGIN_FEATURES
        )
        for wizard in self:
            kept = wizard.available_page_ids.filtered(
                lambda page, wizard=wizard: (
                    wizard.connection_id and page.connection_id != wizard.connection_id
                )
            )
            wizard.kept_page_ids = kept
            lines = []
            for page in kept:
                lost = wizard.connection_id._meta_features_lost_by_moving(page)
                lines.append(
                    Markup("<li>%s</li>")
                    % wizard.env._(
                        "%(page)s stays on %(connection)s: this login was not "
                        "granted %(features)s, which it is used for there.",
                        page=page.name,
                        connection=page.connection_id.name,
                        features=", ".join(labels[f] for f in lost)
                        or wizard.env._("what"),
                    )
                )
            wizard.kept_pages_html = (
                Markup("<ul class='mb-0'>%s</ul>") % Markup("").join(lines)
                if lines
                else False
            )

    def action_move_kept_pages(self):
        """Move the kept Pages to this login's connection all the same: the
        administrator read what stops and asked for it."""
        self.ensure_one()
        self._meta_check_admin()
        pages = self.kept_page_ids
        pages.check_access("write")
        self.connection_id.check_access("write")
        # sudo: meta.asset - moving Pages (and their Instagram accounts)
        # with their system-only tokens to the connection just made
        (pages | pages.child_ids).sudo().write({"connection_id": self.connection_id.id})
        self.connection_id.with_context(meta_move_assets=True)._meta_fetch_assets()
        self.page_ids |= pages
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _meta_features(self):
        return [name for name in LOGIN_FEATURES if self[f"feature_{name}"]]

    @api.depends(
        "feature_lead_ads",
        "feature_page_comments",
        "feature_messenger",
        "feature_instagram",
        "feature_audiences",
    )
    def _compute_login_scopes(self):
        redirect_uri = self.env["meta.login"]._meta_redirect_uri()
        for wizard in self:
            wizard.login_scopes = "\n".join(
                oauth.login_scopes(wizard._meta_features() or ["lead_ads"])
            )
            wizard.redirect_uri = redirect_uri

    def action_connect_with_facebook(self):
        """To the Facebook dialog, through the route that keeps the login's
        state in the session (checked again there)."""
        self.ensure_one()
        self._meta_check_admin()
        query = urlencode(
            {
                "features": ",".join(self._meta_features() or ["lead_ads"]),
                "company_id": self.company_id.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/meta/oauth/start?{query}",
            "target": "self",
        }

    def action_use_pages(self):
        """Keep the Pages picked among those granted; subscribe their webhooks."""
        self.ensure_one()
        self._meta_check_admin()
        if not self.page_ids:
            raise UserError(self.env._("Pick at least one Page to connect."))
        # sudo: meta.asset - archiving the Pages not picked, on the connection
        # this administrator just made.
        # (with their Instagram accounts)
        left_out = (self.available_page_ids - self.page_ids).sudo()
        (left_out | left_out.child_ids).write({"active": False})
        self.page_ids.sudo().write({"active": True})
        self.page_ids._meta_request_subscription()
        return {
            "type": "ir.actions.act_window",
            "res_model": "meta.connection",
            "res_id": self.connection_id.id,
            "view_mode": "form",
            "target": "main",
        }

    def action_connect(self):
        self.ensure_one()
        self._meta_check_admin()
        if not (self.access_token or "").strip():
            raise UserError(self.env._("Paste a System User token first."))
        connection, pages = self._meta_connect_token(self.access_token.strip())
        # The token is stored on the connection; do not keep it here too.
        self.access_token = "-"
        # subscriptions are sent by the outbox, seconds from now
        pages._meta_request_subscription()
        self.write({"connection_id": connection.id, "available_page_ids": pages.ids})
        if self.kept_page_ids:
            # a narrower token: say what would stop, and ask
            self.write({"step": "pages", "page_ids": pages.ids})
            return {
                "type": "ir.actions.act_window",
                "res_model": self._name,
                "res_id": self.id,
                "view_mode": "form",
                "target": "new",
            }
        return {
            "type": "ir.actions.act_window",
            "res_model": "meta.connection",
            "res_id": connection.id,
            "view_mode": "form",
        }

    def _meta_connect_token(self, token):
        """Inspect ``token``, make (or renew) its connection, fetch its
        assets: (connection, its Pages)."""
        self._meta_check_admin()
        Connection = self.env["meta.connection"]
        try:
            info = Connection._meta_call(meta_api.inspect_token, token, as_app=True)
        except TokenError as error:
            raise UserError(
                self.env._(
                    "Meta refused the app credentials (%(error)s): check the App "
                    "ID and App Secret of the Meta App first.",
                    error=quoted(error),
                )
            ) from None
        except GraphError as error:
            raise UserError(
                self.env._(
                    "Meta could not check the token: %(error)s", error=quoted(error)
                )
            ) from None
        if not info.is_valid:
            raise UserError(
                self.env._(
                    "Meta refused the token: %(error)s",
                    error=quoted(info.error_message) or self.env._("it is not valid"),
                )
            )
        connection = self._meta_connection_for(info, token)
        try:
            connection._meta_check_health()
            assets = connection._meta_fetch_assets()
        except GraphError as error:
            raise UserError(
                self.env._(
                    "Meta refused to list the assets: %(error)s", error=quoted(error)
                )
            ) from None
        pages = assets.filtered(lambda asset: asset.asset_type == "page")
        if not pages:
            raise UserError(
                self.env._(
                    "This login manages no Facebook Page. Give the person or "
                    "System User access to the Page in Meta Business Settings "
                    "first, then connect again."
                )
            )
        return connection, pages

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
        # what the connection is used for: what this login was asked for,
        # and for a reconnection what it was used for already (a narrower
        # login then shows the permissions missing, it never drops a feature)
        for name in self._meta_features():
            values[f"feature_{name}"] = True
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
        try:
            return (
                self.env["meta.connection"]
                ._meta_call(meta_api.get_me, as_token=token)
                .get("name")
            )
        except GraphError:
            return None
