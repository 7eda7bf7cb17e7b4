"""Page posts, Instagram media, their comments and replies, moderation,
private replies and the webhook of each change (docs/meta-facts.md §4.5,
§6.3), through real HTTP and a real webhook receiver."""

import hashlib
import hmac
import json
import re

import pytest
import requests
from sim_helpers import START, Graph, proof_for

from meta_simulator.comments import PRIVATE_REPLY_SECONDS

FB_COMMENT_FIELDS = (
    "id,message,created_time,from{id,name},parent{id},is_hidden,permalink_url,"
    "comment_count,can_reply_privately"
)
IG_COMMENT_FIELDS = (
    "id,text,timestamp,username,from{id,username},hidden,parent_id,like_count,media{id}"
)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000$")


# --- helpers -------------------------------------------------------------------


def changes(receiver):
    """``(object, entry id, field, value)`` of every update received."""
    found = []
    for post in receiver.posts:
        body = json.loads(post.body)
        for entry in body["entry"]:
            found.extend(
                (body["object"], entry["id"], c["field"], c["value"])
                for c in entry["changes"]
            )
    return found


def feed_values(receiver):
    return [v for _o, _e, field, v in changes(receiver) if field == "feed"]


def signed(sim, post) -> bool:
    expected = hmac.new(sim.app_secret.encode(), post.body, hashlib.sha256)
    return post.headers.get("X-Hub-Signature-256") == f"sha256={expected.hexdigest()}"


def private(world, comment_id, text="Detaylar DM'de", token=None, recipient=None):
    """The Send API: a JSON body, the Page token in the header."""
    token = token or world.page_token
    return requests.post(
        f"{world.sim.base_url}/v26.0/{world.page_id}/messages",
        json={
            "recipient": recipient or {"comment_id": comment_id},
            "message": {"text": text},
        },
        params={"appsecret_proof": proof_for(world.sim.app_secret, token)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def page_graph(world, scopes):
    """A Page-token client whose user granted only ``scopes``."""
    sim = world.sim
    user = sim.add_user_token(scopes=scopes, pages=[world.page_id])
    return Graph(sim, sim.page_token(user, world.page_id))


def error_of(response):
    assert response.status_code >= 400, response.text
    return response.json()["error"]


def all_pages(graph, path, **params):
    """Follow ``after`` cursors to the end; the rows of each page."""
    pages = []
    while True:
        body = graph.get(path, **params).json()
        pages.append(body["data"])
        if "next" not in body.get("paging", {}):
            return pages
        params["after"] = body["paging"]["cursors"]["after"]


@pytest.fixture
def ig_id(world):
    return world.page["ig_account_id"]


@pytest.fixture
def hooked(world, receiver):
    """The app's callback set and the Page subscribed to ``feed``."""
    world.sim.set_callback(receiver.url, verify_token="hush")
    world.sim.set_subscription(world.page_id, ["feed"])
    return receiver


@pytest.fixture
def thread(world):
    """A post with two top-level comments and one reply to each."""
    sim = world.sim
    post = sim.add_post(world.page_id, message="Yeni koltuk", created_time=START)
    first = sim.add_comment(
        post["id"], "Fiyat?", from_id="7001", from_name="Ayşe", created_time=START + 10
    )
    reply_1 = sim.add_comment(first["id"], "Ben de", created_time=START + 20)
    second = sim.add_comment(post["id"], "Renkler?", created_time=START + 30)
    reply_2 = sim.add_comment(
        post["id"], "Mavi var mı?", parent_id=second["id"], created_time=START + 40
    )
    return post, first, reply_1, second, reply_2


# --- posts and media -----------------------------------------------------------


def test_the_feed_is_newest_first_paged_and_bounded_by_since_and_until(world, graph):
    sim = world.sim
    for index in range(5):
        sim.add_post(
            world.page_id, message=f"Gönderi {index}", created_time=START - index * 60
        )
    fields = "id,message,created_time,permalink_url"
    pages = all_pages(graph, f"{world.page_id}/feed", fields=fields, limit=2)
    assert [[p["message"] for p in rows] for rows in pages] == [
        ["Gönderi 0", "Gönderi 1"],
        ["Gönderi 2", "Gönderi 3"],
        ["Gönderi 4"],
    ]
    first = pages[0][0]
    assert set(first) == {"id", "message", "created_time", "permalink_url"}
    page_id, number = first["id"].split("_")
    assert page_id == world.page_id
    assert first["permalink_url"] == (
        f"https://www.facebook.com/{world.page_id}/posts/{number}"
    )
    assert ISO.match(first["created_time"])
    window = graph.get(
        f"{world.page_id}/feed", fields="message", since=START - 180, until=START - 60
    ).json()["data"]
    assert [p["message"] for p in window] == ["Gönderi 1", "Gönderi 2", "Gönderi 3"]
    # an ISO date is a time too; nonsense is refused
    iso = graph.get(
        f"{world.page_id}/feed", fields="message", since="2026-09-21T14:13:00"
    ).json()["data"]
    assert [p["message"] for p in iso] == ["Gönderi 0"]
    assert error_of(graph.get(f"{world.page_id}/feed", since="dün"))["code"] == 100
    # one post read by its id
    one = graph.get(first["id"], fields="message,permalink_url").json()
    assert one == {
        "message": "Gönderi 0",
        "permalink_url": first["permalink_url"],
        "id": first["id"],
    }


def test_the_feed_takes_the_page_token_and_pages_read_engagement(world, user_graph):
    assert error_of(user_graph.get(f"{world.page_id}/feed"))["code"] == 210
    bare = page_graph(world, ["pages_show_list"])
    refused = error_of(bare.get(f"{world.page_id}/feed"))
    assert refused["code"] == 200 and "pages_read_engagement" in refused["message"]


def test_instagram_media_are_newest_first_paged_and_since(world, graph, ig_id):
    sim = world.sim
    sim.add_ig_media(ig_id, caption="Eski", created_time=START - 7200)
    sim.add_ig_media(
        ig_id, caption="Reel", media_product_type="REELS", created_time=START - 60
    )
    newest = sim.add_ig_media(ig_id, caption="Yeni", created_time=START)
    fields = "id,caption,timestamp,permalink,media_product_type,media_type"
    pages = all_pages(graph, f"{ig_id}/media", fields=fields, limit=1)
    assert [rows[0]["caption"] for rows in pages] == ["Yeni", "Reel", "Eski"]
    top = pages[0][0]
    assert top["id"] == newest["id"]
    assert ISO.match(top["timestamp"])
    assert re.match(r"^https://www\.instagram\.com/p/[\w-]+/$", top["permalink"])
    assert (top["media_product_type"], top["media_type"]) == ("FEED", "IMAGE")
    assert pages[1][0]["media_product_type"] == "REELS"
    recent = graph.get(f"{ig_id}/media", fields="caption", since=START - 3600)
    assert [m["caption"] for m in recent.json()["data"]] == ["Yeni", "Reel"]
    assert graph.get(newest["id"], fields="caption").json() == {
        "caption": "Yeni",
        "id": newest["id"],
    }


# --- Facebook comments ---------------------------------------------------------


def test_facebook_comments_toplevel_stream_order_and_paging(world, graph, thread):
    post, first, reply_1, second, reply_2 = thread
    edge = f"{post['id']}/comments"

    def ids(**params):
        return [c["id"] for c in graph.get(edge, fields="id", **params).json()["data"]]

    assert ids() == ids(filter="toplevel") == [first["id"], second["id"]]
    assert ids(filter="stream") == [
        first["id"],
        reply_1["id"],
        second["id"],
        reply_2["id"],
    ], "every level, oldest first"
    assert ids(order="reverse_chronological") == [second["id"], first["id"]]
    assert ids(filter="stream", order="reverse_chronological") == [
        reply_2["id"],
        second["id"],
        reply_1["id"],
        first["id"],
    ]
    pages = all_pages(graph, edge, fields="id", filter="stream", limit=3)
    assert [len(rows) for rows in pages] == [3, 1]
    pages = all_pages(graph, edge, fields="id", order="reverse_chronological", limit=1)
    assert [rows[0]["id"] for rows in pages] == [second["id"], first["id"]]
    assert error_of(graph.get(edge, filter="everything"))["code"] == 100
    assert error_of(graph.get(edge, order="random"))["code"] == 100


def test_a_facebook_comment_its_fields_and_its_replies(world, graph, thread):
    post, first, reply_1, _second, _reply_2 = thread
    number = post["id"].split("_")[1]
    assert re.match(rf"^{number}_\d+$", first["id"])
    top = graph.get(f"{post['id']}/comments", fields=FB_COMMENT_FIELDS).json()
    got = top["data"][0]
    assert got == {
        "id": first["id"],
        "message": "Fiyat?",
        "created_time": got["created_time"],
        "from": {"id": "7001", "name": "Ayşe"},
        "is_hidden": False,
        "permalink_url": got["permalink_url"],
        "comment_count": 1,
        "can_reply_privately": True,
    }, "a top-level comment has no parent"
    assert ISO.match(got["created_time"])
    assert got["permalink_url"].startswith(post["permalink_url"])
    replies = graph.get(f"{first['id']}/comments", fields=FB_COMMENT_FIELDS).json()
    [reply] = replies["data"]
    assert (reply["id"], reply["parent"]) == (reply_1["id"], {"id": first["id"]})
    assert graph.get(first["id"], fields="message,comment_count").json() == {
        "message": "Fiyat?",
        "comment_count": 1,
        "id": first["id"],
    }


def test_the_page_answers_a_facebook_comment_publicly(world, graph, thread, hooked):
    sim = world.sim
    _post, first, reply_1, _second, _reply_2 = thread
    hooked.posts.clear()
    answer = graph.post(f"{first['id']}/comments", message="12.000 TL").json()
    assert set(answer) == {"id"}
    got = graph.get(answer["id"], fields="from,parent,message").json()
    assert got["from"]["id"] == world.page_id
    assert got["parent"] == {"id": first["id"]}
    # a reply to a reply joins its top comment's thread
    deeper = graph.post(f"{reply_1['id']}/comments", message="Evet").json()
    assert sim.comment(deeper["id"])["parent_id"] == first["id"]
    assert sim.comment(first["id"])["replies"][-2:] == [answer["id"], deeper["id"]]
    hooked.wait_for(2)  # sent in the background: in any order
    adds = feed_values(hooked)
    assert sorted((v["verb"], v["comment_id"], v["parent_id"]) for v in adds) == (
        sorted([("add", answer["id"], first["id"]), ("add", deeper["id"], first["id"])])
    )
    assert {v["from"]["id"] for v in adds} == {world.page_id}
    # Facebook has no /replies edge, and a reply needs words
    refused = error_of(graph.post(f"{first['id']}/replies", message="x"))
    assert refused["code"] == 100
    assert error_of(graph.post(f"{first['id']}/comments", message=" "))["code"] == 100


def test_facebook_hide_unhide_and_delete(world, graph, thread, hooked):
    sim = world.sim
    post, first, reply_1, _second, _reply_2 = thread
    hooked.posts.clear()
    assert graph.post(first["id"], is_hidden="true").json() == {"success": True}
    got = graph.get(first["id"], fields="is_hidden").json()
    assert got["is_hidden"] is True and sim.comment(first["id"])["hidden"] is True
    assert graph.post(first["id"], is_hidden="false").json() == {"success": True}
    assert sim.comment(first["id"])["hidden"] is False
    assert error_of(graph.post(first["id"], is_hidden="maybe"))["code"] == 100
    assert error_of(graph.post(first["id"]))["code"] == 100
    assert graph.delete(reply_1["id"]).json() == {"success": True}
    gone = error_of(graph.get(reply_1["id"], fields="message"))
    assert (gone["code"], gone["error_subcode"]) == (100, 33)
    assert error_of(graph.delete(reply_1["id"]))["error_subcode"] == 33
    assert sim.comment(reply_1["id"])["deleted"] is True
    stream = graph.get(f"{post['id']}/comments", fields="id", filter="stream").json()
    assert reply_1["id"] not in [c["id"] for c in stream["data"]]
    hooked.wait_for(3)  # sent in the background: in any order
    assert sorted((v["verb"], v["comment_id"]) for v in feed_values(hooked)) == [
        ("hide", first["id"]),
        ("remove", reply_1["id"]),
        ("unhide", first["id"]),
    ]
    assert all(signed(sim, p) for p in hooked.posts)


# --- Instagram comments --------------------------------------------------------


@pytest.fixture
def media_thread(world, ig_id):
    sim = world.sim
    media = sim.add_ig_media(ig_id, caption="Yaz koleksiyonu", created_time=START)
    top = sim.add_comment(
        media["id"],
        "Stokta mı?",
        from_id="IGSID_1",
        username="ayse.y",
        created_time=START + 10,
        deliver=False,
    )
    reply = sim.add_comment(
        top["id"], "Ben de soruyorum", username="can", created_time=START + 20
    )
    return media, top, reply


def test_instagram_comments_and_their_replies(world, graph, media_thread):
    media, top, reply = media_thread
    listed = graph.get(f"{media['id']}/comments", fields=IG_COMMENT_FIELDS).json()
    assert listed["data"] == [
        {
            "id": top["id"],
            "text": "Stokta mı?",
            "timestamp": listed["data"][0]["timestamp"],
            "username": "ayse.y",
            "from": {"id": "IGSID_1", "username": "ayse.y"},
            "hidden": False,
            "like_count": 0,
            "media": {"id": media["id"]},
        }
    ], "top-level comments only"
    replies = graph.get(f"{top['id']}/replies", fields=IG_COMMENT_FIELDS).json()
    [got] = replies["data"]
    assert (got["id"], got["parent_id"], got["username"]) == (
        reply["id"],
        top["id"],
        "can",
    )
    assert (
        graph.get(reply["id"], fields="text,parent_id").json()["parent_id"]
        == (top["id"])
    )


def test_instagram_replies_only_to_visible_top_level_comments(
    world, graph, media_thread, ig_id
):
    sim = world.sim
    _media, top, reply = media_thread
    answer = graph.post(f"{top['id']}/replies", message="Evet, stokta").json()
    state = sim.comment(answer["id"])
    assert (state["from_id"], state["parent_id"]) == (ig_id, top["id"])
    to_reply = error_of(graph.post(f"{reply['id']}/replies", message="x"))
    assert to_reply["code"] == 100, "a reply to a reply"
    graph.post(top["id"], hide="true")
    hidden = error_of(graph.post(f"{top['id']}/replies", message="x"))
    assert hidden["code"] == 100 and "hidden" in hidden["message"]
    # Instagram answers on /replies, not on /comments
    assert error_of(graph.post(f"{top['id']}/comments", message="x"))["code"] == 100


def test_instagram_hide_unhide_and_delete(world, graph, media_thread, hooked):
    sim = world.sim
    media, top, reply = media_thread
    hooked.posts.clear()
    assert graph.post(top["id"], hide="true").json() == {"success": True}
    assert graph.get(top["id"], fields="hidden").json()["hidden"] is True
    assert graph.post(top["id"], hide="false").json() == {"success": True}
    assert sim.comment(top["id"])["hidden"] is False
    assert error_of(graph.post(top["id"], is_hidden="true"))["code"] == 100
    assert graph.delete(reply["id"]).json() == {"success": True}
    assert error_of(graph.get(reply["id"]))["error_subcode"] == 33
    assert graph.get(f"{top['id']}/replies").json()["data"] == []
    sim.edit_comment(top["id"], "Stokta mı acaba?")
    sim.remove_comment(top["id"])
    assert sim.comment(top["id"])["text"] == "Stokta mı acaba?"
    assert graph.get(f"{media['id']}/comments").json()["data"] == []
    assert hooked.posts == [], "Instagram reports new comments only"


# --- private replies -----------------------------------------------------------


def test_one_private_reply_per_facebook_comment(world, graph, thread):
    sim = world.sim
    _post, first, *_ = thread
    sent = private(world, first["id"])
    assert sent.status_code == 200
    answer = sent.json()
    assert answer["recipient_id"] == "7001"
    assert answer["message_id"].startswith("m_")
    assert (
        graph.get(first["id"], fields="can_reply_privately").json()[
            "can_reply_privately"
        ]
        is False
    )
    again = error_of(private(world, first["id"], "Bir daha"))
    assert again["code"] == 10900
    assert "Activity already replied to" in again["message"]
    [state] = sim.private_replies(first["id"])
    assert (state["message_id"], state["text"]) == (
        answer["message_id"],
        "Detaylar DM'de",
    )
    assert sim.comment(first["id"])["private_replies"] == [state]
    assert sim.private_replies() == [state]


def test_a_private_reply_within_seven_days_only(world, clock):
    sim = world.sim
    post = sim.add_post(world.page_id)
    fresh = sim.add_comment(post["id"], "Yeni", created_time=clock.now())
    old = sim.add_comment(post["id"], "Eski", created_time=clock.now())
    clock.advance(PRIVATE_REPLY_SECONDS - 60)
    assert private(world, fresh["id"]).status_code == 200
    clock.advance(61)
    late = error_of(private(world, old["id"]))
    assert late["code"] == 10903
    assert "can't be replied to" in late["message"]


def test_no_private_reply_to_the_pages_own_comment(world, graph, thread):
    sim = world.sim
    post, first, *_ = thread
    own = sim.add_comment(post["id"], "Kampanya başladı", from_id=world.page_id)
    assert sim.comment(own["id"])["from_id"] == world.page_id
    name = graph.get(own["id"], fields="from,can_reply_privately").json()
    assert name["from"]["id"] == world.page_id and name["can_reply_privately"] is False
    assert error_of(private(world, own["id"]))["code"] == 10903
    answer = graph.post(f"{first['id']}/comments", message="Merhaba").json()
    assert error_of(private(world, answer["id"]))["code"] == 10903


def test_a_private_reply_to_an_instagram_comment_through_the_page(world, media_thread):
    sim = world.sim
    _media, top, _reply = media_thread
    answer = private(world, top["id"]).json()
    assert answer["recipient_id"] == "IGSID_1"
    assert answer["message_id"].startswith("m_")
    assert error_of(private(world, top["id"]))["code"] == 10900
    # another Page cannot answer it
    other = sim.add_page("Başka Mağaza")
    user = sim.add_user_token(pages=[other["id"]])
    token = sim.page_token(user, other["id"])
    refused = requests.post(
        f"{sim.base_url}/v26.0/{other['id']}/messages",
        json={"recipient": {"comment_id": top["id"]}, "message": {"text": "x"}},
        params={"appsecret_proof": proof_for(sim.app_secret, token)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert error_of(refused)["error_subcode"] == 33


def test_the_send_api_refuses_what_is_not_a_private_reply(world, thread):
    _post, first, *_ = thread
    assert error_of(private(world, None, recipient={"x": "1"}))["code"] == 100
    assert error_of(private(world, first["id"], text=""))["code"] == 100
    unknown = error_of(private(world, None, recipient={"id": "999"}))
    assert (unknown["code"], unknown["error_subcode"]) == (100, 2018001)
    assert error_of(private(world, "1_2"))["error_subcode"] == 33
    user_token = error_of(private(world, first["id"], token=world.user_token))
    assert user_token["code"] == 210


# --- permissions ---------------------------------------------------------------


def test_each_action_needs_its_permission(world, thread, media_thread):
    post, first, *_ = thread
    _media, top, _reply = media_thread
    reader = page_graph(world, ["pages_show_list", "pages_read_engagement"])
    assert reader.get(f"{post['id']}/comments").status_code == 200
    for response in (
        reader.post(f"{first['id']}/comments", message="x"),
        reader.post(first["id"], is_hidden="true"),
        reader.delete(first["id"]),
    ):
        refused = error_of(response)
        assert refused["code"] == 200
        assert "pages_manage_engagement" in refused["message"]
    blind = page_graph(world, ["pages_show_list"])
    refused = error_of(blind.get(f"{post['id']}/comments"))
    assert "pages_read_engagement" in refused["message"]
    assert error_of(blind.get(first["id"]))["code"] == 200
    ig_basic = page_graph(world, ["pages_show_list", "instagram_basic"])
    for response in (
        ig_basic.get(f"{_media['id']}/comments"),
        ig_basic.get(f"{top['id']}/replies"),
        ig_basic.post(f"{top['id']}/replies", message="x"),
        ig_basic.post(top["id"], hide="true"),
        ig_basic.delete(top["id"]),
    ):
        refused = error_of(response)
        assert refused["code"] == 200
        assert "instagram_manage_comments" in refused["message"]
    no_basic = page_graph(world, ["pages_show_list", "instagram_manage_comments"])
    assert (
        "instagram_basic" in error_of(no_basic.get(f"{top['id']}/replies"))["message"]
    )
    mute = page_graph(world, ["pages_show_list", "pages_manage_engagement"])
    refused = error_of(private(world, first["id"], token=mute.token))
    assert refused["code"] == 200 and "pages_messaging" in refused["message"]
    no_ig = page_graph(world, ["pages_show_list", "pages_messaging"])
    refused = error_of(private(world, top["id"], token=no_ig.token))
    assert "instagram_manage_comments" in refused["message"]
    # changes take the Page token
    user = Graph(world.sim, world.user_token)
    assert error_of(user.post(first["id"], is_hidden="true"))["code"] == 210
    assert error_of(user.post(f"{top['id']}/replies", message="x"))["code"] == 210


# --- webhooks ------------------------------------------------------------------


def test_every_facebook_change_is_a_signed_feed_webhook(world, hooked):
    sim = world.sim
    post = sim.add_post(world.page_id)
    top = sim.add_comment(post["id"], "Fiyat?", from_id="7001", from_name="Ayşe")
    reply = sim.add_comment(top["id"], "Ben de", from_id="7002", from_name="Can")
    own = sim.add_comment(top["id"], "DM attık", from_id=world.page_id)
    sim.edit_comment(top["id"], "Fiyat nedir?")
    sim.set_comment_hidden(reply["id"], True)
    sim.set_comment_hidden(reply["id"], False)
    sim.remove_comment(reply["id"])
    found = changes(hooked)
    assert {(o, e, f) for o, e, f, _v in found} == {("page", world.page_id, "feed")}
    values = [v for *_rest, v in found]
    assert [(v["item"], v["verb"], v["comment_id"]) for v in values] == [
        ("comment", "add", top["id"]),
        ("comment", "add", reply["id"]),
        ("comment", "add", own["id"]),
        ("comment", "edited", top["id"]),
        ("comment", "hide", reply["id"]),
        ("comment", "unhide", reply["id"]),
        ("comment", "remove", reply["id"]),
    ]
    add, answer, by_page, edited = values[:4]
    assert (add["post_id"], add["parent_id"]) == (post["id"], post["id"])
    assert add["from"] == {"id": "7001", "name": "Ayşe"}
    assert add["message"] == "Fiyat?" and "ad_id" not in add
    assert answer["parent_id"] == top["id"]
    assert by_page["from"]["id"] == world.page_id
    assert edited["message"] == "Fiyat nedir?"
    assert all(signed(sim, p) for p in hooked.posts)
    assert sim.comment(top["id"])["text"] == "Fiyat nedir?"


def test_instagram_comments_and_mentions_webhooks(world, graph, hooked, ig_id):
    sim = world.sim
    username = graph.get(ig_id, fields="username").json()["username"]
    media = sim.add_ig_media(ig_id, caption="Yeni sezon")
    comment = sim.add_comment(
        media["id"], "Harika", from_id="IGSID_2", username="elif", background=True
    )
    hooked.wait_for(1)
    # another account of the simulator @mentions ours in a comment and a caption
    other = sim.add_page("Komşu Mağaza", ig_account_id=True)
    theirs = sim.add_ig_media(other["ig_account_id"], caption="Bizim vitrin")
    mention = sim.add_comment(
        theirs["id"], f"@{username} bunu gördünüz mü?", username="elif"
    )
    caption = sim.mention_in_caption(ig_id, theirs["id"])
    found = changes(hooked)
    ours = [(o, e, f) for o, e, f, _v in found if e == ig_id]
    assert ours == [
        ("instagram", ig_id, "comments"),
        ("instagram", ig_id, "mentions"),
        ("instagram", ig_id, "mentions"),
    ]
    values = {f: [] for f in ("comments", "mentions")}
    for _o, entry, field, value in found:
        if entry == ig_id:
            values[field].append(value)
    assert values["comments"] == [
        {
            "from": {"id": "IGSID_2", "username": "elif"},
            "media": {"id": media["id"], "media_product_type": "FEED"},
            "id": comment["id"],
            "text": "Harika",
        }
    ]
    assert values["mentions"] == [
        {"comment_id": mention["id"], "media_id": theirs["id"]},
        {"media_id": caption["media_id"]},
    ]
    assert all(signed(sim, p) for p in hooked.posts)
    # what a mention points at is read through the mentioned account
    got = graph.get(
        ig_id, fields=f"mentioned_comment.comment_id({mention['id']}){{text}}"
    ).json()["mentioned_comment"]
    assert got["text"].startswith(f"@{username}")
    shown = graph.get(
        ig_id, fields=f"mentioned_media.media_id({theirs['id']}){{caption}}"
    ).json()["mentioned_media"]
    assert shown["caption"] == f"Bizim vitrin @{username}"


def test_a_boosted_post_or_an_ad_doubles_every_comment_webhook(world, hooked, ig_id):
    sim = world.sim
    post = sim.add_post(world.page_id, ad_id="120000000000009")
    comment = sim.add_comment(post["id"], "Kampanya?", from_id="7001")
    sim.set_comment_hidden(comment["id"], True)
    feed = feed_values(hooked)
    assert [(v["verb"], v.get("ad_id")) for v in feed] == [
        ("add", None),
        ("add", "120000000000009"),
        ("hide", None),
        ("hide", "120000000000009"),
    ]
    assert feed[1]["post"]["promotion_status"] == "active"
    assert feed[1]["comment_id"] == feed[0]["comment_id"] == comment["id"]
    hooked.posts.clear()
    media = sim.add_ig_media(ig_id, ad_id="120000000000010")
    sim.add_comment(media["id"], "Ne zaman?", username="can")
    plain, ad = [v for *_rest, v in changes(hooked)]
    assert "ad_id" not in plain["media"]
    assert ad["media"]["ad_id"] == "120000000000010"
    assert ad["media"]["original_media_id"] == media["id"]
    assert "ad_title" in ad["media"]
    assert plain["id"] == ad["id"]


def test_webhooks_need_a_callback_and_the_subscribed_field(world, receiver, ig_id):
    sim = world.sim
    post = sim.add_post(world.page_id)
    media = sim.add_ig_media(ig_id)
    sim.add_comment(post["id"], "Kimse duymaz")  # no callback at all
    sim.set_callback(receiver.url, verify_token="hush")
    sim.add_comment(post["id"], "Abonelik yok")  # the Page did not subscribe feed
    sim.set_subscription(world.page_id, ["leadgen"])
    sim.add_comment(post["id"], "Yine yok")
    assert receiver.posts == []
    sim.set_callback(receiver.url, verify_token="hush", fields=["mentions"])
    sim.add_comment(media["id"], "comments alanı seçilmedi")
    assert receiver.posts == []
    theirs = sim.add_mention(ig_id, "Vitrin", in_comment=False, deliver=False)
    sim.mention_in_caption(ig_id, theirs["media_id"])
    assert [f for _o, _e, f, _v in changes(receiver)] == ["mentions"]
    sim.drop_webhooks = True
    sim.set_subscription(world.page_id, ["feed"])
    sim.add_comment(post["id"], "Düşürüldü")
    assert len(receiver.posts) == 1


def test_a_refused_webhook_is_retried(world, hooked):
    sim = world.sim
    hooked.fail_first = 1
    post = sim.add_post(world.page_id)
    sim.add_comment(post["id"], "Tekrar")
    assert len(hooked.posts) == 2
    assert hooked.posts[0].body == hooked.posts[1].body
    attempts = [d.attempt for d in sim.webhooks.log[-2:]]
    assert attempts == [1, 2]


# --- the facade ----------------------------------------------------------------


def test_the_facade_returns_plain_state(world, thread, ig_id):
    sim = world.sim
    post, first, reply_1, second, reply_2 = thread
    assert set(first) == {
        "id",
        "platform",
        "post_id",
        "parent_id",
        "from_id",
        "text",
        "created_time",
        "hidden",
        "deleted",
        "replies",
        "private_replies",
    }
    assert (first["platform"], first["post_id"], first["parent_id"]) == (
        "facebook",
        post["id"],
        "",
    )
    assert reply_2["parent_id"] == second["id"], "parent_id names the parent"
    assert [c["id"] for c in sim.comments(post["id"])] == [first["id"], second["id"]]
    assert [c["id"] for c in sim.comments(first["id"])] == [reply_1["id"]]
    # one person, two comments; a new commenter gets their own scoped id
    again = sim.add_comment(post["id"], "Bir daha", from_id="7001", deliver=False)
    assert again["from_id"] == first["from_id"] == "7001"
    assert reply_1["from_id"] not in ("7001", world.page_id)
    with pytest.raises(ValueError):
        sim.add_comment(sim.add_post(world.page_id)["id"], "x", parent_id=first["id"])
    media = sim.add_ig_media(ig_id, caption="Kapak", created_time=START)
    assert media["timestamp"] == "2026-09-21T14:13:20+0000"
    assert media["ad_id"] is None
    with pytest.raises(ValueError):
        sim.mention_in_caption(ig_id, post["id"])
    own = sim.add_comment(media["id"], "Teşekkürler", from_id=ig_id, deliver=False)
    assert sim.comment(own["id"])["from_id"] == ig_id
    sim.private_reply(first["id"], "Başka bir araçtan")
    assert [m["text"] for m in sim.private_replies()] == ["Başka bir araçtan"]
