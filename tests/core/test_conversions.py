"""Conversion Leads events: built, checked and refused as Meta does."""

import hashlib

import pytest

from graph import conversions as capi
from graph.client import GraphClient
from graph.errors import GraphError, InvalidRequestError, RateLimitError

from ..conftest import APP_SECRET

NOW = 1_790_000_000
LEADGEN = "900000000000001"


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def event(**changes):
    values = {
        "leadgen_id": LEADGEN,
        "event_name": "Qualified",
        "event_time": NOW - 60,
        "email": " AYSE.Yilmaz@Example.COM ",
        "phone": "0532 123 45 67",
        "country": "TR",
    }
    values.update(changes)
    return capi.lead_event(**values)


def test_a_lead_event_carries_the_meta_lead_and_hashed_identifiers():
    built = event()
    assert built["event_name"] == "Qualified"
    assert built["event_time"] == NOW - 60
    assert built["action_source"] == "system_generated"
    assert built["custom_data"] == {"event_source": "crm", "lead_event_source": "Odoo"}
    user_data = built["user_data"]
    assert user_data["lead_id"] == int(LEADGEN)
    # an address folds as ASCII (its I is i), spaces go, then SHA-256
    assert user_data["em"] == [sha("ayse.yilmaz@example.com")]
    assert user_data["ph"] == [sha("905321234567")]
    assert capi.problems(built, NOW) == []


def test_unusable_identifiers_are_left_out_not_sent_empty():
    built = event(email="not an e-mail", phone="12")
    assert set(built["user_data"]) == {"lead_id"}
    assert capi.problems(built, NOW) == []


def test_the_event_id_is_stable_per_lead_and_stage():
    first = event()["event_id"]
    assert first == event(event_time=NOW - 5000)["event_id"]
    assert first == event(event_name="  qualified ")["event_id"]
    assert first != event(event_name="Won")["event_id"]
    assert first != event(leadgen_id="900000000000002")["event_id"]
    assert first.startswith(LEADGEN + "-")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"event_time": NOW - 7 * 86400 - 1}, "event_time_too_old"),
        ({"event_time": NOW + 3600}, "event_time_ahead"),
        ({"event_time": NOW * 1000}, "event_time_invalid"),
        ({"event_name": "  "}, "event_name_missing"),
        ({"leadgen_id": "12345"}, "lead_id_invalid"),
        ({"leadgen_id": "l:900000000000001"}, "lead_id_invalid"),
    ],
)
def test_what_meta_would_refuse_is_named_before_sending(changes, expected):
    assert expected in capi.problems(event(**changes), NOW)


def test_the_7_day_boundary_is_inclusive():
    assert capi.problems(event(event_time=NOW - 7 * 86400), NOW) == []
    assert capi.problems(event(event_time=NOW + 60), NOW) == []


def test_hand_made_events_are_checked_too():
    built = event()
    built["user_data"]["em"] = ["ayse@example.com"]
    assert capi.problems(built, NOW) == ["not_hashed"]
    built = event()
    built["user_data"] = {}
    assert "no_identifier" in capi.problems(built, NOW)
    built = event()
    built["custom_data"] = {"event_source": "website"}
    assert {"event_source_invalid", "lead_event_source_missing"} <= set(
        capi.problems(built, NOW)
    )
    built = event()
    built["event_time"] = True
    built["action_source"] = "website"
    assert {"event_time_invalid", "action_source_invalid"} <= set(
        capi.problems(built, NOW)
    )
    assert capi.problems("junk", NOW) == ["event_name_missing"]


def test_the_refused_event_is_found_in_metas_message():
    error = InvalidRequestError(
        "Invalid parameter",
        code=100,
        subcode=2804019,
        user_message="The parameter $['data'][3]['event_time'] is required.",
    )
    assert capi.refused_index(error) == 3
    assert capi.explain(error) == "invalid_event"
    assert (
        capi.refused_index(InvalidRequestError("Invalid parameter", code=100)) is None
    )
    assert capi.refused_index(ValueError("$['data'][1]")) is None


def test_meta_errors_are_explained():
    too_old = InvalidRequestError("Invalid parameter", code=100, subcode=2804003)
    assert capi.explain(too_old) == "event_too_old"
    assert capi.explain(RateLimitError("slow down", code=80004)) == "rate_limited"
    assert capi.explain(GraphError("boom", code=2)) == "other"
    assert capi.explain(ValueError("x")) == "other"


class _Client:
    def __init__(self, answer):
        self.answer = answer
        self.calls = []

    def post(self, path, data=None, json_body=None, *, idempotent=False):
        self.calls.append((path, data, idempotent))
        return self.answer


def test_send_events_posts_the_json_array_and_reads_the_count():
    client = _Client({"events_received": 2, "messages": [], "fbtrace_id": "T1"})
    result = capi.send_events(client, "1300000000001", [event(), event()], "TEST1")
    assert result.received == 2 and result.fbtrace_id == "T1"
    path, data, idempotent = client.calls[0]
    assert path == "1300000000001/events" and idempotent
    assert data["test_event_code"] == "TEST1"
    assert data["data"].startswith('[{"event_name":"Qualified"')
    assert capi.send_events(client, "1300000000001", []).received == 0
    assert len(client.calls) == 1  # nothing to send, nothing sent


def test_send_events_refuses_what_meta_would():
    with pytest.raises(ValueError, match="1000"):
        capi.send_events(_Client({}), "1300000000001", [event()] * 1001)
    with pytest.raises(ValueError):
        capi.send_events(_Client({}), "../me", [event()])
    with pytest.raises(GraphError, match="count"):
        capi.send_events(_Client({"ok": True}), "1300000000001", [event()])
    odd = capi.send_events(
        _Client({"events_received": "x", "messages": "y"}), "1300000000001", [event()]
    )
    assert odd.received == 0 and odd.messages == []


# --- against the simulator (real HTTP) -------------------------------------------


@pytest.fixture
def dataset(sim):
    business = sim.add_business("Ege Holding")
    account = sim.add_ad_account("Ege Reklam", business["id"])
    pixel = sim.add_dataset("Ege Pixel", ad_account_id=account["id"])
    token = sim.add_user_token(token_type="SYSTEM_USER", business_id=business["id"])
    client = GraphClient(
        token, app_secret=APP_SECRET, base_url=sim.base_url, max_retries=0
    )
    return client, pixel["id"]


def test_events_reach_the_dataset_hashed(sim, dataset):
    client, pixel = dataset
    now = int(sim.clock.now())
    events = [event(event_time=now - 5), event(event_name="Won", event_time=now - 5)]
    result = capi.send_events(client, pixel, events)
    assert result.received == 2
    kept = sim.dataset_events(pixel)
    assert [e["event_name"] for e in kept] == ["Qualified", "Won"]
    assert kept[0]["user_data"]["em"] == [sha("ayse.yilmaz@example.com")]
    # sent again (a retry): Meta keeps each once
    assert capi.send_events(client, pixel, events).received == 2
    assert len(sim.dataset_events(pixel)) == 2


def test_metas_refusal_names_the_event(sim, dataset):
    client, pixel = dataset
    now = int(sim.clock.now())
    bad = event(event_name="Late", event_time=now - 8 * 86400)
    with pytest.raises(InvalidRequestError) as caught:
        capi.send_events(client, pixel, [event(event_time=now), bad])
    assert capi.refused_index(caught.value) == 1
    assert capi.explain(caught.value) == "event_too_old"
    assert sim.dataset_events(pixel) == []


def test_metas_words_for_people_name_the_field(sim, dataset):
    from graph import errors

    client, pixel = dataset
    now = int(sim.clock.now())
    with pytest.raises(InvalidRequestError) as caught:
        capi.send_events(client, pixel, [event(event_time=now + 3600)])
    error = caught.value
    assert error.message == "Invalid parameter"
    words = errors.words(error)
    assert words.startswith("Server-side API parameter error: ")
    assert "$['data'][0]" in words and "in the future" in words
    assert errors.quoted(error) == f"“{words}”"
    # the queue's text of the failure carries them too
    assert str(error).startswith(words)
    # without words for people, Meta's message
    assert errors.words(GraphError("Invalid parameter.", code=100)) == (
        "Invalid parameter"
    )
    assert errors.words(ValueError("boom")) == "boom"
