"""Facebook Login's OAuth dialog, as ``www.facebook.com`` serves it (§2.4).

The manual ("server-side") flow of
https://developers.facebook.com/documentation/facebook-login/guides/advanced/manual-flow
and Facebook Login for Business (``config_id``,
https://developers.facebook.com/docs/facebook-login/facebook-login-for-business):

* ``GET [/{version}]/dialog/oauth?client_id&redirect_uri&state&scope|config_id``
  shows an HTML page: the app, "Continue as <person>", the permissions and
  the person's Pages as ticked checkboxes, and two buttons;
* the page's form posts its one-time ``dialog_key`` to
  ``POST /dialog/oauth/confirm``, answered with a 302 to
  ``redirect_uri?code=…&state=…#_=_`` (Continue) or
  ``redirect_uri?error=access_denied&error_code=200&error_description=
  Permissions+error&error_reason=user_denied&state=…#_=_`` (Cancel);
* with nobody logged in the dialog first shows a login form that posts to
  ``POST /dialog/oauth/login``.

An unknown ``client_id`` or a ``redirect_uri`` missing from the app's Valid
OAuth Redirect URIs shows an error page and never redirects.  The ``code`` is
exchanged at ``oauth/access_token`` (:mod:`meta_simulator.routes.auth`).

Stable element names for browser tests: ``form#oauth_dialog`` with
``input[name=dialog_key]``, ``input[name=scopes]`` (one ticked checkbox per
permission), ``input[name=page_ids]`` (one ticked checkbox per Page,
``id="page_<id>"``), ``button[name=continue]`` and ``button[name=cancel]``;
the login form is ``form#login_form`` with ``select[name=person_id]`` and
``button[name=login]``.  Error pages carry ``#error_title`` and
``#error_message``.
"""

import re
from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit

from .graph import RecordedRequest
from .models import ALL_SCOPES, AuthorizationCode, DialogRequest
from .server import Headers

#: An authorization code is good for 10 minutes (§2.4 [R]).
CODE_SECONDS = 600
#: ``expires_in`` of the short-lived user token a code buys: "about an hour
#: or two" (§2.1, §2.4); ``sim.login_token_seconds`` changes it.
LOGIN_TOKEN_SECONDS = 5400
#: Always granted by Facebook Login, never shown as a choice (§2.4).
DEFAULT_PERMISSION = "public_profile"
#: Permissions the dialog knows; others are reported as "Invalid Scopes" to
#: the app's developers and ignored (§2.4 [U]).
KNOWN_PERMISSIONS = frozenset(ALL_SCOPES) | {
    DEFAULT_PERMISSION,
    "email",
    "ads_read",
    "attribution_read",
    "business_management",
    "catalog_management",
    "instagram_content_publish",
    "instagram_manage_insights",
    "instagram_shopping_tag_products",
    "leads_retrieval",
    "page_events",
    "pages_manage_cta",
    "pages_manage_instant_articles",
    "pages_manage_posts",
    "pages_user_gender",
    "pages_user_locale",
    "pages_user_timezone",
    "publish_video",
    "read_insights",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
}
#: ``auth_type`` values of the manual flow; anything else is ignored.
AUTH_TYPES = frozenset({"rerequest", "reauthenticate", "reauthorize"})
#: ``response_type`` parts simulated (``token`` is not: §11).
RESPONSE_TYPES = frozenset({"code", "granted_scopes"})

_DIALOG_RE = re.compile(r"^/(?:v\d+\.\d+/)?dialog/oauth(?P<action>/confirm|/login)?/?$")
_SPLIT_RE = re.compile(r"[\s,]+")

_STYLE = """
body{font-family:Helvetica,Arial,sans-serif;background:#f0f2f5;color:#1c1e21}
main{max-width:480px;margin:40px auto;background:#fff;border-radius:8px;
padding:24px;box-shadow:0 2px 4px rgba(0,0,0,.1)}
h1{font-size:20px}fieldset{border:1px solid #dddfe2;border-radius:6px;margin:12px 0}
button{font-size:15px;padding:8px 16px;margin-right:8px;border-radius:6px;
border:0;cursor:pointer}button[name=continue],button[name=login]{background:#1877f2;
color:#fff}button[name=cancel]{background:#e4e6eb}
"""


def is_dialog_path(path: str) -> bool:
    return _DIALOG_RE.match(path) is not None


def handle(sim, method: str, raw_path: str, headers, body: bytes):
    """Answer one request to the dialog: ``(status, headers, body bytes)``."""
    parts = urlsplit(raw_path)
    match = _DIALOG_RE.match(parts.path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    form = _form_pairs(headers, body)
    action = (match.group("action") or "").strip("/")
    method = method.upper()
    with sim.store.lock:
        if action == "" and method == "GET":
            answer = _show(sim, query, raw_path)
        elif action == "confirm" and method == "POST":
            answer = _confirm(sim, form)
        elif action == "login" and method == "POST":
            answer = _login(sim, form)
        else:
            answer = _error_page(
                "Sorry, something went wrong.",
                f"{method} is not supported here.",
                405,
            )
    _record(sim, method, parts.path, query, form, headers, answer[0])
    return answer


# --- GET /dialog/oauth --------------------------------------------------------


def _show(sim, query: dict, raw_path: str):
    store = sim.store
    if query.get("client_id") != sim.app_id:
        # What www.facebook.com shows for an app id it does not know.
        return _error_page(
            "Invalid App ID",
            "The provided app ID does not look like a valid app ID.",
        )
    redirect_uri = query.get("redirect_uri")
    if not redirect_uri:
        return _error_page("Error", "Missing redirect_uri parameter.")
    if redirect_uri not in store.oauth_redirect_uris:
        # Strict mode: exact match against the Valid OAuth Redirect URIs.
        return _error_page(
            "URL Blocked",
            "This redirect failed because the redirect URI is not whitelisted "
            "in the app’s Client OAuth Settings. Make sure Client and Web OAuth "
            "Login are on and add all your app domains as Valid OAuth Redirect "
            "URIs.",
        )
    response_type = [
        part for part in _SPLIT_RE.split(query.get("response_type") or "code") if part
    ]
    if not response_type or not set(response_type) <= RESPONSE_TYPES:
        return _error_page(
            "Error",
            f"response_type={query.get('response_type')} is not simulated; "
            "use response_type=code.",
        )
    config_id = query.get("config_id") or None
    if config_id is not None:
        config = store.login_configs.get(config_id)
        if config is None:
            return _error_page(
                "Error", f"Invalid configuration ID {config_id} for this app."
            )
        asked = list(config.scopes)
    else:
        asked = [s for s in _SPLIT_RE.split(query.get("scope") or "") if s]
    invalid = [scope for scope in asked if scope not in KNOWN_PERMISSIONS]
    scopes = [DEFAULT_PERMISSION]
    for scope in asked:
        if scope in KNOWN_PERMISSIONS and scope not in scopes:
            scopes.append(scope)
    person_id = store.session_person
    if person_id is None or person_id not in store.users:
        return _login_page(sim, raw_path)
    person = store.users[person_id]
    page_ids = [page_id for page_id in person.pages if page_id in store.pages]
    key = sim.ids.token("dialog", prefix="", length=32)
    store.dialogs[key] = DialogRequest(
        key=key,
        person_id=person.id,
        redirect_uri=redirect_uri,
        state=query.get("state"),
        scopes=scopes,
        page_ids=page_ids,
        config_id=config_id,
        granted_scopes="granted_scopes" in response_type,
    )
    return _html(200, _consent_html(sim, person, key, scopes, page_ids, invalid))


def _consent_html(sim, person, key, scopes, page_ids, invalid) -> str:
    app = escape(sim.app_name)
    name = escape(person.name)
    rows = []
    for scope in scopes:
        value = escape(scope)
        if scope == DEFAULT_PERMISSION:
            rows.append(f'<li id="scope_{value}">{value} (always shared)</li>')
        else:
            rows.append(
                f'<li><label><input type="checkbox" name="scopes" value="{value}" '
                f'id="scope_{value}" checked> {value}</label></li>'
            )
    pages = []
    for page_id in page_ids:
        page = sim.store.pages[page_id]
        value = escape(page_id)
        pages.append(
            f'<li><label><input type="checkbox" name="page_ids" value="{value}" '
            f'id="page_{value}" checked> {escape(page.name)}</label></li>'
        )
    pages_html = (
        f'<ul id="page_list">{"".join(pages)}</ul>'
        if pages
        else '<p id="no_pages">You don’t manage any Pages.</p>'
    )
    notice = ""
    if invalid:
        listed = escape(", ".join(invalid))
        notice = (
            f'<p id="invalid_scopes">Invalid Scopes: {listed}. This message is '
            "only shown to developers. Users of your app will ignore these "
            "permissions if present.</p>"
        )
    return _document(
        f"Log in to {app}",
        f"""<h1 id="app_name">{app}</h1>
{notice}<p id="continue_as">Continue as <strong id="person_name">{name}</strong></p>
<p>{app} is requesting access to:</p>
<form id="oauth_dialog" method="post" action="/dialog/oauth/confirm">
<input type="hidden" name="dialog_key" value="{escape(key)}">
<fieldset id="permissions"><legend>Permissions</legend>
<ul id="scope_list">{"".join(rows)}</ul></fieldset>
<fieldset id="pages"><legend>Choose the Pages you want {app} to access</legend>
{pages_html}</fieldset>
<button type="submit" name="continue" id="continue" value="1">Continue</button>
<button type="submit" name="cancel" id="cancel" value="1">Cancel</button>
</form>""",
    )


# --- POST /dialog/oauth/confirm ---------------------------------------------------


def _confirm(sim, form: list[tuple[str, str]]):
    store = sim.store
    values: dict[str, list[str]] = {}
    for name, value in form:
        values.setdefault(name, []).append(value)
    key = (values.get("dialog_key") or [""])[0]
    request = store.dialogs.pop(key, None)
    if request is None:
        return _error_page(
            "Sorry, something went wrong.",
            "This dialog is no longer valid. Please go back to the app and try again.",
        )
    if "cancel" in values:
        # The manual-flow guide's "Canceled Login" parameters (§2.4).
        params = {
            "error": "access_denied",
            "error_code": "200",
            "error_description": "Permissions error",
            "error_reason": "user_denied",
        }
    else:
        ticked_scopes = set(values.get("scopes", []))
        scopes = [
            scope
            for scope in request.scopes
            if scope == DEFAULT_PERMISSION or scope in ticked_scopes
        ]
        ticked_pages = set(values.get("page_ids", []))
        pages = [page_id for page_id in request.page_ids if page_id in ticked_pages]
        now = int(sim.clock.now())
        code = AuthorizationCode(
            value=sim.ids.token("oauth_code", prefix="AQ", length=200),
            app_id=sim.app_id,
            person_id=request.person_id,
            redirect_uri=request.redirect_uri,
            scopes=scopes,
            pages=pages,
            issued_at=now,
            expires_at=now + CODE_SECONDS,
        )
        store.auth_codes[code.value] = code
        params = {"code": code.value}
        if request.granted_scopes:
            params["granted_scopes"] = ",".join(scopes)
            declined = [s for s in request.scopes if s not in scopes]
            params["denied_scopes"] = ",".join(declined)
    if request.state is not None:
        params["state"] = request.state
    return 302, _redirect_headers(_append_query(request.redirect_uri, params)), b""


def _append_query(uri: str, params: dict) -> str:
    """``uri`` plus ``params`` and the ``#_=_`` fragment Meta adds (§2.4)."""
    if not urlsplit(uri).query:
        separator = "" if uri.endswith("?") else "?"
    else:
        separator = "" if uri.endswith("&") else "&"
    return f"{uri}{separator}{urlencode(params)}#_=_"


# --- logging in ----------------------------------------------------------------


def _login_page(sim, raw_path: str):
    persons = [user for user in sim.store.users.values() if user.person]
    if not persons:
        return _error_page(
            "Log in to Facebook",
            "No Facebook account exists on this simulator (sim.add_person).",
            200,
        )
    options = "".join(
        f'<option value="{escape(p.id)}">{escape(p.name)}</option>' for p in persons
    )
    body = f"""<h1 id="login_title">Log in to Facebook</h1>
<p>You must log in to continue to {escape(sim.app_name)}.</p>
<form id="login_form" method="post" action="/dialog/oauth/login">
<input type="hidden" name="next" value="{escape(raw_path)}">
<label for="person_id">Account</label>
<select name="person_id" id="person_id">{options}</select>
<button type="submit" name="login" id="login" value="1">Log in</button>
</form>"""
    return _html(200, _document("Log in to Facebook", body))


def _login(sim, form: list[tuple[str, str]]):
    values = dict(form)
    person_id = values.get("person_id", "")
    target = values.get("next", "")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not is_dialog_path(parts.path)
        or person_id not in sim.store.users
    ):
        return _error_page("Sorry, something went wrong.", "Invalid login request.")
    sim.store.session_person = person_id
    return 302, _redirect_headers(target), b""


# --- HTTP helpers -------------------------------------------------------------


def _form_pairs(headers, body: bytes) -> list[tuple[str, str]]:
    """An HTML form's fields in order, repeated names kept (checkboxes)."""
    if not body:
        return []
    content_type = (headers.get("content-type") or "").lower()
    if "application/x-www-form-urlencoded" not in content_type and content_type:
        return []
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}</style></head>\n"
        f"<body><main>\n{body}\n</main></body></html>\n"
    )


def _common_headers() -> dict:
    return {
        "Cache-Control": "private, no-cache, no-store, must-revalidate",
        "X-Frame-Options": "DENY",
    }


def _html(status: int, document: str):
    headers = {"Content-Type": "text/html; charset=utf-8", **_common_headers()}
    return status, headers, document.encode("utf-8")


def _redirect_headers(location: str) -> dict:
    return {"Location": location, **_common_headers()}


def _error_page(title: str, message: str, status: int = 400):
    body = (
        f'<h1 id="error_title">{escape(title)}</h1>\n'
        f'<p id="error_message">{escape(message)}</p>'
    )
    return _html(status, _document(escape(title), body))


def _record(sim, method, path, query, form, headers, status) -> None:
    segments = [part for part in path.split("/") if part]
    version = segments[0] if segments and segments[0].startswith("v") else None
    sim._record(
        RecordedRequest(
            method=method,
            path=path,
            version=version,
            served_version=None,
            query=dict(query),
            form=dict(form),
            headers=Headers(headers),
            token=None,
            status=status,
            error_code=None,
            time=sim.clock.now(),
            trace_id=sim.ids.trace_id(),
        )
    )
