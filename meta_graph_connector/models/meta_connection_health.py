"""Health at a glance: what an administrator must know about a connection
before it breaks (token and data-access expiry, missing permissions and what
they stop, webhook subscriptions Meta lost, events that failed, the Graph
API version Meta retires), on the connection, in Settings and as a banner on
CRM's pipeline."""

import hashlib

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..graph import api as meta_api
from ..graph import versions
from ..graph.const import FEATURE_SCOPES
from ..graph.errors import GraphError

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
        if self.state == "disconnected":
            return [(1, self.env._("Disconnected: no webhook nor call is handled."))]
        issues = [
            *self._meta_token_issues(),
            *self._meta_expiry_issues(),
            *self._meta_permission_issues(),
            *self._meta_version_issues(),
            *self._meta_counted_issues(),
        ]
        # stable: issues of one level keep the order above
        return sorted(issues, key=lambda issue: -issue[0])

    def _meta_token_issues(self):
        """Meta refuses the token: nothing works until reconnected."""
        if self.state != "needs_reconnect":
            return []
        return [
            (
                2,
                self.env._(
                    "Meta no longer accepts the token: reconnect the connection."
                ),
            )
        ]

    def _meta_expiry_issues(self):
        """The token and the access to people's data, expired or expiring
        within the first warning's days."""
        issues = []
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
        return issues

    def _meta_permission_issues(self):
        """Each missing permission and what it stops, then what Meta refused
        without saying which permission."""
        issues = [
            (2, self._meta_scope_effect(scope))
            for scope in self._meta_scope_list("missing_scopes")
        ]
        if self.state == "app_restricted":
            issues.append(
                (
                    2,
                    self.env._(
                        "Meta restricts the app: check its features and App "
                        "Review in Meta's App Dashboard, then check the health."
                    ),
                )
            )
        elif self.state == "permission_missing" and not self.missing_scopes:
            issues.append(
                (
                    2,
                    self.env._(
                        "Meta refused a permission: check the health to see which one."
                    ),
                )
            )
        return issues

    def _meta_version_issues(self):
        """The pinned Graph API version, retired by Meta within 90 days."""
        if not (self.api_version_expires_on and self.api_version_days_left <= 90):
            return []
        return [
            (
                2 if self.api_version_days_left <= 7 else 1,
                self.env._(
                    "Meta retires Graph API version %(version)s on %(date)s: "
                    "try the next version and switch before.",
                    version=self.api_version,
                    date=fields.Date.to_string(self.api_version_expires_on),
                ),
            )
        ]

    def _meta_counted_issues(self):
        """Pages without webhooks, dead and failed events: when any."""
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
        return [(level, text) for level, count, text in counted if count]

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

    # -------------------------------------------- the Graph API version
    # The version a connection is pinned to, through its life: when Meta
    # retires it (warned 90, 30 and 7 days ahead), what the next version
    # changes for this connection's reads (tried without switching), and the
    # switch itself, one click each way.

    api_version_expires_on = fields.Date(
        string="Version Retired On",
        compute="_compute_api_version_lifecycle",
        help="When Meta retires the pinned version for this connection: the "
        "Marketing API's date when the connection has ad accounts or "
        "datasets (it retires versions sooner), else the Graph API's. Empty: "
        "not announced yet.",
    )
    api_version_days_left = fields.Integer(
        string="Days Left", compute="_compute_api_version_lifecycle"
    )
    api_version_next = fields.Char(
        string="Next Version", compute="_compute_api_version_lifecycle"
    )
    api_version_previous = fields.Char(
        string="Previous Version",
        readonly=True,
        copy=False,
        help="The version before the last switch: switching back returns to it.",
    )
    api_version_warned_days = fields.Integer(
        string="Version Warned (Days Ahead)", readonly=True, copy=False
    )
    api_version_trial_version = fields.Char(
        string="Version Tried", readonly=True, copy=False
    )
    api_version_trial_at = fields.Datetime(string="Tried On", readonly=True, copy=False)
    api_version_trial_ok = fields.Boolean(
        string="Nothing Changes", readonly=True, copy=False
    )
    api_version_trial_html = fields.Html(
        string="What the Next Version Changes",
        readonly=True,
        copy=False,
        sanitize=False,  # built with Markup escaping
    )
    api_version_warnings_seen = fields.Text(
        string="Version Warnings Told",
        readonly=True,
        copy=False,
        help="Digests of the deprecation warnings Meta sent, told once each.",
    )

    @api.depends("api_version", "asset_ids.asset_type")
    def _compute_api_version_lifecycle(self):
        today = fields.Date.context_today(self)
        for connection in self:
            expires_on, _api = versions.expiry(
                connection.api_version, connection._meta_version_apis()
            )
            connection.api_version_expires_on = expires_on
            connection.api_version_days_left = (
                (expires_on - today).days if expires_on else 0
            )
            try:
                connection.api_version_next = versions.next_version(
                    connection.api_version, today=today
                )
            except ValueError:
                connection.api_version_next = False

    def _meta_version_apis(self):
        """The APIs this connection uses: Marketing too with ad accounts or
        datasets (Custom Audiences, the Conversions API)."""
        types = set(self.asset_ids.mapped("asset_type"))
        if types & {"ad_account", "dataset"}:
            return (versions.GRAPH, versions.MARKETING)
        return (versions.GRAPH,)

    def write(self, vals):
        if "api_version" in vals:
            # another version: its own warnings, when its time comes
            vals = {**vals, "api_version_warned_days": 0}
        return super().write(vals)

    # ------------------------------------------------------------ warnings

    def _meta_warn_version_expiry(self):
        """Tell the administrators 90, 30 and 7 days before Meta retires the
        pinned version: once per threshold."""
        self.ensure_one()
        expires_on, api = versions.expiry(self.api_version, self._meta_version_apis())
        threshold = versions.warning_due(
            expires_on, fields.Date.context_today(self), self.api_version_warned_days
        )
        if not threshold:
            return

        def render(connection):
            env = connection.env
            apis = {
                versions.GRAPH: env._("Graph API"),
                versions.MARKETING: env._("Marketing API"),
            }
            body = Markup("<p>%s</p>") % env._(
                "Meta retires version %(version)s of the %(api)s on %(date)s "
                "(%(days)s days). Try the next version on the connection "
                "(%(next)s): Odoo repeats this connection's reads there and "
                "reports what changes, without switching.",
                version=connection.api_version,
                api=apis[api],
                date=expires_on,
                days=(expires_on - fields.Date.context_today(connection)).days,
                next=connection.api_version_next or env._("none yet"),
            )
            return (
                env._(
                    "Meta retires %(version)s of connection %(name)s in %(days)s days",
                    version=connection.api_version,
                    name=connection.name,
                    days=threshold,
                ),
                body,
            )

        self._meta_alert(render)
        self.api_version_warned_days = threshold

    def _meta_note_version_warning(self, text):
        """Meta said, in a response's headers, that the version is on its way
        out: told to the administrators once per distinct text."""
        self.ensure_one()
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        seen = (self.api_version_warnings_seen or "").split()
        if digest in seen:
            return

        def render(connection):
            return (
                connection.env._(
                    "Meta warns about the API version of %(name)s", name=connection.name
                ),
                Markup("<p>%s</p><p><i>%s</i></p>")
                % (
                    connection.env._(
                        "Meta answered a call of this connection with this "
                        "warning. Try the next version on the connection."
                    ),
                    text,
                ),
            )

        # sudo: meta.connection - the warning is recorded whoever made the call
        self_sudo = self.sudo()
        self_sudo._meta_alert(render)
        self_sudo.api_version_warnings_seen = " ".join([*seen[-50:], digest])

    # ------------------------------------------------------------ trying

    def action_try_next_version(self):
        """Repeat this connection's health check and a read of each feature
        at the next version, next to the pinned one; report the difference.
        Nothing is switched."""
        self._meta_check_admin()
        self.ensure_one()
        target = self.api_version_next
        if not target:
            raise UserError(
                self.env._(
                    "Meta has published no version newer than %(version)s.",
                    version=self.api_version,
                )
            )
        pairs = []
        for asset in self.asset_ids.filtered("active"):
            for probe in versions.probes_for(
                asset.asset_type,
                asset.external_id,
                (self.granted_scopes or "").split(","),
            ):
                current = self._meta_call(versions.run_probe, probe, asset=asset)
                trial = self._meta_call(
                    versions.run_probe, probe, asset=asset, api_version=target
                )
                pairs.append((asset, current, trial))
        findings = versions.compare([p[1] for p in pairs], [p[2] for p in pairs])
        health = self._meta_try_health(target)
        self.write(
            {
                "api_version_trial_version": target,
                "api_version_trial_at": fields.Datetime.now(),
                "api_version_trial_ok": not findings and not health,
                "api_version_trial_html": self._meta_trial_report(
                    target, pairs, findings, health
                ),
            }
        )
        return self._meta_notification(
            self.env._(
                "%(version)s tried: nothing changes for this connection.",
                version=target,
            )
            if self.api_version_trial_ok
            else self.env._(
                "%(version)s tried: some reads change, see the connection's report.",
                version=target,
            ),
            kind="success" if self.api_version_trial_ok else "warning",
        )

    def _meta_try_health(self, target):
        """The token inspection at ``target``: '' when it passes."""
        # sudo: meta.connection - the token to inspect is system-only.
        token = self.sudo().access_token
        try:
            self._meta_call(
                meta_api.inspect_token, token, as_app=True, api_version=target
            )
        except GraphError as error:
            return str(error)
        return ""

    def _meta_trial_report(self, target, pairs, findings, health):
        """The trial's report: the token check, then a row per read with
        what the next version changes for it."""
        features = self._meta_trial_features()
        by_read = {(f.feature, f.path): f for f in findings}
        rows = [
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (
                asset.name,
                features.get(current.feature, current.feature),
                self._meta_trial_verdict(
                    current, by_read.get((current.feature, current.path))
                ),
            )
            for asset, current, _trial in pairs
        ]
        return (
            Markup("<p>%s</p>")
            % (
                self.env._(
                    "%(target)s compared with %(current)s.",
                    target=target,
                    current=self.api_version,
                )
            )
            + self._meta_trial_health_line(health)
            + Markup(
                '<table class="table table-sm"><thead><tr><th>%s</th><th>%s</th>'
                "<th>%s</th></tr></thead><tbody>%s</tbody></table>"
            )
            % (
                self.env._("Asset"),
                self.env._("What Odoo reads"),
                self.env._("At the next version"),
                Markup("").join(rows),
            )
        )

    def _meta_trial_features(self):
        """The features a trial reads, in an administrator's words."""
        return {
            "pages": self.env._("Pages"),
            "lead_ads": self.env._("Lead Ads forms"),
            "comments": self.env._("Page posts and comments"),
            "messenger": self.env._("Messenger conversations"),
            "instagram": self.env._("Instagram account"),
            "ad_account": self.env._("Ad account"),
            "audiences": self.env._("Custom Audiences"),
            "conversions": self.env._("Conversions API dataset"),
        }

    def _meta_trial_verdict(self, current, finding):
        """What the next version changes for one read (``finding``: what
        versions.compare found for it, None when nothing)."""
        if finding is None:
            return Markup('<span class="text-success">%s</span>') % (
                self.env._("unchanged")
                if not current.error
                else self.env._(
                    "fails at both versions: %(error)s", error=current.error
                )
            )
        if finding.kind == "missing_fields":
            return Markup('<span class="text-danger">%s</span>') % (
                self.env._("no longer returns: %(fields)s", fields=finding.detail)
            )
        return Markup('<span class="text-danger">%s</span>') % (
            self.env._("fails: %(error)s", error=finding.detail)
        )

    def _meta_trial_health_line(self, health):
        """The token check at the next version (``health``: its error, '' when
        it passes)."""
        if health:
            return Markup('<p class="text-danger">%s</p>') % (
                self.env._("The token check fails there: %(error)s", error=health)
            )
        return Markup('<p class="text-success">%s</p>') % self.env._(
            "The token check passes there."
        )

    # ------------------------------------------------------------ switching

    def action_switch_version(self):
        """Pin the version tried: one click, undone by switching back."""
        self._meta_check_admin()
        for connection in self:
            target = connection.api_version_trial_version
            if not target or target == connection.api_version:
                raise UserError(
                    self.env._(
                        "Try the next version first: Odoo then knows what it changes."
                    )
                )
            connection._meta_switch_to(target)
        return True

    def action_switch_back(self):
        self._meta_check_admin()
        for connection in self:
            if not connection.api_version_previous:
                raise UserError(self.env._("There is no version to switch back to."))
            connection._meta_switch_to(connection.api_version_previous)
        return True

    def _meta_switch_to(self, target):
        previous = self.api_version
        self.write({"api_version": target, "api_version_previous": previous})
        self.message_post(
            body=self.env._(
                "Graph API version switched from %(old)s to %(new)s by %(user)s.",
                old=previous,
                new=target,
                user=self.env.user.name,
            ),
            subtype_xmlid="mail.mt_note",
        )
