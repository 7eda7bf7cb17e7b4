"""The Send API's attachments, Conversation Routing and Meta's own inbox
(docs/meta-facts.md §6, §13), through real HTTP and a real webhook receiver."""

import hashlib
import hmac
import json

import requests
from sim_helpers import proof_for

from meta_simulator import inbox


def send(world, body, token=None):
    token = token or world.page_token
    return requests.post(
        f"{world.sim.base_url}/v26.0/{world.page_id}/messages",
        json=body,
        params={"appsecret_proof": proof_for(world.sim.app_secret, token)},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def attachment(user, kind, url="https://cdn.example.com/katalog.jpg", **payload):
    body = {"type": kind, "payload": {"url": url, **payload}}
    return {"recipient": {"id": user}, "message": {"attachment": body}}


def signed_events(sim, receiver, count):
    """The first ``count`` deliveries' events, each checked against its
    ``X-Hub-Signature-256``: (object, entry key, event)."""
    receiver.wait_for(count)
    found = []
    for post in receiver.posts:
        digest = hmac.new(sim.app_secret.encode(), post.body, hashlib.sha256)
        assert post.headers["X-Hub-Signature-256"] == f"sha256={digest.hexdigest()}"
        payload = json.loads(post.body)
        for entry in payload["entry"]:
            for key in ("messaging", "standby"):
                for event in entry.get(key, []):
                    found.append((payload["object"], key, event))
    return found


def subscribe(world, receiver, *fields):
    world.sim.set_callback(receiver.url, verify_token="hush")
    world.sim.set_subscription(world.page_id, fields or ["messages", "message_echoes"])


def test_an_attachment_is_sent_echoed_and_reused(world, receiver):
    sim = world.sim
    subscribe(world, receiver)
    sim.receive_dm(world.page_id, "PSID_1", "Katalog var mı?", deliver=False)
    body = attachment("PSID_1", "image", is_reusable=True)
    body["message"]["metadata"] = "odoo:mail.message:9"
    answer = send(world, body).json()
    assert answer["recipient_id"] == "PSID_1"
    assert answer["message_id"].startswith("m_") and answer["attachment_id"]
    again = {
        "recipient": {"id": "PSID_1"},
        "message": {
            "attachment": {
                "type": "image",
                "payload": {"attachment_id": answer["attachment_id"]},
            }
        },
    }
    second = send(world, again).json()
    assert "attachment_id" not in second
    echoes = [e for _o, _k, e in signed_events(sim, receiver, 2)]
    by_mid = {e["message"]["mid"]: e["message"] for e in echoes}
    first = by_mid[answer["message_id"]]
    assert first["is_echo"] is True and first["metadata"] == "odoo:mail.message:9"
    assert first["attachments"] == [
        {"type": "image", "payload": {"url": "https://cdn.example.com/katalog.jpg"}}
    ]
    assert "text" not in first
    assert by_mid[second["message_id"]]["attachments"] == first["attachments"]
    assert "metadata" not in by_mid[second["message_id"]]
    ours = sim.conversation(world.page_id, "PSID_1")["messages"][-2]
    assert ours["attachment"]["type"] == "image"
    assert ours["metadata"] == "odoo:mail.message:9"


def test_what_the_send_api_refuses(world, clock):
    sim = world.sim
    sim.receive_dm(world.page_id, "PSID_2", "Merhaba", deliver=False)
    sim.receive_dm(
        world.page_id, "IGSID_2", "Selam", channel="instagram", deliver=False
    )
    both = attachment("PSID_2", "image")
    both["message"]["text"] = "ve metin"
    empty = {"recipient": {"id": "PSID_2"}, "message": {"metadata": "x"}}
    chatty = {
        "recipient": {"id": "PSID_2"},
        "message": {"text": "x", "metadata": "m" * 1001},
    }
    refused = [
        both,
        empty,
        chatty,
        {"recipient": {"id": "PSID_2"}, "message": {"attachment": "image"}},
        {"recipient": {"id": "PSID_2"}, "message": {"attachment": {"type": "image"}}},
        attachment("PSID_2", "template"),
        attachment("PSID_2", "image", url="ftp://cdn.example.com/a.jpg"),
        attachment("PSID_2", "file", url=None),
        {
            "recipient": {"id": "PSID_2"},
            "message": {
                "attachment": {"type": "image", "payload": {"attachment_id": "404"}}
            },
        },
        attachment("IGSID_2", "file", url="https://cdn.example.com/teklif.pdf"),
    ]
    for body in refused:
        answer = send(world, body)
        assert answer.status_code == 400, body
        assert answer.json()["error"]["code"] == 100, body
    for kind in ("image", "video", "audio"):
        url = f"https://cdn.example.com/ornek.{kind}"
        assert "message_id" in send(world, attachment("IGSID_2", kind, url)).json()
    pdf = attachment("PSID_2", "file", url="https://cdn.example.com/teklif.pdf")
    assert "message_id" in send(world, pdf).json()
    clock.advance(24 * 3600)
    late = send(world, pdf).json()["error"]
    assert (late["code"], late["error_subcode"]) == (10, 2018278)


def test_another_app_owning_the_thread_gets_our_sends_refused(world, receiver):
    sim = world.sim
    subscribe(world, receiver, "messages", "message_echoes", "standby")
    sim.receive_dm(world.page_id, "PSID_3", "Merhaba", deliver=False)
    sim.set_thread_owner(world.page_id, "PSID_3", inbox.PAGE_INBOX_APP_ID)
    assert sim.conversation(world.page_id, "PSID_3")["thread_owner"] == (
        inbox.PAGE_INBOX_APP_ID
    )
    refused = send(world, {"recipient": {"id": "PSID_3"}, "message": {"text": "x"}})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["code"], error["error_subcode"]) == (10, 2018300)
    # Meta Business Suite answers meanwhile: we only listen (standby).
    mid = sim.page_inbox_reply(world.page_id, "PSID_3", "Ben yardımcı olayım")
    sim.receive_dm(world.page_id, "PSID_3", "Teşekkürler")
    [(obj, key, echo), (_o, key2, inbound)] = signed_events(sim, receiver, 2)
    assert (obj, key, key2) == ("page", "standby", "standby")
    assert echo["message"]["mid"] == mid and echo["message"]["is_echo"] is True
    assert echo["message"]["app_id"] == int(inbox.PAGE_INBOX_APP_ID)
    assert "metadata" not in echo["message"]
    assert inbound["message"]["text"] == "Teşekkürler"
    sim.set_thread_owner(world.page_id, "PSID_3", sim.app_id)
    body = {"recipient": {"id": "PSID_3"}, "message": {"text": "Buradayız"}}
    assert "message_id" in send(world, body).json()
    sim.set_thread_owner(world.page_id, "PSID_3", None)
    assert "message_id" in send(world, body).json()


def test_the_instagram_inbox_and_messages_sent_elsewhere(world, receiver):
    sim = world.sim
    sim.set_callback(receiver.url, verify_token="hush", fields=["messages"])
    sim.receive_dm(world.page_id, "IGSID_4", "Selam", channel="instagram")
    mid = sim.page_inbox_reply(world.page_id, "IGSID_4", "Merhaba!")
    [_inbound, (obj, key, echo)] = signed_events(sim, receiver, 2)
    assert (obj, key) == ("instagram", "messaging")
    assert echo["sender"]["id"] == world.page["instagram_business_account"]["id"]
    assert echo["message"] == {
        "mid": mid,
        "is_echo": True,
        "app_id": int(inbox.INSTAGRAM_INBOX_APP_ID),
        "text": "Merhaba!",
    }
    [ours] = [
        m for m in sim.conversation(world.page_id, "IGSID_4")["messages"] if m["app_id"]
    ]
    assert ours["app_id"] == inbox.INSTAGRAM_INBOX_APP_ID
    assert ours["metadata"] is None
