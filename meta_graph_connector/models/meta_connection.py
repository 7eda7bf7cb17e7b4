import inspect
import logging
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

import requests

from odoo import api, fields, models
from odoo.tools import SQL

from .. import series
from ..graph import api as meta_api
from ..graph import messaging, oauth
from ..graph.client import GraphClient
from ..graph.const import FEATURES, PAGE_FEATURES
from ..graph.errors import (
    PERMISSION,
    AppError,
    GraphError,
    MissingPermissionError,
    RateLimitError,
    TokenError,
    quoted,
)
from ..graph.times import to_naive_utc
from ..graph.usage import SLOW_DOWN_PERCENT

_logger = logging.getLogger(__name__)

#: A permission refusal is confirmed with ``debug_token`` at most once in
#: this many seconds per connection: a burst of refusals about single
#: objects costs one inspection, not one each.
PERMISSION_CONFIRMATION_SECONDS = 60

#: One HTTP session (keep-alive) per connection and thread: a cron draining a
#: backlog reuses its TLS connection to Meta instead of opening one per call.
_sessions = threading.local()


class MetaConnection(models.Model):
    """The business side of Meta: one login (a System User token, or a user
    token) and the assets it gives access to.

    This model is the one door to Meta for the whole addon:
    :meth:`_meta_client` builds the Graph client for the connection or one of
    its assets (the asset's own token for a Page or its Instagram account,
    the connection's token otherwise; app secret proof, pinned version, one
    HTTP session), and :meth:`_meta_call` runs a core operation, turning token
    and app errors into the connection's state, once, and rate limits and
    usage into its throttle; :meth:`_meta_download` fetches the files Meta
    links to. A paged edge is read a page at a time, each page one call (an
    import job's step, ``meta.import.job``): nothing pages inside the door.
    """

    _name = "meta.connection"
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
    access_token = fields.Char(
        string="Connection Token",
        groups="base.group_system",
        copy=False,
        prefetch=False,
        help="The System User (or user) token the connection was made with.",
    )
    meta_user_id = fields.Char(
        string="Meta User ID",
        readonly=True,
        index=True,
        help="The System User (or person) the token belongs to: reconnecting "
        "with a new token of the same user updates this connection.",
    )
    asset_ids = fields.One2many("meta.asset", "connection_id", string="Assets")
    page_count = fields.Integer(compute="_compute_asset_counts")
    ad_account_count = fields.Integer(compute="_compute_asset_counts")
    api_version = fields.Char(
        string="Graph API Version",
        required=True,
        default=lambda self: self.env["meta.app"]._meta_config()["api_version"],
        help="Pinned for this connection, so upgrading Meta's version is a "
        "per-connection decision that can be tested first.",
    )
    state = fields.Selection(
        [
            ("connected", "Connected"),
            ("needs_reconnect", "Needs Reconnect"),
            ("permission_missing", "Permission Missing"),
            ("app_restricted", "App Restricted"),
            ("disconnected", "Disconnected"),
        ],
        default="connected",
        required=True,
        readonly=True,
        tracking=True,
    )
    # The features the connection is used for: the permissions it cannot
    # work without follow them (a company that answers comments and
    # Messenger needs no leads_retrieval). "Connect with Facebook" sets the
    # chosen ones; a connection made without saying is taken, at its first
    # health check, to be used for the features its token was granted.
    feature_lead_ads = fields.Boolean(string="Lead Ads")
    feature_page_comments = fields.Boolean(string="Page Comments")
    feature_messenger = fields.Boolean(string="Messenger")
    feature_instagram = fields.Boolean(string="Instagram")
    feature_audiences = fields.Boolean(string="Custom Audiences")
    connected_at = fields.Datetime(
        string="Connected On",
        readonly=True,
        copy=False,
        help="When a token was last stored on this connection (connected or "
        "reconnected). Meta's app-removal and deletion requests issued "
        "before it are about an earlier connection and leave it alone.",
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
    throttled_until = fields.Datetime(
        readonly=True,
        copy=False,
        help="Meta asked to slow down: no call is made for this connection "
        "before this time (calling while throttled prolongs it).",
    )
    throttle_reason = fields.Char(readonly=True, copy=False)
    is_throttled = fields.Boolean(compute="_compute_is_throttled")

    @api.depends("throttled_until")
    def _compute_is_throttled(self):
        for connection in self:
            connection.is_throttled = bool(connection._meta_throttle_remaining())

    @api.depends("asset_ids.asset_type")
    def _compute_asset_counts(self):
        for connection in self:
            types = connection.asset_ids.mapped("asset_type")
            connection.page_count = types.count("page")
            connection.ad_account_count = types.count("ad_account")

    # ------------------------------------------------------------ actions

    def action_check_health(self):
        self._meta_check_admin()
        for connection in self:
            connection._meta_check_health()
            connection._meta_check_subscriptions()
        return self._meta_notification(self._meta_health_summary())

    def action_fetch_assets(self):
        """Discover the Pages, Instagram accounts, ad accounts and datasets
        the connection's token gives access to."""
        self._meta_check_admin()
        for connection in self:
            try:
                connection._meta_fetch_assets()
            except GraphError as error:
                return self._meta_notification(str(error), kind="warning")
        return self._meta_notification(self._meta_health_summary())

    def action_disconnect(self):
        """Stop at once; the Pages' webhook subscriptions end through the
        outbox (nothing is sent to Meta inside a user's request), and the
        tokens are forgotten as soon as they are (or when Meta refuses)."""
        self._meta_check_admin()
        for connection in self:
            connection._meta_switch_state("disconnected", "")
            pages = connection.asset_ids.filtered(lambda a: a.asset_type == "page")
            pages._meta_request_unsubscription()
            connection._meta_forget_tokens_once_unsubscribed()
        return True

    def _meta_removed_by_person(self, kind):
        """Meta says the person whose token this connection uses removed the
        app (or asked for their data to be deleted): stop, forget the tokens
        (after asking Meta to stop the Pages' webhooks), tell the
        administrators."""
        self.ensure_one()
        self._meta_switch_state("disconnected", "")
        pages = self.asset_ids.filtered(lambda a: a.asset_type == "page")
        pages._meta_request_unsubscription()
        self._meta_forget_tokens_once_unsubscribed()

        def render(connection):
            summary = (
                connection.env._(
                    "The person behind this Meta connection removed the app"
                )
                if kind == "deauthorize"
                else connection.env._(
                    "The person behind this Meta connection asked Meta to delete "
                    "their data"
                )
            )
            return summary, connection.env._(
                "%(summary)s: %(connection)s is disconnected and its tokens are "
                "deleted. Connect again with another System User token to resume.",
                summary=summary,
                connection=connection.name,
            )

        self._meta_alert(render)

    def _meta_forget_tokens_once_unsubscribed(self, sent=None):
        """Wipe the tokens of a disconnected connection whose Pages have no
        unsubscription left to send (``sent``: the one just sent)."""
        self.ensure_one()
        if self.state != "disconnected":
            return False
        # sudo: meta.outbox - a technical queue, read to decide
        waiting = (
            self.env["meta.outbox"]
            .sudo()
            .search_count(
                [
                    ("asset_id", "in", self.asset_ids.ids),
                    ("operation", "=", "unsubscribe_page"),
                    ("state", "in", ("pending", "failed", "parked")),
                    ("id", "!=", sent.id if sent else False),
                ]
            )
        )
        if waiting:
            return False
        # sudo: meta.connection, meta.asset - wiping the system-only tokens
        # is the point of disconnecting; Meta administrators may not be
        # system users.
        self.sudo().write({"access_token": False})
        self.asset_ids.sudo().write({"access_token": False, "webhook_fields": False})
        return True

    def action_view_assets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "meta_graph_connector.meta_asset_action"
        )
        action["domain"] = [("connection_id", "=", self.id)]
        action["context"] = {"default_connection_id": self.id}
        return action

    # ----------------------------------------------------------- the door

    def _meta_client(self, asset=None, api_version=None):
        """The Graph client of this connection, or of one of its assets (at
        ``api_version``: trying another version than the pinned one)."""
        self.ensure_one()
        config = self.env["meta.app"]._meta_config()
        # sudo: meta.connection, meta.asset - tokens are system-only; reading
        # one to authenticate a call is the boundary where that is allowed.
        token = (
            asset.sudo().access_token if asset and asset._meta_has_own_token() else ""
        )
        token = token or self.sudo().access_token
        if not token:
            raise TokenError(self.env._("This connection has no token."))
        return GraphClient(
            token,
            app_secret=config["app_secret"],
            api_version=api_version or self.api_version or config["api_version"],
            base_url=config["base_url"],
            timeout=config["timeout"],
            session=self._meta_session(),
        )

    def _meta_session(self):
        """The keep-alive HTTP session of this connection in this thread."""
        sessions = getattr(_sessions, "by_connection", None)
        if sessions is None:
            sessions = _sessions.by_connection = {}
        key = (self.env.cr.dbname, self.id)
        if key not in sessions:
            sessions[key] = requests.Session()
        return sessions[key]

    def _meta_door_client(
        self, asset=None, as_app=False, as_token=None, api_version=None
    ):
        """The client of one call through the door.

        A call of this connection (its token, or ``asset``'s) is refused
        while Meta throttles it. ``as_app`` authenticates as the Meta app
        (``app_id|app_secret``: ``debug_token``, the login's code exchange),
        ``as_token`` with a token no connection holds yet (the one pasted in
        the connect wizard), both at the app's version unless ``api_version``
        says otherwise: neither speaks for a connection, so no throttle of
        one stops them.

        HTTP sessions: a connection's calls, its own and the app's on its
        behalf, share its keep-alive session (one per connection and
        thread); a call for no connection yet opens one of its own.
        """
        if as_app or as_token:
            if len(self) > 1:
                self.ensure_one()
            config = self.env["meta.app"]._meta_config()
            token = f"{config['app_id']}|{config['app_secret']}" if as_app else as_token
            return GraphClient(
                token,
                app_secret=config["app_secret"],
                api_version=api_version or config["api_version"],
                base_url=config["base_url"],
                timeout=config["timeout"],
                session=self._meta_session() if self else None,
            )
        self.ensure_one()
        self._meta_refuse_while_throttled()
        return self._meta_client(asset, api_version=api_version)

    def _meta_refuse_while_throttled(self):
        """Nothing leaves while Meta throttles the connection: calling then
        prolongs the throttle."""
        waiting = self._meta_throttle_remaining()
        if waiting:
            raise RateLimitError(
                self.env._("Meta throttles this connection; calls resume later."),
                retry_after=waiting,
            )

    def _meta_call(
        self,
        operation,
        *args,
        asset=None,
        as_app=False,
        as_token=None,
        api_version=None,
        **kwargs,
    ):
        """Run ``operation(client, *args, **kwargs)`` for this connection (or
        ``asset`` of it); ``as_app``, ``as_token``, ``api_version``: see
        :meth:`_meta_door_client`.

        While Meta throttles the connection nothing leaves (calling while
        throttled prolongs it): a :class:`RateLimitError` is raised at once.
        Token and app errors flag the connection (once), rate limits and
        usage above the threshold throttle it; errors are re-raised so the
        caller can park, retry or fail its own work. A permission refusal
        flags nothing here: Meta answers one for a single object too, so
        only the caller that cannot do without the answer asks for a
        confirmation (:meth:`_meta_permission_lost`); an optional lookup
        that fails never changes the connection.

        A call authenticated otherwise than by the connection (``as_app``,
        ``as_token``) changes nothing of it: a token error there means the
        app's credentials (or the pasted token) are wrong, not the
        connection's token; the caller tells which.
        """
        own = not (as_app or as_token)
        client = self._meta_door_client(
            asset, as_app=as_app, as_token=as_token, api_version=api_version
        )
        with self._meta_door_errors(own):
            result = operation(client, *args, **kwargs)
        if inspect.isgenerator(result):
            # its calls would run after the door closed: read one page per
            # call (an import job's step)
            raise TypeError(f"{operation!r} pages: read it a page per call")
        if own:
            self._meta_observe_answer(client, api_version)
        return result

    def _meta_download(self, url):
        """The file Meta links to at ``url`` (an attachment a customer sent):
        (data, MIME type, file name). ValueError for a link not fetched or too
        big, OSError when the fetch fails.

        The one way to fetch a file Meta names. It is fetched by its own
        (expiring) link from Meta's CDN, never with a token, so it neither
        counts against nor waits for a connection's Graph budget (no
        throttle), and it never uses the Graph keep-alive session: the
        checked client of the core connects only to the public address it
        resolved (redirects included), within a size and time budget. In the
        sandbox, the simulator's own address is the one private address it
        may reach.
        """
        # sudo: meta.app - the sandbox flag and address: the simulator serves
        # its files over http from its own address (loopback, a private
        # network), the only one of those a link may reach
        app = self.env["meta.app"].sudo()._meta_get()
        return messaging.download(
            url,
            allow_http=app.sandbox,
            allow=messaging.fetch.sandbox_addresses(app.graph_base_url)
            if app.sandbox
            else (),
        )

    @contextmanager
    def _meta_door_errors(self, own):
        """Token and app errors flag the connection, rate limits throttle it
        (``own``: the call was authenticated by the connection)."""
        try:
            yield
        except TokenError as error:
            if own:
                self._meta_flag_token_error(error)
            raise
        except AppError as error:
            if own:
                self._meta_flag_app_error(error)
            raise
        except RateLimitError as error:
            if own:
                self._meta_throttle(error.retry_after, str(error))
            raise

    def _meta_observe_answer(self, client, api_version=None):
        """What Meta said besides the answer: usage, and a warning about the
        connection's version (not one about a version only tried)."""
        self._meta_observe_usage(client.last_usage)
        if client.last_version_warning and not api_version:
            self._meta_note_version_warning(client.last_version_warning)

    # -------------------------------------------------------- throttling

    def _meta_throttle_remaining(self):
        """Seconds until Meta lets this connection call again (0: now)."""
        until = self.throttled_until
        if not until:
            return 0
        return max(0, int((until - fields.Datetime.now()).total_seconds()))

    def _meta_throttle(self, seconds, reason=""):
        """Stop calling Meta for this connection for ``seconds`` (never
        shortening a throttle already set): no queue item of it is claimed
        and the door refuses calls until then."""
        self.ensure_one()
        seconds = max(int(seconds or 0), 1)
        until = datetime.now() + timedelta(seconds=seconds)
        if until.microsecond:
            # Datetime fields keep whole seconds: round the end up, never
            # down, or the connection is called up to a second early
            until = until.replace(microsecond=0) + timedelta(seconds=1)
        # a plain UPDATE, outside the ORM's cache: it must survive the
        # savepoint rollback of the work that hit the limit
        self.env.execute_query(
            SQL(
                """UPDATE meta_connection
                      SET throttled_until = GREATEST(COALESCE(throttled_until, %s), %s),
                          throttle_reason = %s
                    WHERE id = %s""",
                until,
                until,
                reason,
                self.id,
            )
        )
        self.invalidate_recordset(["throttled_until", "throttle_reason"])
        _logger.info(
            "Meta connection %s throttled for %s s: %s", self.id, seconds, reason
        )

    def _meta_observe_usage(self, usage):
        """Slow down before Meta throttles: usage above the threshold (75 %
        by default) pauses the connection until Meta says access is back, or
        a minute (https://developers.facebook.com/docs/graph-api/overview/rate-limiting/)."""
        if usage is None or usage.is_empty:
            return
        # sudo: ir.config_parameter - technical tuning of the throttling
        threshold = float(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("meta_graph_connector.usage_threshold", SLOW_DOWN_PERCENT)
        )
        percent = usage.max_percent()
        if percent >= threshold:
            self._meta_throttle(
                max(usage.regain_seconds(), 60),
                self.env._(
                    "Meta reports %(percent)s %% of the call budget used.",
                    percent=round(percent),
                ),
            )

    # ---------------------------------------------------------- business

    def _meta_check_health(self):
        """Inspect the connection's token with ``debug_token``: validity,
        expiry, permissions; the connection's state follows."""
        self.ensure_one()
        # sudo: meta.connection - the token to inspect is system-only.
        token = self.sudo().access_token
        if not token:
            self._meta_flag_token_error(
                TokenError(self.env._("This connection has no token."))
            )
            return
        info = self._meta_inspect_token(token)
        if info is None:
            return
        if not self._meta_features():
            # made without saying what for: what its token was granted
            self.write(
                {
                    f"feature_{feature}": True
                    for feature in oauth.features_granted(info.scopes)
                }
            )
        values = self._meta_token_values(info)
        self.write(values)
        self._meta_follow_token(info, values["missing_scopes"])

    def _meta_inspect_token(self, token):
        """What ``debug_token`` says of ``token``; None when Meta answered
        with an error, recorded on the connection (its state unchanged)."""
        try:
            return self._meta_call(meta_api.inspect_token, token, as_app=True)
        except TokenError as error:
            # 190 on the *app* token: the app id/secret are wrong, not the user.
            self.write(
                {
                    "last_health_check": fields.Datetime.now(),
                    "last_error": self.env._(
                        "Meta rejected the app credentials: %(error)s",
                        error=quoted(error),
                    ),
                }
            )
        except GraphError as error:
            self.write(
                {"last_health_check": fields.Datetime.now(), "last_error": str(error)}
            )
        return None

    def _meta_token_values(self, info):
        """The connection's values from a token's inspection ``info``: its
        type, permissions (granted, and missing for the features) and
        expiries."""
        needed = oauth.needed_scopes(self._meta_features())
        values = {
            "last_health_check": fields.Datetime.now(),
            "token_type": info.token_type,
            "granted_scopes": ",".join(info.scopes),
            "missing_scopes": ",".join(info.missing_scopes(needed)),
            "token_expires_at": to_naive_utc(info.expires_at),
            "data_access_expires_at": to_naive_utc(info.data_access_expires_at),
        }
        if info.profile_id and not self.meta_user_id:
            values["meta_user_id"] = info.profile_id
        return values

    def _meta_follow_token(self, info, missing_scopes):
        """The state the inspection ``info`` calls for: an invalid token, then
        missing permissions (``missing_scopes``, comma-separated), else
        connected."""
        if not info.is_valid:
            self._meta_flag_token_error(
                TokenError(
                    info.error_message or self.env._("Meta reports the token invalid."),
                    code=info.error_code or 190,
                    subcode=info.error_subcode,
                )
            )
            return
        if missing_scopes:
            self._meta_flag_permission_error(
                MissingPermissionError(
                    self.env._(
                        "Missing permissions: %(scopes)s",
                        scopes=missing_scopes,
                    )
                )
            )
            return
        self._meta_mark_connected()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("access_token"):
                vals.setdefault("connected_at", fields.Datetime.now())
        return super().create(vals_list)

    def write(self, vals):
        # every way in (the token wizard, Connect with Facebook) stores the
        # token with write or create: the date a token came is kept here
        if vals.get("access_token") and "connected_at" not in vals:
            vals = {**vals, "connected_at": fields.Datetime.now()}
        result = super().write(vals)
        if any(name.startswith("feature_") for name in vals):
            self._meta_review_needed_scopes()
        return result

    def _meta_review_needed_scopes(self):
        """The features changed: what is missing follows, from the
        permissions Meta last reported (no call to Meta)."""
        for connection in self.filtered("granted_scopes"):
            granted = set(connection.granted_scopes.split(","))
            needed = oauth.needed_scopes(connection._meta_features())
            missing = ",".join(scope for scope in needed if scope not in granted)
            if missing != (connection.missing_scopes or ""):
                connection.missing_scopes = missing or False
            if missing and connection.state == "connected":
                connection._meta_flag_permission_error(
                    MissingPermissionError(
                        connection.env._(
                            "Missing permissions: %(scopes)s", scopes=missing
                        )
                    )
                )
            elif not missing and connection.state == "permission_missing":
                connection._meta_mark_connected()

    def _meta_features_lost_by_moving(self, asset):
        """The features ``asset`` would lose if it moved from the working
        connection that holds it to this one: those its connection serves
        and this connection's token was not granted (empty: it may move)."""
        self.ensure_one()
        current = asset.connection_id
        if (
            self.env.context.get("meta_move_assets")
            or not current
            or current == self
            or not current.active
            or current.state != "connected"
            or asset.asset_type not in ("page", "instagram")
        ):
            return []
        granted = oauth.features_granted((self.granted_scopes or "").split(","))
        return [
            feature
            for feature in current._meta_features()
            if feature in PAGE_FEATURES and feature not in granted
        ]

    def _meta_connected_since(self):
        """When the current token was stored (a Deauthorize or Data Deletion
        request issued before is about an earlier connection); the creation
        for connections made before that date was kept."""
        self.ensure_one()
        return self.connected_at or self.create_date

    def _meta_features(self):
        """The features this connection is used for (graph.const.FEATURES)."""
        self.ensure_one()
        return [feature for feature in FEATURES if self[f"feature_{feature}"]]

    def _meta_permission_lost(self, error):
        """Whether Meta confirms that the permission refusal ``error`` means
        this connection lacks a permission one of its features needs.

        Meta refuses single objects with the same codes (10, 200–299), so
        the refusal alone proves nothing: ``debug_token`` does. Confirmed,
        the health check has flagged the connection and the caller's work
        waits for the repair (True); otherwise the refusal concerns that
        object alone and only the caller's work fails (False). Other
        scopes never stop the connection here (token and app errors were
        flagged by the door already)."""
        self.ensure_one()
        if self.state != "connected":
            return True
        if error.scope != PERMISSION:
            return False
        checked = self.last_health_check
        recent = checked and (fields.Datetime.now() - checked) < timedelta(
            seconds=PERMISSION_CONFIRMATION_SECONDS
        )
        if not recent:
            self._meta_check_health()
        return self.state != "connected"

    def _meta_check_subscriptions(self):
        """Each Page's webhook subscription, repaired when Meta lost a field."""
        self.ensure_one()
        if self.state != "connected":
            return
        for page in self.asset_ids.filtered(lambda a: a.asset_type == "page"):
            page._meta_check_subscription()

    def _meta_fetch_assets(self):
        """Create or update the assets this connection's token reaches.

        Pages (with their Page tokens and Instagram accounts) always; ad
        accounts and datasets where the token's permissions allow: a missing
        permission skips that kind of asset, it is not an error.
        """
        self.ensure_one()
        Asset = self.env["meta.asset"]
        pages = self._meta_call(meta_api.list_pages)
        found = Asset._meta_upsert_pages(self, pages)
        others = []
        for step in (self._meta_list_ad_accounts, self._meta_list_datasets):
            try:
                others += step(others)
            except MissingPermissionError as error:
                # optional kinds of assets: the connection stays usable
                _logger.info("Meta connection %s: %s", self.id, error)
        found |= Asset._meta_upsert_assets(self, others)
        if self.state == "connected":
            # assets that moved here from a broken connection resume
            self._meta_resume_work(found)
        return found

    def _meta_list_ad_accounts(self, _found):
        if "ads_management" not in (self.granted_scopes or "").split(","):
            return []
        accounts = {
            a.external_id: a for a in self._meta_call(meta_api.list_ad_accounts)
        }
        if "business_management" in (self.granted_scopes or "").split(","):
            for business in self._meta_call(meta_api.list_businesses):
                for edge in ("owned_ad_accounts", "client_ad_accounts"):
                    for account in self._meta_call(
                        meta_api.list_ad_accounts, business.external_id, edge
                    ):
                        accounts.setdefault(account.external_id, account)
        return list(accounts.values())

    def _meta_list_datasets(self, found):
        scopes = (self.granted_scopes or "").split(",")
        if "ads_management" not in scopes:
            return []
        owners = [a.external_id for a in found if a.asset_type == "ad_account"]
        if "business_management" in scopes:
            owners += [b.external_id for b in self._meta_call(meta_api.list_businesses)]
        datasets = {}
        for owner in owners:
            for dataset in self._meta_call(meta_api.list_datasets, owner):
                datasets.setdefault(dataset.external_id, dataset)
        return list(datasets.values())

    def _meta_mark_connected(self):
        repaired = self.filtered(lambda c: c.state != "connected")
        repaired.write({"state": "connected"})
        self.write({"last_error": False})
        if repaired:
            self._meta_resume_work(repaired.asset_ids)

    @api.model
    def _meta_resume_work(self, assets):
        """Release what waited (parked) for these assets' connection."""
        # sudo: meta.webhook.event, meta.outbox - technical queues; a
        # reconnection releases the work that waited for it.
        self.env["meta.webhook.event"].sudo()._meta_unpark(assets)
        self.env["meta.outbox"].sudo()._meta_unpark(assets)

    def _meta_flag_token_error(self, error):
        """Switch to "needs reconnect" and tell the administrators, once."""
        return self._meta_flag(
            "needs_reconnect",
            error,
            lambda connection: (
                connection.env._("Meta connection needs to be reconnected"),
                connection.env._(
                    "Meta refused the token of %(connection)s: %(error)s. "
                    "Reconnect it (Connect with Facebook, or a new System User "
                    "token) to resume; what arrives meanwhile is kept.",
                    connection=connection.name,
                    error=quoted(error),
                ),
            ),
        )

    def _meta_flag_app_error(self, error):
        """Switch to "app restricted" and tell the administrators, once:
        Meta refuses the app itself a capability (code 3)."""
        return self._meta_flag(
            "app_restricted",
            error,
            lambda connection: (
                connection.env._("Meta restricts the app"),
                connection.env._(
                    "Meta refused a call for %(connection)s because the app "
                    "lacks a capability: %(error)s. Check the app's features "
                    "and App Review in Meta's App Dashboard, then run "
                    "“Check health”.",
                    connection=connection.name,
                    error=quoted(error),
                ),
            ),
        )

    def _meta_flag_permission_error(self, error):
        """Switch to "permission missing" and tell the administrators, once."""
        return self._meta_flag(
            "permission_missing",
            error,
            lambda connection: (
                connection.env._("Meta permission missing"),
                connection.env._(
                    "Meta refused a call for %(connection)s: %(error)s. Grant the "
                    "missing permission to the app, then run “Check health”.",
                    connection=connection.name,
                    error=quoted(error),
                ),
            ),
        )

    def _meta_flag(self, state, error, render):
        """Move to ``state`` and alert, only for connections not already there.

        The conditional UPDATE is the "once": when several workers hit the
        same dead token at the same time, the row lock makes all but the
        first see the new state and update nothing.
        """
        flagged = self._meta_switch_state(state, str(error))
        for connection in flagged:
            connection._meta_alert(render)
        return flagged

    def _meta_switch_state(self, state, error_text):
        if not self:
            return self
        self.flush_recordset(["state"])
        rows = self.env.execute_query(
            SQL(
                """UPDATE meta_connection
                      SET state = %s, last_error = %s,
                          write_date = NOW() AT TIME ZONE 'UTC', write_uid = %s
                    WHERE id IN %s AND state != %s
                      -- a disconnection is the administrator's, not an error's
                      AND (state != 'disconnected' OR %s = 'disconnected')
                RETURNING id""",
                state,
                error_text,
                self.env.uid,
                tuple(self.ids),
                state,
                state,
            )
        )
        self.invalidate_recordset(["state", "last_error", "write_date", "write_uid"])
        return self.browse([row[0] for row in rows])

    def _meta_alert(self, render):
        """Tell the Meta administrators on the chatter and give a to-do.

        ``render(connection)`` returns (summary, body), written with
        ``connection.env``: it is in the language of the person who gets the
        to-do (else the company's), not the cron's.
        """
        self.ensure_one()
        admins = self._meta_administrators()
        responsible = self.user_id if self.user_id.active else admins[:1]
        lang = responsible.lang or self.company_id.partner_id.lang or self.env.lang
        summary, body = render(self.with_context(lang=lang))
        self.message_post(
            body=body,
            subject=summary,
            partner_ids=admins.partner_id.ids,
            subtype_xmlid="mail.mt_note",
        )
        if responsible:
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                summary=summary,
                note=body,
                user_id=responsible.id,
            )

    def _meta_administrators(self):
        self.ensure_one()
        return series.group_users(
            self.env.ref("meta_graph_connector.group_meta_admin")
        ).filtered(
            lambda user: (
                not user.share
                and self.company_id in user.company_ids
                and user.id != self.env.ref("base.user_root").id
            )
        )

    def _meta_health_summary(self):
        states = dict(self._fields["state"]._description_selection(self.env))
        return ", ".join(f"{c.name}: {states[c.state]}" for c in self)

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
        """Daily: Meta asks apps to check token validity at least daily
        (https://developers.facebook.com/docs/facebook-login/guides/access-tokens/debugging)."""
        for connection in self.search([("state", "!=", "disconnected")]):
            connection = connection.with_company(connection.company_id)
            connection._meta_check_health()
            connection._meta_check_subscriptions()
            connection._meta_warn_expiry()
            connection._meta_warn_version_expiry()
        return True
