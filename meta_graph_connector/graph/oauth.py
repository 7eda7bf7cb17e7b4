"""Facebook Login for Business, the manual (server-side) flow.

https://developers.facebook.com/documentation/facebook-login/guides/advanced/manual-flow
and https://developers.facebook.com/docs/facebook-login/facebook-login-for-business
(docs/meta-facts.md §2.4):

1. the browser is sent to the Login dialog (:func:`dialog_url`) with the
   app id, the redirect URI registered in the app's "Valid OAuth Redirect
   URIs", an unguessable ``state`` and the permissions (``scope``) or a
   Facebook Login for Business configuration (``config_id``);
2. Meta sends the browser back to the redirect URI with ``code`` and the same
   ``state``, or with ``error``/``error_reason`` when the person cancelled
   (:func:`parse_callback`);
3. the server exchanges the code, with the app secret, for a short-lived user
   token (:func:`exchange_code`), then that token for a long-lived one
   (:func:`exchange_long_lived`, about 60 days).
"""

import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from . import const
from .errors import GraphError, UnknownGraphError

#: Listing the assets of a Business Manager needs this one besides the
#: feature permissions (§3).
BUSINESS_SCOPE = "business_management"


class LoginCancelled(GraphError):
    """The person closed or refused the Login dialog."""


class LoginStateMismatch(GraphError):
    """The ``state`` that came back is not the one this login sent: a forged
    or replayed callback (cross-site request forgery)."""


@dataclass(frozen=True)
class UserToken:
    access_token: str
    expires_in: int | None = None


def new_state():
    """An unguessable, single-use ``state`` for one login."""
    return secrets.token_urlsafe(32)


def check_state(expected, received):
    """Raise :class:`LoginStateMismatch` unless ``received`` is ``expected``."""
    if (
        not expected
        or not received
        or not hmac.compare_digest(str(expected).encode(), str(received).encode())
    ):
        raise LoginStateMismatch(
            "The answer from Facebook does not belong to the login started here."
        )


def dialog_host(graph_base_url):
    """Where the Login dialog lives: ``www.facebook.com`` for Meta's Graph
    host, the same server for a local Meta (the simulator serves both)."""
    base = (graph_base_url or const.DEFAULT_BASE_URL).rstrip("/")
    parts = urlsplit(base)
    if parts.hostname == urlsplit(const.DEFAULT_BASE_URL).hostname:
        return "https://www.facebook.com"
    return base


def login_scopes(features):
    """The permissions the chosen features need, in a stable order."""
    scopes = []
    for feature in features:
        for scope in (
            *const.FEATURE_SCOPES.get("pages", ()),
            *const.FEATURE_SCOPES[feature],
        ):
            if scope not in scopes:
                scopes.append(scope)
    if BUSINESS_SCOPE not in scopes:
        scopes.append(BUSINESS_SCOPE)
    return tuple(scopes)


def needed_scopes(features):
    """The permissions a connection used for ``features`` cannot work
    without: each feature's own, and the Pages' ones when a feature works
    on Pages (an audiences-only connection needs no Page permission). The
    business permission stays optional: without it, only the assets the
    token reaches directly are listed."""
    scopes = []
    wanted = [f for f in const.FEATURES if f in set(features)]
    if any(feature in const.PAGE_FEATURES for feature in wanted):
        wanted.insert(0, "pages")
    for feature in wanted:
        for scope in const.FEATURE_SCOPES[feature]:
            if scope not in scopes:
                scopes.append(scope)
    return tuple(scopes)


def features_granted(scopes):
    """The features a token was granted, read from its permissions."""
    granted = set(scopes or ())
    return tuple(
        feature
        for feature in const.FEATURES
        if granted & set(const.FEATURE_KEY_SCOPES[feature])
    )


def dialog_url(
    *,
    graph_base_url,
    api_version,
    app_id,
    redirect_uri,
    state,
    scopes=(),
    config_id=None,
):
    """The Login dialog URL the browser is redirected to.

    With a Facebook Login for Business configuration, ``config_id`` names
    the permissions (set in the app's dashboard) and ``scope`` is not sent;
    ``response_type=code`` with ``override_default_response_type`` asks for
    a code the server exchanges, never a token in the browser."""
    params = {
        "client_id": app_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "response_type": "code",
    }
    if config_id:
        params["config_id"] = config_id
        params["override_default_response_type"] = "true"
    else:
        params["scope"] = ",".join(scopes)
    host = dialog_host(graph_base_url)
    return f"{host}/{api_version}/dialog/oauth?{urlencode(params)}"


def parse_callback(params):
    """The ``code`` Meta sent back, or :class:`LoginCancelled`."""
    if params.get("error") or params.get("error_reason"):
        raise LoginCancelled(
            str(params.get("error_description") or params.get("error_reason")),
            code=None,
        )
    code = params.get("code")
    if not code:
        raise UnknownGraphError("The Login dialog answered without a code")
    return code


def exchange_code(app_client, *, app_id, app_secret, redirect_uri, code):
    """``GET /oauth/access_token`` with the code: a short-lived user token.

    ``redirect_uri`` must be exactly the one the dialog was opened with."""
    answer = app_client.get(
        "oauth/access_token",
        {
            "client_id": app_id,
            "client_secret": app_secret,
            "redirect_uri": redirect_uri,
            "code": code,
        },
    )
    return _user_token(answer)


def exchange_long_lived(app_client, *, app_id, app_secret, token):
    """A short-lived user token for a long-lived one (~60 days, §2.1)."""
    answer = app_client.get(
        "oauth/access_token",
        {
            "grant_type": "fb_exchange_token",
            "client_id": app_id,
            "client_secret": app_secret,
            "fb_exchange_token": token,
        },
    )
    return _user_token(answer)


def _user_token(answer):
    if not isinstance(answer, dict) or not answer.get("access_token"):
        raise UnknownGraphError("Meta answered the token exchange without a token")
    expires_in = answer.get("expires_in")
    return UserToken(
        access_token=str(answer["access_token"]),
        expires_in=int(expires_in) if isinstance(expires_in, int | float) else None,
    )
