"""/me/accounts, Page fields and subscribed_apps (docs/meta-facts.md §2.1, §3, §4.1)."""

from sim_helpers import Graph


def test_me_accounts_lists_pages_with_tokens_tasks_and_ig(world, user_graph):
    fields = "id,name,access_token,tasks,instagram_business_account"
    rows = user_graph.get("me/accounts", fields=fields).json()["data"]
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == world.page_id
    assert row["access_token"] == world.page_token
    assert "MESSAGING" in row["tasks"] and "MANAGE_LEADS" in row["tasks"]
    assert row["instagram_business_account"] == {"id": world.page["ig_account_id"]}


def test_me_accounts_default_fields(world, user_graph):
    row = user_graph.get("me/accounts").json()["data"][0]
    assert set(row) == {
        "access_token",
        "category",
        "category_list",
        "name",
        "id",
        "tasks",
    }


def test_me_accounts_cursor_paging_covers_every_page_once(simulator):
    pages = [simulator.add_page(f"Sayfa {n}")["id"] for n in range(5)]
    graph = Graph(simulator, simulator.add_user_token(pages=pages))
    seen, params, rounds = [], {"limit": 2}, 0
    while True:
        body = graph.get("me/accounts", **params).json()
        seen += [row["id"] for row in body["data"]]
        rounds += 1
        if "next" not in body.get("paging", {}):
            break
        params = {"limit": 2, "after": body["paging"]["cursors"]["after"]}
    assert seen == pages
    assert rounds == 3


def test_me_accounts_is_empty_without_pages_show_list(world):
    token = world.sim.add_user_token(scopes=["leads_retrieval"], pages=[world.page_id])
    answer = Graph(world.sim, token).get("me/accounts")
    assert answer.status_code == 200
    assert answer.json() == {"data": []}


def test_page_field_filtering(world, user_graph):
    plain = user_graph.get(world.page_id).json()
    assert plain == {"name": "Demo Mağaza", "id": world.page_id}
    only = user_graph.get(world.page_id, fields="category").json()
    assert only == {"category": "Shopping & Retail", "id": world.page_id}
    nested = user_graph.get(
        world.page_id, fields="id,name,instagram_business_account{id,username}"
    ).json()
    assert nested["instagram_business_account"] == {
        "id": world.page["ig_account_id"],
        "username": world.page["instagram_business_account"]["username"],
    }


def test_page_access_token_only_for_managers(world, user_graph):
    mine = user_graph.get(world.page_id, fields="access_token").json()
    assert mine["access_token"] == world.page_token
    app = Graph(world.sim, world.sim.store.app_token, proof=False)
    public = app.get(world.page_id, fields="name,access_token").json()
    assert "access_token" not in public and public["name"] == "Demo Mağaza"


def test_unknown_field_is_an_error(graph, world):
    error = graph.get(world.page_id, fields="id,colour").json()["error"]
    assert error["code"] == 100
    assert "nonexisting field (colour)" in error["message"]
    edge = graph.get(f"{world.page_id}/nothing_here").json()["error"]
    assert edge["code"] == 100


def test_me_with_page_token_is_the_page(graph, world):
    assert graph.get("me", fields="id,name").json() == {
        "id": world.page_id,
        "name": "Demo Mağaza",
    }


def test_subscribed_apps_lifecycle(graph, world):
    path = f"{world.page_id}/subscribed_apps"
    assert graph.get(path).json() == {"data": []}
    answer = graph.post(path, subscribed_fields="leadgen,feed,messages,message_echoes")
    assert answer.json() == {"success": True}
    rows = graph.get(path).json()["data"]
    assert rows[0]["id"] == world.sim.app_id
    assert rows[0]["subscribed_fields"] == [
        "leadgen",
        "feed",
        "messages",
        "message_echoes",
    ]
    assert world.sim.subscriptions(world.page_id) == rows[0]["subscribed_fields"]
    # A second POST replaces the list.
    graph.post(path, subscribed_fields="leadgen")
    assert world.sim.subscriptions(world.page_id) == ["leadgen"]
    assert graph.delete(path).json() == {"success": True}
    assert graph.get(path).json() == {"data": []}
    assert world.sim.subscriptions(world.page_id) == []


def test_subscribed_apps_rejects_unknown_fields(graph, world):
    answer = graph.post(
        f"{world.page_id}/subscribed_apps", subscribed_fields="leadgen,nope"
    )
    error = answer.json()["error"]
    assert error["code"] == 100 and 'got "nope"' in error["message"]
    assert world.sim.subscriptions(world.page_id) == []
    missing = graph.post(f"{world.page_id}/subscribed_apps").json()["error"]
    assert missing["code"] == 100


def test_subscribed_apps_needs_pages_manage_metadata(graph, world):
    world.sim.revoke_scope(world.user_token, "pages_manage_metadata")
    error = graph.post(
        f"{world.page_id}/subscribed_apps", subscribed_fields="feed"
    ).json()["error"]
    assert error["code"] == 200
    assert world.sim.subscriptions(world.page_id) == []


def test_leadgen_subscription_needs_leads_retrieval(graph, world):
    world.sim.revoke_scope(world.user_token, "leads_retrieval")
    path = f"{world.page_id}/subscribed_apps"
    error = graph.post(path, subscribed_fields="feed,leadgen").json()["error"]
    assert error["code"] == 200 and "leads_retrieval" in error["message"]
    assert graph.post(path, subscribed_fields="feed").json() == {"success": True}


def test_subscribed_apps_needs_a_page_token(user_graph, world):
    error = user_graph.post(
        f"{world.page_id}/subscribed_apps", subscribed_fields="feed"
    ).json()["error"]
    assert error["code"] == 210
