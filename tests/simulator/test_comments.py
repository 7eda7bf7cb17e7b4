"""Page posts, Instagram media, comments, replies, moderation and private
replies (docs/meta-facts.md §4.5, §6.3), through real HTTP."""

import json

import pytest
import requests
from sim_helpers import START, Graph, proof_for

from meta_simulator.comments import PRIVATE_REPLY_SECONDS


def changes(receiver):
    found = []
    for post in receiver.posts:
        body = json.loads(post.body)
        for entry in body["entry"]:
            found.extend(
                (body["object"], c["field"], c["value"]) for c in entry["changes"]
            )
    return found


@pytest.fixture
def social(world):
    sim = world.sim
    post = sim.add_post(world.page_id, message="Yeni koltuk", created_time=START - 3600)
    comment = sim.add_comment(
        post["id"], "Fiyat nedir?", from_id="7001", from_name="Ayşe", deliver=False
    )
    return post, comment


def test_feed_posts_newest_first_paged_and_since(world, graph):
    sim = world.sim
    for index in range(5):
        sim.add_post(
            world.page_id,
            message=f"Gönderi {index}",
            created_time=START - index * 86400,
        )
    first = graph.get(
        f"{world.page_id}/feed", fields="id,message,created_time,permalink_url", limit=2
    ).json()
    assert [p["message"] for p in first["data"]] == ["Gönderi 0", "Gönderi 1"]
    assert first["data"][0]["permalink_url"].startswith("https://www.facebook.com/")
    after = first["paging"]["cursors"]["after"]
    second = graph.get(
        f"{world.page_id}/feed", fields="message", limit=2, after=after
    ).json()
    assert [p["message"] for p in second["data"]] == ["Gönderi 2", "Gönderi 3"]
    recent = graph.get(
        f"{world.page_id}/feed", fields="message", since=START - 86400
    ).json()
    assert [p["message"] for p in recent["data"]] == ["Gönderi 0", "Gönderi 1"]
    # a user token is refused: Page calls take the Page token
    assert (
        graph.as_token(world.user_token).get(f"{world.page_id}/feed").status_code == 400
    )


def test_comments_replies_and_the_stream(world, graph, social):
    sim = world.sim
    post, comment = social
    reply = sim.add_comment(
        comment["id"], "Ben de merak ettim", created_time=START + 10, deliver=False
    )
    deep = sim.add_comment(
        reply["id"], "Bir de renkler?", created_time=START + 20, deliver=False
    )
    assert deep["parent_id"] == comment["id"], "Facebook threads are one level deep"
    fields = "id,message,from,parent{id},is_hidden,permalink_url,can_reply_privately"
    top = graph.get(f"{post['id']}/comments", fields=fields).json()["data"]
    assert [c["id"] for c in top] == [comment["id"]]
    assert top[0]["from"] == {"id": "7001", "name": "Ayşe"}
    assert top[0]["can_reply_privately"] is True
    assert "comment_id=" in top[0]["permalink_url"]
    stream = graph.get(f"{post['id']}/comments", fields=fields, filter="stream").json()[
        "data"
    ]
    assert [c["id"] for c in stream] == [comment["id"], reply["id"], deep["id"]]
    assert stream[1]["parent"] == {"id": comment["id"]}
    replies = graph.get(f"{comment['id']}/comments", fields="id").json()["data"]
    assert [c["id"] for c in replies] == [reply["id"], deep["id"]]
    one = graph.get(comment["id"], fields="message").json()
    assert one == {"message": "Fiyat nedir?", "id": comment["id"]}


def test_a_facebook_reply_hide_and_delete(world, graph, social):
    sim = world.sim
    _post, comment = social
    answer = graph.post(f"{comment['id']}/comments", message="Merhaba!").json()
    state = sim.comment(comment["id"])
    assert state["replies"] == [answer["id"]]
    assert sim.comment(answer["id"])["from_id"] == world.page_id
    # Facebook has no /replies edge
    assert graph.post(f"{comment['id']}/replies", message="x").status_code == 400
    assert graph.post(comment["id"], is_hidden="true").json() == {"success": True}
    assert sim.comment(comment["id"])["hidden"] is True
    graph.post(comment["id"], is_hidden="false")
    assert sim.comment(comment["id"])["hidden"] is False
    assert graph.delete(answer["id"]).json() == {"success": True}
    gone = graph.get(answer["id"], fields="message")
    assert gone.status_code == 400 and gone.json()["error"]["error_subcode"] == 33
    assert sim.comment(answer["id"])["deleted"] is True


def test_instagram_media_comments_and_reply_rules(world, graph):
    sim = world.sim
    ig_id = world.page["ig_account_id"]
    media = sim.add_ig_media(ig_id, caption="Yaz koleksiyonu", created_time=START - 60)
    comment = sim.add_comment(
        media["id"], "Stokta mı?", from_id="IGSID_1", username="ayse.y", deliver=False
    )
    listed = graph.get(
        f"{ig_id}/media", fields="id,caption,timestamp,permalink"
    ).json()["data"]
    assert listed[0]["caption"] == "Yaz koleksiyonu"
    assert listed[0]["timestamp"].endswith("+0000")
    got = graph.get(
        f"{media['id']}/comments", fields="id,text,username,from,media"
    ).json()["data"]
    assert got == [
        {
            "id": comment["id"],
            "text": "Stokta mı?",
            "username": "ayse.y",
            "from": {"id": "IGSID_1", "username": "ayse.y"},
            "media": {"id": media["id"]},
        }
    ]
    reply = graph.post(f"{comment['id']}/replies", message="Evet").json()
    replies = graph.get(f"{comment['id']}/replies", fields="id,parent_id").json()[
        "data"
    ]
    assert replies == [{"id": reply["id"], "parent_id": comment["id"]}]
    refused = graph.post(f"{reply['id']}/replies", message="x")
    assert refused.status_code == 400, "a reply to a reply"
    assert graph.post(comment["id"], hide="true").json() == {"success": True}
    hidden = graph.post(f"{comment['id']}/replies", message="x")
    assert hidden.status_code == 400 and "hidden" in hidden.json()["error"]["message"]


def _private(world, comment_id, text="DM attık", token=None):
    """The Send API takes a JSON body; the token in the header."""
    token = token or world.page_token
    return requests.post(
        f"{world.sim.base_url}/v26.0/{world.page_id}/messages",
        json={"recipient": {"comment_id": comment_id}, "message": {"text": text}},
        params={"appsecret_proof": proof_for(world.sim.app_secret, token)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def test_one_private_reply_per_comment_within_seven_days(world, social, clock):
    sim = world.sim
    _post, comment = social
    answer = _private(world, comment["id"]).json()
    assert answer["recipient_id"] == "7001" and answer["message_id"].startswith("m_")
    again = _private(world, comment["id"]).json()["error"]
    assert again["code"] == 10900
    assert len(sim.private_replies(comment["id"])) == 1
    late = sim.add_comment(_post["id"], "Eski soru", deliver=False)
    clock.advance(PRIVATE_REPLY_SECONDS + 1)
    assert _private(world, late["id"]).json()["error"]["code"] == 10903
    # the Page's own reply cannot be answered privately
    own = sim.add_comment(comment["id"], "x", from_id=world.page_id, deliver=False)
    assert _private(world, own["id"]).json()["error"]["code"] == 10903


def test_private_replies_need_pages_messaging(world, social):
    sim = world.sim
    token = sim.add_user_token(
        scopes=["pages_show_list", "pages_read_engagement"], pages=[world.page_id]
    )
    page_token = sim.page_token(token, world.page_id)
    answer = _private(world, social[1]["id"], token=page_token).json()
    assert answer["error"]["code"] == 200
    assert "pages_messaging" in answer["error"]["message"]
    reply = (
        Graph(sim, page_token).post(f"{social[1]['id']}/comments", message="x").json()
    )
    assert "pages_manage_engagement" in reply["error"]["message"]


def test_every_change_is_a_signed_webhook(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush")
    sim.set_subscription(world.page_id, ["feed"])
    post = sim.add_post(world.page_id, ad_id="120000000000009")
    comment = sim.add_comment(post["id"], "Kampanya?", from_id="7001")
    sim.edit_comment(comment["id"], "Kampanya ne zaman?")
    sim.set_comment_hidden(comment["id"], True)
    sim.set_comment_hidden(comment["id"], False)
    sim.remove_comment(comment["id"])
    ig_id = world.page["ig_account_id"]
    media = sim.add_ig_media(ig_id)
    sim.add_comment(media["id"], "Harika", from_id="IGSID_2", username="elif")
    found = changes(receiver)
    feed = [(v["verb"], "ad_id" in v) for o, f, v in found if f == "feed"]
    assert feed == [
        (verb, boosted)
        for verb in ("add", "edited", "hide", "unhide", "remove")
        for boosted in (False, True)
    ], "a boosted post doubles every webhook"
    [ig] = [v for o, f, v in found if o == "instagram"]
    assert (ig["id"], ig["text"], ig["from"]["username"]) == (
        sim.comments(media["id"])[0]["id"],
        "Harika",
        "elif",
    )
    assert all("X-Hub-Signature-256" in p.headers for p in receiver.posts)


def test_nothing_is_sent_without_the_feed_subscription(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush")
    post = sim.add_post(world.page_id)
    sim.add_comment(post["id"], "Merhaba")
    assert receiver.posts == []


def test_mentions_are_read_through_the_mentioned_account(world, graph, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush")
    ig_id = world.page["ig_account_id"]
    in_comment = sim.add_mention(ig_id, "@demo bu koltuk harika", username="elif")
    in_caption = sim.add_mention(ig_id, "Yeni evim @demo", in_comment=False)
    values = [v for _o, f, v in changes(receiver) if f == "mentions"]
    assert values == [
        {"comment_id": in_comment["comment_id"], "media_id": in_comment["media_id"]},
        {"media_id": in_caption["media_id"]},
    ]
    fields = (
        f"mentioned_comment.comment_id({in_comment['comment_id']})"
        "{id,text,timestamp,username,media{id,permalink}}"
    )
    got = graph.get(ig_id, fields=fields).json()["mentioned_comment"]
    assert (got["text"], got["username"]) == ("@demo bu koltuk harika", "elif")
    assert got["media"]["id"] == in_comment["media_id"]
    caption = graph.get(
        ig_id,
        fields=f"mentioned_media.media_id({in_caption['media_id']}){{caption,username}}",
    ).json()["mentioned_media"]
    assert caption["caption"] == "Yeni evim @demo"
    # a comment that does not mention the account is not readable this way
    other = sim.add_comment(
        sim.add_ig_media(ig_id)["id"], "x", deliver=False, username="a"
    )
    refused = graph.get(
        ig_id, fields=f"mentioned_comment.comment_id({other['id']}){{id}}"
    )
    assert refused.json()["error"]["error_subcode"] == 33


def test_an_instagram_profile_only_after_a_message(world, graph):
    sim = world.sim
    ig_id = world.page["ig_account_id"]
    media = sim.add_ig_media(ig_id)
    sim.add_comment(
        media["id"], "Harika", from_id="IGSID_7", username="elif", deliver=False
    )
    refused = graph.get("IGSID_7", fields="name,username,profile_pic").json()["error"]
    assert refused["code"] == 230
    sim.set_messaged("IGSID_7", name="Elif Kaya")
    profile = graph.get("IGSID_7", fields="name,username,profile_pic").json()
    assert (profile["name"], profile["username"]) == ("Elif Kaya", "elif")
    assert profile["profile_pic"].startswith("https://")
