"""What people do in Messenger and Instagram Direct, as signed webhooks to a
real receiver: attachments served by the simulator's CDN, stickers, shares,
stories, reactions, postbacks, referrals, deletions, receipts
(docs/meta-facts.md §4.5, §6, §13)."""

import hashlib
import hmac
import json

import pytest
import requests
from sim_helpers import proof_for

MESSENGER_FIELDS = [
    "messages",
    "message_echoes",
    "message_deliveries",
    "message_reads",
    "message_reactions",
    "messaging_postbacks",
    "messaging_referrals",
]
INSTAGRAM_FIELDS = [
    "messages",
    "message_reactions",
    "messaging_postbacks",
    "messaging_seen",
    "messaging_referral",
]


def events(sim, receiver, count):
    """(object, entry id, event) of the first ``count`` signed deliveries."""
    receiver.wait_for(count)
    assert len(receiver.posts) == count
    found = []
    for post in receiver.posts:
        digest = hmac.new(sim.app_secret.encode(), post.body, hashlib.sha256)
        assert post.headers["X-Hub-Signature-256"] == f"sha256={digest.hexdigest()}"
        payload = json.loads(post.body)
        for entry in payload["entry"]:
            assert entry["time"] > 10**12, "messaging entries carry milliseconds"
            for event in entry["messaging"]:
                found.append((payload["object"], entry["id"], event))
    return found


def send(world, user, words):
    token = world.page_token
    return requests.post(
        f"{world.sim.base_url}/v26.0/{world.page_id}/messages",
        json={"recipient": {"id": user}, "message": {"text": words}},
        params={"appsecret_proof": proof_for(world.sim.app_secret, token)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()


def fetch(url):
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    return answer.headers["Content-Type"], answer.content


def test_messenger_attachments_are_served_by_the_simulator(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush")
    sim.set_subscription(world.page_id, MESSENGER_FIELDS)
    pdf = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
    sent = sim.receive_dm(
        world.page_id,
        "PSID_1",
        attachments=[
            "image",
            "audio",
            "video",
            {"type": "file", "data": pdf, "name": "teklif.pdf"},
            "sticker",
            "share",
        ],
    )
    [(obj, entry_id, event)] = events(sim, receiver, 1)
    assert (obj, entry_id) == ("page", world.page_id)
    message = event["message"]
    assert message["mid"] == sent["mid"] and "text" not in message
    assert message["attachments"] == sent["attachments"]
    kinds = [a["type"] for a in message["attachments"]]
    assert kinds == ["image", "audio", "video", "file", "sticker", "fallback"]
    image, audio, video, document, sticker, share = message["attachments"]
    content_type, data = fetch(image["payload"]["url"])
    assert content_type == "image/png" and data.startswith(b"\x89PNG\r\n\x1a\n")
    assert fetch(audio["payload"]["url"])[0] == "audio/mp4"
    content_type, data = fetch(video["payload"]["url"])
    assert content_type == "video/mp4" and data[4:8] == b"ftyp"
    assert fetch(document["payload"]["url"]) == ("application/pdf", pdf)
    assert document["payload"]["url"].endswith("/teklif.pdf")
    assert sticker["payload"]["sticker_id"] == 369239263222822
    assert fetch(sticker["payload"]["url"])[0] == "image/png"
    assert set(share["payload"]) == {"url", "title"}
    own = sim.add_cdn_file(b"GIF89a", "image/gif", "kutu.gif")
    assert fetch(own) == ("image/gif", b"GIF89a")
    unknown = own.replace("/cdn/", "/cdn/nope")
    assert requests.get(unknown, timeout=10).status_code == 404
    assert requests.post(own, timeout=10).status_code == 405
    reel = {"type": "ig_reel", "payload": {"reel_video_id": "1790", "url": own}}
    assert sim.receive_dm(world.page_id, "PSID_1", attachments=[reel])[
        "attachments"
    ] == [reel], "other kinds pass as given"
    for wrong in ("story_mention", "ig_reel"):
        with pytest.raises(ValueError):
            sim.receive_dm(world.page_id, "PSID_1", attachments=[wrong])
    with pytest.raises(ValueError):
        sim.receive_dm(world.page_id, "PSID_1")


def test_messenger_reactions_postbacks_referrals_and_receipts(world, receiver, clock):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush")
    sim.set_subscription(world.page_id, MESSENGER_FIELDS)
    mid = sim.receive_postback(
        world.page_id, "PSID_2", "Başla", "GET_STARTED", ad_id="120000000000003"
    )
    first = send(world, "PSID_2", "Hoş geldiniz")["message_id"]
    clock.advance(60)
    second = send(world, "PSID_2", "Size nasıl yardımcı olabiliriz?")["message_id"]
    receiver.wait_for(3)  # the postback and two echoes (in the background)
    receiver.posts.clear()
    delivered = sim.customer_receives(world.page_id, "PSID_2")
    assert delivered["mids"] == [first, second]
    assert sim.customer_receives(world.page_id, "PSID_2")["mids"] == []
    read = sim.customer_reads(world.page_id, "PSID_2")
    assert sim.receive_reaction(world.page_id, "PSID_2", second, "😮") == second
    sim.receive_reaction(world.page_id, "PSID_2", second, action="unreact")
    referral = sim.receive_referral(world.page_id, "PSID_2", "120000000000004")
    found = [e for _o, _i, e in events(sim, receiver, 5)]
    delivery, seen, react, unreact, back = found
    assert delivery["delivery"] == {
        "mids": [first, second],
        "watermark": read["watermark"],
    }
    assert seen["read"] == {"watermark": int((1790000000 + 60) * 1000)}
    assert react["reaction"] == {
        "mid": second,
        "action": "react",
        "reaction": "wow",
        "emoji": "😮",
    }
    assert unreact["reaction"] == {"mid": second, "action": "unreact"}
    assert (
        back["referral"]
        == referral
        == {
            "source": "ADS",
            "type": "OPEN_THREAD",
            "ad_id": "120000000000004",
        }
    )
    assert all(e["sender"]["id"] == "PSID_2" for e in found)
    conversation = sim.conversation(world.page_id, "PSID_2")
    assert conversation["ad_id"] == "120000000000004"
    [tap] = [m for m in conversation["messages"] if m["mid"] == mid]
    assert (tap["kind"], tap["text"]) == ("postback", "Başla")
    # The referral opened 7 days: a RESPONSE three days later still goes.
    clock.advance(3 * 86400)
    assert "message_id" in send(world, "PSID_2", "Hâlâ buradayız")


def test_a_postback_from_an_ad_carries_its_referral(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush")
    sim.set_subscription(world.page_id, ["messaging_postbacks"])
    mid = sim.receive_postback(
        world.page_id, "PSID_5", "Fiyat al", "PRICE", ad_id="120000000000005"
    )
    sim.receive_dm(world.page_id, "PSID_5", "Not subscribed to messages")
    [(_o, _i, event)] = events(sim, receiver, 1)
    assert event["postback"] == {
        "mid": mid,
        "title": "Fiyat al",
        "payload": "PRICE",
        "referral": {
            "source": "ADS",
            "type": "OPEN_THREAD",
            "ad_id": "120000000000005",
        },
    }


def test_instagram_stories_stickers_shares_deletions_and_seen(world, receiver):
    sim = world.sim
    ig_id = world.page["ig_account_id"]
    sim.set_callback(receiver.url, verify_token="hush", fields=INSTAGRAM_FIELDS)
    mention = sim.receive_dm(
        world.page_id, "IGSID_1", channel="instagram", attachments=["story_mention"]
    )
    story = {
        "url": "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=7",
        "id": "1790",
    }
    reply = sim.receive_dm(
        world.page_id,
        "IGSID_1",
        "Bu ürün kaç TL?",
        channel="instagram",
        story_reply=story,
    )
    sticker = sim.receive_dm(
        world.page_id, "IGSID_1", channel="instagram", attachments=["sticker"]
    )
    share = sim.receive_dm(
        world.page_id, "IGSID_1", channel="instagram", attachments=["share"]
    )
    assert sim.delete_dm(world.page_id, "IGSID_1", reply["mid"]) == reply["mid"]
    ours = send(world, "IGSID_1", "Merhaba, 450 TL")["message_id"]
    receiver.wait_for(6)  # five events and our echo (in the background)
    assert sim.customer_receives(world.page_id, "IGSID_1")["mids"] == [ours]
    assert sim.customer_reads(world.page_id, "IGSID_1") == {"mid": ours}
    sim.receive_reaction(world.page_id, "IGSID_1", ours, "❤")
    found = events(sim, receiver, 8)
    assert {(o, i) for o, i, _e in found} == {("instagram", ig_id)}
    found = [e for _o, _i, e in found]

    def messages(mid):
        return [e["message"] for e in found if e.get("message", {}).get("mid") == mid]

    [first] = messages(mention["mid"])
    [attached] = first["attachments"]
    assert attached["type"] == "story_mention"
    assert fetch(attached["payload"]["url"])[0] == "image/png"
    replied, deleted = messages(reply["mid"])
    assert replied["reply_to"] == {"story": story}
    assert deleted == {"mid": reply["mid"], "is_deleted": True}
    assert messages(sticker["mid"]) == [{"mid": sticker["mid"], "is_unsupported": True}]
    [shared] = messages(share["mid"])
    assert shared["attachments"][0]["type"] == "share"
    [echo] = messages(ours)
    assert echo["is_echo"] is True
    [seen] = [e["read"] for e in found if "read" in e]
    assert seen == {"mid": ours}
    [heart] = [e for e in found if "reaction" in e]
    assert heart["reaction"]["reaction"] == "love"
    assert heart["recipient"]["id"] == ig_id
    # The person messaged: their profile is readable now (§6.3).
    token = world.page_token
    profile = requests.get(
        f"{sim.base_url}/v26.0/IGSID_1",
        params={
            "access_token": token,
            "appsecret_proof": proof_for(sim.app_secret, token),
            "fields": "username",
        },
        timeout=10,
    ).json()
    assert profile == {"username": "ayse.yilmaz", "id": "IGSID_1"}


def test_instagram_fields_choose_what_arrives(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush", fields=["messaging_referral"])
    sim.receive_dm(world.page_id, "IGSID_2", "Selam", channel="instagram")
    sim.receive_postback(
        world.page_id, "IGSID_2", "Başla", "START", channel="instagram"
    )
    sim.receive_referral(world.page_id, "IGSID_2", "120000000000006", ref="yaz")
    [(obj, _i, event)] = events(sim, receiver, 1)
    assert obj == "instagram"
    assert event["referral"] == {
        "ref": "yaz",
        "source": "ADS",
        "type": "OPEN_THREAD",
        "ad_id": "120000000000006",
    }
    with pytest.raises(ValueError):
        sim.receive_referral(world.page_id, "IGSID_2", "1", channel="messenger")
    with pytest.raises(KeyError):
        sim.receive_reaction(world.page_id, "IGSID_2", "m_unknown")
