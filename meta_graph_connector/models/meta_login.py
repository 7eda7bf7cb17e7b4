import hashlib
import threading
import time

from odoo import api, models
from odoo.exceptions import UserError

from ..graph import oauth
from ..graph.errors import GraphError, quoted

#: How long a started login may take before its state is refused (seconds):
#: Meta's codes live 10 minutes; a person may read the dialog first.
LOGIN_MAX_SECONDS = 15 * 60

#: Features an administrator may ask permissions for (graph.const.FEATURE_SCOPES).
LOGIN_FEATURES = ("lead_ads", "page_comments", "messenger", "instagram", "audiences")

#: The token each login code was exchanged for, by the code's digest, until
#: the code would have expired anyway. Odoo runs a request again after a
#: serialization failure (odoo/service/model.py retrying(): the database
#: rolled back, the session read again) and Meta's code is single-use: the
#: retry takes the token from here instead of spending the code twice. The
#: retry runs in the same process, so memory is where it looks.
_EXCHANGED = {}
_EXCHANGED_LOCK = threading.Lock()


class MetaLogin(models.AbstractModel):
    """Connect with Facebook: Facebook Login for Business, server-side.

    The controller only carries values between the browser, the session and
    these two steps: :meth:`_meta_login_start` builds the dialog URL and the
    single-use login state to keep in the person's session;
    :meth:`_meta_login_finish` checks the state that came back, exchanges the
    code on the server (the app secret never reaches the browser), makes the
    token long-lived and connects, leaving the granted Pages to pick from.
    """

    _name = "meta.login"
    _description = "Connect with Facebook"
    _inherit = ["meta.admin.mixin"]

    @api.model
    def _meta_redirect_uri(self):
        """The Valid OAuth Redirect URI to register in the Meta app."""
        return f"{self.get_base_url()}/meta/oauth/callback"

    @api.model
    def _meta_login_start(self, features, company):
        """(dialog URL, login state to keep in the session)."""
        self._meta_check_admin()
        features = [f for f in features if f in LOGIN_FEATURES] or ["lead_ads"]
        if company not in self.env.user.company_ids:
            raise UserError(self.env._("You cannot connect Meta for this company."))
        config = self.env["meta.app"]._meta_config()
        if not config["app_id"] or not config["app_secret"]:
            raise UserError(
                self.env._(
                    "Configure the Meta App first (Settings > Meta): its App ID "
                    "and App Secret open the Facebook dialog."
                )
            )
        app_sudo = self.env["meta.app"]._meta_get()
        state = oauth.new_state()
        redirect_uri = self._meta_redirect_uri()
        url = oauth.dialog_url(
            graph_base_url=config["base_url"],
            api_version=config["api_version"],
            app_id=config["app_id"],
            redirect_uri=redirect_uri,
            state=state,
            scopes=oauth.login_scopes(features),
            config_id=app_sudo.login_config_id or None,
        )
        login = {
            "state": state,
            "uid": self.env.uid,
            "company_id": company.id,
            "features": features,
            "redirect_uri": redirect_uri,
            "started": time.time(),
        }
        return url, login

    @api.model
    def _meta_login_finish(self, login, params):
        """The pick-your-Pages wizard of the connection the login made."""
        self._meta_check_admin()
        login = login or {}
        oauth.check_state(login.get("state"), params.get("state"))
        if login.get("uid") != self.env.uid or (
            time.time() - float(login.get("started") or 0) > LOGIN_MAX_SECONDS
        ):
            raise oauth.LoginStateMismatch("expired or started by someone else")
        code = oauth.parse_callback(params)
        access_token = self._meta_token_for_code(code, login)
        wizard = self.env["meta.connect.wizard"].create(
            {
                "company_id": login["company_id"],
                **{f"feature_{name}": True for name in login.get("features") or ()},
            }
        )
        connection, pages = wizard._meta_connect_token(access_token)
        wizard.write(
            {
                "step": "pages",
                "connection_id": connection.id,
                "available_page_ids": pages.ids,
                "page_ids": pages.ids,
            }
        )
        return wizard

    @api.model
    def _meta_token_for_code(self, code, login):
        """The long-lived user token of ``login``'s ``code``: exchanged at
        Meta once, even when Odoo runs the callback again (see _EXCHANGED).
        Kept under the login's own state and user, which only its session
        holds: a code seen elsewhere (a history, a log) gets nothing here."""
        key = hashlib.sha256(
            f"{self.env.uid}:{login['state']}:{code}".encode()
        ).hexdigest()
        now = time.monotonic()
        with _EXCHANGED_LOCK:
            for old in [k for k, (until, _t) in _EXCHANGED.items() if until < now]:
                del _EXCHANGED[old]
            kept = _EXCHANGED.get(key)
        # once the login's work is committed, no retry can come (a rollback
        # drops this hook: the retry adds it again)
        self.env.cr.postcommit.add(lambda: _EXCHANGED.pop(key, None))
        if kept:
            return kept[1]
        config = self.env["meta.app"]._meta_config()
        door = self.env["meta.connection"]
        credentials = {"app_id": config["app_id"], "app_secret": config["app_secret"]}
        short = door._meta_call(
            oauth.exchange_code,
            as_app=True,
            redirect_uri=login["redirect_uri"],
            code=code,
            **credentials,
        )
        token = door._meta_call(
            oauth.exchange_long_lived,
            as_app=True,
            token=short.access_token,
            **credentials,
        ).access_token
        with _EXCHANGED_LOCK:
            _EXCHANGED[key] = (now + LOGIN_MAX_SECONDS, token)
        return token

    @api.model
    def _meta_login_error_message(self, error):
        """What went wrong, for the person who pressed the button."""
        if isinstance(error, oauth.LoginCancelled):
            return self.env._(
                "The Facebook login was cancelled: nothing was connected. "
                "Start again and press Continue to connect."
            )
        if isinstance(error, oauth.LoginStateMismatch):
            return self.env._(
                "This answer from Facebook does not belong to a login you "
                "started here, or it came too late: nothing was connected. "
                "Start again from Connect with Facebook."
            )
        if isinstance(error, GraphError):
            return self.env._(
                "Meta refused the connection: %(error)s", error=quoted(error)
            )
        return str(error)
