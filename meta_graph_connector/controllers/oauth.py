import logging

from werkzeug.exceptions import Forbidden

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

from ..graph.errors import GraphError

_logger = logging.getLogger(__name__)

#: Session key of the login in progress (its state, company and features).
SESSION_KEY = "meta_login"


class MetaLoginController(http.Controller):
    """Connect with Facebook: send the browser to Meta's dialog, take it back.

    Decode, call ``meta.login``, keep the login state in the person's session,
    answer with a redirect; every decision is in ``meta.login``.
    """

    @http.route("/meta/oauth/start", type="http", auth="user", methods=["GET"])
    def meta_login_start(self, features="", company_id=None, **_kwargs):
        Login = request.env["meta.login"]
        try:
            company = request.env["res.company"].browse(int(company_id or 0))
            url, login = Login._meta_login_start(
                [f for f in features.split(",") if f],
                company if company_id else request.env.company,
            )
        except AccessError as error:
            raise Forbidden(str(error)) from None
        except (UserError, ValueError) as error:
            return self._meta_login_page(str(error))
        request.session[SESSION_KEY] = login
        return request.redirect(url, code=303, local=False)

    @http.route("/meta/oauth/callback", type="http", auth="user", methods=["GET"])
    def meta_login_callback(self, **params):
        # single use: a replayed callback finds no login in the session
        login = request.session.pop(SESSION_KEY, None)
        Login = request.env["meta.login"]
        try:
            wizard = Login._meta_login_finish(login, params)
        except AccessError as error:
            raise Forbidden(str(error)) from None
        except (GraphError, UserError) as error:
            # the code and tokens stay out of the log: only the reason
            _logger.info("Connect with Facebook refused: %s", type(error).__name__)
            message = (
                error.args[0]
                if isinstance(error, UserError)
                else Login._meta_login_error_message(error)
            )
            return self._meta_login_page(message)
        # the web client opens the Page picker as the dialog it is: its
        # action's target is "new"
        return request.redirect(
            f"/odoo/action-meta_graph_connector.meta_connect_pages_action/{wizard.id}",
            code=303,
        )

    def _meta_login_page(self, message):
        return request.render(
            "meta_graph_connector.meta_login_error",
            {"message": message},
            status=400,
        )
