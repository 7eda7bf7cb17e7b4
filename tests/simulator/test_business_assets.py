"""Business assets: businesses, ad accounts and datasets a token reaches."""

import pytest


@pytest.fixture
def assets(simulator):
    business = simulator.add_business("Ege Holding")
    partner = simulator.add_business("Ajans")
    page = simulator.add_page("Ege Zeytin", ig_account_id=True)
    owned = simulator.add_ad_account("Ege Reklam", business["id"])
    client = simulator.add_ad_account(
        "Müşteri Hesabı", partner["id"], client_business_ids=[business["id"]]
    )
    granted = simulator.add_ad_account("Tek Hesap")
    dataset = simulator.add_dataset("Ege Pixel", business["id"])
    account_dataset = simulator.add_dataset("Hesap Pixel", ad_account_id=granted["id"])
    token = simulator.add_user_token(
        pages=[page["id"]],
        ad_accounts=[granted["id"]],
        business_id=business["id"],
        token_type="SYSTEM_USER",
    )
    return {
        "business": business,
        "owned": owned,
        "client": client,
        "granted": granted,
        "dataset": dataset,
        "account_dataset": account_dataset,
        "token": token,
    }


@pytest.fixture
def system(user_graph, assets):
    return user_graph.as_token(assets["token"])


def _ids(answer):
    assert answer.status_code == 200, answer.text
    return [row["id"] for row in answer.json()["data"]]


def test_ad_account_ids_are_act_prefixed(assets):
    assert assets["owned"]["id"] == f"act_{assets['owned']['account_id']}"


def test_me_businesses_and_adaccounts(system, assets):
    assert _ids(system.get("me/businesses")) == [assets["business"]["id"]]
    answer = system.get(
        "me/adaccounts",
        fields="id,account_id,name,currency,account_status,business{id}",
    )
    (row,) = answer.json()["data"]
    assert row["id"] == assets["granted"]["id"]
    assert row["currency"] == "TRY" and row["account_status"] == 1
    assert "business" not in row  # not owned by a business


def test_business_edges(system, assets):
    business = assets["business"]["id"]
    assert _ids(system.get(f"{business}/owned_ad_accounts")) == [assets["owned"]["id"]]
    assert _ids(system.get(f"{business}/client_ad_accounts")) == [
        assets["client"]["id"]
    ]
    assert _ids(system.get(f"{business}/owned_pixels")) == [assets["dataset"]["id"]]
    pixels = system.get(f"{assets['granted']['id']}/adspixels", fields="id,name")
    assert pixels.json()["data"] == [
        {"id": assets["account_dataset"]["id"], "name": "Hesap Pixel"}
    ]


def test_nodes_honour_fields(system, assets):
    answer = system.get(assets["owned"]["id"], fields="name,currency")
    assert answer.json() == {
        "name": "Ege Reklam",
        "currency": "TRY",
        "id": assets["owned"]["id"],
    }
    assert system.get(assets["dataset"]["id"]).json() == {"id": assets["dataset"]["id"]}


def test_scopes_are_required(simulator, user_graph, assets):
    token = simulator.add_user_token(
        scopes=["pages_show_list"], business_id=assets["business"]["id"]
    )
    graph = user_graph.as_token(token)
    for path in (
        "me/businesses",
        "me/adaccounts",
        f"{assets['business']['id']}/owned_ad_accounts",
    ):
        answer = graph.get(path)
        assert answer.status_code in (400, 403)
        assert answer.json()["error"]["code"] == 200


def test_unreachable_assets_do_not_exist(simulator, user_graph, assets):
    stranger = user_graph.as_token(simulator.add_user_token())
    for object_id in (
        assets["owned"]["id"],
        assets["business"]["id"],
        assets["dataset"]["id"],
    ):
        error = stranger.get(object_id).json()["error"]
        assert (error["code"], error.get("error_subcode")) == (100, 33)


def test_paging_of_ad_accounts(simulator, user_graph):
    accounts = [simulator.add_ad_account(f"Hesap {i}") for i in range(5)]
    token = simulator.add_user_token(ad_accounts=[a["id"] for a in accounts])
    graph = user_graph.as_token(token)
    first = graph.get("me/adaccounts", limit=2).json()
    after = first["paging"]["cursors"]["after"]
    second = graph.get("me/adaccounts", limit=2, after=after).json()
    seen = [r["id"] for r in first["data"] + second["data"]]
    assert seen == [a["id"] for a in accounts[:4]]
