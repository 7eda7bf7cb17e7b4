"""appsecret_proof, debug_token and the long-lived token exchange (§2)."""

import pytest
import requests
from sim_helpers import START, Graph, proof_for

from meta_simulator import FakeClock, MetaSimulator

CLASSIC = "ebc1b8c0a6dcee2ee0b03ff5830bbbffa064cc145ec3cfcc3222721ac3a18d47"
TIMED = "c0c9c0793c0979d46fadf7031efc21a0ddb7ba2ba751a4698d8e5872a77ff62f"


@pytest.fixture
def vector_sim():
    """The docs/meta-facts.md §2.3 test-vector setup: secret test_app_secret,
    token EAAtoken123, time 1790000000."""
    with MetaSimulator(app_secret="test_app_secret", clock=FakeClock(START)) as sim:
        page = sim.add_page("Vektör")
        sim.add_user_token(pages=[page["id"]], access_token="EAAtoken123")
        yield sim


def _me(sim, **params):
    return requests.get(
        f"{sim.base_url}/v26.0/me",
        params={"access_token": "EAAtoken123", **params},
        timeout=5,
    )


def test_proof_test_vectors_are_accepted(vector_sim):
    assert proof_for("test_app_secret", "EAAtoken123") == CLASSIC
    assert proof_for("test_app_secret", "EAAtoken123", START) == TIMED
    assert _me(vector_sim, appsecret_proof=CLASSIC).status_code == 200
    timed = _me(vector_sim, appsecret_proof=TIMED, appsecret_time=str(START))
    assert timed.status_code == 200


def test_missing_and_wrong_proofs_are_refused(vector_sim):
    missing = _me(vector_sim).json()["error"]
    assert missing["code"] == 100
    assert missing["message"] == (
        "API calls from the server require an appsecret_proof argument"
    )
    wrong = _me(vector_sim, appsecret_proof=CLASSIC.upper()).json()["error"]
    assert wrong["code"] == 100 and wrong["type"] == "GraphMethodException"
    assert wrong["message"] == "Invalid appsecret_proof provided in the API argument"
    # A classic proof sent with appsecret_time is checked as a timed one.
    mixed = _me(vector_sim, appsecret_proof=CLASSIC, appsecret_time=str(START))
    assert mixed.json()["error"]["code"] == 100


def test_timed_proof_expires_after_five_minutes(vector_sim):
    vector_sim.clock.advance(299)
    assert _me(vector_sim, appsecret_proof=TIMED, appsecret_time=START).ok
    vector_sim.clock.advance(2)
    late = _me(vector_sim, appsecret_proof=TIMED, appsecret_time=START)
    assert late.json()["error"]["code"] == 100


def test_proof_optional_when_not_required_but_checked_when_present():
    with MetaSimulator(require_appsecret_proof=False) as sim:
        page = sim.add_page("Sayfa")
        graph = Graph(sim, page["access_token"], proof=False)
        assert graph.get("me").status_code == 200
        bad = graph.get("me", appsecret_proof="00" * 32)
        assert bad.json()["error"]["code"] == 100


def test_app_token_needs_no_proof(world):
    app = Graph(world.sim, world.sim.store.app_token, proof=False)
    answer = app.get("debug_token", input_token=world.page_token)
    assert answer.status_code == 200


def test_debug_token_describes_a_page_token(world):
    app = Graph(world.sim, f"{world.sim.app_id}|{world.sim.app_secret}", proof=False)
    data = app.get("debug_token", input_token=world.page_token).json()["data"]
    assert data["type"] == "PAGE"
    assert data["is_valid"] is True
    assert data["profile_id"] == world.page_id
    assert data["app_id"] == world.sim.app_id
    assert data["expires_at"] == 0
    assert data["issued_at"] == START
    assert data["data_access_expires_at"] == START + 90 * 86400
    assert "leads_retrieval" in data["scopes"]
    granular = {row["scope"]: row for row in data["granular_scopes"]}
    assert granular["pages_messaging"]["target_ids"] == [world.page_id]
    assert "target_ids" not in granular["ads_management"]


def test_debug_token_reports_dead_tokens_inside_data(world):
    world.sim.invalidate_token(world.user_token, 460)
    app = Graph(world.sim, world.sim.store.app_token, proof=False)
    answer = app.get("debug_token", input_token=world.page_token)
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert data["is_valid"] is False
    assert data["error"]["code"] == 190 and data["error"]["subcode"] == 460
    garbage = app.get("debug_token", input_token="EAAnothing").json()["data"]
    assert garbage["is_valid"] is False and garbage["error"]["code"] == 190


def test_debug_token_with_a_wrong_app_secret_is_190(world):
    wrong = Graph(world.sim, f"{world.sim.app_id}|nope", proof=False)
    error = wrong.get("debug_token", input_token=world.page_token).json()["error"]
    assert error["code"] == 190


def test_long_lived_exchange(world, clock):
    short = world.sim.add_user_token(
        pages=[world.page_id], expires_at=clock.now() + 3600
    )
    answer = requests.get(
        f"{world.sim.base_url}/v26.0/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": world.sim.app_id,
            "client_secret": world.sim.app_secret,
            "fb_exchange_token": short,
        },
        timeout=5,
    ).json()
    assert answer["token_type"] == "bearer"
    assert answer["expires_in"] == 5183944
    long_lived = answer["access_token"]
    assert long_lived != short
    clock.advance(7200)  # the short token is dead now, the new one is not
    assert Graph(world.sim, short).get("me").json()["error"]["error_subcode"] == 463
    accounts = Graph(world.sim, long_lived).get("me/accounts").json()["data"]
    assert [row["id"] for row in accounts] == [world.page_id]


def test_exchange_with_a_wrong_secret_fails(world):
    answer = requests.get(
        f"{world.sim.base_url}/v26.0/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": world.sim.app_id,
            "client_secret": "wrong",
            "fb_exchange_token": world.user_token,
        },
        timeout=5,
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "OAuthException"
