"""The manual Facebook Login flow against the simulator's dialog (real HTTP)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from graph import oauth
from graph.api import inspect_token, list_pages
from graph.client import GraphClient
from graph.errors import GraphError

from ..conftest import APP_ID, APP_SECRET

REDIRECT = "https://odoo.example.com/meta/oauth/callback"


def app_client(sim):
    return GraphClient.for_app(APP_ID, APP_SECRET, base_url=sim.base_url, max_retries=0)


def press(sim, url, button="continue", pages=None):
    """What the person's browser does on the dialog: press a button."""
    page = requests.get(url, timeout=5)
    assert page.status_code == 200, page.text
    key = re.search(r'name="dialog_key" value="([^"]+)"', page.text).group(1)
    data = {"dialog_key": key, button: "1"}
    if pages is not None:
        data["page_ids"] = pages
    else:
        data["page_ids"] = re.findall(r'name="page_ids" value="([^"]+)"', page.text)
    data["scopes"] = re.findall(r'name="scopes" value="([^"]+)"', page.text)
    answer = requests.post(
        f"{sim.base_url}/dialog/oauth/confirm",
        data=data,
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def sim_dialog(sim, state="s", scopes=("pages_show_list",)):
    return oauth.dialog_url(
        graph_base_url=sim.base_url,
        api_version="v26.0",
        app_id=APP_ID,
        redirect_uri=REDIRECT,
        state=state,
        scopes=scopes,
    )


@pytest.fixture
def person(sim, page):
    other = sim.add_page(name="Üsküdar Mağaza")
    sim.set_oauth_redirect_uris([REDIRECT])
    return sim.add_person("Ayşe Yılmaz", pages=[page["id"], other["id"]], login=True)


def test_dialog_url_for_meta_and_for_a_local_meta():
    url = oauth.dialog_url(
        graph_base_url="https://graph.facebook.com",
        api_version="v26.0",
        app_id="42",
        redirect_uri=REDIRECT,
        state="s1",
        scopes=("pages_show_list", "leads_retrieval"),
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "www.facebook.com",
        "/v26.0/dialog/oauth",
    )
    query = parse_qs(parts.query)
    assert query["scope"] == ["pages_show_list,leads_retrieval"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["response_type"] == ["code"]
    local = oauth.dialog_url(
        graph_base_url="http://127.0.0.1:5000/",
        api_version="v26.0",
        app_id="42",
        redirect_uri=REDIRECT,
        state="s1",
        config_id="777",
    )
    assert local.startswith("http://127.0.0.1:5000/v26.0/dialog/oauth?")
    query = parse_qs(urlsplit(local).query)
    assert query["config_id"] == ["777"] and "scope" not in query


def test_scopes_follow_the_features():
    scopes = oauth.login_scopes(["lead_ads"])
    assert "leads_retrieval" in scopes and "pages_manage_metadata" in scopes
    assert "pages_messaging" not in scopes
    assert "business_management" in scopes
    both = oauth.login_scopes(["lead_ads", "messenger"])
    assert "pages_messaging" in both
    assert len(both) == len(set(both))


def test_a_connection_needs_the_permissions_of_the_features_it_is_used_for():
    # comments and Messenger, no Lead Ads: leads_retrieval is not needed
    needed = oauth.needed_scopes(["page_comments", "messenger"])
    assert "leads_retrieval" not in needed
    assert {"pages_messaging", "pages_manage_engagement", "pages_show_list"} <= set(
        needed
    )
    # what "Connect with Facebook" asks for those features is enough
    asked = oauth.login_scopes(["page_comments", "messenger"])
    assert set(needed) <= set(asked)
    assert "business_management" not in needed
    # an audiences-only connection needs no Page permission
    assert oauth.needed_scopes(["audiences"]) == ("ads_management",)
    assert oauth.needed_scopes([]) == ()


def test_the_features_a_token_was_granted():
    scopes = ["pages_show_list", "pages_read_engagement", "pages_messaging"]
    assert oauth.features_granted(scopes) == ("messenger",)
    # a shared Page permission alone grants no feature
    assert oauth.features_granted(["pages_read_engagement"]) == ()
    assert oauth.features_granted(
        ["leads_retrieval", "pages_manage_engagement", "ads_management"]
    ) == ("lead_ads", "page_comments", "audiences")


def test_state_must_come_back_unchanged():
    state = oauth.new_state()
    assert len(state) >= 32 and state != oauth.new_state()
    oauth.check_state(state, state)
    for received in ("", None, state + "x", "forged"):
        with pytest.raises(oauth.LoginStateMismatch):
            oauth.check_state(state, received)
    with pytest.raises(oauth.LoginStateMismatch):
        oauth.check_state("", "")


def test_the_whole_login_ends_with_a_long_lived_token_for_the_chosen_pages(
    sim, page, person
):
    state = oauth.new_state()
    url = sim_dialog(sim, state, oauth.login_scopes(["lead_ads"]))
    answer = press(sim, url, pages=[page["id"]])
    oauth.check_state(state, answer["state"])
    code = oauth.parse_callback(answer)
    client = app_client(sim)
    short = oauth.exchange_code(
        client, app_id=APP_ID, app_secret=APP_SECRET, redirect_uri=REDIRECT, code=code
    )
    assert short.expires_in and short.expires_in < 3 * 3600
    long = oauth.exchange_long_lived(
        client, app_id=APP_ID, app_secret=APP_SECRET, token=short.access_token
    )
    assert long.expires_in > 50 * 86400
    info = inspect_token(client, long.access_token)
    assert info.is_valid and "leads_retrieval" in info.scopes
    user = GraphClient(long.access_token, app_secret=APP_SECRET, base_url=sim.base_url)
    # only the Page ticked in the dialog is granted
    assert [p.page_id for p in list_pages(user)] == [page["id"]]
    # a code buys one token only
    with pytest.raises(GraphError):
        oauth.exchange_code(
            client,
            app_id=APP_ID,
            app_secret=APP_SECRET,
            redirect_uri=REDIRECT,
            code=code,
        )


def test_a_cancelled_dialog_is_a_clear_error(sim, person):
    url = sim_dialog(sim)
    answer = press(sim, url, button="cancel")
    with pytest.raises(oauth.LoginCancelled):
        oauth.parse_callback(answer)
    with pytest.raises(GraphError):
        oauth.parse_callback({"state": "s"})


def test_the_code_is_bound_to_the_redirect_uri(sim, person):
    url = sim_dialog(sim)
    code = oauth.parse_callback(press(sim, url))
    with pytest.raises(GraphError):
        oauth.exchange_code(
            app_client(sim),
            app_id=APP_ID,
            app_secret=APP_SECRET,
            redirect_uri=REDIRECT + "?next=/evil",
            code=code,
        )
