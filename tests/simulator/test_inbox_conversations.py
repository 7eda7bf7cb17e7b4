"""The Conversations API (docs/meta-facts.md §6, §13): conversations of a Page
or its Instagram account, their messages newest first, the 20 readable ones,
permissions and the 2 calls per second, through real HTTP."""

import json

FIELDS = (
    "id,updated_time,participants,"
    "messages.limit(2){id,created_time,from,to,message,attachments}"
)


def test_conversations_newest_first_with_their_latest_messages(world, clock, graph):
    sim = world.sim
    sim.receive_dm(world.page_id, "PSID_1", "Merhaba", name="Ayşe Yılmaz")
    clock.advance(60)
    sim.receive_dm(world.page_id, "PSID_2", "Fiyat?", name="Mehmet Demir")
    clock.advance(60)
    sim.receive_dm(world.page_id, "PSID_1", attachments=["image"])
    clock.advance(60)
    sim.page_inbox_reply(world.page_id, "PSID_1", "Hemen bakıyoruz")
    sim.receive_dm(world.page_id, "IGSID_1", "Selam", channel="instagram")
    first = graph.get(f"{world.page_id}/conversations", fields=FIELDS, limit=1).json()
    [one] = first["data"]
    assert one["id"].startswith("t_")
    assert one["updated_time"] == "2026-09-21T14:16:20+0000"
    assert one["participants"]["data"] == [
        {"name": "Ayşe Yılmaz", "email": "PSID_1@facebook.com", "id": "PSID_1"},
        {
            "name": "Demo Mağaza",
            "email": f"{world.page_id}@facebook.com",
            "id": world.page_id,
        },
    ]
    reply, image = one["messages"]["data"]
    assert reply["message"] == "Hemen bakıyoruz"
    assert reply["from"]["id"] == world.page_id
    assert reply["to"] == {"data": [one["participants"]["data"][0]]}
    assert image["message"] == ""
    [data] = image["attachments"]["data"]
    assert data["mime_type"] == "image/png" and data["image_data"]["url"]
    nested = one["messages"]["paging"]["next"]
    assert f"/{one['id']}/messages?" in nested
    rest = graph.get(
        f"{one['id']}/messages",
        fields="id,message",
        after=one["messages"]["paging"]["cursors"]["after"],
    ).json()
    assert [m["message"] for m in rest["data"]] == ["Merhaba"]
    second = graph.get(
        f"{world.page_id}/conversations",
        fields="id,updated_time",
        limit=1,
        after=first["paging"]["cursors"]["after"],
    ).json()
    assert second["data"][0]["updated_time"] == "2026-09-21T14:14:20+0000"
    assert "next" not in second["paging"]
    mine = graph.get(
        f"{world.page_id}/conversations", user_id="PSID_2", fields="participants"
    ).json()["data"]
    assert [p["id"] for p in mine[0]["participants"]["data"]] == [
        "PSID_2",
        world.page_id,
    ]
    [ig] = graph.get(
        f"{world.page_id}/conversations",
        platform="instagram",
        fields="participants,messages{from,message}",
    ).json()["data"]
    [person, account] = ig["participants"]["data"]
    assert person == {"username": "ayse.yilmaz", "id": "IGSID_1"}
    assert account["id"] == world.page["ig_account_id"]
    assert ig["messages"]["data"][0]["from"] == person
    node = graph.get(one["id"], fields="participants,messages{message}").json()
    assert node["id"] == one["id"] and len(node["messages"]["data"]) == 3
    bad = graph.get(f"{world.page_id}/conversations", platform="whatsapp").json()
    assert bad["error"]["code"] == 100


def test_only_the_twenty_latest_messages_are_readable(world, clock, graph):
    sim = world.sim
    mids = []
    for number in range(23):
        mids.append(sim.receive_dm(world.page_id, "PSID_3", f"Mesaj {number}")["mid"])
        clock.advance(1)
    deleted = sim.receive_dm(world.page_id, "PSID_3", "Yanlış", deliver=False)["mid"]
    sim.delete_dm(world.page_id, "PSID_3", deleted)
    [conversation] = graph.get(
        f"{world.page_id}/conversations", user_id="PSID_3"
    ).json()["data"]
    seen, after = [], None
    while True:
        params = {"fields": "id,message,from", "limit": 10}
        if after:
            params["after"] = after
        page = graph.get(f"{conversation['id']}/messages", **params).json()
        seen.extend(page["data"])
        if "next" not in page["paging"]:
            break
        after = page["paging"]["cursors"]["after"]
    assert [m["id"] for m in seen] == list(reversed(mids))
    assert [m.get("message") for m in seen[:20]] == [
        f"Mesaj {n}" for n in range(22, 2, -1)
    ]
    assert seen[20:] == [{"id": mids[2]}, {"id": mids[1]}, {"id": mids[0]}]
    latest = graph.get(mids[-1], fields="id,created_time,from,message").json()
    assert latest["message"] == "Mesaj 22"
    assert latest["from"]["id"] == "PSID_3"
    assert graph.get(mids[0], fields="message").json()["error"]["code"] == 100
    assert graph.get(deleted).json()["error"]["code"] == 100


def test_permissions_and_tokens(world, graph, user_graph):
    sim = world.sim
    sim.receive_dm(world.page_id, "PSID_4", "Merhaba")
    sim.receive_dm(world.page_id, "IGSID_4", "Selam", channel="instagram")
    answer = user_graph.get(f"{world.page_id}/conversations").json()
    assert answer["error"]["code"] == 210, "a Page token is needed"
    sim.revoke_scope(world.user_token, "instagram_manage_messages")
    refused = graph.get(f"{world.page_id}/conversations", platform="instagram")
    assert refused.json()["error"]["code"] == 200
    assert graph.get(f"{world.page_id}/conversations").status_code == 200
    sim.revoke_scope(world.user_token, "pages_manage_metadata")
    assert graph.get(f"{world.page_id}/conversations").json()["error"]["code"] == 200
    other = sim.add_page("Başka Sayfa")
    token = sim.page_token(sim.add_user_token(pages=[other["id"]]), other["id"])
    [mine] = [c for c in sim.dm_conversations.values() if c.user_id == "PSID_4"]
    stranger = graph.as_token(token).get(mine.id).json()
    assert (stranger["error"]["code"], stranger["error"]["error_subcode"]) == (100, 33)


def test_two_calls_per_second_per_account_when_limits_are_enforced(world, clock, graph):
    sim = world.sim
    sim.receive_dm(world.page_id, "PSID_5", "Merhaba")
    sim.receive_dm(world.page_id, "IGSID_5", "Selam", channel="instagram")
    path = f"{world.page_id}/conversations"
    for _ in range(3):
        assert graph.get(path).status_code == 200, "not enforced: no limit"
    sim.enforce_usage_limits = True
    assert graph.get(path).status_code == 200
    assert graph.get(path).status_code == 200
    refused = graph.get(path)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["code"], error["is_transient"]) == (613, True)
    usage = json.loads(refused.headers["X-Business-Use-Case-Usage"])
    [row] = [r for r in usage[world.page_id] if r["type"] == "messenger"]
    assert row["call_count"] == 100 and row["estimated_time_to_regain_access"] == 1
    assert json.loads(refused.headers["X-App-Usage"])["call_count"] == 100
    assert graph.get(path, platform="instagram").status_code == 200, "its own"
    clock.advance(1)
    assert graph.get(path).status_code == 200


def test_what_a_message_shows(world, graph):
    sim = world.sim
    sim.receive_dm(world.page_id, "PSID_6", "İlk")
    shared = {"url": "https://shop.example/urun/7", "title": "Koltuk"}
    sent = sim.receive_dm(
        world.page_id,
        "PSID_6",
        "Bunlar",
        attachments=[
            "video",
            {"type": "file", "data": b"a;b\n", "name": "liste.csv"},
            "sticker",
            {"type": "share", "payload": shared},
        ],
        reply_to=sim.conversation(world.page_id, "PSID_6")["messages"][0]["mid"],
    )
    message = graph.get(
        sent["mid"],
        fields="message,attachments{mime_type,name,size,file_url,video_data},"
        "shares{link,name},sticker,to{id}",
    ).json()
    assert message["message"] == "Bunlar"
    video, table, sticker = message["attachments"]["data"]
    assert video["mime_type"] == "video/mp4" and video["video_data"]["url"]
    assert (table["mime_type"], table["name"], table["size"]) == (
        "text/csv",
        "liste.csv",
        4,
    )
    assert table["file_url"] == sent["attachments"][1]["payload"]["url"]
    assert set(sticker) == {"mime_type", "name", "size", "id"}
    assert message["sticker"] == sent["attachments"][2]["payload"]["url"]
    assert message["shares"] == {"data": [{"link": shared["url"], "name": "Koltuk"}]}
    assert message["to"] == {"data": [{"id": world.page_id}]}
    [conversation] = graph.get(
        f"{world.page_id}/conversations",
        fields="participants{id},messages.limit(1){attachments{name}}",
    ).json()["data"]
    assert conversation["participants"]["data"] == [
        {"id": "PSID_6"},
        {"id": world.page_id},
    ]
    [latest] = conversation["messages"]["data"]
    assert [a["name"] for a in latest["attachments"]["data"]] == [
        "video.mp4",
        "liste.csv",
        "sticker.png",
    ]
    nested = conversation["messages"]["paging"]["next"]
    assert "fields=attachments%7Bname%7D" in nested and "limit=1" in nested
    no_ig = sim.add_page("Instagram'sız")
    token = sim.page_token(sim.add_user_token(pages=[no_ig["id"]]), no_ig["id"])
    answer = graph.as_token(token).get(
        f"{no_ig['id']}/conversations", platform="instagram"
    )
    assert answer.json()["error"]["code"] == 100
