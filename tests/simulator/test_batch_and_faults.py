"""Batch requests, usage headers, throttling, transient errors and hangs
(docs/meta-facts.md §9.1-§9.3)."""

import json

import pytest
import requests
from sim_helpers import Graph

from meta_simulator import MetaSimulator


def _batch(graph, items, **extra):
    return graph.post("", batch=json.dumps(items), **extra)


def test_batch_runs_items_and_returns_string_bodies(world, graph):
    lead = world.sim.add_lead(world.form_id)
    items = [
        {"method": "GET", "relative_url": f"v26.0/{lead['id']}?fields=field_data"},
        {"method": "GET", "relative_url": f"{world.page_id}?fields=name"},
        {"method": "GET", "relative_url": "v26.0/999999999999999"},
    ]
    answer = _batch(graph, items)
    assert answer.status_code == 200
    results = answer.json()
    assert [r["code"] for r in results] == [200, 200, 400]
    assert all(isinstance(r["body"], str) for r in results)
    first = json.loads(results[0]["body"])
    assert first["id"] == lead["id"] and "field_data" in first
    assert json.loads(results[1]["body"]) == {
        "name": "Demo Mağaza",
        "id": world.page_id,
    }
    assert json.loads(results[2]["body"])["error"]["error_subcode"] == 33
    names = {h["name"] for h in results[0]["headers"]}
    assert "Content-Type" in names
    batch_items = [r for r in world.sim.requests if r.in_batch]
    assert len(batch_items) == 3


def test_batch_without_headers_and_post_items(world, graph):
    items = [
        {
            "method": "POST",
            "relative_url": f"{world.page_id}/subscribed_apps",
            "body": "subscribed_fields=leadgen,feed",
        }
    ]
    results = _batch(graph, items, include_headers="false").json()
    assert results == [{"code": 200, "body": '{"success":true}'}]
    assert world.sim.subscriptions(world.page_id) == ["leadgen", "feed"]


def test_batch_limit_is_50(world, graph):
    item = {"method": "GET", "relative_url": f"{world.page_id}?fields=id"}
    assert len(_batch(graph, [item] * 50).json()) == 50
    error = _batch(graph, [item] * 51).json()["error"]
    assert error["code"] == 100 and "Maximum batch size is 50" in error["message"]


def test_batch_needs_a_valid_proof_on_the_outer_call(world):
    graph = Graph(world.sim, world.page_token, proof=False)
    item = {"method": "GET", "relative_url": f"{world.page_id}"}
    error = _batch(graph, [item]).json()["error"]
    assert error["code"] == 100


def test_usage_headers_grow_with_calls(world, graph):
    world.sim.app_call_budget = 20
    world.sim.buc_call_budget = 10
    answers = [graph.get(f"{world.form_id}/leads") for _ in range(3)]
    usage = [json.loads(a.headers["X-App-Usage"])["call_count"] for a in answers]
    assert usage == [5, 10, 15]
    buc = json.loads(answers[-1].headers["X-Business-Use-Case-Usage"])
    row = buc[world.page_id][0]
    assert row["type"] == "leadgen" and row["call_count"] == 30
    assert row["estimated_time_to_regain_access"] == 0
    page_answer = graph.get(world.page_id)
    types = {
        r["type"]
        for r in json.loads(page_answer.headers["X-Business-Use-Case-Usage"])[
            world.page_id
        ]
    }
    assert types == {"leadgen", "pages"}


def test_usage_window_slides_with_the_clock(world, graph, clock):
    world.sim.app_call_budget = 10
    graph.get("me")
    clock.advance(3601)
    answer = graph.get("me")
    assert json.loads(answer.headers["X-App-Usage"])["call_count"] == 10


def test_a_scripted_fault_fails_the_batch_item_it_names_alone(world, graph):
    first, second = (world.sim.add_lead(world.form_id) for _ in range(2))
    world.sim.faults.fail_calls(second["id"], kind="permission")
    world.sim.faults.fail_calls(first["id"], kind="hang")
    items = [
        {"method": "GET", "relative_url": f"v26.0/{lead['id']}?fields=field_data"}
        for lead in (first, second)
    ]
    answer = _batch(graph, items, include_headers="false")
    assert answer.status_code == 200  # a hang is of an exchange, not an item
    results = answer.json()
    assert [r["code"] for r in results] == [200, 400]
    assert json.loads(results[1]["body"])["error"]["code"] == 200
    # spent: the same item asked again is answered
    again = _batch(graph, items[1:], include_headers="false").json()
    assert again[0]["code"] == 200


def test_batch_items_count_as_calls(world, graph):
    world.sim.app_call_budget = 100
    item = {"method": "GET", "relative_url": f"{world.page_id}?fields=id"}
    answer = _batch(graph, [item] * 10)
    assert json.loads(answer.headers["X-App-Usage"])["call_count"] == 10


@pytest.mark.parametrize(("code", "bucket"), [(80005, "leadgen"), (32, "pages")])
def test_throttle_answers_code_with_full_usage_and_regain(world, graph, code, bucket):
    world.sim.faults.throttle(code=code, calls=2, regain_minutes=7)
    for _ in range(2):
        answer = graph.get(f"{world.form_id}/leads")
        assert answer.status_code == 400
        error = answer.json()["error"]
        assert error["code"] == code and error["is_transient"] is True
        app = json.loads(answer.headers["X-App-Usage"])
        assert app == {"call_count": 100, "total_cputime": 100, "total_time": 100}
        rows = json.loads(answer.headers["X-Business-Use-Case-Usage"])[world.page_id]
        hit = [r for r in rows if r["type"] == bucket][0]
        assert hit["call_count"] == 100
        assert hit["estimated_time_to_regain_access"] == 7
    assert graph.get(f"{world.form_id}/leads").status_code == 200


def test_timed_throttle_lasts_until_regain(world, graph, clock):
    world.sim.faults.throttle(code=4, calls=None, regain_minutes=10)
    first = graph.get("me")
    assert first.json()["error"]["code"] == 4
    rows = json.loads(first.headers["X-Business-Use-Case-Usage"])
    assert list(rows.values())[0][0]["estimated_time_to_regain_access"] == 10
    clock.advance(5 * 60)
    later = graph.get("me")
    later_rows = json.loads(later.headers["X-Business-Use-Case-Usage"])
    assert list(later_rows.values())[0][0]["estimated_time_to_regain_access"] == 5
    clock.advance(5 * 60)
    assert graph.get("me").status_code == 200


def test_throttle_limited_to_one_page(world, graph):
    other = world.sim.add_page("Diğer")
    world.sim.faults.throttle(code=32, calls=1, page_id=other["id"])
    assert graph.get(world.page_id).status_code == 200
    assert world.sim.faults.throttles  # still waiting for a call on `other`


def _statuses(seed, n=60):
    with MetaSimulator(seed=seed, require_appsecret_proof=False) as sim:
        token = sim.add_page("Sayfa")["access_token"]
        sim.faults.error_rate = 0.3
        graph = Graph(sim, token, proof=False)
        answers = [graph.get("me") for _ in range(n)]
    return [(a.status_code, a.json().get("error", {}).get("code")) for a in answers]


def test_error_rate_is_seeded_and_transient():
    run = _statuses(0)
    assert run == _statuses(0)
    failures = [code for status, code in run if status == 500]
    assert 8 <= len(failures) <= 30
    assert set(failures) <= {1, 2}
    assert all(status in (200, 500) for status, _ in run)
    assert run != _statuses(7)


def test_transient_error_body(world, graph):
    world.sim.faults.error_rate = 1.0
    answer = graph.get("me")
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error["is_transient"] is True and error["code"] in (1, 2)
    world.sim.faults.reset()
    assert graph.get("me").status_code == 200


def test_hang_fault_trips_client_read_timeouts(world, graph):
    world.sim.faults.hang_rate = 1.0
    world.sim.faults.hang_seconds = 2.0
    with pytest.raises(requests.exceptions.ReadTimeout):
        graph.get("me", timeout=0.3)
    world.sim.faults.hang_rate = 0.0
    assert graph.get("me").status_code == 200


def test_requests_are_recorded(world, graph):
    world.sim.clear_requests()
    graph.get(world.page_id, fields="name")
    graph.get("nope_alias")
    first, second = world.sim.requests
    assert first.method == "GET" and first.path == f"/v26.0/{world.page_id}"
    assert first.version == "v26.0" and first.query["fields"] == "name"
    assert first.token == world.page_token and first.status == 200
    assert second.status == 400 and second.error_code == 803
    world.sim.clear_requests()
    assert world.sim.requests == []


def test_enforced_budget_throttles_until_calls_leave_the_window(world, graph, clock):
    world.sim.enforce_usage_limits = True
    world.sim.buc_call_budget = 3
    path = f"{world.form_id}/leads"
    assert [graph.get(path).status_code for _ in range(3)] == [200, 200, 200]
    refused = graph.get(path)
    assert refused.json()["error"]["code"] == 80005
    rows = json.loads(refused.headers["X-Business-Use-Case-Usage"])[world.page_id]
    leadgen = [r for r in rows if r["type"] == "leadgen"][0]
    assert leadgen["call_count"] == 100
    assert leadgen["estimated_time_to_regain_access"] == 60
    clock.advance(1800)
    assert graph.get(path).json()["error"]["code"] == 80005  # refused calls count
    clock.advance(1801)
    assert graph.get(path).status_code == 200


# --- scripted faults: one named call fails, the others pass ---------------------


def _leads_pages(world, graph):
    world.sim.add_leads(world.form_id, 5)
    return graph.get(f"{world.form_id}/leads", limit=2)


@pytest.mark.parametrize(
    ("kind", "options", "status", "code"),
    [
        ("transient", {}, 500, 2),
        ("throttle", {"code": 80005, "regain_minutes": 3}, 400, 80005),
        ("token", {"subcode": 463}, 400, 190),
        ("not_found", {}, 400, 100),
        ("permission", {}, 400, 200),
        ("app", {}, 400, 3),
    ],
)
def test_scripted_fault_fails_the_named_page_only(
    world, graph, kind, options, status, code
):
    first = _leads_pages(world, graph)
    after = first.json()["paging"]["cursors"]["after"]
    world.sim.faults.fail_calls("/leads", kind=kind, skip=1, **options)
    second = graph.get(f"{world.form_id}/leads", limit=2)
    assert second.status_code == 200  # skip=1: this one passes
    third = graph.get(f"{world.form_id}/leads", limit=2, after=after)
    assert third.status_code == status
    assert third.json()["error"]["code"] == code
    if kind == "throttle":
        rows = json.loads(third.headers["X-Business-Use-Case-Usage"])[world.page_id]
        assert rows[0]["type"] == "leadgen"
        assert rows[0]["estimated_time_to_regain_access"] == 3
    # spent: the same call passes again, and other paths were never touched
    assert graph.get(f"{world.form_id}/leads", limit=2, after=after).status_code == 200
    assert world.sim.faults.scripted == []


def test_scripted_fault_counts_only_matching_calls(world, graph):
    world.sim.faults.fail_calls("/leads", times=2)
    assert graph.get("me").status_code == 200
    assert graph.get(f"{world.form_id}/leads").status_code == 500
    assert graph.get(world.page_id).status_code == 200
    assert graph.get(f"{world.form_id}/leads").status_code == 500
    assert graph.get(f"{world.form_id}/leads").status_code == 200


def test_scripted_hang_trips_the_read_timeout_once(world, graph):
    world.sim.faults.hang_seconds = 2.0
    world.sim.faults.fail_calls("/leads", kind="hang")
    with pytest.raises(requests.exceptions.ReadTimeout):
        graph.get(f"{world.form_id}/leads", timeout=0.3)
    assert graph.get(f"{world.form_id}/leads").status_code == 200


def test_scripted_faults_over_the_control_api(world, graph):
    answer = requests.post(
        f"{world.sim.base_url}/_sim/faults",
        json={"fail_calls": {"path": "/leads", "kind": "throttle", "code": 32}},
        timeout=5,
    )
    assert answer.json()["scripted"][0]["kind"] == "throttle"
    assert graph.get(f"{world.form_id}/leads").json()["error"]["code"] == 32


def test_unknown_scripted_kind_is_refused(world):
    with pytest.raises(ValueError):
        world.sim.faults.fail_calls("/leads", kind="explode")
