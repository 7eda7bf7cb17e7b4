"""The version lifecycle over real HTTP: the calendar on the simulator's
clock, Graph fall-back, Marketing API auto-upgrade or 2635, versions that
remove fields, deprecation headers (docs/meta-facts.md §1.2)."""

import datetime as dt
import hashlib
import json

import pytest
from sim_helpers import Graph

from meta_simulator import VERSIONS

WARNING = "X-Ad-Api-Version-Warning"
DAY = 86400


def at(day: str) -> float:
    """00:00 UTC of an ISO day, as a Unix time."""
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp()


def ok(answer):
    assert answer.status_code == 200, answer.text
    return answer.json()


def error_of(answer):
    assert answer.status_code == 400, answer.text
    return answer.json()["error"]


@pytest.fixture
def ads(simulator, user_graph):
    """An ad account with a dataset, and a System User token of its business."""
    business = simulator.add_business("Ege Holding")
    account = simulator.add_ad_account(
        "Ege Reklam", business["id"], custom_audience_tos=True
    )
    dataset = simulator.add_dataset("Ege Pixel", ad_account_id=account["id"])
    token = simulator.add_user_token(
        token_type="SYSTEM_USER", business_id=business["id"]
    )

    def graph(version):
        return Graph(simulator, token, version=version)

    return type(
        "Ads",
        (),
        {
            "sim": simulator,
            "graph": staticmethod(graph),
            "account": account["id"],
            "dataset": dataset["id"],
        },
    )


def crm_event(now) -> str:
    email = hashlib.sha256(b"ayse@example.com").hexdigest()
    event = {
        "event_name": "Qualified",
        "event_time": int(now) - 60,
        "action_source": "system_generated",
        "event_id": "900000000000001-Qualified",
        "user_data": {"lead_id": 900000000000001, "em": [email]},
        "custom_data": {"event_source": "crm", "lead_event_source": "Odoo"},
    }
    return json.dumps([event])


# --- the calendar ---------------------------------------------------------------


def test_calendar_is_seeded_from_metas_version_pages(simulator):
    calendar = {v["version"]: v for v in simulator.versions}
    assert list(calendar) == list(VERSIONS)
    assert calendar["v27.0"]["released"] == "2026-11-04"
    assert calendar["v27.0"]["graph_expires"] is None
    assert calendar["v27.0"]["marketing_expires"] is None
    assert calendar["v21.0"]["graph_expires"] == "2027-01-21"
    assert calendar["v24.0"]["marketing_expires"] == "2026-11-10"
    assert calendar["v25.0"]["graph_expires"] == "2028-07-29"
    assert calendar["v25.0"]["marketing_expires"] == "2027-02-23"
    # The test clock starts on 2026-09-21: every Graph version is live, the
    # Marketing API has retired v21.0-v23.0 already.
    assert all(v["graph_live"] for v in calendar.values())
    assert [v for v, info in calendar.items() if not info["marketing_live"]] == [
        "v21.0",
        "v22.0",
        "v23.0",
    ]


def test_graph_expiry_follows_the_clock(world, clock):
    graph = Graph(world.sim, world.page_token, version="v21.0")
    clock.set(at("2027-01-21") - 1)
    assert graph.get("me").headers["facebook-api-version"] == "v21.0"
    clock.set(at("2027-01-21"))
    answer = graph.get("me")
    assert ok(answer)["id"] == world.page_id
    assert answer.headers["facebook-api-version"] == "v22.0"
    assert WARNING not in answer.headers  # Graph documents no warning header
    unversioned = Graph(world.sim, world.page_token, version=None).get("me")
    assert unversioned.headers["facebook-api-version"] == "v22.0"
    assert world.sim.requests[-2].served_version == "v22.0"
    assert not world.sim.versions[0]["graph_live"]


def test_expire_version_retires_a_graph_version_now_or_later(world, clock):
    info = world.sim.expire_version("v22.0", at=clock.now() + DAY)
    assert info["graph_expires"] == dt.datetime.fromtimestamp(
        clock.now() + DAY, dt.UTC
    ).strftime("%Y-%m-%dT%H:%M:%S+0000")
    graph = Graph(world.sim, world.page_token, version="v22.0")
    assert graph.get("me").headers["facebook-api-version"] == "v22.0"
    clock.advance(DAY)
    # the next live version serves it, even with an older one still live
    assert graph.get("me").headers["facebook-api-version"] == "v23.0"
    world.sim.expire_version("v21.0", api="graph", at="2026-01-01")
    old = Graph(world.sim, world.page_token, version="v21.0")
    assert old.get("me").headers["facebook-api-version"] == "v23.0"
    with pytest.raises(ValueError):
        world.sim.expire_version("v26.0", api="ads")
    with pytest.raises(ValueError):
        world.sim.expire_version("26.0")


def test_a_released_version_is_served_from_its_release_on(world, clock):
    graph = Graph(world.sim, world.page_token, version="v28.0")
    assert error_of(graph.get("me"))["code"] == 2500
    info = world.sim.release_version("v28.0", released=clock.now() + DAY)
    assert info["graph_live"] is False and info["graph_expires"] is None
    error = error_of(graph.get("me"))
    assert error["code"] == 2500
    assert error["message"] == "Unknown path components: /v28.0/me"
    clock.advance(DAY)
    answer = graph.get("me")
    assert ok(answer)["id"] == world.page_id
    assert answer.headers["facebook-api-version"] == "v28.0"
    assert world.sim.versions[-1]["version"] == "v28.0"
    # a minor that was never released stays unknown
    assert (
        error_of(graph.__class__(world.sim, graph.token, "v28.1").get("me"))["code"]
        == 2500
    )


def test_release_version_can_hold_back_a_seeded_version(world, clock):
    world.sim.release_version("v27.0", released="2026-11-04")
    graph = Graph(world.sim, world.page_token, version="v27.0")
    assert error_of(graph.get("me"))["code"] == 2500
    clock.set(at("2026-11-04"))
    assert graph.get("me").headers["facebook-api-version"] == "v27.0"


# --- the Marketing API ------------------------------------------------------------


def test_expired_marketing_version_is_auto_upgraded_with_a_warning(ads, world):
    answer = ads.graph("v23.0").get(ads.account, fields="name")
    assert ok(answer)["name"] == "Ege Reklam"
    assert answer.headers["facebook-api-version"] == "v24.0"
    assert answer.headers[WARNING] == (
        "The call has been auto-upgraded to v24.0 as v23.0 has been deprecated"
    )
    assert ads.sim.requests[-1].served_version == "v24.0"
    # the same version on a Graph route is still served as asked
    page = Graph(ads.sim, world.page_token, version="v23.0").get("me")
    assert page.headers["facebook-api-version"] == "v23.0"
    assert WARNING not in page.headers
    live = ads.graph("v24.0").get(ads.account)
    assert live.headers["facebook-api-version"] == "v24.0"
    assert WARNING not in live.headers


def test_marketing_expiry_follows_the_clock_on_every_ads_route(ads, clock):
    clock.set(at("2026-11-10"))
    graph = ads.graph("v24.0")
    answers = [
        graph.get(ads.account),
        graph.get(f"{ads.account}/customaudiences"),
        graph.post(
            f"{ads.account}/customaudiences",
            name="Müşteriler",
            subtype="CUSTOM",
            customer_file_source="USER_PROVIDED_ONLY",
        ),
        graph.post(f"{ads.dataset}/events", data=crm_event(clock.now())),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["facebook-api-version"] == "v25.0"
        assert "auto-upgraded to v25.0 as v24.0" in answer.headers[WARNING]
    audience = answers[2].json()["id"]
    answer = graph.get(audience, fields="name")
    assert ok(answer)["name"] == "Müşteriler"
    assert answer.headers["facebook-api-version"] == "v25.0"


def test_changed_endpoint_of_an_expired_marketing_version_answers_2635(ads, clock):
    ads.sim.change_endpoint("v25.0", "AdAccount", "customaudiences", method="GET")
    graph = ads.graph("v24.0")
    assert ok(graph.get(f"{ads.account}/customaudiences")) == {"data": []}
    clock.set(at("2026-11-10"))
    error = error_of(graph.get(f"{ads.account}/customaudiences"))
    assert error["code"] == 2635
    assert error["message"] == (
        "(#2635) You are calling a deprecated version of the Ads API. Please "
        "update to the latest version: v27.0."
    )
    assert ads.sim.requests[-1].error_code == 2635
    # other endpoints did not change: still upgraded
    assert graph.get(ads.account).headers["facebook-api-version"] == "v25.0"
    # the version that changed it is served as asked
    assert ok(ads.graph("v25.0").get(f"{ads.account}/customaudiences"))
    # a change made before the expired version does not stop the upgrade
    ads.sim.change_endpoint("v24.0", "ad_account")
    assert graph.get(ads.account).status_code == 200


def test_expired_marketing_version_with_no_live_successor_answers_2635(ads, clock):
    for version in ("v24.0", "v25.0", "v26.0", "v27.0"):
        ads.sim.expire_version(version, api="marketing")
    error = error_of(ads.graph("v27.0").get(ads.account))
    assert error["code"] == 2635
    assert ads.sim.versions[-1]["graph_live"] is True


def test_expire_version_marketing_leaves_graph_alone(ads, world):
    info = ads.sim.expire_version("v25.0", api="marketing")
    assert info["marketing_live"] is False and info["graph_live"] is True
    answer = ads.graph("v25.0").get(ads.account)
    assert answer.headers["facebook-api-version"] == "v26.0"
    assert "as v25.0 has been deprecated" in answer.headers[WARNING]
    page = Graph(ads.sim, world.page_token, version="v25.0").get("me")
    assert page.headers["facebook-api-version"] == "v25.0"


def test_deprecate_adds_metas_header_on_marketing_routes_only(ads, world):
    text = "v25.0 will be deprecated on 2027-02-23; upgrade to v26.0"
    info = ads.sim.deprecate("v25.0", text)
    assert info["deprecation"] == text
    answer = ads.graph("v25.0").get(ads.account)
    assert answer.status_code == 200
    assert answer.headers[WARNING] == text
    assert answer.headers["facebook-api-version"] == "v25.0"
    assert WARNING not in ads.graph("v26.0").get(ads.account).headers
    page = Graph(ads.sim, world.page_token, version="v25.0").get("me")
    assert WARNING not in page.headers
    refused = ads.graph("v25.0").get(f"{ads.account}/no_such_edge")
    assert refused.status_code == 400 and WARNING not in refused.headers
    ads.sim.deprecate("v25.0", None)
    assert WARNING not in ads.graph("v25.0").get(ads.account).headers


def test_batch_items_carry_the_marketing_warning(ads):
    items = [{"method": "GET", "relative_url": f"v23.0/{ads.account}"}]
    answer = ads.graph("v26.0").post("", batch=json.dumps(items))
    (item,) = ok(answer)
    assert item["code"] == 200
    headers = {h["name"]: h["value"] for h in item["headers"]}
    assert headers["facebook-api-version"] == "v24.0"
    assert headers[WARNING].startswith("The call has been auto-upgraded")
    assert WARNING not in answer.headers


# --- fields a version removed -----------------------------------------------------


def test_dropped_field_is_nonexisting_from_that_version_on(world):
    world.sim.drop_field("v26.0", "Page", "link")
    old = Graph(world.sim, world.page_token, version="v25.0")
    assert "link" in ok(old.get(world.page_id, fields="name,link"))
    for version in ("v26.0", "v27.0"):
        graph = Graph(world.sim, world.page_token, version=version)
        error = error_of(graph.get(world.page_id, fields="name,link"))
        assert error["code"] == 100
        assert error["message"] == (
            "(#100) Tried accessing nonexisting field (link) on node type (Page)"
        )
        assert ok(graph.get(world.page_id, fields="name"))["name"] == "Demo Mağaza"
    calendar = {v["version"]: v for v in world.sim.versions}
    assert calendar["v26.0"]["dropped_fields"] == ["Page.link"]


def test_a_dropped_default_field_is_left_out(world):
    world.sim.drop_field("v27.0", "page", "name")
    graph = Graph(world.sim, world.page_token, version="v27.0")
    assert ok(graph.get(world.page_id)) == {"id": world.page_id}
    old = Graph(world.sim, world.page_token, version="v26.0")
    assert ok(old.get(world.page_id))["name"] == "Demo Mağaza"


def test_dropped_field_of_a_nested_node_and_of_a_served_version(world, clock):
    world.sim.drop_field("v22.0", "IGUser", "username")
    nested = "instagram_business_account{username}"
    graph = Graph(world.sim, world.page_token, version="v21.0")
    assert ok(graph.get(world.page_id, fields=nested))
    clock.set(at("2027-01-21"))  # v21.0 expired: served by v22.0
    error = error_of(graph.get(world.page_id, fields=nested))
    assert error["message"].endswith("field (username) on node type (IGUser)")


def test_a_dropped_marketing_field_stops_the_auto_upgrade(ads, clock):
    ads.sim.drop_field("v25.0", "ad_account", "tos_accepted")
    error = error_of(ads.graph("v25.0").get(ads.account, fields="tos_accepted"))
    assert error["message"] == (
        "(#100) Tried accessing nonexisting field (tos_accepted) on node type "
        "(AdAccount)"
    )
    assert ok(ads.graph("v24.0").get(ads.account, fields="tos_accepted"))
    clock.set(at("2026-11-10"))
    assert error_of(ads.graph("v24.0").get(ads.account))["code"] == 2635
    # a change to reads leaves the account's writes (edges) upgradable
    answer = ads.graph("v24.0").post(
        f"{ads.account}/customaudiences",
        name="Müşteriler",
        subtype="CUSTOM",
        customer_file_source="USER_PROVIDED_ONLY",
    )
    assert answer.status_code == 200, answer.text


def test_a_version_cannot_drop_the_id(simulator):
    with pytest.raises(ValueError):
        simulator.drop_field("v27.0", "Page", "id")
