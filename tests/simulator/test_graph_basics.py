"""Versions, tokens, error shapes, determinism (docs/meta-facts.md §1.2, §2, §9.1)."""

import pytest
import requests
from sim_helpers import Graph, proof_for

from meta_simulator import VERSIONS, MetaSimulator


@pytest.mark.parametrize("version", VERSIONS)
def test_live_versions_are_served_as_requested(graph, version):
    answer = graph.__class__(graph.sim, graph.token, version=version).get("me")
    assert answer.status_code == 200
    assert answer.headers["facebook-api-version"] == version


@pytest.mark.parametrize("version", ["v20.0", "v2.12", None])
def test_expired_and_unversioned_calls_use_the_oldest_live_version(graph, version):
    answer = Graph(graph.sim, graph.token, version=version).get("me")
    assert answer.status_code == 200, answer.text
    assert answer.headers["facebook-api-version"] == "v21.0"
    assert answer.json()["id"] == graph.sim.store.tokens[graph.token].page_id


def test_unknown_future_version_is_an_unknown_path(graph):
    answer = Graph(graph.sim, graph.token, version="v99.0").get("me")
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == 2500


def test_missing_token_codes(world):
    anonymous = Graph(world.sim, None)
    me = anonymous.get("me").json()["error"]
    assert me["code"] == 2500
    assert me["message"].startswith("An active access token must be used")
    page = anonymous.get(world.page_id).json()["error"]
    assert page["code"] == 104


def test_error_body_has_metas_shape(world):
    answer = Graph(world.sim, "not-a-token").get("me")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "code", "is_transient", "fbtrace_id"}
    assert error["code"] == 190 and error["type"] == "OAuthException"
    assert error["is_transient"] is False
    assert error["fbtrace_id"].startswith("A")
    assert answer.headers["WWW-Authenticate"].startswith('OAuth "Facebook Platform"')
    assert answer.headers["x-fb-trace-id"] == error["fbtrace_id"]


@pytest.mark.parametrize("subcode", [460, 467, 458])
def test_invalidated_user_token_kills_derived_page_tokens(world, subcode):
    second_user = world.sim.add_user_token(pages=[world.page_id])
    second_page_token = world.sim.page_token(second_user, world.page_id)
    world.sim.invalidate_token(world.user_token, subcode=subcode)
    for token in (world.user_token, world.page_token):
        error = Graph(world.sim, token).get("me").json()["error"]
        assert (error["code"], error["error_subcode"]) == (190, subcode)
    # Another manager's page token does not derive from that user: still fine.
    assert second_page_token != world.page_token
    assert Graph(world.sim, second_page_token).get("me").status_code == 200


def test_page_token_of_add_page_belongs_to_the_first_manager(simulator):
    page = simulator.add_page("Sayfa")
    alone = simulator.token_info(page["access_token"])
    assert alone.parent is None and "leads_retrieval" in alone.scopes
    first = simulator.add_user_token(scopes=["pages_show_list"], pages=[page["id"]])
    second = simulator.add_user_token(pages=[page["id"]])
    assert simulator.page_token(first, page["id"]) == page["access_token"]
    assert simulator.page_token(second, page["id"]) != page["access_token"]
    assert simulator.store.scopes_of(simulator.token_info(page["access_token"])) == [
        "pages_show_list"
    ]


def test_expired_token_answers_463(world, clock):
    token = world.sim.add_user_token(pages=[world.page_id], expires_at=clock.now() + 60)
    assert Graph(world.sim, token).get("me").status_code == 200
    clock.advance(61)
    error = Graph(world.sim, token).get("me").json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 463)


def test_bearer_header_is_accepted(world):
    token = world.page_token
    answer = requests.get(
        f"{world.sim.base_url}/v26.0/me",
        params={"appsecret_proof": proof_for(world.sim.app_secret, token)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 200
    assert answer.json()["id"] == world.page_id
    assert world.sim.requests[-1].token == token


def test_unknown_objects_and_aliases(graph):
    error = graph.get("123456789012345").json()["error"]
    assert (error["code"], error["error_subcode"]) == (100, 33)
    assert (
        "does not exist, cannot be loaded due to missing permissions"
        in (error["message"])
    )
    assert error["type"] == "GraphMethodException"
    assert graph.get("no_such_alias").json()["error"]["code"] == 803


def test_other_pages_are_invisible_to_a_page_token(world, graph):
    other = world.sim.add_page("Başka Sayfa")
    error = graph.get(other["id"]).json()["error"]
    assert (error["code"], error["error_subcode"]) == (100, 33)


def test_responses_escape_non_ascii_and_slashes(graph, world):
    answer = graph.get(world.page_id, fields="name,link")
    assert "Ma\\u011faza" in answer.text
    assert "https:\\/\\/www.facebook.com\\/" in answer.text
    assert answer.json()["name"] == "Demo Mağaza"


def test_same_seed_same_ids_and_tokens():
    def build(seed):
        sim = MetaSimulator(seed=seed)
        page = sim.add_page("Sayfa", ig_account_id=True)
        token = sim.add_user_token(pages=[page["id"]])
        form = sim.add_form(page["id"])
        leads = sim.add_leads(form["id"], 5, start=0, end=1000)
        return (
            page["id"],
            page["ig_account_id"],
            token,
            form["id"],
            [(lead["id"], lead["field_data"]) for lead in leads],
        )

    assert build(0) == build(0)
    assert build(0) != build(1)
    lead_id = build(0)[4][0][0]
    assert len(lead_id) == 15 and lead_id.isdigit()


def test_routes_plug_in_and_simulator_bugs_answer_code_1(graph, world):
    from meta_simulator.graph import ROUTES
    from meta_simulator.store import PAGE_NODE

    @ROUTES.node("GET", PAGE_NODE, "sim_probe")
    def probe(call):
        if call.param("boom"):
            raise RuntimeError("simulated bug")
        return {"data": [{"id": call.node.id}]}

    try:
        body = graph.get(f"{world.page_id}/sim_probe").json()
        assert body == {"data": [{"id": world.page_id}]}
        broken = graph.get(f"{world.page_id}/sim_probe", boom="1")
        assert broken.status_code == 500
        assert broken.json()["error"]["code"] == 1
    finally:
        del ROUTES.node_routes[("GET", PAGE_NODE, "sim_probe")]
    assert graph.get(f"{world.page_id}/sim_probe").json()["error"]["code"] == 100
