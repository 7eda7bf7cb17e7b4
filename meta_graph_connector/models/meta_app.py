import secrets

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, UserError

from ..graph import app_review, const

#: Where versions before 18.0.1.1.0 kept the app's values; read once by the
#: migration, then deleted.
LEGACY_PARAMETERS = {
    "app_id": "meta_graph_connector.app_id",
    "app_secret": "meta_graph_connector.app_secret",
    "app_secret_previous": "meta_graph_connector.app_secret_previous",
    "verify_token": "meta_graph_connector.verify_token",
    "api_version": "meta_graph_connector.api_version",
    "graph_base_url": "meta_graph_connector.graph_base_url",
}


class MetaApp(models.Model):
    """The Meta app this database speaks to Meta as, with its secrets.

    The app secret (which signs webhooks and proves every Graph call) and the
    webhook verify token are fields only system administrators can read,
    search or write, on a model only they can change, as payment providers
    keep their keys. They are deliberately not ``res.config.settings``
    fields: its ``default_get`` reads ``config_parameter`` fields with sudo,
    whatever their ``groups``, for whoever calls it.

    One app per database: Meta signs every webhook with one app secret, and
    the webhook route serves one database.
    """

    _name = "meta.app"
    _description = "Meta App"

    name = fields.Char(required=True, default="Meta App")
    app_id = fields.Char(
        string="App ID", help="From Settings > Basic in the Meta App Dashboard."
    )
    app_secret = fields.Char(
        groups="base.group_system",
        copy=False,
        prefetch=False,
        help="Signs Meta's webhooks and proves every Graph call "
        "(appsecret_proof). Only system administrators can see it.",
    )
    app_secret_previous = fields.Char(
        string="Previous App Secret",
        groups="base.group_system",
        copy=False,
        prefetch=False,
        help="Keep the old secret here for a while after resetting it in Meta: "
        "webhooks signed with either secret are accepted during the rotation.",
    )
    verify_token = fields.Char(
        string="Webhook Verify Token",
        groups="base.group_system",
        copy=False,
        prefetch=False,
        readonly=True,
        help="Meta sends it back once, when you save the callback URL in the "
        "Webhooks product. It only answers that handshake: deliveries are "
        "authenticated by the app secret.",
    )
    api_version = fields.Char(
        string="Graph API Version",
        required=True,
        default=const.DEFAULT_API_VERSION,
        help="Version given to new connections; each connection pins its own.",
    )
    graph_base_url = fields.Char(
        string="Graph Base URL",
        required=True,
        default=const.DEFAULT_BASE_URL,
        help="Leave Meta's address for production. Point it at the local Meta "
        "simulator (sandbox) to try the addon without a Meta app.",
    )
    graph_timeout = fields.Float(
        string="Graph Read Timeout (s)",
        default=const.DEFAULT_TIMEOUT[1],
        help="How long a call to Meta may wait for its answer.",
    )
    login_config_id = fields.Char(
        string="Facebook Login for Business Configuration ID",
        help="Optional. The configuration made in the app's dashboard "
        "(Facebook Login for Business > Configurations): the Connect with "
        "Facebook dialog then asks its permissions and assets. Empty: the "
        "permissions of the chosen features are asked.",
    )
    oauth_redirect_uri = fields.Char(
        string="Valid OAuth Redirect URI",
        compute="_compute_webhook_url",
        help="Add it to the app's Facebook Login settings (Valid OAuth "
        "Redirect URIs) for Connect with Facebook.",
    )
    human_agent_enabled = fields.Boolean(
        string="Human Agent Feature",
        help="Meta approved the app's Human Agent feature (App Review): "
        "agents may answer up to 7 days after the customer's last message, "
        "with the HUMAN_AGENT tag. Without it, only the first 24 hours.",
    )
    # --- App Review kit: the features the business uses, what Meta's App
    # Review asks for them, and how far the app's token already got
    review_lead_ads = fields.Boolean(string="Lead Ads", default=True)
    review_page_comments = fields.Boolean(string="Page Comments", default=True)
    review_messenger = fields.Boolean(string="Messenger Inbox", default=True)
    review_instagram_comments = fields.Boolean(string="Instagram Comments")
    review_instagram_messages = fields.Boolean(string="Instagram Direct Messages")
    review_human_agent = fields.Boolean(
        string="Answers Up to 7 Days (Human Agent)",
        help="Agents answer up to 7 days after the customer's last message.",
    )
    review_audiences = fields.Boolean(string="Custom Audiences")
    review_conversions = fields.Boolean(string="Conversions API for CRM")
    review_html = fields.Html(
        string="App Review Checklist",
        compute="_compute_review_html",
        sanitize=False,  # built with Markup escaping
    )
    review_done = fields.Integer(string="Done", compute="_compute_review_html")
    review_total = fields.Integer(string="To Do", compute="_compute_review_html")
    sandbox = fields.Boolean(compute="_compute_sandbox")
    webhook_url = fields.Char(
        string="Webhook Callback URL", compute="_compute_webhook_url"
    )

    @api.depends("graph_base_url")
    def _compute_sandbox(self):
        for app in self:
            app.sandbox = bool(
                app.graph_base_url
                and app.graph_base_url.rstrip("/") != const.DEFAULT_BASE_URL
            )

    def _compute_webhook_url(self):
        base_url = self.get_base_url()
        for app in self:
            app.webhook_url = f"{base_url}/meta/webhook"
            app.oauth_redirect_uri = self.env["meta.login"]._meta_redirect_uri()

    @api.constrains("name")
    def _check_one_app(self):
        # the webhook route checks one app's signature: a second app would
        # silently never be used
        if self.search_count([]) > 1:
            raise UserError(self.env._("This database talks to Meta as one app."))

    @api.constrains("graph_timeout")
    def _check_graph_timeout(self):
        if any(app.graph_timeout <= 0 for app in self):
            raise UserError(self.env._("The Graph read timeout must be positive."))

    # ------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        apps = super().create(vals_list)
        self.env.registry.clear_cache()
        return apps

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_main(self):
        if self.env.ref("meta_graph_connector.meta_app_main", False) in self:
            raise UserError(self.env._("The Meta app of this database stays."))

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    # ---------------------------------------------------------- actions

    def action_regenerate_verify_token(self):
        """A new verify token: the old one stops passing Meta's handshake."""
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only system administrators manage the Meta app.")
            )
        for app in self:
            app.verify_token = secrets.token_urlsafe(32)
        return True

    # ---------------------------------------------------------- business

    @api.model
    def _meta_get(self):
        """The app of this database (created if an administrator removed it)."""
        # sudo: meta.app - the private accessor behind the Graph door and the
        # webhook route; callers never hand the record to a user.
        app_sudo = self.sudo().search([], order="id", limit=1)
        return app_sudo or self.sudo().create({})

    @api.model
    def _meta_config(self):
        """The app's values as a dict, for the Graph door and the webhook."""
        return dict(self._meta_config_cached())

    @api.model
    @tools.ormcache()
    def _meta_config_cached(self):
        # cached: the webhook route reads it on every delivery; every write
        # of an app clears it (and other workers' copies, through the
        # registry's cache signalling)
        app_sudo = self._meta_get()
        return {
            "app_id": app_sudo.app_id or "",
            "app_secret": app_sudo.app_secret or "",
            "app_secret_previous": app_sudo.app_secret_previous or "",
            "verify_token": app_sudo.verify_token or "",
            "api_version": app_sudo.api_version or const.DEFAULT_API_VERSION,
            "base_url": app_sudo.graph_base_url or const.DEFAULT_BASE_URL,
            "timeout": (const.DEFAULT_TIMEOUT[0], app_sudo.graph_timeout or 30.0),
        }

    @api.model
    def _meta_ensure_verify_token(self):
        """Give the app a verify token if it has none (install)."""
        app_sudo = self._meta_get()
        if not app_sudo.verify_token:
            app_sudo.verify_token = secrets.token_urlsafe(32)
        return app_sudo

    @api.model
    def _meta_adopt_legacy_parameters(self):
        """Move the app's values out of ``ir.config_parameter`` (versions
        before 18.0.1.1.0 kept them there, reachable through the settings)."""
        # sudo: ir.config_parameter - the system parameters being moved.
        params_sudo = self.env["ir.config_parameter"].sudo()
        found = params_sudo.search([("key", "in", list(LEGACY_PARAMETERS.values()))])
        values = {
            field: param.value
            for field, key in LEGACY_PARAMETERS.items()
            for param in found
            if param.key == key and param.value
        }
        if values:
            self._meta_get().write(values)
        found.unlink()
        return values

    # ------------------------------------------------------------ App Review

    def _meta_review_features(self):
        self.ensure_one()
        return [f for f in app_review.FEATURES if self[f"review_{f}"]]

    def _meta_review_granted(self):
        """The permissions Meta granted, as the connected tokens show them."""
        # sudo: meta.connection - the scopes of every connection of the
        # database, for the administrator who prepares the App Review
        connections = (
            self.env["meta.connection"]
            .sudo()
            .search([("state", "in", ("connected", "permission_missing"))])
        )
        return {
            scope
            for scopes in connections.mapped("granted_scopes")
            for scope in (scopes or "").split(",")
            if scope
        }

    def _meta_review_lines(self):
        """(requirement, state, permission) per requirement of the enabled
        features; state is True (granted), False (not yet), or None (Meta's
        token does not tell: check the App Dashboard)."""
        self.ensure_one()
        granted = self._meta_review_granted()
        lines = []
        for requirement in app_review.requirements(self._meta_review_features()):
            if requirement.kind == "permission":
                state = requirement.name in granted
            elif requirement.name == "Human Agent":
                state = self.human_agent_enabled
            else:
                state = None
            lines.append(
                (requirement, state, app_review.PERMISSIONS.get(requirement.name))
            )
        return lines

    @api.depends(*(f"review_{f}" for f in app_review.FEATURES), "human_agent_enabled")
    def _compute_review_html(self):
        for app in self:
            lines = app._meta_review_lines()
            app.review_total = len(lines)
            app.review_done = len([1 for _r, state, _p in lines if state])
            app.review_html = app._meta_review_table(lines)

    def _meta_review_feature_labels(self):
        return {
            f: self._fields[f"review_{f}"].get_description(self.env)["string"]
            for f in app_review.FEATURES
        }

    def _meta_review_table(self, lines):
        labels = self._meta_review_feature_labels()
        states = {
            True: Markup('<span class="text-success">✔ %s</span>')
            % self.env._("Granted"),
            False: Markup('<span class="text-danger">✘ %s</span>')
            % self.env._("Not granted yet"),
            None: Markup('<span class="text-muted">? %s</span>')
            % self.env._("See the App Dashboard"),
        }
        rows = Markup("").join(
            Markup("<tr><td><code>%s</code></td><td>%s</td><td>%s</td></tr>")
            % (
                requirement.name,
                ", ".join(labels[f] for f in requirement.needed_by),
                states[state],
            )
            for requirement, state, _permission in lines
        )
        return Markup(
            '<table class="table table-sm o_meta_app_review"><thead><tr>'
            "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody></table>"
        ) % (
            self.env._("Permission or feature"),
            self.env._("Needed for"),
            self.env._("State"),
            rows,
        )

    def action_print_app_review(self):
        self.ensure_one()
        return self.env.ref(
            "meta_graph_connector.action_report_meta_app_review"
        ).report_action(self)
