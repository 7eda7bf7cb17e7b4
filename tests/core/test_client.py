"""The Graph client over real HTTP against the local Meta simulator.

No ``requests`` monkeypatching: every call crosses a socket to the simulator,
which checks the version, the token and ``appsecret_proof`` as Meta does.
"""

import logging
import socket

import pytest

from graph import api
from graph.client import GraphClient
from graph.errors import (
    InvalidRequestError,
    MissingPermissionError,
    RateLimitError,
    TokenError,
    TransientError,
)

# Same values as the ``sim`` fixture in tests/conftest.py.
APP_ID = "111111"
APP_SECRET = "sim_app_secret"

ALL_SCOPES = [
    "pages_show_list",
    "pages_manage_metadata",
    "pages_read_engagement",
    "leads_retrieval",
    "pages_manage_ads",
]


class Sleeper:
    """Records backoff delays instead of sleeping."""

    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


def _graph_requests(sim):
    return [r for r in sim.requests if not r.path.startswith("/_sim")]


def test_get_page_fields(sim, page, page_client):
    answer = page_client.get(page["id"], {"fields": "id,name"})
    assert answer == {"id": page["id"], "name": "Kadıköy Mobilya"}


def test_token_travels_in_header_and_never_in_url(sim, page, page_client):
    page_client.get(page["id"], {"fields": "id"})
    request = _graph_requests(sim)[-1]
    assert "access_token" not in request.query
    assert request.headers.get("Authorization") == f"Bearer {page['access_token']}"
    assert request.query.get("appsecret_proof")


def test_version_is_pinned_in_the_path(sim, page):
    client = GraphClient(
        page["access_token"],
        app_secret=APP_SECRET,
        base_url=sim.base_url,
        api_version="v25.0",
    )
    client.get(page["id"])
    assert _graph_requests(sim)[-1].path.startswith("/v25.0/")


def test_wrong_app_secret_proof_is_refused_without_retry(sim, page):
    sleeper = Sleeper()
    client = GraphClient(
        page["access_token"],
        app_secret="not-the-secret",
        base_url=sim.base_url,
        sleep=sleeper,
    )
    with pytest.raises(InvalidRequestError) as info:
        client.get(page["id"])
    assert info.value.code == 100
    assert client.last_attempts == 1
    assert sleeper.delays == []


def test_timestamped_proof_is_accepted(sim, page):
    client = GraphClient(
        page["access_token"],
        app_secret=APP_SECRET,
        base_url=sim.base_url,
        proof_mode="timestamped",
    )
    assert client.get(page["id"], {"fields": "id"})["id"] == page["id"]
    request = _graph_requests(sim)[-1]
    assert request.query.get("appsecret_time")


def test_invalid_token_raises_token_error_and_is_not_retried(sim, page, page_client):
    sim.invalidate_token(page["access_token"], subcode=460)
    with pytest.raises(TokenError) as info:
        page_client.get(page["id"])
    assert info.value.code == 190
    assert info.value.subcode == 460
    assert page_client.last_attempts == 1
    assert page["access_token"] not in str(info.value)


def test_permission_error_is_not_retried(sim, page, page_client):
    sim.deny_object(page["id"], code=10)
    with pytest.raises(MissingPermissionError):
        page_client.get(page["id"])
    assert page_client.last_attempts == 1


def test_rate_limit_carries_retry_after_and_is_not_retried(sim, page, page_client):
    sim.faults.throttle(code=32, calls=5, regain_minutes=3)
    with pytest.raises(RateLimitError) as info:
        page_client.get(page["id"])
    assert info.value.code == 32
    assert info.value.retry_after == 180
    assert page_client.last_attempts == 1


def test_transient_errors_are_retried_with_bounded_backoff(sim, page, page_client):
    sim.faults.error_rate = 1.0
    with pytest.raises(TransientError):
        page_client.get(page["id"])
    assert page_client.last_attempts == page_client.max_retries + 1
    delays = page_client._sleep.delays
    assert len(delays) == page_client.max_retries
    # full jitter: each delay lies in [0, min(max, base * 2**n)]
    for attempt, delay in enumerate(delays):
        assert 0 <= delay <= min(page_client.backoff_max, 0.5 * 2**attempt)


def test_transient_failures_then_success(sim, page):
    sleeper = Sleeper()
    client = GraphClient(
        page["access_token"],
        app_secret=APP_SECRET,
        base_url=sim.base_url,
        sleep=sleeper,
        max_retries=10,
    )
    sim.faults.error_rate = 0.5
    for _ in range(10):
        assert client.get(page["id"], {"fields": "id"})["id"] == page["id"]
    assert sleeper.delays, "with a 50 % error rate some calls must have retried"


def test_read_timeout_retries_gets_but_not_unsafe_posts(sim, page):
    sim.faults.hang_rate = 1.0
    sim.faults.hang_seconds = 1.5
    client = GraphClient(
        page["access_token"],
        app_secret=APP_SECRET,
        base_url=sim.base_url,
        timeout=(1, 0.3),
        max_retries=1,
        sleep=Sleeper(),
    )
    with pytest.raises(TransientError) as info:
        client.get(page["id"])
    assert "timed out" in str(info.value)
    assert client.last_attempts == 2
    with pytest.raises(TransientError):
        client.post(f"{page['id']}/subscribed_apps", data={"subscribed_fields": "feed"})
    assert client.last_attempts == 1


def test_unreachable_host_error_has_no_token(caplog):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GraphClient(
        "EAAsecret-token",
        app_secret="s",
        base_url=f"http://127.0.0.1:{port}",
        max_retries=1,
        sleep=Sleeper(),
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(TransientError) as info:
        client.get("me", {"input_token": "EAAother-secret"})
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    for text in (str(info.value), repr(client), caplog.text):
        assert "EAAsecret-token" not in text
        assert "EAAother-secret" not in text


def test_logs_never_contain_tokens(sim, page, page_client, caplog):
    caplog.set_level(logging.DEBUG, logger="graph")
    sim.faults.error_rate = 1.0
    with pytest.raises(TransientError):
        page_client.get("debug_token", {"input_token": page["access_token"]})
    assert caplog.records, "retries are logged"
    assert page["access_token"] not in caplog.text


def test_usage_headers_are_parsed(sim, page, page_client):
    for _ in range(3):
        page_client.get(page["id"])
    assert not page_client.last_usage.is_empty
    assert "call_count" in page_client.last_usage.app


def test_pagination_yields_every_item_once(sim, page, page_client):
    form = sim.add_form(page["id"], name="Teklif formu")
    sim.add_leads(form["id"], 257)
    leads = list(page_client.paginate(f"{form['id']}/leads", {"limit": 25}))
    ids = [lead["id"] for lead in leads]
    assert len(ids) == 257
    assert len(set(ids)) == 257
    assert all("access_token" not in r.query for r in _graph_requests(sim))


def test_pagination_survives_short_and_empty_pages(sim, page, page_client):
    form = sim.add_form(page["id"])
    sim.add_leads(form["id"], 120)
    sim.faults.short_pages = True
    ids = [
        lead["id"]
        for lead in page_client.paginate(f"{form['id']}/leads", {"limit": 20})
    ]
    assert sorted(ids) == sorted(set(ids))
    assert len(ids) == 120


def test_batch_splits_by_fifty_and_keeps_order(sim, page, page_client):
    form = sim.add_form(page["id"])
    leads = [sim.add_lead(form["id"]) for _ in range(60)]
    items = [
        {"method": "GET", "relative_url": f"{lead['id']}?fields=id"} for lead in leads
    ]
    items.append({"method": "GET", "relative_url": "999999999?fields=id"})
    before = len(_graph_requests(sim))
    results = page_client.batch(items)
    batch_calls = [r for r in _graph_requests(sim)[before:] if r.method == "POST"]
    assert len(batch_calls) == 2  # 61 items → 50 + 11
    assert [r.data["id"] for r in results[:60]] == [lead["id"] for lead in leads]
    assert not results[60].ok
    assert isinstance(results[60].error, InvalidRequestError)


# ----------------------------------------------------------- api functions


def test_list_pages_returns_page_tokens_and_instagram(sim):
    page = sim.add_page(name="Moda Butik", ig_account_id=True)
    token = sim.add_user_token(
        scopes=ALL_SCOPES, pages=[page["id"]], token_type="SYSTEM_USER"
    )
    client = GraphClient(token, app_secret=APP_SECRET, base_url=sim.base_url)
    pages = api.list_pages(client)
    assert [p.page_id for p in pages] == [page["id"]]
    assert pages[0].access_token == page["access_token"]
    assert pages[0].instagram_id
    assert page["access_token"] not in repr(pages[0])


def test_inspect_token_valid_and_invalid(sim, page):
    token = sim.add_user_token(scopes=ALL_SCOPES, pages=[page["id"]])
    app_client = GraphClient.for_app(APP_ID, APP_SECRET, base_url=sim.base_url)
    info = api.inspect_token(app_client, token)
    assert info.is_valid
    assert set(ALL_SCOPES) <= set(info.scopes)
    assert info.missing_scopes(["leads_retrieval", "instagram_basic"]) == (
        "instagram_basic",
    )
    sim.invalidate_token(token, subcode=460)
    info = api.inspect_token(app_client, token)
    assert not info.is_valid
    assert info.error_code == 190


def test_subscribe_read_back_and_unsubscribe(sim, page, page_client):
    assert api.subscribe_page(page_client, page["id"], ("leadgen", "feed", "messages"))
    fields = api.page_subscriptions(page_client, page["id"], APP_ID)
    assert {"leadgen", "feed", "messages"} <= fields
    assert api.unsubscribe_page(page_client, page["id"])
    assert api.page_subscriptions(page_client, page["id"], APP_ID) == set()


def test_webhook_fields_follow_the_kinds_handled_and_the_scopes():
    messenger = {"messenger_message", "messenger_echo", "messenger_read"}
    everything = {"leadgen", "page_comment", *messenger}
    assert api.page_fields({"leadgen"}) == ("leadgen",)
    assert api.page_fields(set()) == ()
    assert set(api.page_fields(everything)) == {
        "leadgen",
        "feed",
        "messages",
        "message_echoes",
        "message_reads",
    }
    assert api.page_fields(everything, ["pages_manage_metadata"]) == ("feed",)
    assert api.page_fields(everything, ["leads_retrieval"]) == ("leadgen", "feed")
    assert api.page_fields({"leadgen"}, ["pages_messaging"]) == ()


def test_forms_and_leads(sim, page, page_client):
    form = sim.add_form(page["id"], name="Kampanya")
    lead = sim.add_lead(form["id"], campaign_name="Kış")
    forms = api.list_lead_forms(page_client, page["id"])
    assert [f["id"] for f in forms] == [form["id"]]
    assert forms[0]["questions"]
    fetched = api.get_lead(page_client, lead["id"])
    assert fetched["id"] == lead["id"]
    assert fetched["campaign_name"] == "Kış"
    assert isinstance(fetched["field_data"], list)


def test_several_leads_in_one_batch_each_with_its_own_answer(sim, page, page_client):
    form = sim.add_form(page["id"], name="Kampanya")
    first, second = sim.add_lead(form["id"]), sim.add_lead(form["id"])
    answers = api.get_leads(page_client, [first["id"], "900000000000999", second["id"]])
    # one HTTP request for the three, each a call of its own at Meta
    assert sorted(r.in_batch for r in sim.requests) == [False, True, True, True]
    assert [a.ok for a in answers] == [True, False, True]
    assert [answers[0].data["id"], answers[2].data["id"]] == [first["id"], second["id"]]
    assert isinstance(answers[2].data["field_data"], list)
    assert answers[1].error.scope == "object"


def test_form_leads_since_watermark(sim, page, page_client):
    form = sim.add_form(page["id"])
    now = int(sim.clock.now())
    old = sim.add_lead(form["id"], created_time=now - 3600)
    new = sim.add_lead(form["id"], created_time=now - 60)
    leads, _after = api.form_leads_page(page_client, form["id"], since=now - 600)
    ids = {lead["id"] for lead in leads}
    assert new["id"] in ids
    assert old["id"] not in ids
