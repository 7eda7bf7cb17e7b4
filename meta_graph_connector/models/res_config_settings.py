import secrets

from odoo import api, fields, models

from ..graph import const

PARAM_PREFIX = "meta_graph_connector."


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # The Meta app is one per database: its values live in ir.config_parameter
    # (system-only model). Secret fields carry groups= so that even a settings
    # view customised by someone else cannot show them to non-administrators.
    meta_app_id = fields.Char(
        string="Meta App ID", config_parameter=PARAM_PREFIX + "app_id"
    )
    meta_app_secret = fields.Char(
        config_parameter=PARAM_PREFIX + "app_secret",
        groups="base.group_system",
    )
    meta_app_secret_previous = fields.Char(
        string="Previous App Secret",
        config_parameter=PARAM_PREFIX + "app_secret_previous",
        groups="base.group_system",
        help="Keep the old secret here for a while after resetting it in Meta: "
        "webhooks signed with either secret are accepted during the rotation.",
    )
    meta_webhook_verify_token = fields.Char(
        string="Webhook Verify Token",
        config_parameter=PARAM_PREFIX + "verify_token",
        groups="base.group_system",
        readonly=True,
    )
    meta_api_version = fields.Char(
        string="Graph API Version",
        config_parameter=PARAM_PREFIX + "api_version",
        default=const.DEFAULT_API_VERSION,
        help="Default version for new connections; each connection pins its own.",
    )
    meta_graph_base_url = fields.Char(
        string="Graph Base URL",
        config_parameter=PARAM_PREFIX + "graph_base_url",
        default=const.DEFAULT_BASE_URL,
        help="Leave Meta's address for production. Point it at the local Meta "
        "simulator (sandbox) to try the addon without a Meta app.",
    )
    meta_sandbox = fields.Boolean(
        string="Sandbox", compute="_compute_meta_sandbox", readonly=True
    )
    meta_webhook_url = fields.Char(
        string="Webhook Callback URL", compute="_compute_meta_webhook_url"
    )

    @api.depends("meta_graph_base_url")
    def _compute_meta_sandbox(self):
        for settings in self:
            settings.meta_sandbox = bool(
                settings.meta_graph_base_url
                and settings.meta_graph_base_url.rstrip("/") != const.DEFAULT_BASE_URL
            )

    @api.depends("company_id")
    def _compute_meta_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        for settings in self:
            settings.meta_webhook_url = f"{base_url}/meta/webhook"

    def action_meta_regenerate_verify_token(self):
        self._meta_ensure_verify_token(force=True)
        return {"type": "ir.actions.client", "tag": "reload"}

    @api.model
    def _meta_ensure_verify_token(self, force=False):
        # sudo: ir.config_parameter - called from the install hook and the
        # system-only settings; the token is random and never derived.
        params = self.env["ir.config_parameter"].sudo()
        key = PARAM_PREFIX + "verify_token"
        if force or not params.get_param(key):
            params.set_param(key, secrets.token_urlsafe(32))
        return params.get_param(key)

    @api.model
    def _meta_app_config(self):
        """Meta app settings as a dict, for the Graph seam and the webhook.

        Callers are the cron, the webhook route and account actions: each is a
        boundary where reading system parameters is the point.
        """
        # sudo: ir.config_parameter - secrets are system-only; this private
        # helper is the single place the addon reads them.
        params = self.env["ir.config_parameter"].sudo()
        return {
            "app_id": params.get_param(PARAM_PREFIX + "app_id") or "",
            "app_secret": params.get_param(PARAM_PREFIX + "app_secret") or "",
            "app_secret_previous": params.get_param(
                PARAM_PREFIX + "app_secret_previous"
            )
            or "",
            "verify_token": params.get_param(PARAM_PREFIX + "verify_token") or "",
            "api_version": params.get_param(PARAM_PREFIX + "api_version")
            or const.DEFAULT_API_VERSION,
            "base_url": params.get_param(PARAM_PREFIX + "graph_base_url")
            or const.DEFAULT_BASE_URL,
        }
