"""Conversions API for CRM: a dataset's ``/events`` over real HTTP, with
Meta's checks, its 7-day window and its deduplication (docs/meta-facts.md §8)."""

import hashlib
import json

import pytest

DAY = 86400


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def lead_event(now, name="Qualified", lead_id=900000000000001, **changes):
    event = {
        "event_name": name,
        "event_time": int(now) - 60,
        "action_source": "system_generated",
        "event_id": f"{lead_id}-{name}",
        "user_data": {"lead_id": lead_id, "em": [sha("ayse@example.com")]},
        "custom_data": {"event_source": "crm", "lead_event_source": "Odoo"},
    }
    event.update(changes)
    return event


@pytest.fixture
def pixel(simulator, user_graph):
    business = simulator.add_business("Ege Holding")
    account = simulator.add_ad_account("Ege Reklam", business["id"])
    dataset = simulator.add_dataset("Ege Pixel", ad_account_id=account["id"])
    token = simulator.add_user_token(
        token_type="SYSTEM_USER", business_id=business["id"]
    )
    graph = user_graph.as_token(token)

    def send(events, **params):
        return graph.post(f"{dataset['id']}/events", data=json.dumps(events), **params)

    return type(
        "Pixel",
        (),
        {
            "sim": simulator,
            "graph": graph,
            "id": dataset["id"],
            "send": staticmethod(send),
            "now": staticmethod(lambda: simulator.clock.now()),
        },
    )


def refused(answer):
    assert answer.status_code == 400, answer.text
    return answer.json()["error"]


def test_a_crm_batch_is_received_and_kept(pixel):
    now = pixel.now()
    events = [lead_event(now, "New"), lead_event(now, "Qualified")]
    answer = pixel.send(events)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["events_received"] == 2 and body["messages"] == []
    assert body["fbtrace_id"]
    assert pixel.sim.dataset_events(pixel.id) == events


@pytest.mark.parametrize(
    ("change", "subcode", "where"),
    [
        ({"event_name": ""}, 2804019, "['event_name'] is required"),
        ({"event_time": None}, 2804019, "['event_time'] is required"),
        ({"action_source": None}, 2804019, "['action_source'] is required"),
        ({"action_source": "crm"}, 2804050, "['action_source'] must be one of"),
        ({"user_data": {}}, 2804019, "['user_data'] must contain"),
        ({"user_data": {"lead_id": 12345}}, 2804050, "['lead_id'] must be a valid"),
        (
            {"user_data": {"em": ["ayse@example.com"]}},
            2804050,
            "['em'] must be hashed",
        ),
        (
            {"custom_data": {"event_source": "crm"}},
            2804019,
            "['lead_event_source'] is required",
        ),
    ],
)
def test_one_bad_event_refuses_the_whole_request(pixel, change, subcode, where):
    now = pixel.now()
    bad = lead_event(now, "Bad")
    bad.update(change)
    error = refused(pixel.send([lead_event(now, "New"), bad, lead_event(now, "Won")]))
    assert error["code"] == 100 and error["error_subcode"] == subcode
    assert error["error_user_title"] == "Server-side API parameter error"
    assert "$['data'][1]" in error["error_user_msg"]
    assert where in error["error_user_msg"]
    assert pixel.sim.dataset_events(pixel.id) == []


def test_the_7_day_window_follows_metas_clock(pixel):
    now = pixel.now()
    inside = lead_event(now, "New", event_time=int(now) - 7 * DAY + 30)
    assert pixel.send([inside]).status_code == 200
    pixel.sim.clock.advance(60)
    error = refused(
        pixel.send([lead_event(now, "Won", event_time=inside["event_time"])])
    )
    assert error["error_subcode"] == 2804003
    assert "$['data'][0]" in error["error_user_msg"]


def test_future_and_millisecond_times_are_refused(pixel):
    now = pixel.now()
    error = refused(pixel.send([lead_event(now, event_time=int(now) + 3600)]))
    assert error["error_subcode"] == 2804004
    error = refused(pixel.send([lead_event(now, event_time=int(now) * 1000)]))
    assert "not ms" in error["error_user_msg"]
    assert refused(pixel.send([lead_event(now, event_time=True)]))["code"] == 100


def test_the_same_event_is_kept_once_within_48_hours(pixel):
    now = pixel.now()
    assert pixel.send([lead_event(now)]).json()["events_received"] == 1
    assert pixel.send([lead_event(now)]).json()["events_received"] == 1
    assert len(pixel.sim.dataset_events(pixel.id)) == 1
    pixel.sim.clock.advance(2 * DAY + 1)
    later = pixel.now()
    assert pixel.send([lead_event(later)]).status_code == 200
    assert len(pixel.sim.dataset_events(pixel.id)) == 2


def test_test_events_stay_in_the_test_tab(pixel):
    now = pixel.now()
    assert pixel.send([lead_event(now)], test_event_code="TEST123").status_code == 200
    assert pixel.sim.dataset_events(pixel.id) == []
    assert len(pixel.sim.dataset_events(pixel.id, test=True)) == 1


def test_request_shape_errors(pixel):
    now = pixel.now()
    assert refused(pixel.send([]))["error_subcode"] == 2804019
    answer = pixel.graph.post(f"{pixel.id}/events", data=json.dumps({"a": 1}))
    assert refused(answer)["code"] == 100
    too_many = [lead_event(now, f"S{i}") for i in range(1001)]
    assert "at most 1000" in refused(pixel.send(too_many))["message"]
    assert refused(pixel.send(["junk"]))["code"] == 100


def test_the_token_needs_ads_management_and_the_dataset(pixel, simulator, user_graph):
    now = pixel.now()
    reader = simulator.add_user_token(scopes=["pages_show_list"])
    answer = user_graph.as_token(reader).post(
        f"{pixel.id}/events", data=json.dumps([lead_event(now)])
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] in (10, 100, 200)
    answer = pixel.graph.post("1399999999999999/events", data="[]")
    assert refused(answer)["code"] == 100
