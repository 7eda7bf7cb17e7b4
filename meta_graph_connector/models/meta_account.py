import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..graph import api as meta_api
from ..graph.client import GraphClient
from ..graph.errors import GraphError, MissingPermissionError, TokenError
from ..graph.times import to_naive_utc

_logger = logging.getLogger(__name__)

#: Scopes without which the connection cannot do its basic job (list the
#: Page, subscribe webhooks, read leads); other features report their own
#: missing scopes in the health centre without blocking the connection.
REQUIRED_SCOPES = (
    "pages_show_list",
    "pages_manage_metadata",
    "pages_read_engagement",
    "leads_retrieval",
)


class MetaAccount(models.Model):
    """A connected Facebook Page and its linked Instagram professional account.

    This model is the one door to Meta for the whole addon:
    :meth:`_meta_client` builds the Graph client (token, app secret proof,
    pinned version, base URL) and :meth:`_meta_call` runs a core operation,
    turning token and permission errors into the connection's state, once.
    """

    _name = "meta.account"
    _description = "Meta Connection"
    _inherit = ["mail.thread", "mail.activity.mixin", "meta.admin.mixin"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        check_company=True,
        help="Receives the to-do when the connection needs attention.",
    )
    page_id = fields.Char(string="Page ID", required=True, index=True, copy=False)
    page_tasks = fields.Char(readonly=True)
    instagram_account_id = fields.Char(string="Instagram Account ID", index=True)
    instagram_username = fields.Char()
    page_access_token = fields.Char(
        groups="base.group_system", copy=False, prefetch=False
    )
    user_access_token = fields.Char(
        string="Connecting Token",
        groups="base.group_system",
        copy=False,
        prefetch=False,
        help="The System User or user token the Page token was obtained with.",
    )
    api_version = fields.Char(
        string="Graph API Version",
        required=True,
        default=lambda self: self._default_api_version(),
        help="Pinned for this connection, so upgrading Meta's version is a "
        "per-connection decision that can be tested first.",
    )
    state = fields.Selection(
        [
            ("connected", "Connected"),
            ("needs_reconnect", "Needs Reconnect"),
            ("permission_missing", "Permission Missing"),
            ("disconnected", "Disconnected"),
        ],
        default="connected",
        required=True,
        tracking=True,
    )
    token_type = fields.Char(readonly=True)
    granted_scopes = fields.Char(readonly=True)
    missing_scopes = fields.Char(readonly=True)
    token_expires_at = fields.Datetime(
        readonly=True, help="Empty when Meta reports no expiry."
    )
    data_access_expires_at = fields.Datetime(readonly=True)
    last_health_check = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)
    webhook_fields = fields.Char(string="Subscribed Webhook Fields", readonly=True)
    webhook_ok = fields.Boolean(
        string="Webhooks Subscribed", compute="_compute_webhook_ok"
    )

    _sql_constraints = [
        (
            "page_unique",
            "unique(page_id)",
            "This Facebook Page is already connected.",
        ),
    ]

    def _default_api_version(self):
        return self.env["meta.app"]._meta_config()["api_version"]

    @api.depends("webhook_fields", "granted_scopes")
    def _compute_webhook_ok(self):
        for account in self:
            current = set((account.webhook_fields or "").split(","))
            account.webhook_ok = (
                bool(account.webhook_fields)
                and set(account._meta_expected_webhook_fields()) <= current
            )

    def _meta_expected_webhook_fields(self):
        """Fields this connection should be subscribed to, given its scopes."""
        self.ensure_one()
        scopes = self.granted_scopes.split(",") if self.granted_scopes else None
        kinds = self.env["meta.webhook.event"]._meta_event_handlers()
        return meta_api.page_fields(kinds, scopes)

    # ------------------------------------------------------------ actions

    def action_check_health(self):
        self._meta_check_admin()
        for account in self:
            account._meta_check_health()
        return self._meta_notification(self._meta_health_summary())

    def action_subscribe_webhooks(self):
        self._meta_check_admin()
        for account in self:
            account._meta_subscribe_webhooks()
        return self._meta_notification(self._meta_health_summary())

    def action_sync_lead_forms(self):
        self._meta_check_admin()
        for account in self:
            try:
                self.env["meta.lead.form"]._meta_sync_forms(account)
            except GraphError as error:
                return self._meta_notification(str(error), kind="warning")
        return self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.meta_lead_form_action"
        ) | {"domain": [("account_id", "in", self.ids)]}

    def action_disconnect(self):
        self._meta_check_admin()
        for account in self:
            try:
                account._meta_call(meta_api.unsubscribe_page, account.page_id)
            except GraphError as error:
                # Disconnecting must work even with a dead token.
                _logger.info(
                    "Unsubscribe of Meta account %s failed: %s", account.id, error
                )
        # sudo: meta.account - wiping the system-only tokens is the point of
        # disconnecting, and Meta administrators may not be system users.
        self.sudo().write(
            {
                "state": "disconnected",
                "page_access_token": False,
                "user_access_token": False,
                "webhook_fields": False,
            }
        )
        return True

    # ----------------------------------------------------------- the seam

    def _meta_client(self, token=None):
        """The Graph client of this connection (the single outbound door)."""
        self.ensure_one()
        config = self.env["meta.app"]._meta_config()
        # sudo: meta.account - the Page token is system-only; reading it to
        # authenticate a call is the boundary where that is allowed.
        token = token or self.sudo().page_access_token
        if not token:
            raise TokenError(self.env._("This connection has no Page token."))
        return GraphClient(
            token,
            app_secret=config["app_secret"],
            api_version=self.api_version or config["api_version"],
            base_url=config["base_url"],
            timeout=config["timeout"],
        )

    @api.model
    def _meta_app_client(self):
        """A client authenticated as the Meta app (``app_id|app_secret``)."""
        config = self.env["meta.app"]._meta_config()
        return GraphClient.for_app(
            config["app_id"],
            config["app_secret"],
            api_version=config["api_version"],
            base_url=config["base_url"],
            timeout=config["timeout"],
        )

    def _meta_call(self, operation, *args, **kwargs):
        """Run ``operation(client, *args, **kwargs)`` for this connection.

        Token and permission errors flag the connection (once) and are
        re-raised so the caller can park or fail its own work.
        """
        self.ensure_one()
        try:
            return operation(self._meta_client(), *args, **kwargs)
        except TokenError as error:
            self._meta_flag_token_error(error)
            raise
        except MissingPermissionError as error:
            self._meta_flag_permission_error(error)
            raise

    # ---------------------------------------------------------- business

    def _meta_check_health(self):
        """Inspect the Page token with ``debug_token`` and the subscription."""
        self.ensure_one()
        # sudo: meta.account - the token to inspect is system-only.
        token = self.sudo().page_access_token
        if not token:
            self._meta_flag_token_error(
                TokenError(self.env._("This connection has no Page token."))
            )
            return
        try:
            info = meta_api.inspect_token(self._meta_app_client(), token)
        except TokenError as error:
            # 190 on the *app* token: the app id/secret are wrong, not the Page.
            self.write(
                {
                    "last_health_check": fields.Datetime.now(),
                    "last_error": self.env._(
                        "Meta rejected the app credentials: %(error)s", error=error
                    ),
                }
            )
            return
        except GraphError as error:
            self.write(
                {"last_health_check": fields.Datetime.now(), "last_error": str(error)}
            )
            return
        values = {
            "last_health_check": fields.Datetime.now(),
            "token_type": info.token_type,
            "granted_scopes": ",".join(info.scopes),
            "missing_scopes": ",".join(info.missing_scopes(REQUIRED_SCOPES)),
            "token_expires_at": to_naive_utc(info.expires_at) or False,
            "data_access_expires_at": to_naive_utc(info.data_access_expires_at)
            or False,
        }
        self.write(values)
        if not info.is_valid:
            self._meta_flag_token_error(
                TokenError(
                    info.error_message or self.env._("Meta reports the token invalid."),
                    code=info.error_code or 190,
                    subcode=info.error_subcode,
                )
            )
            return
        if values["missing_scopes"]:
            self._meta_flag_permission_error(
                MissingPermissionError(
                    self.env._(
                        "Missing permissions: %(scopes)s",
                        scopes=values["missing_scopes"],
                    )
                )
            )
            return
        self._meta_mark_connected()
        try:
            fields_now = self._meta_call(
                meta_api.page_subscriptions, self.page_id, self._meta_app_id()
            )
        except GraphError as error:
            self.last_error = str(error)
            return
        self.webhook_fields = ",".join(sorted(fields_now))

    def _meta_subscribe_webhooks(self):
        """Subscribe the app to this Page's fields, then read them back (F5)."""
        self.ensure_one()
        try:
            self._meta_call(
                meta_api.subscribe_page,
                self.page_id,
                self._meta_expected_webhook_fields(),
            )
            fields_now = self._meta_call(
                meta_api.page_subscriptions, self.page_id, self._meta_app_id()
            )
        except GraphError as error:
            self.last_error = str(error)
            return False
        self.write(
            {"webhook_fields": ",".join(sorted(fields_now)), "last_error": False}
        )
        return True

    def _meta_app_id(self):
        return self.env["meta.app"]._meta_config()["app_id"] or None

    def _meta_mark_connected(self):
        repaired = self.filtered(lambda a: a.state != "connected")
        repaired.write({"state": "connected"})
        self.write({"last_error": False})
        if repaired:
            # sudo: meta.webhook.event - the inbox is technical; reconnecting
            # releases the events that waited for this connection.
            self.env["meta.webhook.event"].sudo()._meta_unpark(repaired)

    def _meta_flag_token_error(self, error):
        """Switch to "needs reconnect" and tell the administrators, once."""
        return self._meta_flag(
            "needs_reconnect",
            error,
            self.env._("Meta connection needs to be reconnected"),
            lambda account: self.env._(
                "Meta refused the token of %(page)s (%(error)s). Paste a new "
                "System User token with “Connect Pages” to resume.",
                page=account.name,
                error=error,
            ),
        )

    def _meta_flag_permission_error(self, error):
        """Switch to "permission missing" and tell the administrators, once."""
        return self._meta_flag(
            "permission_missing",
            error,
            self.env._("Meta permission missing"),
            lambda account: self.env._(
                "Meta refused a call for %(page)s: %(error)s. Grant the "
                "missing permission to the app, then run “Check health”.",
                page=account.name,
                error=error,
            ),
        )

    def _meta_flag(self, state, error, summary, body_for):
        """Move to ``state`` and alert, only for accounts not already there.

        The conditional UPDATE is the "once": when several workers hit the
        same dead token at the same time, the row lock makes all but the
        first see the new state and update nothing.
        """
        flagged = self._meta_switch_state(state, str(error))
        for account in flagged:
            account._meta_alert(summary, body_for(account))
        return flagged

    def _meta_switch_state(self, state, error_text):
        if not self:
            return self
        self.flush_recordset(["state"])
        rows = self.env.execute_query(
            SQL(
                """UPDATE meta_account
                      SET state = %s, last_error = %s,
                          write_date = NOW() AT TIME ZONE 'UTC', write_uid = %s
                    WHERE id IN %s AND state != %s
                RETURNING id""",
                state,
                error_text,
                self.env.uid,
                tuple(self.ids),
                state,
            )
        )
        self.invalidate_recordset(["state", "last_error", "write_date", "write_uid"])
        return self.browse([row[0] for row in rows])

    def _meta_alert(self, summary, body):
        """Notify the Meta administrators on the chatter and give a to-do."""
        self.ensure_one()
        admins = self.env.ref("meta_graph_connector.group_meta_admin").users.filtered(
            lambda user: (
                not user.share
                and self.company_id in user.company_ids
                and user.id != self.env.ref("base.user_root").id
            )
        )
        self.message_post(
            body=body,
            subject=summary,
            partner_ids=admins.partner_id.ids,
            subtype_xmlid="mail.mt_note",
        )
        responsible = self.user_id if self.user_id.active else admins[:1]
        if responsible:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=body,
                user_id=responsible.id,
            )

    def _meta_health_summary(self):
        states = dict(self._fields["state"]._description_selection(self.env))
        return ", ".join(f"{a.name}: {states[a.state]}" for a in self)

    def _meta_notification(self, message, kind="info"):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Meta"),
                "message": message,
                "type": kind,
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    @api.model
    def _cron_check_health(self):
        """Daily: Meta asks apps to check token validity at least daily (§2.1)."""
        accounts = self.search([("state", "!=", "disconnected")])
        for account in accounts:
            account.with_company(account.company_id)._meta_check_health()
        return True
