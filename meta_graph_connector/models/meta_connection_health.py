"""Health at a glance: what an administrator must know about a connection
before it breaks (token and data-access expiry, missing permissions and what
they stop, webhook subscriptions Meta lost, events that failed), on the
connection, in Settings and as a banner on CRM's pipeline."""

from markupsafe import Markup

from odoo import api, fields, models

from ..graph.const import FEATURE_SCOPES

#: Days ahead of an expiry when administrators are warned, then warned again.
EXPIRY_WARNING_DAYS = (14, 3)

_LEVELS = {"ok": 0, "warning": 1, "danger": 2}


class MetaConnection(models.Model):
    _inherit = "meta.connection"

    last_webhook_at = fields.Datetime(
        string="Last Webhook Received", compute="_compute_health"
    )
    last_lead_at = fields.Datetime(string="Last Lead", compute="_compute_health")
    failed_event_count = fields.Integer(
        string="Failed Events", compute="_compute_health"
    )
    dead_event_count = fields.Integer(string="Dead Events", compute="_compute_health")
    drifted_page_count = fields.Integer(
        string="Pages Without Webhooks", compute="_compute_health"
    )
    health_level = fields.Selection(
        [("ok", "Healthy"), ("warning", "Warning"), ("danger", "Needs Attention")],
        string="Health",
        compute="_compute_health",
    )
    health_html = fields.Html(
        string="Health Summary",
        compute="_compute_health",
        sanitize=False,  # built with Markup escaping, never from raw input
    )
    granted_scopes_text = fields.Text(
        string="Granted Permissions", compute="_compute_scope_texts"
    )
    missing_scopes_html = fields.Html(
        string="Missing Permissions",
        compute="_compute_scope_texts",
        sanitize=False,  # built with Markup escaping
    )
    expiry_warned_days = fields.Integer(
        readonly=True,
        copy=False,
        help="The last expiry warning sent (14 or 3 days ahead), so each is sent once.",
    )

    # ------------------------------------------------------------ compute

    @api.depends("granted_scopes", "missing_scopes")
    def _compute_scope_texts(self):
        for connection in self:
            granted = connection._meta_scope_list("granted_scopes")
            connection.granted_scopes_text = "\n".join(granted) or False
            missing = connection._meta_scope_list("missing_scopes")
            connection.missing_scopes_html = (
                connection._meta_issue_list(
                    [connection._meta_scope_effect(scope) for scope in missing]
                )
                if missing
                else False
            )

    @api.depends(
        "state",
        "token_expires_at",
        "data_access_expires_at",
        "missing_scopes",
        "granted_scopes",
        "asset_ids.webhook_fields",
    )
    def _compute_health(self):
        # sudo: meta.webhook.event, meta.outbox, crm.lead - only dates and
        # counts are shown, to Meta administrators, on their connections.
        Event = self.env["meta.webhook.event"].sudo()
        Outbox = self.env["meta.outbox"].sudo()
        Lead = self.env["crm.lead"].sudo().with_context(active_test=False)
        accounts = {
            connection: connection.asset_ids.filtered(
                lambda a: a.asset_type in ("page", "instagram")
            )
            for connection in self
        }
        for connection in self:
            assets = accounts[connection]
            external_ids = assets.mapped("external_id")
            events = [("external_account_id", "in", external_ids)]
            [(last_webhook,)] = Event._read_group(events, [], ["received_at:max"])
            pages = assets.filtered(lambda a: a.asset_type == "page")
            [(last_lead,)] = Lead._read_group(
                [("meta_page_id", "in", pages.ids)], [], ["create_date:max"]
            )
            states = dict(
                Event._read_group(
                    [*events, ("state", "in", ("failed", "dead"))],
                    ["state"],
                    ["__count"],
                )
            )
            sent = dict(
                Outbox._read_group(
                    [
                        ("connection_id", "=", connection.id),
                        ("state", "in", ("failed", "dead")),
                    ],
                    ["state"],
                    ["__count"],
                )
            )
            connection.last_webhook_at = last_webhook
            connection.last_lead_at = last_lead
            connection.failed_event_count = states.get("failed", 0) + sent.get(
                "failed", 0
            )
            connection.dead_event_count = states.get("dead", 0) + sent.get("dead", 0)
            connection.drifted_page_count = len(
                pages.filtered(lambda page: not page.webhook_ok)
            )
            issues = connection._meta_health_issues()
            level = max((lvl for lvl, _text in issues), default=0)
            connection.health_level = {v: k for k, v in _LEVELS.items()}[level]
            connection.health_html = (
                connection._meta_issue_list([text for _lvl, text in issues])
                if issues
                else False
            )

    # ------------------------------------------------------------ health

    def _meta_health_issues(self):
        """(level, text) of each thing that is wrong or about to be, worst
        first; level 2 stops the connection's work, 1 will or may."""
        self.ensure_one()
        issues = []
        if self.state == "disconnected":
            return [(1, self.env._("Disconnected: no webhook nor call is handled."))]
        if self.state == "needs_reconnect":
            issues.append(
                (
                    2,
                    self.env._(
                        "Meta no longer accepts the token: reconnect the connection."
                    ),
                )
            )
        for label, expires_at in (
            (self.env._("The token"), self.token_expires_at),
            (self.env._("Access to people's data"), self.data_access_expires_at),
        ):
            days = self._meta_days_left(expires_at)
            if days is None or days > EXPIRY_WARNING_DAYS[0]:
                continue
            if days < 0:
                issues.append((2, self.env._("%(what)s expired.", what=label)))
            else:
                issues.append(
                    (
                        2 if days <= EXPIRY_WARNING_DAYS[1] else 1,
                        self.env._(
                            "%(what)s expires in %(days)s days (%(date)s): "
                            "reconnect before.",
                            what=label,
                            days=days,
                            date=fields.Date.to_string(expires_at.date()),
                        ),
                    )
                )
        for scope in self._meta_scope_list("missing_scopes"):
            issues.append((2, self._meta_scope_effect(scope)))
        counted = (
            (
                2,
                self.drifted_page_count,
                self.env._(
                    "%(count)s Page(s) lost their webhook subscription: "
                    "leads arrive only through the reconciliation, new "
                    "comments not at all.",
                    count=self.drifted_page_count,
                ),
            ),
            (
                1,
                self.dead_event_count,
                self.env._(
                    "%(count)s event(s) dead after their retries: see the "
                    "Webhook Inbox and the Outbox.",
                    count=self.dead_event_count,
                ),
            ),
            (
                1,
                self.failed_event_count,
                self.env._(
                    "%(count)s event(s) failed and wait for a retry.",
                    count=self.failed_event_count,
                ),
            ),
        )
        issues += [(level, text) for level, count, text in counted if count]
        return sorted(issues, key=lambda issue: -issue[0])

    def _meta_days_left(self, moment):
        if not moment:
            return None
        return (moment - fields.Datetime.now()).days

    def _meta_scope_list(self, fname):
        return [scope for scope in (self[fname] or "").split(",") if scope]

    def _meta_scope_effects(self):
        """What stops working without a permission, in an administrator's
        words (the permissions each feature needs: graph.const.FEATURE_SCOPES)."""
        return {
            "pages_show_list": self.env._(
                "the Pages cannot be listed nor their tokens read"
            ),
            "pages_manage_metadata": self.env._(
                "webhooks cannot be subscribed: no lead, comment or message "
                "arrives live"
            ),
            "pages_read_engagement": self.env._(
                "Page content and lead forms cannot be read"
            ),
            "leads_retrieval": self.env._("leads cannot be read: Lead Ads stops"),
            "pages_manage_ads": self.env._(
                "lead forms and their test leads cannot be managed"
            ),
            "pages_read_user_content": self.env._(
                "comments of visitors cannot be read"
            ),
            "pages_manage_engagement": self.env._(
                "comments cannot be answered from Odoo"
            ),
            "pages_messaging": self.env._(
                "Messenger messages cannot be read nor answered"
            ),
            "instagram_basic": self.env._("the Instagram account cannot be read"),
            "instagram_manage_comments": self.env._(
                "Instagram comments cannot be read nor answered"
            ),
            "instagram_manage_messages": self.env._(
                "Instagram messages cannot be read nor answered"
            ),
            "ads_management": self.env._("Custom Audiences cannot be sent to Meta"),
            "business_management": self.env._(
                "the Business Manager's assets cannot be listed"
            ),
        }

    def _meta_scope_effect(self, scope):
        effect = self._meta_scope_effects().get(scope)
        feature = next(
            (name for name, scopes in FEATURE_SCOPES.items() if scope in scopes), None
        )
        if effect:
            return self.env._(
                "Permission %(scope)s is missing: %(effect)s.",
                scope=scope,
                effect=effect,
            )
        return self.env._(
            "Permission %(scope)s is missing (%(feature)s).",
            scope=scope,
            feature=feature or "-",
        )

    @api.model
    def _meta_issue_list(self, texts):
        return Markup("<ul class='mb-0'>%s</ul>") % Markup("").join(
            Markup("<li>%s</li>") % text for text in texts
        )

    # ------------------------------------------------------------ warnings

    def _meta_warn_expiry(self):
        """Tell administrators 14 days, then 3 days, before the token or the
        data access expires: once per threshold."""
        self.ensure_one()
        days = [
            d
            for d in (
                self._meta_days_left(self.token_expires_at),
                self._meta_days_left(self.data_access_expires_at),
            )
            if d is not None
        ]
        soonest = min(days, default=None)
        if soonest is None or soonest > EXPIRY_WARNING_DAYS[0]:
            if self.expiry_warned_days:
                self.expiry_warned_days = 0  # renewed: warn again next time
            return
        threshold = min(t for t in EXPIRY_WARNING_DAYS if soonest <= t)
        if self.expiry_warned_days and self.expiry_warned_days <= threshold:
            return

        def render(connection):
            # the expiry and whatever else is wrong with the connection
            issues = [text for _lvl, text in connection._meta_health_issues()]
            return (
                connection.env._(
                    "Meta connection %(name)s expires soon", name=connection.name
                ),
                connection._meta_issue_list(issues),
            )

        self._meta_alert(render)
        self.expiry_warned_days = threshold

    @api.model
    def get_attention_banner(self):
        """The connections that need an administrator, for CRM's banner.

        Called by the web client for every pipeline user: people who are not
        Meta administrators get nothing (and no error)."""
        if not self.env.user.has_group("meta_graph_connector.group_meta_admin"):
            return []
        connections = self.search([("state", "!=", "disconnected")])
        return [
            {
                "id": connection.id,
                "name": connection.name,
                "level": connection.health_level,
                "issues": [text for _lvl, text in connection._meta_health_issues()],
            }
            for connection in connections
            if connection.health_level != "ok"
        ]
