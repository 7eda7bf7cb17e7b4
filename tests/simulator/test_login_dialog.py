"""Facebook Login: the OAuth dialog and the code exchange (docs/meta-facts.md §2.4).

Every call is real HTTP; redirects are never followed so that the Location
header can be checked.  ``Browser`` submits the dialog's form the way a
browser does (hidden fields, ticked checkboxes, the clicked button).
"""

import json
import pathlib
import subprocess
import sys
from html.parser import HTMLParser
from types import SimpleNamespace
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from sim_helpers import Graph

REDIRECT = "https://odoo.example/meta/oauth/callback"
SCOPES = ["pages_show_list", "pages_manage_metadata", "leads_retrieval"]


class _Form(HTMLParser):
    """Forms, inputs and buttons of a page, as a browser sees them."""

    def __init__(self):
        super().__init__()
        self.forms: dict[str, dict] = {}
        self._current = None
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "form":
            self._current = {"action": attrs.get("action"), "fields": []}
            self.forms[attrs.get("id")] = self._current
        elif self._current is not None and tag in ("input", "button", "option"):
            self._current["fields"].append((tag, attrs))

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


class Browser:
    """Loads the dialog and clicks its buttons without following redirects."""

    def __init__(self, sim):
        self.sim = sim

    def open(self, url):
        page = requests.get(url, allow_redirects=False, timeout=5)
        parser = _Form()
        parser.feed(page.text)
        page.forms, page.ids = parser.forms, parser.ids
        return page

    def submit(self, page, form_id, button, untick=()):
        form = page.forms[form_id]
        data = []
        for tag, attrs in form["fields"]:
            name = attrs.get("name")
            if tag == "input" and attrs.get("type") == "hidden":
                data.append((name, attrs.get("value", "")))
            elif tag == "input" and attrs.get("type") == "checkbox":
                if "checked" in attrs and attrs.get("value") not in untick:
                    data.append((name, attrs.get("value")))
            elif tag == "option" and not any(k == "person_id" for k, _ in data):
                data.append(("person_id", attrs.get("value")))
            elif tag == "button" and name == button:
                data.append((name, attrs.get("value", "")))
        return requests.post(
            urljoin(self.sim.base_url, form["action"]),
            data=data,
            allow_redirects=False,
            timeout=5,
        )

    def consent(self, button="continue", untick=(), **dialog):
        dialog.setdefault("state", "st-1")
        page = self.open(
            self.sim.dialog_url(dialog.pop("redirect_uri", REDIRECT), **dialog)
        )
        assert page.status_code == 200, page.text
        return self.submit(page, "oauth_dialog", button, untick)


@pytest.fixture
def login(simulator):
    """Two Pages managed by a logged-in person; the callback URL is allowed."""
    first = simulator.add_page("Demo Mağaza")
    second = simulator.add_page("İkinci Şube")
    person = simulator.add_person(
        "Ayşe Yılmaz", pages=[first["id"], second["id"]], login=True
    )
    simulator.set_oauth_redirect_uris([REDIRECT, "https://odoo.example/cb?db=x"])
    return SimpleNamespace(sim=simulator, pages=(first["id"], second["id"]),
                           person=person)  # fmt: skip


def _location(answer):
    assert answer.status_code == 302, answer.text
    parts = urlsplit(answer.headers["Location"])
    return parts, {k: v[0] for k, v in parse_qs(parts.query).items()}


def _exchange(sim, code, redirect_uri=REDIRECT, method="get", **overrides):
    params = {
        "client_id": sim.app_id,
        "client_secret": sim.app_secret,
        "redirect_uri": redirect_uri,
        "code": code,
        **overrides,
    }
    params = {k: v for k, v in params.items() if v is not None}
    url = f"{sim.base_url}/v26.0/oauth/access_token"
    if method == "post":
        return requests.post(url, data=params, timeout=5)
    return requests.get(url, params=params, timeout=5)


def _code(sim, **dialog):
    dialog.setdefault("scope", SCOPES)
    _, query = _location(Browser(sim).consent(**dialog))
    return query["code"]


# --- the dialog -------------------------------------------------------------


def test_dialog_renders_the_person_permissions_and_pages(login):
    sim = login.sim
    page = Browser(sim).open(sim.dialog_url(REDIRECT, state="s", scope=SCOPES))
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Continue as" in page.text and "Ayşe Yılmaz" in page.text
    assert sim.app_name in page.text
    form = page.forms["oauth_dialog"]
    assert form["action"] == "/dialog/oauth/confirm"
    fields = {(a.get("name"), a.get("value")): a for _, a in form["fields"]}
    for page_id in login.pages:
        box = fields[("page_ids", page_id)]
        assert box["type"] == "checkbox" and "checked" in box
        assert f"page_{page_id}" in page.ids
    for scope in SCOPES:
        assert "checked" in fields[("scopes", scope)]
    assert ("continue", "1") in fields and ("cancel", "1") in fields
    keys = [a for name, a in fields.items() if name[0] == "dialog_key"]
    assert len(keys) == 1 and keys[0]["type"] == "hidden" and keys[0]["value"]
    # Unversioned path too; the version may be any Graph version.
    bare = sim.dialog_url(REDIRECT, scope="pages_show_list", version=None)
    assert "/dialog/oauth?" in bare and "/v" not in urlsplit(bare).path
    assert requests.get(bare, timeout=5).status_code == 200


def test_dialog_escapes_what_it_echoes(simulator):
    page = simulator.add_page('Mağaza <script>alert("x")</script> & Co')
    simulator.add_person('Ali "<b>" Veli', pages=[page["id"]], login=True)
    simulator.set_oauth_redirect_uris([REDIRECT])
    simulator.app_name = "App <i>"
    html = requests.get(
        simulator.dialog_url(REDIRECT, state='"><script>', scope="leads_retrieval"),
        timeout=5,
    ).text
    assert "<script>" not in html and "<b>" not in html and "<i>" not in html
    assert "Mağaza &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
    assert "Ali &quot;&lt;b&gt;&quot; Veli" in html


def test_unknown_app_is_an_error_page(login):
    sim = login.sim
    for client_id in ("999999", ""):
        answer = requests.get(
            f"{sim.base_url}/v26.0/dialog/oauth",
            params={"client_id": client_id, "redirect_uri": REDIRECT, "state": "s"},
            allow_redirects=False,
            timeout=5,
        )
        assert answer.status_code == 400 and "Location" not in answer.headers
        assert "Invalid App ID" in answer.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/steal",
        REDIRECT + "/",  # strict mode: exact match only
        REDIRECT.replace("https", "http"),
        REDIRECT + "?next=/web",
    ],
)
def test_unlisted_redirect_uri_is_blocked_and_never_redirected(login, redirect_uri):
    sim = login.sim
    answer = requests.get(
        sim.dialog_url(redirect_uri, state="s"), allow_redirects=False, timeout=5
    )
    assert answer.status_code == 400 and "Location" not in answer.headers
    assert "URL Blocked" in answer.text
    assert "not whitelisted" in answer.text


def test_missing_redirect_uri_and_unknown_configuration_are_error_pages(login):
    sim = login.sim
    base = f"{sim.base_url}/v26.0/dialog/oauth?client_id={sim.app_id}"
    missing = requests.get(base, allow_redirects=False, timeout=5)
    assert missing.status_code == 400 and "Location" not in missing.headers
    unknown = requests.get(
        sim.dialog_url(REDIRECT, config_id="123"), allow_redirects=False, timeout=5
    )
    assert unknown.status_code == 400 and "configuration" in unknown.text


def test_continue_redirects_with_code_state_and_fragment(login):
    sim = login.sim
    answer = Browser(sim).consent(scope=SCOPES, state="csrf Ş/?&=")
    parts, query = _location(answer)
    assert answer.headers["Location"].startswith(REDIRECT + "?")
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT
    assert parts.fragment == "_=_"
    assert query["state"] == "csrf Ş/?&="
    assert query["code"].startswith("AQ") and len(query["code"]) > 100
    assert set(query) == {"code", "state"}
    # A redirect URI with its own query keeps it and gets '&'.
    other = Browser(sim).consent(redirect_uri="https://odoo.example/cb?db=x")
    location = other.headers["Location"]
    assert location.startswith("https://odoo.example/cb?db=x&code=")
    assert location.endswith("&state=st-1#_=_")


def test_cancel_redirects_with_the_error_parameters(login):
    sim = login.sim
    answer = Browser(sim).consent(button="cancel", scope=SCOPES, state="abc")
    parts, query = _location(answer)
    assert parts.fragment == "_=_"
    assert query == {
        "error": "access_denied",
        "error_code": "200",
        "error_description": "Permissions error",
        "error_reason": "user_denied",
        "state": "abc",
    }
    assert "error_description=Permissions+error" in answer.headers["Location"]
    assert not sim.store.auth_codes


def test_dialog_key_is_single_use_and_required(login):
    sim = login.sim
    browser = Browser(sim)
    page = browser.open(sim.dialog_url(REDIRECT, scope=SCOPES))
    assert browser.submit(page, "oauth_dialog", "continue").status_code == 302
    again = browser.submit(page, "oauth_dialog", "continue")
    assert again.status_code == 400 and "Location" not in again.headers
    forged = requests.post(
        f"{sim.base_url}/dialog/oauth/confirm",
        data={"redirect_uri": "https://evil.example", "continue": "1"},
        allow_redirects=False,
        timeout=5,
    )
    assert forged.status_code == 400 and "Location" not in forged.headers
    assert (
        requests.get(f"{sim.base_url}/dialog/oauth/confirm", timeout=5).status_code
        == 405
    )


def test_logged_out_dialog_asks_to_log_in_first(login):
    sim = login.sim
    sim.logout()
    browser = Browser(sim)
    url = sim.dialog_url(REDIRECT, scope=SCOPES, state="s")
    page = browser.open(url)
    assert page.status_code == 200 and "login_form" in page.forms
    assert "oauth_dialog" not in page.forms
    answer = browser.submit(page, "login_form", "sim")
    assert answer.status_code == 302
    assert sim.base_url + answer.headers["Location"] == url
    assert sim.logged_in_person == login.person["id"]
    assert "oauth_dialog" in browser.open(url).forms
    # The sim form only goes back to the dialog.
    bad = requests.post(
        f"{sim.base_url}/dialog/oauth/sim",
        data={"person_id": login.person["id"], "next": "https://evil.example/"},
        allow_redirects=False,
        timeout=5,
    )
    assert bad.status_code == 400


def test_nobody_to_log_in_says_so(simulator):
    simulator.set_oauth_redirect_uris([REDIRECT])
    page = requests.get(simulator.dialog_url(REDIRECT), timeout=5)
    assert page.status_code == 200 and "add_person" in page.text


def test_invalid_scopes_are_reported_and_ignored(login):
    sim = login.sim
    page = Browser(sim).open(
        sim.dialog_url(REDIRECT, scope="pages_show_list email2 leads_retrieval")
    )
    assert "Invalid Scopes: email2" in page.text
    names = {a.get("value") for _, a in page.forms["oauth_dialog"]["fields"]
             if a.get("name") == "scopes"}  # fmt: skip
    assert names == {"pages_show_list", "leads_retrieval"}


def test_dialog_requests_are_recorded(login):
    sim = login.sim
    sim.clear_requests()
    _code(sim)
    paths = [(r.method, r.path, r.status) for r in sim.requests]
    assert paths == [
        ("GET", "/v26.0/dialog/oauth", 200),
        ("POST", "/dialog/oauth/confirm", 302),
    ]
    assert sim.requests[0].query["client_id"] == sim.app_id


# --- the code exchange ------------------------------------------------------


def test_exchange_gives_a_short_lived_token_with_the_choices_made(login, clock):
    sim = login.sim
    first, second = login.pages
    _, query = _location(
        Browser(sim).consent(scope=SCOPES, untick=(second, "leads_retrieval"))
    )
    answer = _exchange(sim, query["code"])
    assert answer.status_code == 200
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 5400
    token = body["access_token"]
    app = Graph(sim, sim.store.app_token, proof=False)
    data = app.get("debug_token", input_token=token).json()["data"]
    assert data["type"] == "USER" and data["is_valid"] is True
    assert data["user_id"] == login.person["id"]
    assert data["app_id"] == sim.app_id
    assert data["expires_at"] == clock.now() + 5400
    assert set(data["scopes"]) == {"public_profile", "pages_show_list",
                                   "pages_manage_metadata"}  # fmt: skip
    granular = {row["scope"]: row for row in data["granular_scopes"]}
    assert granular["pages_show_list"]["target_ids"] == [first]
    me = Graph(sim, token)
    accounts = me.get("me/accounts").json()["data"]
    assert [row["id"] for row in accounts] == [first]
    assert me.get("me").json() == {"name": "Ayşe Yılmaz", "id": login.person["id"]}
    assert me.get(second).json()["error"]["error_subcode"] == 33
    # The short-lived token dies after its expires_in.
    clock.advance(5400)
    assert me.get("me").json()["error"]["error_subcode"] == 463


def test_exchange_by_post_and_with_granted_scopes(login):
    sim = login.sim
    _, query = _location(
        Browser(sim).consent(
            scope=SCOPES,
            response_type="code granted_scopes",
            untick=("leads_retrieval",),
        )
    )
    assert (
        query["granted_scopes"]
        == "public_profile,pages_show_list,pages_manage_metadata"
    )
    assert query["denied_scopes"] == "leads_retrieval"
    answer = _exchange(sim, query["code"], method="post")
    assert answer.status_code == 200 and answer.json()["expires_in"] == 5400


def test_login_configuration_scopes_are_asked(login):
    sim = login.sim
    config_id = sim.add_login_configuration(["pages_show_list", "leads_retrieval"])
    page = Browser(sim).open(
        sim.dialog_url(REDIRECT, config_id=config_id, scope="ads_management")
    )
    names = {a.get("value") for _, a in page.forms["oauth_dialog"]["fields"]
             if a.get("name") == "scopes"}  # fmt: skip
    assert names == {"pages_show_list", "leads_retrieval"}
    code = _code(sim, config_id=config_id, scope=None, auth_type="rerequest")
    token = _exchange(sim, code).json()["access_token"]
    assert set(sim.token_info(token).scopes) == {
        "public_profile",
        "pages_show_list",
        "leads_retrieval",
    }


def _error(answer):
    assert answer.status_code == 400, answer.text
    return answer.json()["error"]


def test_a_code_is_single_use(login):
    sim = login.sim
    code = _code(sim)
    assert _exchange(sim, code).status_code == 200
    again = _exchange(sim, code)
    error = _error(again)
    assert error["type"] == "OAuthException"
    assert (error["code"], error["error_subcode"]) == (100, 36009)
    assert error["message"] == "This authorization code has been used."
    assert '"invalid_code"' in again.headers["WWW-Authenticate"]


def test_a_code_expires_after_ten_minutes(login, clock):
    sim = login.sim
    early = _code(sim)
    clock.advance(599)
    assert _exchange(sim, early).status_code == 200
    late = _code(sim)
    clock.advance(600)
    error = _error(_exchange(sim, late))
    assert (error["code"], error["error_subcode"]) == (100, 36007)
    assert error["message"] == "This authorization code has expired."


def test_a_code_is_bound_to_the_exact_redirect_uri(login):
    sim = login.sim
    code = _code(sim)
    for other in (REDIRECT + "/", "https://odoo.example/cb?db=x"):
        error = _error(_exchange(sim, code, redirect_uri=other))
        assert (error["code"], error["error_subcode"]) == (100, 36008)
        assert "redirect_uri is identical" in error["message"]
    missing = _error(_exchange(sim, code, redirect_uri=None))
    assert missing["code"] == 191 and "error_subcode" not in missing
    # A refused exchange does not use the code up.
    assert _exchange(sim, code).status_code == 200


def test_a_code_is_bound_to_the_app_and_its_secret(login):
    sim = login.sim
    code = _code(sim)
    secret = _error(_exchange(sim, code, client_secret="wrong"))
    assert (
        secret["code"] == 1 and secret["message"] == "Error validating client secret."
    )
    app = _error(_exchange(sim, code, client_id="222222"))
    assert app["code"] == 101
    missing = _error(_exchange(sim, code, client_id=None))
    assert missing == {
        **missing,
        "code": 101,
        "message": "Missing client_id parameter.",
    }
    garbage = _error(_exchange(sim, "AQnot-a-code"))
    assert garbage["code"] == 100 and "error_subcode" not in garbage
    assert garbage["message"] == "Invalid verification code format."
    assert _exchange(sim, code).status_code == 200


def test_long_lived_exchange_of_the_login_token(login, clock):
    sim = login.sim
    first, second = login.pages
    code = _code(sim, untick=(second,))
    short = _exchange(sim, code).json()["access_token"]
    answer = requests.get(
        f"{sim.base_url}/v26.0/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": sim.app_id,
            "client_secret": sim.app_secret,
            "fb_exchange_token": short,
        },
        timeout=5,
    ).json()
    assert answer["expires_in"] == 5183944
    long_lived = answer["access_token"]
    clock.advance(7200)  # the sim token is dead, the long-lived one is not
    assert Graph(sim, short).get("me").json()["error"]["error_subcode"] == 463
    graph = Graph(sim, long_lived)
    assert [row["id"] for row in graph.get("me/accounts").json()["data"]] == [first]
    data = (
        Graph(sim, sim.store.app_token, proof=False)
        .get("debug_token", input_token=long_lived)
        .json()["data"]
    )
    assert data["user_id"] == login.person["id"]
    assert "leads_retrieval" in data["scopes"]


def test_control_api_sets_up_the_login(simulator):
    base = simulator.base_url
    page = simulator.add_page("Kontrol")
    person = requests.post(
        f"{base}/_sim/persons",
        json={"name": "Mehmet Kaya", "pages": [page["id"]]},
        timeout=5,
    ).json()
    assert person["pages"] == [page["id"]]
    logged = requests.post(
        f"{base}/_sim/login", json={"person_id": person["id"]}, timeout=5
    )
    assert logged.json() == {"person_id": person["id"]}
    uris = requests.post(
        f"{base}/_sim/oauth/redirect_uris", json={"uris": [REDIRECT]}, timeout=5
    ).json()
    assert uris == {"redirect_uris": [REDIRECT]}
    config = requests.post(
        f"{base}/_sim/login_configurations",
        json={"scopes": ["pages_show_list"]},
        timeout=5,
    ).json()
    code = _code(simulator, config_id=config["config_id"], scope=None)
    token = _exchange(simulator, code).json()["access_token"]
    assert simulator.token_info(token).pages == [page["id"]]
    out = requests.post(f"{base}/_sim/login", json={"person_id": None}, timeout=5)
    assert out.json() == {"person_id": None} and simulator.logged_in_person is None


def test_cli_demo_is_ready_for_the_connect_button(tmp_path):
    """``--fixture demo --oauth-redirect-uri URL``: the demo person is logged
    in and manages the demo Page, so a dialog can be answered at once."""
    root = pathlib.Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "meta_simulator", "--port", "0", "--fixture", "demo",
         "--oauth-redirect-uri", REDIRECT],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        info = json.loads(line)
        assert info["oauth_redirect_uris"] == [REDIRECT]
        base = info["base_url"]
        page = requests.get(
            f"{base}/v26.0/dialog/oauth",
            params={"client_id": info["app_id"], "redirect_uri": REDIRECT,
                    "scope": "pages_show_list", "state": "demo"},
            timeout=5,
        )  # fmt: skip
        assert page.status_code == 200
        assert f'id="page_{info["page_id"]}"' in page.text
        fixture = requests.get(f"{base}/_sim/fixture", timeout=5).json()
        assert fixture["person_id"] == info["person_id"]
    finally:
        process.terminate()
        process.wait(timeout=10)
